"""Pure helpers of the haproxy, bind and netconf drivers and of dns_record / lb_member."""

from __future__ import annotations

import dns.name
import pytest
from lxml import etree

from netchange.changetype import get_change_type, render_template
from netchange.drivers.bind import Record, check_records, diff_records, merge_records, parse_records
from netchange.drivers.diffformat import diff_text
from netchange.drivers.haproxy import (
    inverse_candidate,
    merge,
    parse_servers_state,
    parse_state,
    render_state,
    rewrite_config,
)
from netchange.drivers.netconf import render_data, rendering_to_xml, yang_list_keys
from netchange.errors import BadRequest
from netchange.tasks.dns_record import DnsRecordParams, record_of

STATE = """frontend fe_web
    bind 127.0.0.1:8080
    default_backend be_web

backend be_web
    balance roundrobin
    server web1 127.0.0.1:8001 weight 1 state ready
    server web2 127.0.0.1:8002 weight 1 state ready
"""

CFG = """global
    stats socket 127.0.0.1:9999 level admin

frontend fe_web
    bind 127.0.0.1:8080
    default_backend be_web

backend be_web
    balance roundrobin
    server web1 127.0.0.1:8001 weight 1 check
    server web2 127.0.0.1:8002 weight 1 check
"""


def test_tree_diff_shows_parents_as_context() -> None:
    old = "vlan 10\n name users\nvlan 20\n name x\n"
    new = "vlan 10\n name staff\nvlan 30\n name y\n"
    assert (
        diff_text(old, new)
        == "-vlan 20\n- name x\n vlan 10\n- name users\n+ name staff\n+vlan 30\n+ name y\n"
    )
    assert diff_text(old, old) == ""


def test_haproxy_merge_diff_and_inverse() -> None:
    running = parse_state(STATE)
    assert render_state(running) == STATE
    desired = merge(
        running,
        "backend be_web\n    server web3 127.0.0.1:8003 weight 2\n    server web1 state drain\n"
        "    no server web2\n",
    )
    diff = diff_text(render_state(running), render_state(desired))
    assert diff.splitlines() == [
        " backend be_web",
        "-    server web1 127.0.0.1:8001 weight 1 state ready",
        "-    server web2 127.0.0.1:8002 weight 1 state ready",
        "+    server web1 127.0.0.1:8001 weight 1 state drain",
        "+    server web3 127.0.0.1:8003 weight 2 state ready",
    ]
    undo = merge(desired, inverse_candidate(running, desired))
    assert render_state(undo) == STATE


@pytest.mark.parametrize(
    "candidate",
    [
        "backend nope\n    server x 127.0.0.1:1\n",
        "backend be_web\n    server new state drain\n",
        "backend be_web\n    server web1 127.0.0.1:70000\n",
        "backend be_web\n    balance leastconn\n",
        "backend be_web\n    no server web9\n",
        "frontend fe_web\n    server x 127.0.0.1:1\n",
        "    server orphan 127.0.0.1:1\n",
    ],
)
def test_haproxy_merge_refuses(candidate: str) -> None:
    with pytest.raises(ValueError):
        merge(parse_state(STATE), candidate)


def test_haproxy_rewrite_config_keeps_options_and_order() -> None:
    desired = merge(
        parse_state(STATE), "backend be_web\n server web3 127.0.0.1:8003\n server web1 state maint\n"
    )
    out = rewrite_config(CFG, desired)
    assert "    server web1 127.0.0.1:8001 weight 1 check disabled\n" in out
    assert out.index("web2") < out.index("web3")
    assert "    server web3 127.0.0.1:8003 weight 1 check\n" in out
    assert rewrite_config(CFG, parse_state(STATE)) == CFG


def test_haproxy_servers_state_parsing() -> None:
    text = (
        "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
        "x x x x x x x x x srv_port\n"
        "3 be_web 1 web1 127.0.0.1 2 0 5 1 0 6 3 2 6 0 0 0 - 8001 - 0 0 - - 0\n"
        "3 be_web 2 web2 127.0.0.1 2 8 1 1 0 6 3 2 6 0 0 0 - 8002 - 0 0 - - 0\n"
        "3 be_web 3 web3 127.0.0.1 0 1 1 1 0 6 3 2 6 0 0 0 - 8003 - 0 0 - - 0\n"
    )
    servers = parse_servers_state(text)
    assert [(s.name, s.weight, s.state) for s in servers.values()] == [
        ("web1", 5, "ready"),
        ("web2", 1, "drain"),
        ("web3", 1, "maint"),
    ]


ZONE = dns.name.from_text("doif.lab.example.")
RUNNING = frozenset(
    {
        Record("www.doif.lab.example.", "A", "192.0.2.10", 300),
        Record("portal.doif.lab.example.", "CNAME", "www.doif.lab.example.", 300),
        Record("doif.lab.example.", "NS", "ns1.doif.lab.example.", 300),
    }
)


