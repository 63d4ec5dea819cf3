"""Ask for sign-off: store the request, apply the policy, route it, queue the messages."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from bot.domain.errors import IdempotencyMismatch
from bot.domain.models import ChangeRequest, Draft, Status
from bot.domain.policy import evaluate
from bot.domain.routing import choose_reviewer
from bot.services import notices
from bot.services.deps import Deps
from bot.services.policy_state import window_in
from bot.store import audit, outbox
from bot.store import requests as store
from bot.store.audit import AuditEntry


@dataclass(frozen=True)
class Submission:
    requester: str
    draft: Draft
    source: str = "slack"  # slack | api
    pipeline: str | None = None  # the API token's name
    idempotency_key: str | None = None

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
    async with deps.db.transaction() as conn:
        if sub.idempotency_key:
            found = await store.by_idempotency_key(conn, sub.idempotency_key)
            if found is not None:
                earlier, earlier_hash = found
                if earlier_hash != fingerprint:
                    raise IdempotencyMismatch(
                        f"Idempotency-Key {sub.idempotency_key!r} was already used for {earlier.ref} "
                        "with a different body; use a new key for a different request."
                    )
                return Created(earlier, created=False)

        roster = deps.roster()
        outcome = evaluate(await window_in(conn), now, sub.draft.ai_assisted, roster.level_of(sub.requester))
        status = Status.PENDING if outcome.required else Status.NOT_REQUIRED
        request_id = await store.insert(
            conn,
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
        await audit.append(
            conn,
            now,
            AuditEntry(
                actor=sub.requester,
                action="requested",
                request_id=request_id,
                reason=outcome.reason,
                details={"status": status.value, "source": sub.source, "pipeline": sub.pipeline},
            ),
        )
        if not outcome.required:
            await outbox.enqueue(conn, now, notices.tell_requester(request_id, sub.requester, notices.NOT_REQUIRED))
        else:
            load, last = await store.reviewer_load(conn, roster.seniors())
            reviewer = choose_reviewer(
                roster, sub.requester, sub.draft.authors, await store.away_users(conn), load, last
            )
            if reviewer is not None:
                await store.assign(conn, request_id, reviewer, now, "routed")
                await audit.append(conn, now, AuditEntry("signoff", "assigned", request_id, details={"to": reviewer}))
                await outbox.enqueue(conn, now, notices.review_dm(request_id, reviewer))
                await outbox.enqueue(conn, now, notices.tell_requester(request_id, sub.requester, notices.WAITING))
            else:
                await audit.append(conn, now, AuditEntry("signoff", "unassigned", request_id, "no_eligible_reviewer"))
                await outbox.enqueue(conn, now, notices.claim_post(request_id, deps.summary_channel))
                await outbox.enqueue(conn, now, notices.tell_requester(request_id, sub.requester, notices.UNASSIGNED))
        for user in {sub.requester, *await store.active_reviewers(conn, request_id)}:
            await outbox.enqueue(conn, now, notices.home_refresh(user))
        created = await store.get(conn, request_id)
    assert created is not None
    deps.committed(request_id)
    return Created(created, created=True)
