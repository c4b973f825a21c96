"""``fw_rule``: a new firewall rule for a fully known flow (sources, destination, protocol, port).

The post-check opens a **new** connection through the firewall where the host says how
(``data.probe.client_namespace`` in the lab): an established connection would survive a rule
change and prove nothing.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from netchange.authoring import Endpoint, check, cisco_endpoint, has_line
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.models import CheckResult, DeviceText, SafeName
from netchange.vocabulary import Perimeter, Role


class FwRuleParams(StrictModel):
    name: SafeName
    source: Endpoint
    destination: Endpoint
    protocol: Literal["tcp", "udp"]
    port: Annotated[int, Field(ge=1, le=65535)]
    action: Literal["accept", "drop"] = "accept"
    comment: DeviceText | None = None
    """A note on the rule, checked against the platform's ``free_text`` rules; not sent to the device
    yet (the nft rule's comment holds ``name``, which its checks look for)."""
    policy: SafeName = Field(default="outside_in", description="ASA: the access list the rule joins")
    table: SafeName = Field(default="filter", description="nftables: the table")
    family: SafeName = Field(default="inet", description="nftables: the table's family")
    chain: SafeName = Field(default="forward", description="nftables: the chain")


class FwRule(ChangeType[FwRuleParams]):
    name = "fw_rule"
    perimeter = Perimeter.SECURITY
    roles: ClassVar[frozenset[Role]] = frozenset({Role.FIREWALL})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"asa", "nftables"})
    Params = FwRuleParams

    @staticmethod
    def asa_line(p: FwRuleParams) -> str:
        action = "permit" if p.action == "accept" else "deny"
        return (
            f"access-list {p.policy} extended {action} {p.protocol} {cisco_endpoint(p.source, wildcard=False)} "
            f"{cisco_endpoint(p.destination, wildcard=False)} eq {p.port}"
        )

    def _present(self, ctx: Context[FwRuleParams]) -> bool:
        if ctx.syntax == "asa":
            return has_line(ctx.running, self.asa_line(ctx.params))
        return f'comment "{ctx.params.name}"' in ctx.running

    def pre_checks(self, ctx: Context[FwRuleParams]) -> list[CheckResult]:
        p = ctx.params
        if ctx.syntax == "asa":
            exists = any(line.startswith(f"access-list {p.policy} ") for line in ctx.running.splitlines())
            where = f"access list {p.policy} exists"
        else:
            exists = f"chain {p.chain} {{" in ctx.running and f"table {p.family} {p.table} {{" in ctx.running
            where = f"chain {p.family} {p.table} {p.chain} exists"
        return [check(where, exists), check(f"rule {p.name} is not there yet", not self._present(ctx))]

    def post_checks(self, ctx: Context[FwRuleParams]) -> list[CheckResult]:
        p = ctx.params
        checks = [check(f"rule {p.name} is in the running policy", self._present(ctx))]
        probe = ctx.data.get("probe")
        if isinstance(probe, dict) and p.protocol == "tcp" and p.destination.prefixlen == 32:
            from netchange.changetype.probes import tcp_probe

            opened = tcp_probe(str(probe["client_namespace"]), str(p.destination.network_address), p.port)
            wanted = p.action == "accept"
            checks.append(
                check(
                    f"a new TCP connection to {p.destination.network_address}:{p.port} "
                    f"{'opens' if wanted else 'is refused'} (expected)",
                    opened == wanted,
                    f"connection {'opened' if opened else 'failed'}",
                )
            )
        return checks
