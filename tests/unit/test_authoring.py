"""netchange.authoring is the one public module a change type is written with (issue 14, item 4)."""

from __future__ import annotations

import netchange.authoring as authoring


def test_every_public_name_is_there() -> None:
    for name in authoring.__all__:
        assert getattr(authoring, name) is not None, name


def test_the_helpers_read_an_ios_configuration() -> None:
    running = "hostname sw1\n!\ninterface Vlan10\n ip address 10.1.10.1 255.255.255.0\n!\nntp server 10.0.0.1\n"
    assert authoring.has_line(running, "ntp server 10.0.0.1")
    assert not authoring.has_line(running, "ntp server 10.0.0.2")
    assert authoring.has_section(running, "interface Vlan10")
    assert authoring.section(running, "interface Vlan10") == ["ip address 10.1.10.1 255.255.255.0"]
    import ipaddress

    nets = authoring.connected_networks(running)
    assert authoring.reachable(ipaddress.IPv4Address("10.1.10.9"), nets)
    assert not authoring.reachable(ipaddress.IPv4Address("10.2.0.1"), nets)
    result = authoring.check("ntp server configured", False, "absent")
    assert (result.name, result.passed, result.detail) == ("ntp server configured", False, "absent")
