"""The nftables templates of fw_rule and fw_object_group render valid, minimal nft commands."""

from __future__ import annotations

from netchange.changetype import render_template
from netchange.tasks.fw_object_group import FwObjectGroupParams
from netchange.tasks.fw_rule import FwRuleParams


def test_fw_rule_accept_is_appended_with_its_name() -> None:
    p = FwRuleParams.model_validate(
        {
            "name": "web",
            "source": "10.201.1.10/32",
            "destination": "10.202.1.10",
            "protocol": "tcp",
            "port": 9090,
        }
    )
    assert render_template("fw_rule/nftables.j2", p=p) == (
        "add rule inet filter forward ip saddr 10.201.1.10 ip daddr 10.202.1.10 "
        'tcp dport 9090 accept comment "web"\n'
    )


def test_fw_rule_drop_from_any_is_inserted_first() -> None:
    p = FwRuleParams.model_validate(
        {
            "name": "no-dns",
            "source": "any",
            "destination": "10.202.1.0/24",
            "protocol": "udp",
            "port": 53,
            "action": "drop",
        }
    )
    assert render_template("fw_rule/nftables.j2", p=p) == (
        'insert rule inet filter forward ip daddr 10.202.1.0/24 udp dport 53 drop comment "no-dns"\n'
    )


def test_fw_object_group_removes_then_adds() -> None:
    p = FwObjectGroupParams.model_validate(
        {"group": "allowed_clients", "add": ["10.201.1.10", "10.9.0.0/16"], "remove": ["10.201.1.50"]}
    )
    assert render_template("fw_object_group/nftables.j2", p=p) == (
        "delete element inet filter allowed_clients { 10.201.1.50 }\n"
        "add element inet filter allowed_clients { 10.201.1.10, 10.9.0.0/16 }\n"
    )
