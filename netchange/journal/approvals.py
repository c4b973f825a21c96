"""The journal's approvals: stored here, decided by ``netchange.guard._approvals``."""

from __future__ import annotations

from collections.abc import Iterable

from netchange import redact
from netchange.journal.chain import JournalBase
from netchange.journal.encoding import _approval, _approval_content, _dt, _ts, canonical, sha256
from netchange.journal.records import Approval, EventKind


class Approvals(JournalBase):
    """Approvals and rejections, each bound to a plan hash and chained by its row's digest."""

    def add_approval(
        self,
        change_id: str,
        plan_hash: str,
        *,
        approver: str,
        organisation: str,
        roles: Iterable[str],
        decision: str,
        comment: str = "",
        policy_digest: str | None = None,
    ) -> Approval:
        """Store an approval or rejection; the checks belong to ``netchange.guard._approvals``.

        ``policy_digest``, the policy the approver was judged under, goes into the chained event:
        an approval given under another policy than the one pinned does not count.
        """
        roles_t = tuple(roles)
        comment = redact.scrub(comment)
        with self._tx() as conn:
            at = _ts(self._clock())
            cur = conn.execute(
                "INSERT INTO approvals(change_id, plan_hash, approver, organisation, roles, decision,"
                " comment, at) VALUES (?,?,?,?,?,?,?,?)",
                (change_id, plan_hash, approver, organisation, ",".join(roles_t), decision, comment, at),
            )
            approval_id = int(cur.lastrowid or 0)
            approval = Approval(
                id=approval_id,
                change_id=change_id,
                plan_hash=plan_hash,
                approver=approver,
                organisation=organisation,
                roles=roles_t,
                decision=decision,
                comment=comment,
                at=_dt(at),
            )
            self._append(
                conn,
                change_id,
                EventKind.APPROVAL if decision == "approved" else EventKind.REJECTION,
                actor=approver,
                data={
                    "approval_id": approval_id,
                    "plan_hash": plan_hash,
                    "decision": decision,
                    "organisation": organisation,
                    "roles": list(roles_t),
                    "comment": comment,
                    "policy_digest": policy_digest,
                    "row_sha": sha256(canonical(_approval_content(approval))),
                },
            )
            return approval

    def approvals(self, change_id: str, plan_hash: str | None = None) -> list[Approval]:
        """Approvals and rejections of the change, for ``plan_hash`` only when given."""
        if plan_hash is None:
            rows = self._read("SELECT * FROM approvals WHERE change_id = ? ORDER BY id", (change_id,))
        else:
            rows = self._read(
                "SELECT * FROM approvals WHERE change_id = ? AND plan_hash = ? ORDER BY id",
                (change_id, plan_hash),
            )
        return [_approval(r) for r in rows]

