"""The message that tells a request's outcome carries Slack message metadata
(``signoff_request_decided``), so a deploy bot in the same workspace can react without polling."""

from __future__ import annotations

from bot.slack import ids
from tests.fakes.driver import reason_values
from tests.harness import Harness


def decided(h: Harness, user: str) -> list[dict[str, object]]:
    return [
        m.metadata["event_payload"]
        for m in h.slack.dms(user)
        if m.metadata and m.metadata.get("event_type") == "signoff_request_decided"
    ]


async def test_an_approval_is_readable_by_other_apps(h: Harness) -> None:
    ref = await h.ask(service="payments", environment="production")
    await h.driver.click("U0SENIOR1", ids.APPROVE, ref[3:])
    await h.settle()
    [payload] = decided(h, "U0JUNIOR1")
    assert payload["request_id"] == ref and payload["status"] == "approved"
    assert payload["approvers"] == ["U0SENIOR1"] and payload["decided_by"] == "U0SENIOR1"
    assert payload["service"] == "payments" and payload["environment"] == "production"
    assert payload["ai_assisted"] is True and payload["sign_off_required"] is True
    assert isinstance(payload["outbox_id"], int)  # the outbox still finds its own post by it


async def test_a_denial_carries_the_reason(h: Harness) -> None:
    ref = await h.ask()
    await h.driver.submit("U0SENIOR1", ids.DENY_FORM, reason_values("No rollback plan"), private_metadata=ref[3:])
    await h.settle()
    [payload] = decided(h, "U0JUNIOR1")
    assert payload["status"] == "denied" and payload["reason"] == "No rollback plan" and payload["approvers"] == []


async def test_waiting_messages_carry_no_decision(h: Harness) -> None:
    await h.ask()
    assert decided(h, "U0JUNIOR1") == []
