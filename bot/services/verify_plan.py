"""`signoff verify`: is the plan about to be applied the one that was approved?

A senior approves a plan, not a promise: the request stores each plan's SHA-256, and a
pipeline checks the file it will apply against them just before applying it. Every check is
audited, whatever its answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.audit import AuditEntry
from bot.domain.models import ChangeRequest, Status
from bot.services import who_may_decide
from bot.services.deps import Deps
from bot.store.unit_of_work import Tx


class Verified(StrEnum):
    MATCH = "match"  # approved (or not required), and every file is an approved plan
    MISMATCH = "mismatch"  # a file is not a plan that was approved, or no plan was
    NOT_APPROVED = "not_approved"  # pending, denied, cancelled or expired


@dataclass(frozen=True)
class Verification:
    request: ChangeRequest
    result: Verified
    approved: tuple[str, ...]  # the digests stored with the request
    unknown: tuple[str, ...]  # the given digests that are not among them


async def verify_plan(deps: Deps, request_id: int, digests: tuple[str, ...], pipeline: str) -> Verification:
    now = deps.clock.now()

    async def verify(tx: Tx) -> Verification:
        req = await who_may_decide.load(tx, request_id)
        approved = req.draft.plan.sha256 if req.draft.plan is not None else ()
        unknown = tuple(d for d in dict.fromkeys(digests) if d not in approved)
        if req.status not in (Status.APPROVED, Status.NOT_REQUIRED):
            result = Verified.NOT_APPROVED
        elif unknown or not digests:
            result = Verified.MISMATCH
        else:
            result = Verified.MATCH
        details = {"result": result.value, "given": list(digests), "approved": list(approved)}
        await tx.audit.append(now, AuditEntry(f"api:{pipeline}", "plan_verified", request_id, None, details))
        return Verification(req, result, approved, unknown)

    return await deps.store.transact(verify)
