"""The lab's ASA stand-in's own configuration model (lab/asa_config.py), without SSH.

What the integration tests rely on when they read the firewall back: it prints what it loaded,
places and removes access-list lines as an ASA does, and refuses what an ASA refuses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netchange.lab.asa_config import INVALID, AsaConfig, Refused
from netchange.lab.asa_firewalls import seed_config
from netchange.lab.asa_seed import CISCOCONFPARSE_SAMPLE_01

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "corpus" / "asa" / "ciscoconfparse_sample_01.asa"


@pytest.fixture
def asa() -> AsaConfig:
    config = AsaConfig()
    config.load(seed_config("asa-doif"))
    return config


def test_the_seed_is_the_corpus_file_and_prints_back_as_loaded(asa: AsaConfig) -> None:
    assert CORPUS.read_text() == CISCOCONFPARSE_SAMPLE_01
    corpus = CORPUS.read_text().splitlines()
    end = next(i for i, line in enumerate(corpus) if line.startswith("Cryptochecksum:"))
    body = corpus[corpus.index("ASA Version 9.0(3)") + 2:end]
    assert asa.body() == [line.replace("hostname fw", "hostname asa-doif") for line in body]
    printed = asa.printed()
    assert printed[0] == ": Saved" and printed[-1] == ": end" and printed[-2].startswith("Cryptochecksum:")


def _acl(asa: AsaConfig, name: str) -> list[str]:
    return [line for line in asa.body() if line.startswith(f"access-list {name} ")]


def test_access_list_lines_are_placed_by_line_and_removed_by_text(asa: AsaConfig) -> None:
    before = _acl(asa, "OUTSIDE_in")
    entry = "access-list OUTSIDE_in extended permit tcp any4 host 192.0.2.80 eq https"
    asa.type_top(entry.replace("OUTSIDE_in ", "OUTSIDE_in line 2 "))
    assert _acl(asa, "OUTSIDE_in") == [before[0], entry, *before[1:]]
    assert asa.type_top(entry) == ["WARNING: OUTSIDE_in found duplicate element"]
    assert _acl(asa, "OUTSIDE_in") == [before[0], entry, *before[1:]]
    asa.type_top("no " + entry.replace("OUTSIDE_in ", "OUTSIDE_in line 2 "))
    assert _acl(asa, "OUTSIDE_in") == before
    asa.type_top("access-list OUTSIDE_in extended permit udp any4 any4 eq 53")
    assert _acl(asa, "OUTSIDE_in")[-1] == "access-list OUTSIDE_in extended permit udp any4 any4 eq 53"


@pytest.mark.parametrize(("line", "caret_under"), [
    ("access-list INSIDE_in extended permit tcp object-group NOPE any4 eq 80", "NOPE"),
    ("access-list INSIDE_in extended permit tcp host 10.0.0.300 any4", "10.0.0.300"),
    ("access-list INSIDE_in extended allow ip any4 any4", "allow"),
    ("access-list INSIDE_in extended permit ip 10.0.0.0 0.0.0.255 any4", "0.0.0.255"),
    ("acess-list INSIDE_in extended permit ip any4 any4", "acess-list"),
])
def test_what_an_asa_refuses_is_refused_with_its_caret(asa: AsaConfig, line: str, caret_under: str) -> None:
    before = asa.body()
    with pytest.raises(Refused) as refused:
        asa.type_top(line)
    caret, error = refused.value.lines
    assert error == INVALID
    assert line[caret.index("^"):].startswith(caret_under)
    assert asa.body() == before


def test_single_valued_settings_replace_in_place_and_no_removes(asa: AsaConfig) -> None:
    at = asa.body().index("hostname asa-doif")
    asa.type_top("hostname fw2")
    assert asa.body()[at] == "hostname fw2" and asa.hostname() == "fw2"
    asa.type_top("no logging buffered")
    assert not any(line.startswith("logging buffered ") for line in asa.body())
    group, mode = asa.enter("object-group network Inside") or (None, "")
    assert group is not None and mode == "config-network-object-group"
    assert asa.type_child(group, mode, "network-object 192.0.2.0 255.255.255.0") == [
        "WARNING: Adding obj (network-object 192.0.2.0 255.255.255.0) to grp (Inside) failed; object already exists"]
    asa.type_child(group, mode, "no network-object 192.0.2.0 255.255.255.0")
    assert [c.text for c in group.children] == ["network-object 192.0.22.0 255.255.255.0",
                                                "network-object 192.0.23.0 255.255.255.0"]
