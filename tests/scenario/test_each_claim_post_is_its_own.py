"""A request's messages are found by their own key only: claiming CR-1 updates CR-1's post in the
channel and never CR-10's to CR-19's, whose keys begin the same way."""

from __future__ import annotations

from bot.slack import ids
from tests.harness import SUMMARY, Harness

SENIORS = ("U0SENIOR1", "U0SENIOR2", "U0STAFF1")


async def test_claiming_cr_1_leaves_cr_10_s_post_alone(h: Harness) -> None:
    for senior in SENIORS:
        assert (await h.driver.command(senior, "away")).status == 200
    refs = [await h.ask("U0JUNIOR1", title=f"Change {n}") for n in range(1, 11)]
    assert refs[0] == "CR-1" and refs[-1] == "CR-10"
    await h.settle()
    posts = {m.ts: m for m in h.slack.posts_in(SUMMARY) if "needs a senior reviewer" in m.text}
    tenth = next(ts for ts, m in posts.items() if m.text.startswith("CR-10 "))
    await h.driver.command("U0SENIOR1", "back")
    assert (await h.driver.click("U0SENIOR1", ids.CLAIM, "1")).status == 200
    await h.settle()
    after = {m.ts: m for m in h.slack.posts_in(SUMMARY)}
    assert after[tenth].text.startswith("CR-10 "), after[tenth].text
    assert any(b["type"] == "actions" for b in after[tenth].blocks)  # CR-10 can still be claimed
