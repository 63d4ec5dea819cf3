"""Ask for sign-off: store the request, apply the policy, route it, queue the messages."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from bot.domain.audit import AuditEntry
from bot.domain.errors import IdempotencyMismatch
from bot.domain.models import ChangeRequest, Draft, Status
from bot.domain.policy import evaluate
from bot.domain.routing import choose_reviewer
from bot.services import notices
from bot.services.deps import Deps
from bot.services.policy_state import window_in


@dataclass(frozen=True)
class Submission:
    requester: str
    draft: Draft
    source: str = "slack"  # slack | api
    pipeline: str | None = None  # the API token's name
    idempotency_key: str | None = None
    delivery: str | None = None  # the Slack delivery this answers; remembered with the work
    workflow_execution: str | None = None  # the Workflow Builder step that asked, completed when final

    def fingerprint(self) -> str:
        body = {"requester": self.requester, "draft": asdict(self.draft), "source": self.source}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Created:
    request: ChangeRequest
    created: bool  # False when an idempotent repeat returned the earlier request


async def create_request(deps: Deps, sub: Submission) -> Created:
    now = deps.clock.now()
    fingerprint = sub.fingerprint() if sub.idempotency_key else None
    async with deps.store.write(sub.delivery) as tx:
        if sub.idempotency_key:
            found = await tx.requests.by_idempotency_key(sub.idempotency_key)
            if found is not None:
                earlier, earlier_hash = found
                if earlier_hash != fingerprint:
                    raise IdempotencyMismatch(
                        f"Idempotency-Key {sub.idempotency_key!r} was already used for {earlier.ref} "
                        "with a different body; use a new key for a different request."
                    )
                deps.metrics.requested(sub.source, "repeat")
                return Created(earlier, created=False)

        roster = deps.roster()
        parties = {who: roster.level_of(who) for who in (sub.requester, *sub.draft.authors)}
        outcome = evaluate(await window_in(tx), now, sub.draft.ai_assisted, parties)
        status = Status.PENDING if outcome.required else Status.NOT_REQUIRED
        reviewer = None
        if outcome.required:
            load, last = await tx.assignments.load(roster.seniors())
            away, delegates = await tx.availability.unavailable()
            reviewer = choose_reviewer(roster, sub.requester, sub.draft.authors, away, load, last, delegates=delegates)
        request_id = await tx.requests.insert(
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
        )
        if reviewer is not None:
            await tx.assignments.assign(request_id, reviewer, now, "routed", new=True)
        entries = [
            AuditEntry(
                actor=sub.requester,
                action="requested",
                request_id=request_id,
                reason=outcome.reason,
                details={"status": status.value, "source": sub.source, "pipeline": sub.pipeline},
            )
        ]
        if not outcome.required:
            queued = [notices.tell_requester(request_id, sub.requester, notices.NOT_REQUIRED)]
        elif reviewer is not None:
            entries.append(AuditEntry("signoff", "assigned", request_id, details={"to": reviewer}))
            queued = [
                notices.review_dm(request_id, reviewer),
                notices.tell_requester(request_id, sub.requester, notices.WAITING),
                notices.home_refresh(reviewer),
            ]
        else:
            entries.append(AuditEntry("signoff", "unassigned", request_id, "no_eligible_reviewer"))
            queued = [
                notices.claim_post(request_id, deps.summary_channel),
                notices.tell_requester(request_id, sub.requester, notices.UNASSIGNED),
            ]
        queued.append(notices.home_refresh(sub.requester))
        if sub.workflow_execution is not None:
            await tx.workflow.link(request_id, sub.workflow_execution)
            if not outcome.required:
                queued.append(notices.workflow_complete(request_id))
        for entry in entries:
            await tx.audit.append(now, entry)
        await tx.outbox.enqueue_many(now, queued)
    deps.metrics.requested(sub.source, status.value)
    created = ChangeRequest(
        id=request_id,
        requester=sub.requester,
        draft=sub.draft,
        status=status,
        sign_off_required=outcome.required,
        policy_reason=outcome.reason,
        approvals_needed=1,
        created_at=now,
        updated_at=now,
        source=sub.source,
        pipeline=sub.pipeline,
        reviewer=reviewer,
        assigned_at=now if reviewer else None,
    )
    return Created(created, created=True)
