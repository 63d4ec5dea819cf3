"""Titles, descriptions and reasons full of <!channel>, <!here>, <@U…>, markdown and 10,000
characters: nobody is pinged who should not be, and every message fits Slack's limits."""

from __future__ import annotations

from bot.sandbox import block_rules
from bot.slack import ids
from tests.fakes.driver import form_values, reason_values
from tests.harness import Harness

NASTY = (
    "<!channel> <!here> <!everyone> <@U0STAFF1> *bold* _it_ ~strike~ `code` ```block <https://evil.example|x> &amp; "
)


async def test_hostile_text_pings_nobody_and_fits(h: Harness) -> None:
    too_long = form_values(title=NASTY * 100, description=NASTY * 200)
    reply = await h.driver.submit("U0JUNIOR1", ids.REQUEST_FORM, too_long)
    assert reply.json()["response_action"] == "errors"  # 10,000 characters are refused, not cut silently
    assert set(reply.json()["errors"]) == {"title", "description"}

    ref = await h.ask(
        "U0JUNIOR1", title=NASTY[:150], description=(NASTY * 40)[:3000], service=NASTY[:80], ai_tool=NASTY[:80]
    )
    await h.driver.click("U0SENIOR1", ids.DENY, ref[3:])
    await h.driver.submit("U0SENIOR1", ids.DENY_FORM, reason_values(NASTY * 8), private_metadata=ref[3:])
    await h.driver.command("U0NOBODY", "summary")
    status = (await h.driver.command("U0NOBODY", f"status {ref}")).json()
    pending = (await h.driver.command("U0JUNIOR1", "pending")).json()
    await h.settle()

    sent = [c for c in h.slack.calls if c.method in ("chat.postMessage", "chat.update")]
    assert sent and all(c.ok for c in sent), [c.error for c in sent if not c.ok]
    allowed = {"<@U0JUNIOR1>", "<@U0SENIOR1>"}  # the requester and the reviewer, named by the bot
    for call in sent:
        assert set(block_rules.mentions(call.args)) <= allowed, call.args.get("text")
        assert block_rules.check_message(call.args) is None
    for reply_body in (status, pending):
        assert set(block_rules.mentions(reply_body)) <= allowed
        assert block_rules.check_message(reply_body) is None
