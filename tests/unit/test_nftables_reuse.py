"""The nftables driver's compare and commit on apply's reading at the host's turn (issue 27 item 1).

Apply reads the host once at its turn, under the device lock (``get_config``): within
``running_reuse_seconds`` the compare predicts from that listing and the commit is checked against
it, without listing the ruleset again; older, or after another reading or a write, the driver lists
again and refuses another hand's rule before ``nft -f``.
"""

from __future__ import annotations

from typing import Any

import pytest

from netchange.drivers.errors import ChangedMeanwhile
from netchange.drivers.nftables import NftablesDriver

RULESET = "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n"
CANDIDATE = "add rule inet filter input tcp dport 22 accept\n"
WITH_RULE = RULESET.replace("policy accept;\n", "policy accept;\n\t\ttcp dport 22 accept\n")


class Firewall:
    """``nft`` on the device: every command counted, the ruleset kept."""

    def __init__(self) -> None:
        self.ruleset = RULESET
        self.commands: list[str] = []

    def run(self, command: str, stdin: str | None = None) -> tuple[int, str, str]:
        self.commands.append(command)
        if command == "nft list ruleset":
            return 0, self.ruleset, ""
        if command.startswith("unshare"):
            return 0, WITH_RULE, ""
        if command == "nft -f -":
            self.ruleset = WITH_RULE
        return 0, "", ""


def firewall(reuse: float = 2.0) -> tuple[NftablesDriver, Firewall]:
    d = NftablesDriver("fw", "u", "p", optional_args={"running_reuse_seconds": reuse})
    fw = Firewall()
    d._exec = fw.run  # type: ignore[method-assign]
    return d, fw


def listings(fw: Firewall) -> int:
    return fw.commands.count("nft list ruleset")


def test_the_engines_fresh_listing_serves_the_compare_and_is_the_commits_check() -> None:
    d, fw = firewall()
    d.get_config(retrieve="running")
    d.load_merge_candidate(config=CANDIDATE)
    assert "tcp dport 22 accept" in d.compare_config()
    d.commit_config()
    # one listing before the write (the engine's), then the state the commit left
    assert fw.commands == ["nft list ruleset", "nft -c -f -", f"unshare --net -- sh -c {_inner()}", "nft -f -",
                           "nft list ruleset"]
    assert d.write_window_ms is not None and d.write_window_ms >= 0


def test_an_old_listing_is_listed_again_and_another_hands_rule_refused(monkeypatch: Any) -> None:
    import time

    d, fw = firewall()
    d.get_config(retrieve="running")
    d.load_merge_candidate(config=CANDIDATE)
    d.compare_config()
    assert listings(fw) == 1
    fw.ruleset = RULESET.replace("policy accept;\n", "policy accept;\n\t\tip saddr 192.0.2.9 drop\n")  # a hand
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 2.5)
    with pytest.raises(ChangedMeanwhile, match=r"192\.0\.2\.9"):
        d.commit_config()
    assert listings(fw) == 2 and "nft -f -" not in fw.commands


def test_a_listing_of_the_drivers_own_or_reuse_off_is_never_taken_for_the_check() -> None:
    d, fw = firewall(reuse=0)
    d.get_config(retrieve="running")
    d.load_merge_candidate(config=CANDIDATE)
    d.compare_config()
    d.commit_config()
    assert listings(fw) == 4  # the engine's, the compare's, the re-read, the state left
    d2, fw2 = firewall()
    d2.load_merge_candidate(config=CANDIDATE)  # no get_config: nothing of the engine's
    d2.compare_config()
    d2.commit_config()
    assert listings(fw2) == 3  # the compare's, the re-read, the state left


def _inner() -> str:
    import shlex

    return shlex.quote("nft -f - && nft list ruleset")
