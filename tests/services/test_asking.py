"""Creating a request: the policy decides whether a senior must sign off and how many; routing
picks eligible seniors; the request, its reviewers, its audit rows and its messages are stored
together; an idempotent repeat finds the first; break-glass is approved at once and limited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.errors import BreakGlassLimit, NotOnRoster
from bot.domain.models import Status
from bot.services.create_request import Submission, create_request
from tests.services.conftest import DRAFT, World


async def test_an_ai_assisted_change_by_a_junior_waits_for_one_senior(world: World) -> None:
    request_id = await world.ask("U0JUNIOR1")
    async with world.store.read() as r:
        req = await r.requests.get(request_id)
    assert req is not None and req.status is Status.PENDING and req.approvals_needed == 1
    assert await world.reviewers(request_id) == ["U0SENIOR1"]  # the requester's team first
    assert await world.queued("review_dm") == [(request_id, "U0SENIOR1")]
    assert await world.queued("requester_dm") == [(request_id, "U0JUNIOR1")]
    assert [a[0] for a in await world.audited("requested")] == ["U0JUNIOR1"]
    assert await world.audited("assigned") == [("signoff", request_id, None)]


async def test_a_change_that_destroys_needs_two_seniors_asked_at_once(world: World) -> None:
    request_id = await world.ask("U0JUNIOR1", destructive=True)
    assert await world.reviewers(request_id) == ["U0SENIOR1", "U0SENIOR2"]
    async with world.store.read() as r:
        assert (await r.requests.get(request_id)).approvals_needed == 2  # type: ignore[union-attr]


async def test_no_ai_means_no_sign_off_but_a_record(world: World) -> None:
    request_id = await world.ask("U0JUNIOR1", ai_assisted=False)
    async with world.store.read() as r:
        assert (await r.requests.get(request_id)).status is Status.NOT_REQUIRED  # type: ignore[union-attr]
    assert await world.reviewers(request_id) == []
    assert await world.queued("review_dm") == []


async def test_an_author_never_reviews_their_own_change(world: World) -> None:
    request_id = await world.ask("U0JUNIOR1", authors=("U0SENIOR1",))
    assert await world.reviewers(request_id) == ["U0SENIOR2"]


async def test_the_same_idempotency_key_finds_the_first_request(world: World) -> None:
    sub = Submission(requester="U0JUNIOR1", draft=DRAFT, source="api", pipeline="ci", idempotency_key="build-7")
    first = await create_request(world.deps, sub)
    again = await create_request(world.deps, sub)
    assert (first.created, again.created) == (True, False)
    assert again.request.id == first.request.id
    assert len(await world.audited("requested")) == 1


async def test_break_glass_is_approved_at_once_and_limited_per_person(world: World) -> None:
    for n in range(3):
        glass = Submission(requester="U0JUNIOR1", draft=DRAFT, break_glass=f"Outage {n}")
        created = await create_request(world.deps, glass)
        assert created.request.status is Status.APPROVED and created.request.break_glass is not None
        world.clock.advance(timedelta(hours=1))
    with pytest.raises(BreakGlassLimit) as refused:
        await create_request(world.deps, Submission(requester="U0JUNIOR1", draft=DRAFT, break_glass="Outage 4"))
    assert "(CR-1, CR-2, CR-3)" in refused.value.message
    assert [a[2] for a in await world.audited("refused")] == ["break_glass_limit"]
    with pytest.raises(NotOnRoster):
        await create_request(world.deps, Submission(requester="U0NOBODY", draft=DRAFT, break_glass="Let me in"))
