"""The review after the fact of a break-glass change: a senior records justified or not.

Break-glass itself is a request made with a reason (create_request.Submission.break_glass):
approved at once, announced in the summary channel and to every admin, and routed like any
request to a senior, who judges it here. Exactly one verdict counts.
"""

from __future__ import annotations

from bot.domain.audit import AuditEntry
from bot.domain.errors import AlreadyDecided, NotEligible, NotReviewer, SelfReview, SignoffError
from bot.domain.models import ChangeRequest, Roster, Verdict
from bot.domain.outbox import Event
from bot.domain.validation import validate_note
from bot.services import notices, who_may_decide
from bot.services.deps import Deps
from bot.services.home import refresh_homes
from bot.store.unit_of_work import Tx

NOTE_MISSING = "A review needs a note: what made it justified, or what should have happened instead"


def _refusal(req: ChangeRequest, reviewers: list[str], actor: str, roster: Roster) -> SignoffError | None:
    glass = req.break_glass
    if glass is None:
        return NotReviewer(f"{req.ref} was not a break-glass change; there is nothing to review after the fact.")
    if glass.verdict is not Verdict.PENDING:
        word = glass.verdict.value.replace("_", " ")
        return AlreadyDecided(req.ref, f"reviewed ({word})", glass.reviewed_by)
    if req.is_party(actor):
        return SelfReview(f"You broke glass for or wrote {req.ref}, so another senior reviews it.")
    if actor not in reviewers:
        names = ", ".join(f"<@{r}>" for r in reviewers) or "a senior who claims it"
        return NotReviewer(f"Only {names} can review {req.ref} after the fact.")
    if not roster.is_senior(actor):
        return NotEligible(f"You are no longer on the roster as a senior, so you cannot review {req.ref}.")
    return None


async def _checked(tx: Tx, deps: Deps, request_id: int, actor: str) -> tuple[ChangeRequest, list[str]]:
    """The request (locked) and its active reviewers, or the refusal, audited."""
    req = await who_may_decide.load(tx, request_id)
    reviewers = await tx.assignments.active(request_id)
    refusal = _refusal(req, reviewers, actor, deps.roster())
    if refusal is not None:
        await tx.refuse(refusal, actor, request_id, "hindsight", deps.clock.now())
    return req, reviewers


async def can_review(deps: Deps, request_id: int, actor: str) -> ChangeRequest:
    """Raise (and audit) if ``actor`` may not judge ``request_id`` now; before opening the form."""

    async def check(tx: Tx) -> ChangeRequest:
        req, _ = await _checked(tx, deps, request_id, actor)
        return req

    return await deps.store.transact(check)


async def record_verdict(
    deps: Deps, request_id: int, actor: str, verdict: Verdict, note: object, receipt: str | None = None
) -> ChangeRequest:
    text = validate_note(note, "note", NOTE_MISSING)
    if verdict is Verdict.PENDING:
        raise ValueError("a verdict is justified or not justified")
    now = deps.clock.now()

    async def review(tx: Tx) -> ChangeRequest:
        req, reviewers = await _checked(tx, deps, request_id, actor)
        won = await tx.requests.set_verdict(request_id, verdict, actor, text, now)
        assert won, "pending was checked in this transaction, with the request locked"
        await tx.audit.append(
            now, AuditEntry(actor, "hindsight_reviewed", request_id, text, {"verdict": verdict.value})
        )
        await tx.outbox.enqueue_many(
            now,
            [
                notices.review_refresh(request_id),
                notices.channel_note(request_id, deps.summary_channel, Event.REVIEWED_AFTER),
                notices.channel_note(request_id, req.requester, Event.REVIEWED_AFTER),
                *await refresh_homes(tx, {req.requester, *reviewers}),
            ],
        )
        done = await tx.requests.get(request_id)
        assert done is not None
        return done

    return await deps.store.transact(review, receipt)
