"""What is sent is what is shown (issue 22 item 5; finding 6's AAA diff, finding 7's banner rollback).

The IOS-style CLI driver shows a change as a diff (``compare_config``) and types hier_config's
remediation (``commit_config``). The two were computed apart: the diff compared the running
configuration with its prediction, the commit typed the remediation. So the AAA diff showed
``-no aaa new-model`` and no ``+aaa new-model`` (the line typed), removals and sections came in
another order than typed, and a banner's rollback typed ``no banner exec ^C`` followed by its text
lines, each a command to a device whose ``no banner exec`` takes no text.

Here the driver plans real configurations of the corpus (tests/corpus, SOURCES.yaml) through the
testing kit's in-memory session, which records what ``commit_config`` and ``rollback`` type. The
property: read independently of the driver, the diff's lines translate into the lines typed, in
order (``+X`` types ``X``, ``-X`` types ``no X`` or, for a block of the profile, its removal, a
section's context types its line and later ``exit``; a ``-`` line right before the ``+`` line
that replaces it in place, an idempotent command or the positive form of a negation, is not
typed); and the rollback typed is the rollback shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from hier_config.exceptions import DuplicateChildError

from netchange.classifiers import classify_diff
from netchange.drivers.diffformat import parse_diff
from netchange.drivers.ios_cli import ASA, IOS, canonical_config, hier_driver, merge_scope, parse
from netchange.platforms import PlatformProfile
from netchange.testing import MemorySession, StoredDevice
from netchange.vocabulary import Role

CORPUS = Path(__file__).parent.parent / "corpus"
PROFILES = Path(__file__).parent.parent.parent / "netchange" / "platforms"
IOS_FILES = sorted((CORPUS / "ios").glob("*.ios"))
ASA_FILES = sorted((CORPUS / "asa").glob("*.asa"))


class Recording(MemorySession):
    """The stored device's session, recording what the driver types (each call's lines as given,
    and whether it was typed as a block: without netmiko's echo check)."""

    def __init__(self, device: StoredDevice) -> None:
        super().__init__(device)
        self.calls: list[tuple[list[str], dict[str, Any]]] = []

    def send_config_set(self, lines: list[str], **kwargs: Any) -> str:
        self.calls.append((list(lines), kwargs))
        return ""

    def config_mode(self) -> str:
        return ""

    def typed(self) -> list[str]:
        """Every line typed, in order (a block's item split into its lines)."""
        return [line for lines, _ in self.calls for item in lines for line in item.split("\n")]


@dataclass
class Planned:
    diff: str
    rollback_shown: list[str]
    typed: list[str]
    rollback_typed: list[str]
    session: Recording = field(repr=False)


def plan_and_type(config: str, candidate: str, platform: str = "ios_cli", *, replace: bool = False) -> Planned:
    """Plan ``candidate`` on a device holding ``config``, commit it, roll it back: what the
    driver showed and what it typed."""
    device = StoredDevice("dev", config, platform=platform)
    driver = device.driver(reuse_seconds=3600)
    session = Recording(device)
    driver.session = session
    driver.open()
    (driver.load_replace_candidate if replace else driver.load_merge_candidate)(config=candidate)
    diff = driver.compare_config()
    shown = [line.strip() for line in driver.rollback_preview().splitlines()]
    driver.commit_config()
    typed = session.typed()
    session.calls.clear()
    driver.rollback()
    return Planned(diff, shown, typed, session.typed(), session)


# -- reading a diff as the lines it types, independently of the driver --------------------------


@dataclass
class _Line:
    sign: str
    text: str
    depth: int
    block: list[str] = field(default_factory=list)  # a block's other lines (banner text, hex)


@dataclass(frozen=True)
class _Rule:
    """A block as the profile's file declares it (read here from the YAML, not the driver's model)."""

    start: str
    remove: str
    parent: str | None = None
    end: str | None = None
    delimiter: str | None = None
    printed_delimiter: str | None = None
    typed_delimiters: str = ""
    repeat: bool = False
    confirm: str | None = None


