"""The cached TextFSM parsing gives exactly what ntc-templates' own parse_output gives."""

from __future__ import annotations

import pytest
from ntc_templates.parse import parse_output

from netchange.changetype import parse_show
from netchange.errors import BadRequest
from tests.mockdev import SHOW_VLAN_BRIEF

SHOW_VERSION = """\
Cisco IOS Software, C3750E Software (C3750E-UNIVERSALK9-M), Version 15.0(2)SE5, RELEASE SOFTWARE (fc1)
ROM: Bootstrap program is C3750E boot loader
sw1 uptime is 1 week, 2 days, 3 hours, 4 minutes
System image file is "flash:c3750e-universalk9-mz.150-2.SE5.bin"
"""


@pytest.mark.parametrize(("command", "output"), [("show vlan brief", SHOW_VLAN_BRIEF), ("show version", SHOW_VERSION)])
def test_same_rows_as_ntc_templates(command: str, output: str) -> None:
    rows = parse_show("cisco_ios", command, output)
    assert rows == parse_output(platform="cisco_ios", command=command, data=output)
    assert rows


def test_unknown_command_is_a_clear_error() -> None:
    with pytest.raises(BadRequest, match="no ntc-templates template"):
        parse_show("cisco_ios", "show frobnication", "")
