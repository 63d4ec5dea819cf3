"""`signoff verify`: is the plan about to be applied the one that was approved, and may the
approval still be applied?

A senior approves a plan, not a promise: the request stores each plan's SHA-256, and a pipeline
checks the file it will apply against them just before applying it. An approval has a lifetime
(``APPROVAL_VALID_FOR`` from the decision, break-glass included): after it, the answer is
``expired`` and the pipeline must ask again. With ``once``, the first matching verify uses the
approval up for its CI run: the same run may verify again, another run is told which run used
it. A command is approved the same way: `signoff guard` gives the exact command and directory
it is about to run, and anything but the approved ones is ``other_command``. Every check is
audited, whatever its answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.audit import AuditEntry
from bot.domain.models import ChangeRequest, Status
from bot.domain.verification import Verified
from bot.services import who_may_decide
from bot.services.deps import Deps
from bot.services.guarded_commands import COMMAND_SHOWN
from bot.store.unit_of_work import Tx


@dataclass(frozen=True)
class Verification:
    request: ChangeRequest
    result: Verified
    approved: tuple[str, ...]  # the digests stored with the request
    unknown: tuple[str, ...]  # the given digests that are not among them
    valid_until: datetime | None  # when the approval stops being usable (None: no limit)
    used_by_run: str | None  # the CI run that used it up, if one did


def valid_until(req: ChangeRequest, deps: Deps) -> datetime | None:
    """When an approval stops being usable: APPROVAL_VALID_FOR after it was decided. Requests that
    needed no sign-off have no approval to expire."""
    if req.status is Status.APPROVED and req.decided_at is not None:
        return req.decided_at + deps.approval_valid_for
    return None


@dataclass(frozen=True)
class BoundCommand:
    """The command about to run and where, as `signoff guard` gives them."""

    command: str
    workdir: str


async def verify_plan(
    deps: Deps,
    request_id: int,
    digests: tuple[str, ...],
    pipeline: str,
    once: str | None = None,
    command: BoundCommand | None = None,
) -> Verification:
    now = deps.clock.now()

    async def verify(tx: Tx) -> Verification:
        req = await who_may_decide.load(tx, request_id)
        approved = req.draft.plan.sha256 if req.draft.plan is not None else ()
        unknown = tuple(d for d in dict.fromkeys(digests) if d not in approved)
        until = valid_until(req, deps)
        used = req.used_by_run
        plans_checked = bool(approved or digests or command is None)
        if req.status not in (Status.APPROVED, Status.NOT_REQUIRED):
            result = Verified.NOT_APPROVED
        elif command is not None and (command.command, command.workdir) != (req.draft.command, req.draft.workdir):
            result = Verified.OTHER_COMMAND
        elif plans_checked and (unknown or not digests):
            result = Verified.MISMATCH
        elif until is not None and now >= until:
            result = Verified.EXPIRED
        elif used is not None and once != used:
            result = Verified.USED  # used up by one run: no other run, and no verify without a run, applies it
        elif once is not None:
            used = await tx.requests.use_up(request_id, once, now)
            result = Verified.MATCH if used == once else Verified.USED
            if result is Verified.MATCH and req.used_by_run is None:
                await tx.audit.append(
                    now, AuditEntry(f"api:{pipeline}", "approval_used", request_id, None, {"run": once})
                )
        else:
            result = Verified.MATCH
        details: dict[str, object] = {"result": result.value, "given": list(digests), "approved": list(approved)}
        if once is not None:
            details["run"] = once
        if command is not None:
            details["command"] = command.command[:COMMAND_SHOWN]
            details["workdir"] = command.workdir
        await tx.audit.append(now, AuditEntry(f"api:{pipeline}", "plan_verified", request_id, None, details))
        return Verification(req, result, approved, unknown, until, used)

    return await deps.store.transact(verify)