@cache
def _rules_of(name: str) -> list[_Rule]:
    data = yaml.safe_load((PROFILES / f"{name}.yaml").read_text())
    return [_Rule(**{k: v for k, v in rule.items() if k != "name"}) for rule in data["cli"].get("blocks", [])]


def _rules(profile: PlatformProfile) -> list[_Rule]:
    return _rules_of(profile.name)


def _block_rule(text: str, parent: str | None, profile: PlatformProfile) -> tuple[_Rule, re.Match[str]] | None:
    for rule in _rules(profile):
        in_place = (parent is None) if rule.parent is None else (parent is not None and re.search(rule.parent, parent))
        m = re.match(rule.start, text)
        if in_place and m:
            return rule, m
    return None


def _read(diff: str, profile: PlatformProfile) -> list[_Line]:
    """The diff's lines with their depth (one space per level), a block's lines kept with it."""
    out: list[_Line] = []
    raw = diff.splitlines()
    i = 0
    stack: list[str] = []
    while i < len(raw):
        sign, body = raw[i][0], raw[i][1:]
        depth = len(body) - len(body.lstrip(" "))
        text = body.strip()
        del stack[depth:]
        line = _Line(sign, text, depth)
        found = _block_rule(text, stack[-1] if stack else None, profile) if sign != " " else None
        i += 1
        if found is not None:
            rule, m = found
            if rule.repeat:
                while i < len(raw) and raw[i][0] == sign and (n := re.match(rule.start, raw[i][1:].strip())) \
                        and n.groupdict() == m.groupdict():
                    line.block.append(raw[i][1:].strip())
                    i += 1
            elif rule.delimiter is not None:
                delimiter = m.group(rule.delimiter)
                if delimiter not in text[m.end(rule.delimiter):]:
                    while i < len(raw):
                        line.block.append(raw[i][1:])
                        i += 1
                        if delimiter in line.block[-1]:
                            break
            else:
                assert rule.end is not None
                while i < len(raw):
                    line.block.append(raw[i][1:].strip())
                    i += 1
                    if re.match(rule.end, line.block[-1]):
                        break
        out.append(line)
        stack.append(text)
    return out


def _typed_block(line: _Line, profile: PlatformProfile, parent: str | None) -> list[str]:
    found = _block_rule(line.text, parent, profile)
    assert found is not None
    rule, m = found
    if line.sign == "-":
        return [rule.remove.format(**m.groupdict()), *([rule.confirm] if rule.confirm else [])]
    if rule.delimiter is None:
        return [line.text, *line.block]
    text = "\n".join([line.text, *line.block])
    printed = rule.printed_delimiter or ""
    inner = text[m.end(rule.delimiter):text.rfind(printed)]
    typed = next(c for c in rule.typed_delimiters if c not in inner)
    return text.replace(printed, typed).split("\n")


def _whole_text(line: _Line) -> str:
    return "\n".join([line.text, *line.block])


def _replaces(new: str, old: str, profile: PlatformProfile, parent: str | None) -> bool:
    """``new`` takes ``old``'s place when typed: the positive form of a negation, or a command
    whose new value replaces the old one (hier_config's idempotency rules of the profile)."""
    if old == f"no {new}":
        return True
    tree = parse((f"{parent}\n {old}\n" if parent else f"{old}\n"), profile)
    cand = parse((f"{parent}\n {new}\n" if parent else f"{new}\n"), profile)
    node_old = next(iter(tree.children))
    node_new = next(iter(cand.children))
    if parent:
        node_old, node_new = next(iter(node_old.children)), next(iter(node_new.children))
    twin = hier_driver(profile).idempotent_for(node_new, [node_old])
    return twin is not None


