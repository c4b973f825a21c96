"""Input validation: hostile values never pass, ordinary ones do (property-based)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from netchange.models import ChangeRequest, safe_name, safe_text

CONTROL = [chr(c) for c in range(0x20)] + ["\x7f"]


@given(st.text(min_size=0, max_size=20), st.sampled_from(CONTROL), st.text(max_size=20))
def test_a_control_character_is_always_refused(before: str, ctrl: str, after: str) -> None:
    for check in (safe_name, safe_text):
        with pytest.raises(ValueError, match="newline or control character"):
            check(before + ctrl + after)


@given(st.text(alphabet=string.ascii_letters + string.digits + "_.-", min_size=1, max_size=31))
def test_plain_names_pass(tail: str) -> None:
    name = "a" + tail
    assert safe_name(name) == name


@given(st.sampled_from(["no", "end", "exit", "do", "write", "reload", "configure", "delete", "flush"]),
       st.sampled_from([" ", "; ", "| "]))
def test_a_command_keyword_as_a_word_is_refused(word: str, sep: str) -> None:
    with pytest.raises(ValueError, match=r"keyword|may only contain"):
        safe_text(f"office{sep}{word} vlan 1")


def test_words_containing_keywords_are_fine() -> None:
    assert safe_text("endpoint for node 12") == "endpoint for node 12"
    assert safe_text("printer floor 2") == "printer floor 2"


def test_category_cannot_be_made_up_and_start_needs_an_offset() -> None:
    base = {"id": "CHG-1", "title": "t", "ticket": "T", "requester": "r",
            "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {}}]}
    ChangeRequest.model_validate(base)
    with pytest.raises(ValidationError, match="category"):
        ChangeRequest.model_validate({**base, "category": "trivial"})
    with pytest.raises(ValidationError, match="UTC offset"):
        ChangeRequest.model_validate({**base, "planned_start": "2026-12-01T19:00:00"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        ChangeRequest.model_validate({**base, "sneaky": True})
    with pytest.raises(ValidationError, match="targets must name"):
        ChangeRequest.model_validate({**base, "steps": [{"type": "vlan", "targets": {}, "params": {}}]})