def test_bind_merge_and_diff() -> None:
    desired = merge_records(
        RUNNING, "add app A 192.0.2.50 ; comment\nadd www 600 IN A 192.0.2.11\n", ZONE, 300
    )
    assert diff_records(RUNNING, desired).splitlines() == [
        "-www.doif.lab.example. 300 IN A 192.0.2.10",
        "+app.doif.lab.example. 300 IN A 192.0.2.50",
        "+www.doif.lab.example. 600 IN A 192.0.2.10",
        "+www.doif.lab.example. 600 IN A 192.0.2.11",
    ]
    back = merge_records(
        desired, "delete app A\ndelete www A 192.0.2.11\nadd www 300 A 192.0.2.10\n", ZONE, 300
    )
    assert back == RUNNING


def test_bind_snapshot_round_trip_skips_soa() -> None:
    from netchange.drivers.bind import render_records

    text = render_records(RUNNING) + "doif.lab.example. 300 IN SOA ns1 host 5 1 1 1 1\n"
    assert parse_records(text, ZONE) == RUNNING


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        ("add portal A 192.0.2.1", "CNAME cannot coexist"),
        ("add x A 300.1.1.1", "bad A data"),
        ("add x.example.org. A 192.0.2.1", "outside the zones"),
        ("add @ NS ns2", "not changed by netchange"),
        ("delete nope A", "no such record"),
        ("replace x A 192.0.2.1", "starts with 'add' or 'delete'"),
        ("add x", "expected NAME"),
        ("add x 300 IN", "missing record type"),
    ],
)
def test_bind_refusals(candidate: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_records(merge_records(RUNNING, candidate, ZONE, 300), [ZONE])


def test_netconf_render_and_back() -> None:
    ns = "urn:example:vlans"
    xml = (
        f'<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><nacm xmlns="urn:x"/><vlans xmlns="{ns}">'
        "<vlan><id>100</id><name>B</name></vlan><vlan><id>9</id><name>A</name></vlan></vlans></data>"
    )
    keys = yang_list_keys('container vlans { list vlan { key "id"; unique "name"; leaf id {type uint16;} } }')
    assert keys == {"vlan": ["id"]}
    text = render_data(etree.fromstring(xml), keys).text()
    assert text == f"! container vlans {ns} vlan\nvlan 9\n name A\nvlan 100\n name B\n"
    payload = rendering_to_xml(text, keys, {}, "replace")
    again = render_data(etree.fromstring(payload), keys).text()
    assert again == text
    assert 'nc:operation="replace"' in payload
    with pytest.raises(ValueError, match="expected keys"):
        rendering_to_xml("vlan 1 2\n name x\n", keys, render_data(etree.fromstring(xml), keys).containers)


def test_dns_record_params_and_owner() -> None:
    ct = get_change_type("dns_record")
    p = ct.validate({"type": "PTR", "address": "192.0.2.77", "target": "app"})
    assert record_of(p, "doif.lab.example.") == ("77.2.0.192.in-addr.arpa.", "PTR", "app.doif.lab.example.")
    p = ct.validate({"type": "AAAA", "name": "V6.Host", "address": "2001:db8::1"})
    assert record_of(p, "doif.lab.example.") == ("v6.host.doif.lab.example.", "AAAA", "2001:db8::1")
    for bad in (
        {"type": "A", "name": "-bad", "address": "192.0.2.1"},
        {"type": "A", "name": "x", "address": "2001:db8::1"},
        {"type": "A", "name": "x" * 64, "address": "192.0.2.1"},
        {"type": "CNAME", "name": "x", "address": "192.0.2.1"},
        {"type": "MX", "name": "x", "target": "y"},
        {"type": "A", "name": "x", "address": "192.0.2.1", "ttl": 5},
    ):
        with pytest.raises(BadRequest):
            ct.validate(bad)
    assert isinstance(ct.validate({"type": "A", "name": "ok", "address": "192.0.2.1"}), DnsRecordParams)


def test_lb_member_template_renders_each_action() -> None:
    ct = get_change_type("lb_member")
    cases = {
        "add": (
            {"address": "127.0.0.1", "port": 8003, "weight": 2},
            "server web3 127.0.0.1:8003 weight 2 state ready",
        ),
        "remove": ({}, "no server web3"),
        "drain": ({}, "server web3 state drain"),
        "enable": ({}, "server web3 state ready"),
        "weight": ({"weight": 0}, "server web3 weight 0"),
    }
    for action, (extra, line) in cases.items():
        p = ct.validate({"action": action, "backend": "be_web", "server": "web3", **extra})
        out = render_template("lb_member/haproxy.j2", p=p, host=None)
        assert out == f"backend be_web\n    {line}\n"
        merge(parse_state(STATE + "    server web3 127.0.0.1:8003 weight 1 state ready\n"), out)
    with pytest.raises(BadRequest):
        ct.validate({"action": "weight", "backend": "be_web", "server": "web3"})
