"""The gdnsd driver's pure pieces: its files read into the managed state, a merge, the files written
back (everything but the members kept byte for byte), and refusals of bad candidates."""

from __future__ import annotations

from pathlib import Path

import pytest

from netchange.drivers.errors import CommandRefused
from netchange.drivers.gdnsd import (
    GdnsdDriver,
    inverse_candidate,
    merge,
    ordered,
    parse_files,
    parse_state,
    render_admin,
    render_config,
    render_state,
)
from netchange.lab.gslb import config_text

CONFIG = config_text(port=5300, base=Path("/srv/gslb"), health_port=8081,
                     centres={"doif": "127.0.1.80", "doso": "127.0.2.80"})
ADMIN = "# maintenance notes\n192.0.2.99/other => DOWN\n"


def test_files_read_into_the_managed_state() -> None:
    state = parse_files(CONFIG, ADMIN + "127.0.2.80/centre_http => DOWN\n")
    assert render_state(state) == (
        "resource www\n"
        "    member doif 127.0.1.80 weight 1 state up\n"
        "    member doso 127.0.2.80 weight 1 state drain\n"
        "\n"
        "resource www_failover\n"
        "    member doif 127.0.1.80 priority 1 state up\n"
        "    member doso 127.0.2.80 priority 2 state drain\n"
    )
    assert render_state(parse_state(render_state(state))) == render_state(state)


def test_merge_then_files_keep_everything_else() -> None:
    running = parse_files(CONFIG, ADMIN)
    desired = merge(running, "resource www\n    member doif weight 3\n    member doso state drain\n")
    config = render_config(CONFIG, desired)
    admin = render_admin(ADMIN, desired, {"127.0.1.80", "127.0.2.80"})
    assert "      doif = [ 127.0.1.80, 3 ]\n" in config
    assert config.replace("127.0.1.80, 3", "127.0.1.80, 1") == CONFIG  # only the weight moved
    assert admin == ADMIN + "127.0.2.80/centre_http => DOWN\n"  # the other hand's line kept
    # One override drains the address wherever the same monitor watches it: the failover too.
    assert desired["www_failover"].members["doso"].state == "drain"
    assert parse_files(config, admin) == desired
    # The inverse candidate takes it back exactly.
    back = merge(desired, inverse_candidate(running, desired))
    assert render_config(config, back) == CONFIG
    assert render_admin(admin, back, {"127.0.1.80", "127.0.2.80"}) == ADMIN


def test_add_and_remove_a_member() -> None:
    running = parse_files(CONFIG, "")
    added = merge(running, "resource www\n    member dr 127.0.3.80 weight 2\n")
    assert "      dr = [ 127.0.3.80, 2 ]\n" in render_config(CONFIG, added)
    removed = merge(running, "resource www\n    no member doso\n")
    assert "127.0.2.80, 1" not in render_config(CONFIG, removed)


def test_failover_priorities_reorder_and_write_back() -> None:
    running = parse_files(CONFIG, "")
    desired = merge(running, "resource www_failover\n    member doso priority 1\n")
    assert [(m.name, m.priority) for m in ordered(desired["www_failover"])] == [("doso", 1), ("doif", 2)]
    config = render_config(CONFIG, desired)
    assert "        datacenters => [ doso, doif ]\n" in config
    assert config.index("          doso => 127.0.2.80") < config.index("          doif => 127.0.1.80")
    assert parse_files(config, "") == desired
    back = merge(desired, inverse_candidate(running, desired))
    assert render_config(config, back) == CONFIG
    added = merge(running, "resource www_failover\n    member dr 127.0.3.80 priority 1\n")
    assert [m.name for m in ordered(added["www_failover"])] == ["dr", "doif", "doso"]
    removed = merge(added, "resource www_failover\n    no member dr\n")
    assert render_config(render_config(CONFIG, added), removed) == CONFIG


@pytest.mark.parametrize(("candidate", "why"), [
    ("resource www_failover\n    member doso weight 2\n", "not a weight"),
    ("resource www\n    member doso priority 1\n", "not a priority"),
    ("resource www_failover\n    member doso priority 0\n", "priority"),
    ("resource www\n    member doso weight 0\n", "weight"),
    ("resource www\n    member doso weight 2000000\n", "weight"),
    ("resource www\n    member new weight 2\n", "give its address"),
    ("resource www\n    member new 127.0.9\n", "not an IPv4"),
    ("resource www\n    member doso state off\n", "unknown option"),
    ("resource nope\n    member doso state drain\n", "no weighted resource"),
    ("member doso state drain\n", "outside any resource"),
    ("resource www\n    no member doif\n    no member doso\n", "no member"),
    ("resource www\n    no member ghost\n", "no member 'ghost'"),
    ("resource www\n    member dup 127.0.1.80\n", "two members"),
    ("resource www\n    member doso; stop\n", "bad member line"),
])
def test_bad_candidates_are_refused(candidate: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        merge(parse_files(CONFIG, ""), candidate)


def test_cli_refuses_what_is_not_reading() -> None:
    driver = GdnsdDriver("127.0.0.1", "", "", optional_args={"config_dir": "/nonexistent"})
    for command in ("stop", "replace", "reload-zones", "states; stop"):
        with pytest.raises(CommandRefused):
            driver.cli([command])
