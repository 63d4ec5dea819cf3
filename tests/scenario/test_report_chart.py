"""The end report as a picture: with the report, a chart (PNG) of requests per week by tier and
time to decision, uploaded the way Slack supports today (files.getUploadURLExternal, the bytes,
files.completeUploadExternal) and shown in the report's message, exactly once; `/signoff report`
shows it too; a chart that cannot be uploaded leaves the text report to go out on its own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.sandbox.slack_standin import Failure
from bot.slack import ids
from tests.harness import SUMMARY, Harness


def images(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["slack_file"]["id"] for b in blocks if b.get("type") == "image"]


async def two_weeks_of_work(h: Harness) -> None:
    for n in range(3):  # a chart needs two weeks: one week is not a trend
        ref = await h.ask("U0JUNIOR1", title=f"Change {n}")
        h.clock.advance(timedelta(days=4))
        await h.driver.click("U0SENIOR1", ids.APPROVE, ref.removeprefix("CR-"))
    await h.settle()


async def test_the_end_report_carries_its_chart_once(h: Harness) -> None:
    await two_weeks_of_work(h)
    h.slack.fail("files.completeUploadExternal", Failure(drop_response=True))  # done, but the answer is lost
    await h.driver.command("U0ADMIN1", "policy end")
    await h.settle()
    h.clock.advance(timedelta(minutes=10))
    await h.settle()
    [ended] = [m for m in h.slack.posts_in(SUMMARY) if "has ended" in m.text or "ended" in m.text.lower()][-1:]
    [file_id] = images(ended.blocks)
    stored = h.slack.files[file_id]
    assert stored.complete and stored.data is not None and stored.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(h.slack.calls_to("files.getUploadURLExternal", ok=True)) == 1  # the retry reused the file
    assert len([m for m in h.slack.posts_in(SUMMARY) if images(m.blocks)]) == 1


async def test_the_report_on_request_shows_the_chart(h: Harness) -> None:
    await two_weeks_of_work(h)
    await h.report("U0SENIOR1")
    [reply] = h.slack.ephemerals
    [file_id] = images(reply.body["blocks"])
    assert h.slack.files[file_id].complete


async def test_without_the_files_scope_the_text_report_still_goes_out(h: Harness) -> None:
    await two_weeks_of_work(h)
    h.slack.fail_always("files.getUploadURLExternal", Failure(error="missing_scope"))
    text = await h.report("U0SENIOR1")
    assert "Requests: *3*" in text
    assert images(h.slack.ephemerals[-1].body["blocks"]) == []
