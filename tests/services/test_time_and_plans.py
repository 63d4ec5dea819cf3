"""What time does: reminders, then escalation to the next senior; a request nobody decides
expires after REQUEST_TTL, once; an approval can be applied for APPROVAL_VALID_FOR, and with a
run id only by that run; a reviewer who goes away hands their reviews on."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.models import FinalReason, Status
from bot.domain.plan_summary import PlanSummary
from bot.services.decide_request import approve
from bot.services.expire_request import expire_undecided
from bot.services.review_timers import sweep_reviews
from bot.services.set_availability import set_availability
from bot.services.verify_plan import Verified, verify_plan
from tests.services.conftest import World

REMIND, ESCALATE = timedelta(hours=4), timedelta(hours=24)
DIGEST = "a" * 64


async def test_a_reminder_then_escalation_to_the_next_senior(world: World) -> None:
    request_id = await world.ask("U0JUNIOR1")
    world.clock.advance(REMIND)
    swept = await sweep_reviews(world.deps, REMIND, ESCALATE)
    assert (swept.reminded, swept.escalated) == (1, 0)
    world.clock.advance(ESCALATE - REMIND)
    swept = await sweep_reviews(world.deps, REMIND, ESCALATE)
    assert swept.escalated == 1
    assert await world.reviewers(request_id) == ["U0SENIOR2"]
    assert (await sweep_reviews(world.deps, REMIND, ESCALATE)).escalated == 0  # once


async def test_a_request_nobody_decides_expires_once(world: World) -> None:
    request_id = await world.ask("U0JUNIOR1")
    world.clock.advance(timedelta(days=7) - timedelta(seconds=1))
    assert await expire_undecided(world.deps, timedelta(days=7)) == 0
    world.clock.advance(timedelta(seconds=1))
    assert await expire_undecided(world.deps, timedelta(days=7)) == 1
    assert await expire_undecided(world.deps, timedelta(days=7)) == 0
    async with world.store.read() as r:
        req = await r.requests.get(request_id)
    assert req is not None and req.status is Status.EXPIRED and req.final_reason is FinalReason.NO_DECISION
    assert req.reason == "no decision within 7 days"
    assert await world.reviewers(request_id) == []


async def test_an_approval_has_a_lifetime_and_once_belongs_to_one_run(world: World) -> None:
    plan = PlanSummary(sha256=(DIGEST,), formats=("terraform",), updates=1)
    request_id = await world.ask("U0JUNIOR1", plan=plan)
    await approve(world.deps, request_id, "U0SENIOR1")
    first = await verify_plan(world.deps, request_id, (DIGEST,), "ci", once="run-1")
    assert first.result is Verified.MATCH and first.used_by_run == "run-1"
    assert (await verify_plan(world.deps, request_id, (DIGEST,), "ci", once="run-1")).result is Verified.MATCH
    assert (await verify_plan(world.deps, request_id, (DIGEST,), "ci", once="run-2")).result is Verified.USED
    assert (await verify_plan(world.deps, request_id, ("b" * 64,), "ci")).result is Verified.MISMATCH
    world.clock.advance(timedelta(hours=24))
    assert (await verify_plan(world.deps, request_id, (DIGEST,), "ci", once="run-1")).result is Verified.EXPIRED


async def test_going_away_hands_reviews_to_another_senior(world: World) -> None:
    request_id = await world.ask("U0JUNIOR1")
    assert await world.reviewers(request_id) == ["U0SENIOR1"]
    changed = await set_availability(world.deps, "U0SENIOR1", True)
    assert changed.changed
    assert await world.reviewers(request_id) == ["U0SENIOR2"]
    assert [a[2] for a in await world.audited("reassigned")] == ["reviewer_away"]
