"""With the real clock, the end of the policy is announced when it comes, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.harness import running


async def test_the_end_arrives_and_is_announced_once(tmp_path: Path) -> None:
    end = datetime.now(UTC) + timedelta(seconds=3)
    start = end - timedelta(days=1)
    async with running(tmp_path, real_clock=True, POLICY_START=start.isoformat(), POLICY_DAYS=1) as h:
        ref = await h.ask("U0JUNIOR1")
        assert (await h.get(ref)).sign_off_required
        await h.slack.wait_for(lambda: any("policy has ended" in t for t in h.channel_posts()), timeout=30)
        assert datetime.now(UTC) >= end
        await h.tick()  # a later sweep finds nothing left to announce
        assert len([t for t in h.channel_posts() if "policy has ended" in t]) == 1
        assert (await h.get(ref)).status.value == "expired"