def expected_typing(diff: str, profile: PlatformProfile) -> list[str]:
    """The lines a diff says are typed, in order."""
    lines = _read(diff, profile)
    typed: list[str] = []
    open_sections: list[tuple[int, bool]] = []  # (depth, entered): entered sections get an exit
    parents: list[str] = []
    for k, line in enumerate(lines):
        while open_sections and open_sections[-1][0] >= line.depth:
            _, entered = open_sections.pop()
            if entered:
                typed.append("exit")
        del parents[line.depth:]
        parent = parents[-1] if parents else None
        following = lines[k + 1] if k + 1 < len(lines) else None
        has_children = following is not None and following.depth > line.depth
        parents.append(line.text)
        if line.sign == " ":
            typed.append(line.text)
            open_sections.append((line.depth, True))
            continue
        inside_removal = any(not entered for _, entered in open_sections)
        if inside_removal:
            open_sections.append((line.depth, False))
            continue  # a removed section's lines go with it
        if line.sign == "-":
            nxt = next((x for x in lines[k + 1:] if x.depth <= line.depth), None)
            if nxt is not None and nxt.sign == "+" and nxt.depth == line.depth \
                    and _replaces(_whole_text(nxt), _whole_text(line), profile, parent):
                open_sections.append((line.depth, False))
                continue
            if line.block or _block_rule(line.text, parent, profile):
                typed.extend(_typed_block(line, profile, parent))
            else:
                typed.append(line.text.removeprefix("no ") if line.text.startswith("no ") else f"no {line.text}")
            open_sections.append((line.depth, False))
            continue
        typed.extend(_typed_block(line, profile, parent) if line.block else [line.text])
        open_sections.append((line.depth, has_children))
    typed.extend("exit" for _, entered in reversed(open_sections) if entered)
    return typed


# -- finding 6, second half: the AAA diff ---------------------------------------------------------


def test_aaa_new_model_over_its_negation_is_shown_as_typed() -> None:
    """An IOS-XE router of the corpus holds ``no aaa new-model``; the change turns AAA on. The
    diff showed ``-no aaa new-model`` alone: the reviewer had to guess that ``aaa new-model`` is
    typed. It shows the line typed, after the negation it replaces, and the classifier reads it."""
    config = (CORPUS / "ios" / "lv_iosxe_acl.ios").read_text()
    assert "\nno aaa new-model\n" in config
    planned = plan_and_type(config, "aaa new-model\naaa authentication login default local\n")
    assert planned.diff == "-no aaa new-model\n+aaa new-model\n+aaa authentication login default local\n"
    assert planned.typed == ["aaa new-model", "aaa authentication login default local"]
    assert planned.rollback_typed == planned.rollback_shown == [
        "no aaa authentication login default local", "no aaa new-model"]
    verdict = classify_diff(planned.diff, platform="ios", role=Role.ROUTER)
    assert any("+aaa new-model" in str(reason) for reason in verdict.reasons), verdict.reasons


def test_removals_and_sections_are_shown_in_the_order_they_are_typed() -> None:
    """hier_config types every removal of a level before entering its sections; the diff showed
    them in the device's order, a section between two removals typed before it."""
    config = (CORPUS / "ios" / "lv_lan_rtr.ios").read_text()
    planned = plan_and_type(config, "no ip domain lookup\ninterface GigabitEthernet0/1\n description uplink\n"
                                    "no ip forward-protocol nd\n")
    assert planned.typed == expected_typing(planned.diff, IOS)
    signs = [line[0] for line in planned.diff.splitlines()]
    assert signs.index(" ") > max(i for i, s in enumerate(signs) if s == "-"), planned.diff


# -- finding 7: banners are typed and removed whole ---------------------------------------------


def test_banner_rollback_is_one_line_not_its_text_typed_as_commands() -> None:
    """A change that removes the exec banner of an IOSv router of the corpus: the rollback typed
    ``no banner exec ^C`` then the eight text lines then ``^C``; the removal is now ``no banner
    exec`` and the banner comes back typed with a delimiter its text lacks (``^C`` typed is two
    characters: ``^`` would be the delimiter)."""
    config = (CORPUS / "ios" / "lv_lan_rtr.ios").read_text()
    planned = plan_and_type(config, "no banner exec\n")
    assert planned.typed == ["no banner exec"]
    assert planned.diff.startswith("-banner exec ^C\n-****")
    back = planned.rollback_typed
    assert back[0] == "banner exec #" and back[-1].endswith("*#") and len(back) == 9, back
    assert back == planned.rollback_shown
    assert not any("^C" in line for line in back)
    # a block is typed in one piece without netmiko's echo check (the device echoes no prompt in it)
    (lines, kwargs), = planned.session.calls
    assert lines == back and kwargs["cmd_verify"] is False


