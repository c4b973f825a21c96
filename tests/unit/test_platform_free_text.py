"""Free text that reaches a device follows the rules of the platform it is sent to (issue 22 item 7).

Each platform profile declares what it takes as free text (``free_text``: character set, length,
quoting); a change type's description or comment (:class:`netchange.models.DeviceText`) is checked
against the profile of every host it is planned for, when the plan binds its steps. The table
below is written by hand from what each device does, so that a profile edited by mistake fails
here; a platform added without a line in it fails too.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from netchange.changetype import refused_device_text
from netchange.errors import BadRequest
from netchange.models import DeviceText
from netchange.platforms import PLATFORMS, PROFILES_DIR, free_text_of
from netchange.tasks.access_port import AccessPortParams
from netchange.tasks.fw_rule import FwRuleParams
from netchange.testing import StoredDevice, plan_change, single_step


@dataclass(frozen=True)
class Expected:
    """What one platform takes as free text; ``None``: no free text at all."""

    accents: bool
    """``Imprimante étage 2`` (the client writes French)."""
    question_mark: bool
    """``why?``: on an IOS-style terminal ``?`` prints the command's help instead."""
    double_quote: bool
    """``say "hi"``: where the template quotes the text, the quote would close it."""
    max_length: int


ASCII_CLI = Expected(accents=False, question_mark=False, double_quote=True, max_length=240)
EXPECTED: dict[str, Expected | None] = {
    "ios": ASCII_CLI,
    "ios_cli": ASCII_CLI,
    "eos": ASCII_CLI,
    "nxos": Expected(accents=False, question_mark=False, double_quote=True, max_length=254),
    "nxos_ssh": Expected(accents=False, question_mark=False, double_quote=True, max_length=254),
    "asa": Expected(accents=False, question_mark=False, double_quote=True, max_length=100),
    "asa_cli": Expected(accents=False, question_mark=False, double_quote=True, max_length=100),
    "frr": ASCII_CLI,
    "junos": Expected(accents=True, question_mark=True, double_quote=False, max_length=255),
    "netconf": Expected(accents=True, question_mark=True, double_quote=True, max_length=255),
    "nftables": Expected(accents=True, question_mark=True, double_quote=False, max_length=128),
    "haproxy": None,
    "bind": None,
    "keepalived": None,
    "gdnsd": None,
    "mock": None,
}


def params(text: str) -> AccessPortParams:
    """Params holding ``text`` as the port description, past the model's own checks (one line,
    255 characters): the platform's rules alone judge it here."""
    return AccessPortParams.model_construct(interfaces=("Gi1/0/1",), description=DeviceText(text))


def test_every_packaged_platform_has_an_expectation() -> None:
    assert set(EXPECTED) == {path.stem for path in PROFILES_DIR.glob("*.yaml")}


@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_each_platform_takes_the_free_text_its_device_keeps(platform: str) -> None:
    expected = EXPECTED[platform]
    syntax = PLATFORMS.get(platform).syntax or "keepalived"  # mock: a syntax whose platform takes none
    if expected is None:
        why = refused_device_text(params("spare port"), platform, syntax)
        assert why is not None and "takes no free text" in why
        return
    assert refused_device_text(params("printer floor 2, room 2.14 (Paris)"), platform, syntax) is None
    cases = {"Imprimante étage 2": expected.accents, "why?": expected.question_mark,
             'say "hi"': expected.double_quote, "x" * expected.max_length: True,
             "x" * (expected.max_length + 1): False}
    for text, taken in cases.items():
        why = refused_device_text(params(text), platform, syntax)
        assert (why is None) is taken, (platform, text, why)
        if why is not None:
            assert why.startswith("description: ") and f"(platform {platform})" in why


def test_nftables_counts_bytes_as_well_as_characters() -> None:
    assert refused_device_text(params("é" * 64), "nftables", "nftables") is None
    why = refused_device_text(params("é" * 65), "nftables", "nftables")
    assert why is not None and "130 bytes long in UTF-8, over this platform's 128" in why


def test_a_mock_host_takes_the_rules_of_its_syntax() -> None:
    assert free_text_of("mock", "ios") == ("ios", PLATFORMS.get("ios").free_text)
    assert refused_device_text(params("Imprimante étage 2"), "mock", "ios") is not None
    assert refused_device_text(params("Imprimante étage 2"), "mock", "nftables") is None


def test_a_comment_nested_in_params_is_found() -> None:
    rule = FwRuleParams.model_validate({"name": "web", "source": "10.0.0.0/24", "destination": "10.1.0.10/32",
                                        "protocol": "tcp", "port": 443, "comment": "règle web"})
    assert refused_device_text(rule, "asa_cli", "asa") == (
        "comment: 'règle web' holds 'è': this platform's free text is printable ASCII (platform asa_cli)")
    assert refused_device_text(rule, "nftables", "nftables") is None


SWITCH = "hostname sw1\n!\ninterface GigabitEthernet1/0/1\n description old\n!\nend\n"


def test_a_plan_refuses_a_description_its_target_cannot_keep_naming_field_host_and_platform() -> None:
    """Bad input before anything is rendered or read: the field, the character, the platform, the host."""
    step = single_step("access_port", {"interfaces": ["GigabitEthernet1/0/1"], "description": "Délai ?"},
                       targets={"hosts": ["sw1"]})
    with pytest.raises(BadRequest) as refused:
        plan_change(step, [StoredDevice("sw1", SWITCH)])
    assert str(refused.value) == (
        "steps.0.params.description: 'Délai ?' holds 'é': this platform's free text is printable ASCII "
        "(platform ios_cli); host sw1")


def test_a_description_the_platform_takes_is_rendered_as_written() -> None:
    step = single_step("access_port",
                       {"interfaces": ["GigabitEthernet1/0/1"], "description": "Delete unused; do not use"},
                       targets={"hosts": ["sw1"]})
    plan = plan_change(step, [StoredDevice("sw1", SWITCH)])
    assert "+ description Delete unused; do not use" in plan.hosts[0].diff
