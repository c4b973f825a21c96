"""Input validation: hostile values never pass, ordinary ones do (property-based); people's text is
prose, values for devices are one line (issue 22 item 7)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from netchange.errors import BadRequest
from netchange.models import ChangeRequest, DeviceText, person_text, prose, prose_line, safe_name

CONTROL = [chr(c) for c in range(0x20)] + ["\x7f"]
LINE_BREAKS = ["\n", "\u2028", "\u2029"]
BIDI = ["\u202e", "\u2066", "\u2069"]


@given(st.text(min_size=0, max_size=20), st.sampled_from(CONTROL), st.text(max_size=20))
def test_a_control_character_is_always_refused_in_a_name(before: str, ctrl: str, after: str) -> None:
    with pytest.raises(ValueError, match="newline or control character"):
        safe_name(before + ctrl + after)


@given(st.text(alphabet=string.ascii_letters + string.digits + "_.-", min_size=1, max_size=31))
def test_plain_names_pass(tail: str) -> None:
    name = "a" + tail
    assert safe_name(name) == name


# -- text for people (issue 22 item 7) -------------------------------------------------------------
FRENCH = ["Ajout du VLAN d'impression", "Délai de bascule", "Remplacer l’imprimante du 2ᵉ étage",
          "« Urgent » : coupure électrique", "Delete unused VLAN 99", "no shutdown sur Gi1/0/3 ; do it",
          "Accès [réseau] pour l'équipe", "Ça marche à 100 % ? Oui !"]


@pytest.mark.parametrize("text", FRENCH)
def test_titles_and_descriptions_are_prose(text: str) -> None:
    """Accents, typographic apostrophes, guillemets, question marks, and words a device would read
    as commands (no, do, delete): people's text is never typed on a device."""
    assert prose_line(text) == text
    assert prose(text + "\n\tsecond line") == text + "\n\tsecond line"
    change = ChangeRequest.model_validate({
        "id": "CHG-2026-0042", "title": text, "description": f"{text}\nDeuxième ligne.", "ticket": "T",
        "requester": "amoreau", "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {}}]})
    assert change.title == text


@given(st.text(max_size=10), st.sampled_from([c for c in CONTROL if c not in "\n\t"] + BIDI), st.text(max_size=10))
def test_prose_refuses_control_and_bidi_override_characters(before: str, ctrl: str, after: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        prose(before + ctrl + after)


@pytest.mark.parametrize("brk", LINE_BREAKS)
def test_a_title_is_one_line(brk: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        prose_line(f"Ajout{brk}Set-Cookie: x")


def test_prose_is_bounded() -> None:
    assert prose_line("é" * 200)
    with pytest.raises(ValueError, match="over the limit of 200"):
        prose_line("é" * 201)
    with pytest.raises(ValueError, match="over the limit of 4000"):
        prose("a" * 4001)
    with pytest.raises(ValueError, match="blank"):
        prose_line("   ")


def test_a_comment_that_is_not_prose_is_bad_input_naming_it() -> None:
    assert person_text("Validé, merci « Alice »", what="comment") == "Validé, merci « Alice »"
    with pytest.raises(BadRequest, match="the comment contains the control character U\\+001B"):
        person_text("ok\x1b[31m", what="comment")
    with pytest.raises(BadRequest, match="emergency reason is 4001 characters"):
        person_text("a" * 4001, what="emergency reason")


def test_device_text_is_one_line_and_keeps_its_type() -> None:
    """The model refuses what no device takes (a line break, a control); each platform's own
    rules (tests/unit/test_platform_free_text.py) judge the rest when the plan binds its hosts."""
    from netchange.tasks.access_port import AccessPortParams

    params = AccessPortParams.model_validate({"interfaces": ["Gi1/0/1"], "description": "Imprimante étage 2"})
    assert isinstance(params.description, DeviceText)
    assert params.model_dump()["description"] == "Imprimante étage 2"
    for bad in ("a\nno vlan 1", "a\rb", "", " ", "x" * 256):
        with pytest.raises(ValidationError):
            AccessPortParams.model_validate({"interfaces": ["Gi1/0/1"], "description": bad})


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
