"""An approval has a lifetime: APPROVAL_VALID_FOR after the decision, `signoff verify` exits 2
("approval expired at …; ask again"), the API's verify answers ``expired``, and `signoff status`
shows until when an approval is valid; break-glass approvals expire the same way. With
``--once``, the first verify of a CI run uses the approval up: the same run may verify again,
every other run is told which run used it. Every verify is audited."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import timedelta
from pathlib import Path

from bot.slack import ids
from tests.cli import run
from tests.harness import Harness, running

PLANS = Path(__file__).parents[1] / "plans"
ASK = (
    "request", "--title", "Drop the old state bucket", "--url", "https://git.example.com/mr/12",
    "--ai-assisted", "--requester", "U0JUNIOR1",
)  # fmt: skip


def minute(text: object) -> str:
    """A time as the CLI prints it."""
    return f"{text:%Y-%m-%d %H:%M} UTC"


async def approved_plan(h: Harness) -> Path:
    """CR-1 with a plan that deletes nothing, approved by Sara Senior; returns the plan file."""
    plan = h.tmp / "plan.json"
    shutil.copy(PLANS / "opentofu_forget.json", plan)
    asked = await run(h, *ASK, "--plan", str(plan))
    assert asked.code == 2, asked.out + asked.err
    await h.settle()
    await h.driver.click("U0SENIOR1", ids.APPROVE, "1")
    await h.settle()
    return plan


async def verify_results(h: Harness) -> list[str]:
    rows = await h.fetchall("SELECT details FROM audit WHERE action = 'plan_verified' ORDER BY id")
    return [json.loads(r[0])["result"] for r in rows]


async def test_an_approval_is_valid_for_24_hours_then_verify_exits_2(h: Harness) -> None:
    plan = await approved_plan(h)
    until = (await h.get("CR-1")).decided_at + timedelta(hours=24)  # type: ignore[operator]

    status = await run(h, "status", "CR-1")
    assert status.code == 0
    assert f"CR-1 approved by Sara Senior, valid until {minute(until)}" in status.out
    fresh = await run(h, "verify", "CR-1", "--plan", str(plan))
    assert fresh.code == 0, fresh.out + fresh.err

    h.clock.advance(timedelta(hours=23, minutes=59))
    assert (await run(h, "verify", "CR-1", "--plan", str(plan))).code == 0  # a minute before the end
    h.clock.advance(timedelta(minutes=1))
    late = await run(h, "verify", "CR-1", "--plan", str(plan))
    assert late.code == 2
    assert f"CR-1: approval expired at {minute(until)}; ask again" in late.out

    digest = hashlib.sha256(plan.read_bytes()).hexdigest()
    code, answer = await h.api("POST", "/api/v1/requests/CR-1/verify", {"sha256": [digest]})
    assert code == 200 and answer["result"] == "expired"
    assert answer["valid_until"].startswith(until.isoformat()[:19])
    status = await run(h, "status", "CR-1")
    assert status.code == 2
    assert "CR-1 was approved by Sara Senior, but the approval expired at" in status.out
    code, body = await h.api("GET", "/api/v1/requests/CR-1")
    assert (body["status"], body["approval_expired"]) == ("approved", True)
    assert await verify_results(h) == ["match", "match", "expired", "expired"]


async def test_approval_valid_for_is_a_setting(tmp_path: Path) -> None:
    async with running(tmp_path, APPROVAL_VALID_FOR="90s") as h:
        plan = await approved_plan(h)
        h.clock.advance(timedelta(seconds=89))
        assert (await run(h, "verify", "CR-1", "--plan", str(plan))).code == 0
        h.clock.advance(timedelta(seconds=1))
        assert (await run(h, "verify", "CR-1", "--plan", str(plan))).code == 2


async def test_a_break_glass_approval_expires_the_same_way(h: Harness) -> None:
    glass = await run(h, *ASK, "--not-destructive", "--break-glass", "The bucket fills the disk")
    assert glass.code == 0, glass.err
    assert "valid until" in glass.out
    h.clock.advance(timedelta(hours=24))
    status = await run(h, "status", "CR-1")
    assert status.code == 2
    assert "CR-1 was approved by break-glass (June Junior), but the approval expired at" in status.out


async def test_once_uses_the_approval_up_for_one_ci_run(h: Harness) -> None:
    plan = await approved_plan(h)
    first = await run(h, "verify", "CR-1", "--plan", str(plan), "--once", "--run", "deploy-41")
    assert first.code == 0, first.out + first.err
    retried = await run(h, "verify", "CR-1", "--plan", str(plan), "--once", "--run", "deploy-41")
    assert retried.code == 0  # the same run, retried, may verify again

    other = await run(h, "verify", "CR-1", "--plan", str(plan), "--once", "--run", "deploy-42")
    assert other.code == 2
    assert "CR-1: the approval was already used by run deploy-41; ask again for this run" in other.out
    without_a_run = await run(h, "verify", "CR-1", "--plan", str(plan))
    assert without_a_run.code == 2  # a used approval applies nowhere else

    from_the_ci = await run(h, "verify", "CR-1", "--plan", str(plan), "--once", env={"GITHUB_RUN_ID": "77"})
    assert from_the_ci.code == 2 and "already used by run deploy-41" in from_the_ci.out
    assert await h.audit_actions("approval_used") == 1
    assert await verify_results(h) == ["match", "match", "used", "used", "used"]
    _, body = await h.api("GET", "/api/v1/requests/CR-1")
    assert body["used_by_run"] == "deploy-41"


async def test_once_without_a_run_id_is_a_usage_error(h: Harness) -> None:
    plan = await approved_plan(h)
    result = await run(h, "verify", "CR-1", "--plan", str(plan), "--once")
    assert result.code == 3
    assert "--once needs the CI run's id" in result.err
    assert await verify_results(h) == []  # nothing was asked, nothing used
    code, body = await h.api("POST", "/api/v1/requests/CR-1/verify", {"sha256": ["a" * 64], "once": "x" * 500})
    assert code == 422 and "once" in body["fields"]
