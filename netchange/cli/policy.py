"""The policy commands: adopt a policy version in the journal, show the one in force."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from netchange.cli.common import open_journal as _journal
from netchange.cli.common import out
from netchange.cli.common import policy as _policy
from netchange.cli.main import app, settings

if TYPE_CHECKING:  # loaded by the commands (start-up: 'netchange --help' imports this module)
    from netchange.policy import pin as policypin

policy_app = typer.Typer(help="The policy in force: pinned in the journal by its digest.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


@policy_app.command("adopt")
def policy_adopt(
    reason: Annotated[str, typer.Option(help="Why this version is put in force (kept in the journal).")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON document.")] = False,
) -> None:
    """Put the policy file given (--policy / NETCHANGE_POLICY) in force in this journal.

    Only a person with a role of ``policy_admin`` in the policy pinned now may do it; until then,
    every deciding command with another policy file is refused.
    """
    from netchange.policy import pin as policypin

    policy = _policy()
    with _journal(warn=False) as journal:
        adoption = policypin.adopt(policy, journal, reason=reason, actor=settings().actor)
    pin = adoption.pin
    if as_json:
        from netchange.cli.jsonface import PolicyAdoptDocument

        print(PolicyAdoptDocument.model_validate({
            "pinned": _pin(pin), "previous": None if adoption.previous is None else _pin(adoption.previous),
            "changed": adoption.changed}).to_json())
        return
    if adoption.previous is None:
        out.print(f"policy {pin.version} ({pin.digest[:12]}) pinned: first use of this journal")
    elif not adoption.changed:
        out.print(f"policy {pin.version} ({pin.digest[:12]}) is already in force")
    else:
        prev = adoption.previous
        out.print(
            f"policy {pin.version} ({pin.digest[:12]}) adopted by {pin.actor}, "
            f"replacing {prev.version} ({prev.digest[:12]})"
        )


@policy_app.command("status")
def policy_status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The policy pinned in the journal, and whether the policy file given is that one."""
    from netchange.policy import pin as policypin

    policy = _policy()
    with _journal(warn=False) as journal:
        pin = policypin.pinned(journal)
    data = {
        "pinned": None if pin is None else _pin(pin),
        "given": {"version": policy.version, "digest": policy.digest, "path": policy.path},
        "in_force": pin is None or pin.digest == policy.digest,
    }
    if as_json:
        from netchange.cli.jsonface import PolicyStatusDocument

        print(PolicyStatusDocument.model_validate(data).to_json())
        return
    if pin is None:
        out.print(f"no policy pinned yet; the next deciding command pins {policy.version} ({policy.digest[:12]})")
        return
    out.print(f"pinned: {pin.version} ({pin.digest[:12]}) from {pin.path} ({pin.kind} by {pin.actor})")
    mark = "in force" if data["in_force"] else "NOT in force: 'netchange policy adopt' first"
    out.print(f"given:  {policy.version} ({policy.digest[:12]}) from {policy.path}: {mark}")


def _pin(pin: policypin.Pin) -> dict[str, str]:
    return {"version": pin.version, "digest": pin.digest, "path": pin.path, "by": pin.actor, "how": pin.kind}
