"""Operators see what signoff does: /metrics in Prometheus' format."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.sandbox.slack_standin import Failure
from bot.slack import ids
from tests.fakes.driver import form_values
from tests.harness import Harness


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition; a sample that is not there fails."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if m and m.group(1) == name and ",".join(sorted((m.group(2) or "").split(","))).strip(",") == want:
            return float(m.group(3))
    raise AssertionError(f"no sample {name} {labels} in /metrics")


async def scrape(h: Harness) -> str:
    async with h.session.get(f"{h.url}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        return await resp.text()


async def test_metrics_count_requests_decisions_acks_and_slack_calls(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    status, _ = await h.api(
        "POST",
        "/api/v1/requests",
        {"requester": "U0JUNIOR2", "title": "t", "url": "https://x.example/1", "ai_assisted": False},
    )
    assert status == 201
    await h.driver.click("U0SENIOR1", ids.APPROVE, ref.removeprefix("CR-"))
    await h.settle()
    text = await scrape(h)
    assert sample(text, "signoff_requests_total", source="slack", outcome="pending") == 1
    assert sample(text, "signoff_requests_total", source="api", outcome="not_required") == 1
    assert sample(text, "signoff_decisions_total", outcome="approved") == 1
    assert sample(text, "signoff_time_to_decision_seconds_count") == 1
    assert sample(text, "signoff_slack_ack_seconds_count", kind="view_submission") == 1
    assert sample(text, "signoff_slack_ack_seconds_count", kind="block_actions") == 1
    posted = len(h.slack.calls_to("chat.postMessage", ok=True))
    assert posted >= 3  # the reviewer's DM, the requester's "waiting" and "approved", the not-required record
    assert sample(text, "signoff_slack_api_calls_total", method="chat.postMessage", result="ok") == posted
    assert sample(text, "signoff_outbox_backlog") == 0
    assert 88 < sample(text, "signoff_policy_days_left") <= 89


async def test_a_slack_outage_shows_as_errors_and_a_backlog(h: Harness) -> None:
    h.slack.fail_always("chat.postMessage", Failure(status=503))
    await h.driver.submit("U0JUNIOR1", ids.REQUEST_FORM, form_values())
    await h.settle()
    text = await scrape(h)
    refused = len(h.slack.calls_to("chat.postMessage", ok=False))
    assert refused >= 1
    assert sample(text, "signoff_slack_api_calls_total", method="chat.postMessage", result="error") == refused
    waiting = (await h.fetchone("SELECT COUNT(*) FROM outbox WHERE status = 'pending'"))[0]
    assert waiting >= 2  # the reviewer's DM and the requester's
    assert sample(text, "signoff_outbox_backlog") == waiting
    assert sample(text, "signoff_outbox_oldest_age_seconds") == 0  # nothing waited yet on this clock
    h.clock.advance(timedelta(seconds=90))
    assert sample(await scrape(h), "signoff_outbox_oldest_age_seconds") == 90