def test_a_new_banner_replaces_the_old_one_and_its_rollback_types_the_old_text() -> None:
    config = (CORPUS / "ios" / "lv_lan_rtr.ios").read_text()
    planned = plan_and_type(config, "banner incoming #\nClosed for maintenance\n#\n")
    assert planned.typed == ["banner incoming #", "Closed for maintenance", "#"]
    assert planned.diff.splitlines()[-3:] == ["+banner incoming ^C", "+Closed for maintenance", "+^C"]
    assert planned.rollback_typed[0] == "banner incoming #" and len(planned.rollback_typed) == 9
    assert "no banner incoming" not in planned.rollback_typed  # one per device: the old one is typed back


def test_a_one_line_banner_is_restored_typed_with_a_delimiter() -> None:
    """A banner without a line break is printed on one line (``banner motd ^CText^C``): a restore
    to a snapshot holding one was refused (its check wanted the text on lines of its own), and
    hier_config read the lines after it as its text."""
    original = canonical_config((CORPUS / "ios" / "lv_lan_rtr.ios").read_text(), IOS)
    with_banner = original.replace("line con 0\n", "banner motd ^CAuthorised use only^C\nline con 0\n")
    planned = plan_and_type(original, with_banner, replace=True)
    assert planned.typed == ["banner motd #Authorised use only#"]
    assert planned.diff == "+banner motd ^CAuthorised use only^C\n"
    assert planned.rollback_typed == planned.rollback_shown == ["no banner motd"]


def test_a_certificate_is_replaced_whole_and_quit_is_its_exit() -> None:
    """A CSR1000v of the corpus with a self-signed certificate; the configuration restored holds
    another one. The hex lines were negated one by one and the ``exit`` typed after the section
    left configuration mode behind the ``quit`` that already ended the certificate."""
    config = canonical_config((CORPUS / "ios" / "lv_r3_iosxe.ios").read_text(), IOS)
    target = config.replace("  30820330 30820218", "  30820330 30820219")
    planned = plan_and_type(config, target, replace=True)
    typed = planned.typed
    start = typed.index("crypto pki certificate chain TP-self-signed-4186027549")
    assert typed[start + 1:start + 4] == ["no certificate self-signed 01", "yes", "certificate self-signed 01"]
    assert typed[start + 4].startswith("30820330 30820219")
    end = typed.index("quit", start)
    assert typed[end + 1] == "exit" and typed[end + 2:end + 3] != ["exit"]
    assert not any(line.startswith("no ") and re.fullmatch(r"no [0-9A-F ]+", line) for line in typed)
    assert typed == expected_typing(planned.diff, IOS)


def test_a_certificate_removed_by_a_candidate_is_confirmed_and_rolled_back_whole() -> None:
    """``no certificate …`` in a candidate names the certificate by its first line: it removes
    the block (hier_config kept it and typed the line alone), the device's "[yes/no]" is
    answered, and the rollback types the certificate again up to its ``quit``."""
    config = (CORPUS / "ios" / "lv_r3_iosxe.ios").read_text()
    chain = "crypto pki certificate chain TP-self-signed-4186027549"
    planned = plan_and_type(config, f"{chain}\n no certificate self-signed 01\n")
    assert planned.typed == [chain, "no certificate self-signed 01", "yes", "exit"]
    assert planned.diff.splitlines()[:3] == [
        f" {chain}", "- certificate self-signed 01",
        "-  30820330 30820218 A0030201 02020101 300D0609 2A864886 F70D0101 05050030"]
    back = planned.rollback_typed
    assert back[:2] == [chain, "certificate self-signed 01"] and back[-2:] == ["quit", "exit"] and len(back) == 30
    assert planned.rollback_shown[1] == "certificate self-signed 01"
    assert [line.strip() for line in planned.rollback_shown] == back


