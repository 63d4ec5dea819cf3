"""Who may decide a request, checked at click time from the signed payload's user.

Refusals are audited in the same transaction that read the state (``Tx.refuse``), then
raised after it commits, so the audit row is never rolled back with the refusal.
"""

from __future__ import annotations

from bot.domain.errors import (
    AlreadyDecided,
    NotEligible,
    NotReviewer,
    SelfReview,
    SignoffError,
    UnknownRequest,
)
from bot.domain.models import ChangeRequest, Roster, Status, format_ref
from bot.store.unit_of_work import Tx


async def load(tx: Tx, request_id: int) -> ChangeRequest:
    """The request, locked until the transaction ends; UnknownRequest if there is none."""
    req = await tx.requests.get_for_update(request_id)
    if req is None:
        raise UnknownRequest(format_ref(request_id))
    return req


def not_pending(req: ChangeRequest) -> AlreadyDecided | None:
    if req.status is Status.PENDING:
        return None
    return AlreadyDecided(req.ref, req.status.value.replace("_", " "), req.decided_by)


def decide_refusal(req: ChangeRequest, reviewers: list[str], actor: str, roster: Roster) -> SignoffError | None:
    """The reason ``actor`` may not decide ``req`` (whose active reviewers are given) now, or None."""
    stale = not_pending(req)
    if stale is not None:
        return stale
    if req.is_party(actor):
        who = "asked for" if actor == req.requester else "wrote"
        return SelfReview(f"You {who} {req.ref}, so you cannot review it. A senior reviewer has to.")
    if actor not in reviewers:
        if reviewers:
            names = ", ".join(f"<@{r}>" for r in reviewers)
            who = "reviewer" if len(reviewers) == 1 else "reviewers"
            return NotReviewer(f"Only the assigned {who} ({names}) can decide {req.ref}.")
        return NotReviewer(f"{req.ref} has no reviewer yet; claim it from the summary channel first.")
    if not roster.is_senior(actor):
        return NotEligible(
            f"You are no longer on the roster as a senior reviewer, so you cannot decide {req.ref}. "
            "Ask an admin to check the roster."
        )
    return None
