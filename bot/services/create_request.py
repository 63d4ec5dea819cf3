"""Ask for sign-off: store the request, apply the policy, route it, queue the messages."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import timedelta

from bot.domain.audit import AuditEntry
from bot.domain.errors import BreakGlassLimit, IdempotencyMismatch, NotOnRoster
from bot.domain.models import ChangeRequest, Draft, NewRequest, Status
from bot.domain.outbox import Event
from bot.domain.policy import evaluate
from bot.domain.words import count
from bot.services import notices
from bot.services.deps import Deps
from bot.services.home import refresh_homes
from bot.services.policy_state import window_in
from bot.services.routing_inputs import RoutingInputs
from bot.store.unit_of_work import Tx


@dataclass(frozen=True)
class Submission:
    requester: str
    draft: Draft
    source: str = "slack"  # slack | api
    pipeline: str | None = None  # the API token's name
    idempotency_key: str | None = None
    receipt: str | None = None  # the key of the Slack delivery this answers; remembered with the work
    workflow_execution: str | None = None  # the Workflow Builder step that asked, completed when final
    break_glass: str | None = None  # the emergency's reason: approved now, reviewed after the fact
    identity: str | None = None  # how an API caller proved who it is: "token" or "oidc" (audited)

    def fingerprint(self) -> str:
        """What an idempotent repeat must match. Fields added later count only when given, so a
        retry that spans an upgrade still matches the request stored before it."""
        draft = {k: v for k, v in asdict(self.draft).items() if k not in _LATER or v not in (None, "")}
        body: dict[str, object] = {"requester": self.requester, "draft": draft, "source": self.source}
        if self.break_glass is not None:
            body["break_glass"] = self.break_glass
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


BREAK_GLASS_WINDOW = timedelta(hours=24)  # BREAK_GLASS_LIMIT counts uses in this long
_LATER = frozenset(
    {"destructive", "plan", "command", "workdir", "asked_again_after", "destructive_by"}
)  # newer than stored fingerprints


@dataclass(frozen=True)
class Created:
    request: ChangeRequest
    created: bool  # False when an idempotent repeat returned the earlier request


async def create_request(deps: Deps, sub: Submission) -> Created:
    now = deps.clock.now()
    fingerprint = sub.fingerprint() if sub.idempotency_key else None

    async def create(tx: Tx) -> Created:
        if sub.idempotency_key:
            found = await tx.requests.by_idempotency_key(sub.idempotency_key)
            if found is not None:
                earlier, earlier_hash = found
                if earlier_hash != fingerprint:
                    raise IdempotencyMismatch(
                        f"Idempotency-Key {sub.idempotency_key!r} was already used for {earlier.ref} "
                        "with a different body; use a new key for a different request."
                    )
                return Created(earlier, created=False)

        roster = deps.roster()
        if sub.break_glass is not None and roster.get(sub.requester) is None and not roster.is_admin(sub.requester):
            refusal = NotOnRoster("Only engineers on signoff's roster can break glass; ask a senior to request it.")
            await tx.refuse(refusal, sub.requester, None, "break_glass", now)
        if sub.break_glass is not None:
            await tx.requests.lock_break_glass(sub.requester)  # lock first: the count must see every use
            recent = await tx.requests.break_glass_since(sub.requester, now - BREAK_GLASS_WINDOW)
            if len(recent) >= deps.break_glass_limit:
                refs = ", ".join(r.ref for r in recent)
                too_often = BreakGlassLimit(
                    f"You have broken glass {count(len(recent), 'time')} in the last 24 hours ({refs}); the limit is "
                    f"{deps.break_glass_limit}. Ask a senior to approve this change instead."
                )
                await tx.refuse(too_often, sub.requester, None, "break_glass", now)
        parties = {who: roster.level_of(who) for who in (sub.requester, *sub.draft.authors)}
        outcome = evaluate(
            await window_in(tx),
            now,
            sub.draft.ai_assisted,
            parties,
            destroys=sub.draft.destroys,
            destructive_approvals=deps.destructive_approvals,
        )
        if sub.break_glass is not None:
            status, wanted = Status.APPROVED, 1  # one senior reviews it after the fact
        elif outcome.required:
            status, wanted = Status.PENDING, outcome.approvals
        else:
            status, wanted = Status.NOT_REQUIRED, 0
        needed = max(outcome.approvals, 1)
        reviewers: list[str] = []
        routing = await RoutingInputs.read(tx, roster)
        if wanted:
            reviewers = routing.choose(sub.requester, sub.draft.authors, wanted)
        request_id = await tx.requests.insert(
            NewRequest(
                requester=sub.requester,
                draft=sub.draft,
                status=status,
                required=outcome.required,
                policy_reason=outcome.reason,
                now=now,
                source=sub.source,
                pipeline=sub.pipeline,
                idempotency_key=sub.idempotency_key,
                idempotency_hash=fingerprint,
                approvals_needed=needed,
                break_glass=sub.break_glass,
                decided_by=sub.requester if sub.break_glass is not None else None,
            )
        )
        for reviewer in sorted(reviewers):  # one order for every transaction's rows
            await tx.assignments.assign(request_id, reviewer, now, "routed", new=True)
        details: dict[str, object] = {"status": status.value, "source": sub.source, "pipeline": sub.pipeline}
        if sub.identity is not None:
            details["identity"] = sub.identity
        if outcome.required:
            details["approvals_needed"] = needed
        if sub.draft.plan is not None:
            details["plan_sha256"] = list(sub.draft.plan.sha256)
        entries = [AuditEntry(sub.requester, "requested", request_id, outcome.reason, details)]
        queued = [notices.review_dm(request_id, r) for r in reviewers]  # before anyone is told to wait
        if wanted:
            entries += [AuditEntry("signoff", "assigned", request_id, details={"to": r}) for r in reviewers]
            if len(reviewers) < wanted:
                entries.append(AuditEntry("signoff", "unassigned", request_id, "no_eligible_reviewer"))
                queued.append(notices.claim_post(request_id, deps.summary_channel))
        if sub.break_glass is not None:
            entries.append(AuditEntry(sub.requester, "break_glass", request_id, sub.break_glass))
            # Loud: the channel, every admin, and every senior a normal request would have asked.
            would_ask = routing.choose(sub.requester, sub.draft.authors, max(outcome.approvals, 1))
            told = sorted({*roster.admins, *would_ask} - {sub.requester})
            queued += notices.break_glass_alarm(request_id, deps.summary_channel, told)
            queued.append(notices.tell_requester(request_id, sub.requester, Event.DECIDED))  # their record
        elif not outcome.required:
            queued.append(notices.tell_requester(request_id, sub.requester, Event.NOT_REQUIRED))
        else:
            event = Event.WAITING if reviewers else Event.UNASSIGNED
            queued.append(notices.tell_requester(request_id, sub.requester, event))
        queued += await refresh_homes(tx, [*reviewers, sub.requester])
        if sub.workflow_execution is not None:
            await tx.workflow.link(request_id, sub.workflow_execution)
            if status is not Status.PENDING:
                queued.append(notices.workflow_complete(request_id))
        for entry in entries:
            await tx.audit.append(now, entry)
        await tx.outbox.enqueue_many(now, queued)
        created = await tx.requests.get(request_id)
        assert created is not None
        return Created(created, created=True)

    result = await deps.store.transact(create, sub.receipt, routing=True)
    if not result.created:
        deps.metrics.requested(sub.source, "repeat")
    else:
        outcome = "break_glass" if sub.break_glass is not None else result.request.status.value
        deps.metrics.requested(sub.source, outcome)
    return result
