"""With SLACK_APP_TOKEN set, the same bot works over Socket Mode and still serves /healthz."""

from __future__ import annotations

from pathlib import Path

from bot.domain.models import Status
from bot.slack import ids
from tests.fakes.driver import form_values
from tests.harness import APP_TOKEN, running


async def test_commands_forms_and_clicks_over_socket_mode(tmp_path: Path) -> None:
    async with running(tmp_path, SLACK_APP_TOKEN=APP_TOKEN) as h:
        async with h.session.get(f"{h.url}/healthz") as resp:
            assert (await resp.json())["mode"] == "socket"
        async with h.session.post(f"{h.url}/slack/events", data="x") as resp:
            assert resp.status == 404  # no HTTP endpoint for Slack in Socket Mode
        assert h.slack.calls_to("apps.connections.open", ok=True)

        command = dict(p.split("=", 1) for p in h.driver.command_body("U0JUNIOR1", "help").split("&"))
        ack = await h.slack.socket_deliver("slash_commands", {**command, "text": "help", "command": "/signoff"})
        assert "/signoff status CR-42" in ack["payload"]["text"]

        view = h.driver.view_payload("U0JUNIOR1", ids.REQUEST_FORM, form_values())
        ack = await h.slack.socket_deliver("interactive", view)
        assert ack["payload"]["response_action"] == "update"
        await h.settle()
        req = await h.get("CR-1")
        assert req.status is Status.PENDING and req.reviewer == "U0SENIOR1"

        await h.slack.socket_deliver("interactive", h.driver.action_payload("U0SENIOR1", ids.APPROVE, "1"))
        await h.settle()
        assert (await h.get("CR-1")).status is Status.APPROVED
        assert any("was approved" in m.text for m in h.slack.dms("U0JUNIOR1"))

        malformed = await h.slack.socket_deliver("interactive", {"type": "block_actions", "actions": []})
        assert "payload" not in malformed