MACRO_SWITCH = """hostname sw-macro
!
macro name desktop
switchport mode access
switchport access vlan $vlan
spanning-tree portfast
@
!
interface FastEthernet0/1
 switchport mode access
!
"""
"""A Catalyst with a Smartports macro as IOS prints it: its body unindented, ended by ``@``
(Cisco, "Configuring Smartports Macros"). No device of the corpus has one."""


def test_a_macro_body_is_text_of_the_macro_not_configuration() -> None:
    config = parse(MACRO_SWITCH, IOS)
    assert [c.text.split("\n")[0] for c in config.children] == ["hostname sw-macro", "macro name desktop",
                                                                "interface FastEthernet0/1"]
    planned = plan_and_type(MACRO_SWITCH, "no macro name desktop\n")
    assert planned.typed == ["no macro name desktop"]
    assert planned.rollback_typed == ["macro name desktop", "switchport mode access", "switchport access vlan $vlan",
                                      "spanning-tree portfast", "@"]
    assert planned.diff.count("\n-") == 4  # the macro's lines leave with it: nothing typed but its removal
    # read as the macro's text, not as global commands (the classifier reads diffs so)
    lines = parse_diff(planned.diff).changed
    assert [line.ancestors for line in lines[1:]] == [(("-", "macro name desktop"),)] * 3


# -- the ASA sample: one-line banners, repeated objects ------------------------------------------


ASA_SAMPLE = CORPUS / "asa" / "ciscoconfparse_sample_01.asa"


def test_the_asa_sample_parses_whole_with_its_banner_as_one_block() -> None:
    """hier_config read ``banner motd`` as an IOS delimited banner and took the rest of the
    configuration for its text; ``!`` lines and the NAT section of ``object network obj_any``
    (printed twice) were duplicates it refused."""
    config = parse(canonical_config(ASA_SAMPLE.read_text(), ASA), ASA)
    texts = [child.text for child in config.children]
    assert "banner motd\nbanner motd Test banner for $(hostname)\nbanner motd\nbanner motd *****" \
           "**************************" in texts
    assert texts[texts.index(next(t for t in texts if t.startswith("banner motd"))) + 1] == \
        "boot system disk0:/asa903-k8.bin"
    obj = config.children.get("object network obj_any")
    assert obj is not None and [c.text for c in obj.children] == ["subnet 0.0.0.0 0.0.0.0",
                                                                  "nat (INSIDE,OUTSIDE) dynamic interface"]
    assert "!" not in texts and not any(t.startswith((":", "Cryptochecksum")) for t in texts)


def test_merge_scope_keeps_the_lines_after_an_asa_banner() -> None:
    running = canonical_config(ASA_SAMPLE.read_text(), ASA)
    scope = merge_scope(running, parse("ftp mode active\n", ASA))
    assert scope == "ftp mode passive\n"
    scope = merge_scope(running, parse("no banner motd\n", ASA))
    assert scope.splitlines() == ["banner motd", "banner motd Test banner for $(hostname)", "banner motd",
                                  "banner motd *******************************"]


def test_an_asa_banner_line_added_is_the_banner_typed_again_whole() -> None:
    """``banner motd <text>`` appends a line on an ASA: the banner is then all its lines, which
    ``no banner motd`` removes together. The change types the banner whole; the rollback too."""
    config = ASA_SAMPLE.read_text()
    planned = plan_and_type(config, "banner motd Maintenance tonight\n", platform="asa_cli")
    old = ["banner motd", "banner motd Test banner for $(hostname)", "banner motd",
           "banner motd *******************************"]
    assert planned.typed == ["no banner motd", *old, "banner motd Maintenance tonight"]
    assert planned.rollback_typed == planned.rollback_shown == ["no banner motd", *old]
    assert planned.typed == expected_typing(planned.diff, ASA)


# -- the property, over the corpus --------------------------------------------------------------


