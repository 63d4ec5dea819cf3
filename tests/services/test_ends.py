"""How things end: an admin ends the policy and the answer says how many wait; the sweep then
expires them a batch per transaction and announces the end once; a break-glass change gets one
verdict after the fact, from the senior it was routed to."""

from __future__ import annotations

import pytest

from bot.domain.errors import AlreadyDecided, InvalidInput, NotAdmin
from bot.domain.models import FinalReason, Status, Verdict
from bot.services.break_glass import record_verdict
from bot.services.create_request import Submission, create_request
from bot.services.expire_request import BATCH
from bot.services.policy_lifecycle import end_policy, sweep_policy
from tests.services.conftest import DRAFT, World


async def test_the_end_expires_every_pending_request_and_is_announced_once(world: World) -> None:
    ids = [await world.ask("U0JUNIOR1" if n % 2 else "U0JUNIOR2") for n in range(BATCH + 7)]
    with pytest.raises(NotAdmin):
        await end_policy(world.deps, "U0SENIOR1")
    ended = await end_policy(world.deps, "U0ADMIN1")
    assert ended.pending == BATCH + 7
    swept = await sweep_policy(world.deps)
    while not swept.ended:
        swept = await sweep_policy(world.deps)
    async with world.store.read() as r:
        statuses = {(await r.requests.get(i)).final_reason for i in ids}  # type: ignore[union-attr]
    assert statuses == {FinalReason.POLICY_ENDED}
    assert len(await world.audited("policy_ended")) == 1
    assert len([k for k in await world.queued("policy_notice")]) == 1
    assert not (await sweep_policy(world.deps)).ended  # nothing more to do, nothing said again


async def test_one_verdict_after_the_fact(world: World) -> None:
    created = await create_request(world.deps, Submission(requester="U0JUNIOR1", draft=DRAFT, break_glass="Outage"))
    request_id = created.request.id
    assert await world.reviewers(request_id) == ["U0SENIOR1"]
    with pytest.raises(InvalidInput):
        await record_verdict(world.deps, request_id, "U0SENIOR1", Verdict.NOT_JUSTIFIED, "  ")
    judged = await record_verdict(world.deps, request_id, "U0SENIOR1", Verdict.NOT_JUSTIFIED, "A rollback would do")
    assert judged.status is Status.APPROVED and judged.break_glass is not None
    assert judged.break_glass.verdict is Verdict.NOT_JUSTIFIED
    with pytest.raises(AlreadyDecided) as again:
        await record_verdict(world.deps, request_id, "U0SENIOR1", Verdict.JUSTIFIED, "Fine")
    assert "already reviewed" in str(again.value)
    assert len(await world.audited("hindsight_reviewed")) == 1
