"""The "Request senior sign-off" step for Workflow Builder: a function_executed event creates the
request through the same service as /signoff, and the step completes when the request is final,
with functions.completeSuccess (approved, not required) or functions.completeError (denied,
expired, cancelled). A step that already ended is recorded, not retried forever."""

from __future__ import annotations

from typing import Any

from bot.slack import ids
from tests.fakes.driver import reason_values
from tests.harness import Harness

INPUTS: dict[str, Any] = {
    "title": "Rotate the payments database password",
    "link": "https://github.com/acme/payments/pull/88",
    "service": "payments",
    "environment": "production",
    "requester": "U0JUNIOR1",
    "ai_assisted": True,
    "destructive": False,
}


async def step(h: Harness, **changes: Any) -> str:
    execution, reply = await h.driver.run_step({**INPUTS, **changes})
    assert reply.status == 200, reply.text
    await h.settle()
    return execution


async def test_approved_completes_the_step_with_its_outputs(h: Harness) -> None:
    execution = await step(h)
    assert h.slack.executions[execution]["state"] == "running"  # waiting for the senior
    assert h.review_dm("U0SENIOR1", "CR-1")
    await h.driver.click("U0SENIOR1", ids.APPROVE, "1")
    await h.settle()
    done = h.slack.executions[execution]
    assert done["state"] == "completed"
    assert done["outputs"] == {"request_id": "CR-1", "status": "approved", "decided_by": "U0SENIOR1", "reason": ""}


async def test_denied_ends_the_step_with_the_reason(h: Harness) -> None:
    execution = await step(h)
    await h.driver.submit("U0SENIOR1", ids.DENY_FORM, reason_values("Rotate in the window"), private_metadata="1")
    await h.settle()
    done = h.slack.executions[execution]
    assert done["state"] == "failed" and "denied" in done["error"] and "Rotate in the window" in done["error"]


async def test_destructive_left_empty_needs_two_seniors_before_the_step_completes(h: Harness) -> None:
    inputs = {k: v for k, v in INPUTS.items() if k != "destructive"}
    execution, _ = await h.driver.run_step(inputs)
    await h.settle()
    assert (await h.get("CR-1")).approvals_needed == 2
    await h.driver.click("U0SENIOR1", ids.APPROVE, "1")
    await h.settle()
    assert h.slack.executions[execution]["state"] == "running"  # one of two is not enough
    await h.driver.click("U0SENIOR2", ids.APPROVE, "1")
    await h.settle()
    assert h.slack.executions[execution]["outputs"]["status"] == "approved"


async def test_not_required_completes_at_once(h: Harness) -> None:
    execution = await step(h, ai_assisted=False)
    assert h.slack.executions[execution]["outputs"]["status"] == "not_required"


async def test_expiry_at_the_policys_end_ends_the_step(h: Harness) -> None:
    execution = await step(h)
    await h.driver.command("U0ADMIN1", "policy end")
    await h.settle()
    done = h.slack.executions[execution]
    assert done["state"] == "failed" and "expired" in done["error"]


async def test_bad_inputs_end_the_step_with_the_fields(h: Harness) -> None:
    execution = await step(h, link="not a link", requester="nobody")
    done = h.slack.executions[execution]
    assert done["state"] == "failed" and "url" in done["error"] and "requester" in done["error"]
    row = await h.fetchone("SELECT COUNT(*) FROM requests")
    assert row is not None and row[0] == 0


async def test_a_retried_event_makes_one_request(h: Harness) -> None:
    event = h.slack.start_execution("request_signoff", INPUTS)
    for _ in range(2):  # Slack retries; a new event_id each time, the same execution
        assert (await h.driver.event(event)).status == 200
    await h.settle()
    row = await h.fetchone("SELECT COUNT(*) FROM requests")
    assert row is not None and row[0] == 1


async def test_a_step_that_already_ended_is_recorded_not_retried(h: Harness) -> None:
    execution = await step(h)
    h.slack.executions[execution]["state"] = "failed"  # the workflow was cancelled meanwhile
    await h.driver.click("U0SENIOR1", ids.APPROVE, "1")
    await h.settle()
    calls = [c for c in h.slack.calls_to("functions.completeSuccess") if c.args["function_execution_id"] == execution]
    assert len(calls) == 1 and calls[0].error == "execution_not_in_running_state"
    row = await h.fetchone("SELECT status, last_error FROM outbox WHERE kind = 'workflow_complete'")
    assert row is not None and row["status"] == "failed" and "execution_not_in_running_state" in row["last_error"]
