"""`signoff guard [request flags] -- COMMAND` run as a real process: it asks like
`signoff request --wait` and runs COMMAND only once the request is approved (or needs no
sign-off), with the command's own output and exit code; without running it, it exits 1 on a
denial or a plan that changed while it waited, 2 on a timeout, 3 on any error. SIGINT and SIGTERM
go to the command, and signoff hears that the command started and how it ended."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
from pathlib import Path

from bot.slack import ids
from tests.cli import finish, run, start
from tests.fakes.driver import reason_values
from tests.harness import Harness

PLANS = Path(__file__).parents[1] / "plans"
GUARD = (
    "guard", "--title", "Apply the network change", "--url", "https://git.example.com/mr/31",
    "--requester", "U0JUNIOR1", "--not-destructive",
)  # fmt: skip


async def asked(h: Harness) -> None:
    await h.slack.wait_for(lambda: any("CR-1" in m.text for m in h.slack.dms("U0SENIOR1")), timeout=60)


async def commands_ran(h: Harness) -> list[tuple[str, str]]:
    rows = await h.fetchall("SELECT details, reason FROM audit WHERE action = 'command_ran' ORDER BY id")
    return [(json.loads(r[0])["command"], r[1]) for r in rows]


async def test_an_approved_command_runs_with_its_own_output_and_exit_code(h: Harness) -> None:
    marker = h.tmp / "ran"
    proc = await start(h, *GUARD, "--ai-assisted", "--", "sh", "-c", f"echo applying; touch {marker}; exit 7")
    await asked(h)
    assert not marker.exists()  # nothing runs before the approval
    await h.driver.click("U0SENIOR1", ids.APPROVE, "1")
    result = await finish(proc)
    assert result.code == 7, result.err
    assert "applying" in result.out and marker.exists()
    assert "CR-1 approved by Sara Senior" in result.out
    assert await h.audit_actions("command_started") == 1
    assert await commands_ran(h) == [(f"sh -c 'echo applying; touch {marker}; exit 7'", "7")]
    report = await h.report()
    assert "Commands run by `signoff guard`: 1 (0 succeeded, 1 failed: 1 with exit code 7)" in report


async def test_a_denied_command_never_runs_and_exits_1(h: Harness) -> None:
    marker = h.tmp / "ran"
    proc = await start(h, *GUARD, "--ai-assisted", "--", "touch", str(marker))
    await asked(h)
    await h.driver.submit("U0SENIOR1", ids.DENY_FORM, reason_values("Not during the freeze"), private_metadata="1")
    result = await finish(proc)
    assert result.code == 1
    assert "CR-1 DENIED by Sara Senior: Not during the freeze" in result.out
    assert not marker.exists()
    assert await h.audit_actions("command_started") == 0


async def test_a_change_that_needs_no_sign_off_runs_at_once(h: Harness) -> None:
    result = await run(h, *GUARD, "--no-ai-assisted", "--", "sh", "-c", "echo done")
    assert result.code == 0, result.err
    assert "done" in result.out
    assert await commands_ran(h) == [("sh -c 'echo done'", "0")]


async def test_a_timeout_exits_2_without_running_and_expires_the_request(h: Harness) -> None:
    marker = h.tmp / "ran"
    result = await run(h, *GUARD, "--ai-assisted", "--timeout", "2s", "--", "touch", str(marker))
    assert result.code == 2
    assert "CR-1 timed out after 2s" in result.out
    assert not marker.exists()
    assert (await h.get("CR-1")).status.value == "expired"


async def test_a_plan_changed_while_waiting_is_not_run(h: Harness) -> None:
    plan = h.tmp / "plan.json"
    shutil.copy(PLANS / "opentofu_forget.json", plan)
    marker = h.tmp / "ran"
    proc = await start(h, *GUARD, "--ai-assisted", "--plan", str(plan), "--", "touch", str(marker))
    await asked(h)
    doc = json.loads(plan.read_text())
    doc["resource_changes"][0]["change"]["actions"] = ["delete"]  # re-planned while it waited
    plan.write_text(json.dumps(doc))
    await h.driver.click("U0SENIOR1", ids.APPROVE, "1")
    result = await finish(proc)
    assert result.code == 1
    assert "CR-1: the plan changed since it was approved: not running it" in result.out
    assert not marker.exists()


async def test_the_plan_approved_is_verified_for_this_run_and_then_run(h: Harness) -> None:
    plan = h.tmp / "plan.json"
    shutil.copy(PLANS / "opentofu_forget.json", plan)
    proc = await start(h, *GUARD, "--ai-assisted", "--plan", str(plan), "--run", "deploy-9", "--", "true")
    await asked(h)
    await h.driver.click("U0SENIOR1", ids.APPROVE, "1")
    result = await finish(proc)
    assert result.code == 0, result.out + result.err
    _, body = await h.api("GET", "/api/v1/requests/CR-1")
    assert body["used_by_run"] == "deploy-9"


async def test_sigterm_goes_to_the_command(h: Harness) -> None:
    script = 'trap "echo stopping; exit 42" TERM; echo started; while :; do sleep 0.1; done'
    proc = await start(h, *GUARD, "--no-ai-assisted", "--", "sh", "-c", script)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
    while b"started" not in line:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
    proc.send_signal(signal.SIGTERM)
    result = await finish(proc)
    assert result.code == 42
    assert "stopping" in result.out
    assert await commands_ran(h) == [(f"sh -c '{script}'", "42")]


async def test_a_report_that_fails_never_changes_the_exit_code(h: Harness) -> None:
    proc = await start(h, *GUARD, "--no-ai-assisted", "--", "sh", "-c", "echo started; sleep 1; exit 5")
    assert proc.stdout is not None
    while (await asyncio.wait_for(proc.stdout.readline(), timeout=60)).strip() != b"started":
        pass  # guard's own lines first; then the command is running
    await h.bot.stop()  # signoff goes away while the command runs
    result = await finish(proc)
    assert result.code == 5
    assert "could not tell signoff the command finished" in result.err
    assert "Traceback" not in result.err


async def test_usage_errors_exit_3_without_asking(h: Harness) -> None:
    no_command = await run(h, *GUARD, "--no-ai-assisted", "--")
    assert no_command.code == 3
    assert "guard needs the command to run after --" in no_command.err
    missing = await run(h, *GUARD, "--no-ai-assisted", "--", "no-such-command-anywhere")
    assert missing.code == 127 and "cannot run no-such-command-anywhere" in missing.err
    assert "Traceback" not in missing.err + no_command.err
