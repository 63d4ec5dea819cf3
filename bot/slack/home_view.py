"""The App Home view: the review queue with buttons, my requests, the policy countdown. Pure."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.models import ChangeRequest
from bot.services.home import Decided, Home
from bot.slack.blocks import Block, context, decision_buttons, section
from bot.slack.policy_messages import policy_line
from bot.slack.text import link, mention, outcome, safe, when

MODAL_MAX_BLOCKS = 100


def _queue_item(req: ChangeRequest, tz: ZoneInfo) -> list[Block]:
    return [
        section(
            f"*{req.ref}* {link(req.draft.url, req.draft.title[:120])}\nfrom {mention(req.requester)}"
            f" · {safe(req.draft.service, 60) or 'no service'} · {safe(req.draft.environment, 40)}"
            f" · {req.progress} · asked {when(req.created_at, tz)}"
        ),
        decision_buttons(req.id, f"home:{req.id}"),
    ]


def _decided_line(d: Decided) -> str:
    """``You approved CR-3 …: approved by @Sara and @Sean``; the request's state follows, without
    its denial reason (the reviewer's own reason is shown, escaped)."""
    req = d.request
    did = ":white_check_mark: You approved" if d.approved else ":x: You denied"
    why = f" (“{safe(d.reason, 200)}”)" if d.reason else ""
    now = outcome(replace(req, reason=None))  # their own reason is quoted above
    return f"• {did} *{req.ref}* {safe(req.draft.title, 100)}{why}: {now}"


def home_view(home: Home, tz: ZoneInfo) -> dict[str, Any]:
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "signoff"}},
        section(policy_line(home.window, home.now, tz)),
        {"type": "divider"},
        section(f"*Your review queue ({home.queue.total})*" + ("" if home.queue.total else "\nNothing waits for you.")),
    ]
    for req in home.queue.items:
        blocks += _queue_item(req, tz)
    if home.queue.total > len(home.queue.items):
        blocks.append(context(f"…and {home.queue.total - len(home.queue.items)} more; oldest first."))
    if home.decided:
        blocks.append(section("*You decided lately*\n" + "\n".join(_decided_line(d) for d in home.decided)))
    blocks += [{"type": "divider"}, section(f"*Your requests ({home.mine.total})*")]
    lines = [
        f"• *{r.ref}* {safe(r.draft.title, 100)} · {r.status.value.replace('_', ' ')}"
        + (f" · {r.progress} · {mention(r.reviewer)}" if r.reviewer and r.status.value == "pending" else "")
        for r in home.mine.items
    ]
    blocks.append(section("\n".join(lines) if lines else "You have not asked for sign-off yet. Type `/signoff`."))
    if home.mine.total > len(home.mine.items):
        blocks.append(context(f"…and {home.mine.total - len(home.mine.items)} older ones."))
    return {"type": "home", "blocks": blocks[:MODAL_MAX_BLOCKS]}
