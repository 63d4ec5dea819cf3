"""Deciding: only an assigned senior decides; a denial needs a reason; one denial ends a
request; a two-senior request needs two distinct approvals; the first final decision wins and
every refusal is audited."""

from __future__ import annotations

import pytest

from bot.domain.errors import AlreadyDecided, AlreadyVoted, InvalidInput, NotRequester, NotReviewer, SelfReview
from bot.domain.models import Status
from bot.services.cancel_request import cancel_request
from bot.services.decide_request import approve, deny
from tests.services.conftest import World


async def test_the_assigned_senior_approves_and_the_requester_is_told(world: World) -> None:
    request_id = await world.ask("U0JUNIOR1")
    decided = await approve(world.deps, request_id, "U0SENIOR1")
    assert decided.final and decided.request.status is Status.APPROVED
    assert decided.request.decided_by == "U0SENIOR1"
    assert [(a[0], a[1]) for a in await world.audited("decided")] == [("U0SENIOR1", request_id)]
    assert await world.queued("requester_dm") == [(request_id, "U0JUNIOR1"), (request_id, "U0JUNIOR1")]
    with pytest.raises(AlreadyDecided):
        await deny(world.deps, request_id, "U0SENIOR1", "Too late")


async def test_who_may_not_decide_is_refused_and_audited(world: World) -> None:
    request_id = await world.ask("U0JUNIOR1")
    with pytest.raises(NotReviewer):
        await approve(world.deps, request_id, "U0SENIOR2")  # a senior, but not asked
    with pytest.raises(SelfReview):
        await approve(world.deps, request_id, "U0JUNIOR1")
    assert [a[0] for a in await world.audited("refused")] == ["U0SENIOR2", "U0JUNIOR1"]
    async with world.store.read() as r:
        assert (await r.requests.get(request_id)).status is Status.PENDING  # type: ignore[union-attr]


async def test_a_denial_needs_a_reason_and_ends_the_request(world: World) -> None:
    request_id = await world.ask("U0JUNIOR1")
    for empty in (None, "", "   ", "\u200b"):
        with pytest.raises(InvalidInput):
            await deny(world.deps, request_id, "U0SENIOR1", empty)
    decided = await deny(world.deps, request_id, "U0SENIOR1", "No rollback plan")
    assert decided.request.status is Status.DENIED and decided.request.reason == "No rollback plan"


async def test_two_seniors_must_both_approve_each_once(world: World) -> None:
    request_id = await world.ask("U0JUNIOR1", destructive=True)
    first = await approve(world.deps, request_id, "U0SENIOR1")
    assert not first.final and first.request.status is Status.PENDING and first.request.approvals == 1
    with pytest.raises(AlreadyVoted):
        await approve(world.deps, request_id, "U0SENIOR1")
    second = await approve(world.deps, request_id, "U0SENIOR2")
    assert second.final and second.request.status is Status.APPROVED and second.request.approvals == 2


async def test_only_the_requester_cancels_a_pending_request(world: World) -> None:
    request_id = await world.ask("U0JUNIOR1")
    with pytest.raises(NotRequester):
        await cancel_request(world.deps, request_id, "U0SENIOR1")
    cancelled = await cancel_request(world.deps, request_id, "U0JUNIOR1")
    assert cancelled.status is Status.CANCELLED
    with pytest.raises(AlreadyDecided):
        await approve(world.deps, request_id, "U0SENIOR1")