def _candidates(config: str, profile: PlatformProfile) -> Iterator[str]:
    """Changes an engineer makes, built from the configuration's own lines: removals of lines and
    of sections, negations turned back on, a line removed from and added to a section, a new
    hostname, banners removed and replaced, and several at once."""
    try:
        tree = parse(canonical_config(config, profile), profile)
    except DuplicateChildError:  # hier_config refuses a line repeated in a section (one sample of the corpus)
        return
    tops = [c for c in tree.children if "\n" not in c.text]
    singles = [c.text for c in tops if not c.children and not c.text.startswith("no ")][:40:8]
    negations = [c.text for c in tops if c.text.startswith("no ")][:3]
    sections = [c for c in tops if c.children and not c.text.startswith(("crypto pki certificate", "banner"))][:30:6]
    blocks = [c.text for c in tree.children if "\n" in c.text or c.text.startswith("banner ")]
    yield from (f"no {text}\n" for text in singles)
    yield from (f"{text.removeprefix('no ')}\n" for text in negations)
    for section in sections:
        child = next(iter(section.children))
        if "\n" not in child.text:
            yield f"{section.text}\n no {child.text}\n"
        yield f"{section.text}\n description changed by netchange\n"
        yield f"no {section.text}\n"
    yield "hostname renamed-by-netchange\n"
    for block in blocks:
        first = block.split("\n", 1)[0].split()
        if first[0] == "banner" and len(first) > 1:
            yield f"no banner {first[1]}\n"
            if profile is IOS:
                yield f"banner {first[1]} ^C\nA banner put by netchange\n^C\n"
            else:
                yield f"banner {first[1]} put by netchange\n"
    if singles and sections:
        yield (f"no {singles[0]}\n{sections[0].text}\n description changed by netchange\n"
               f"no {singles[-1]}\n" + "".join(f"{n.removeprefix('no ')}\n" for n in negations))


CASES = [(path, profile, candidate) for files, profile in ((IOS_FILES, IOS), (ASA_FILES, ASA))
         for path in files for candidate in _candidates(path.read_text(), profile)]


@pytest.mark.parametrize(("path", "profile", "candidate"), CASES,
                         ids=[f"{p.stem}:{c.splitlines()[0][:40]}" for p, _, c in CASES])
def test_the_diff_shows_every_line_typed_in_order(path: Path, profile: PlatformProfile, candidate: str) -> None:
    try:
        planned = plan_and_type(path.read_text(), candidate, platform=profile.name)
    except Exception as exc:  # a candidate the driver refuses is not a pair to compare
        if "candidate refused" in str(exc):
            pytest.skip(str(exc))
        raise
    assert planned.typed == expected_typing(planned.diff, profile), planned.diff
    assert planned.rollback_typed == planned.rollback_shown


REPLACES = [(a, b, profile) for files, profile in ((IOS_FILES, IOS), (ASA_FILES, ASA))
            for a, b in pairwise(files)]


@pytest.mark.parametrize(("path", "target", "profile"), REPLACES, ids=[f"{a.stem}->{b.stem}" for a, b, _ in REPLACES])
def test_a_replace_by_another_device_s_configuration_shows_every_line_typed(
        path: Path, target: Path, profile: PlatformProfile) -> None:
    """Whole configurations of two devices of the corpus: a remediation of hundreds of lines,
    sections entered, removed and added, blocks on both sides."""
    candidate = canonical_config(target.read_text(), profile)
    try:
        planned = plan_and_type(path.read_text(), candidate, platform=profile.name, replace=True)
    except Exception as exc:  # a configuration the driver refuses as a candidate, or cannot parse
        if "candidate refused" in str(exc) or isinstance(exc, DuplicateChildError):
            pytest.skip(str(exc)[:200])
        raise
    assert len(planned.typed) > 10
    # the stored device prints IOS's header for an IOS device only (an ASA's driver read it as lines)
    assert not any("Building configuration" in line for line in planned.typed)
    assert planned.typed == expected_typing(planned.diff, profile), planned.diff
    assert planned.rollback_typed == planned.rollback_shown


def test_the_property_covers_many_pairs_of_each_syntax() -> None:
    assert sum(1 for _, p, _ in CASES if p is IOS) >= 150
    assert sum(1 for _, p, _ in CASES if p is ASA) >= 40
