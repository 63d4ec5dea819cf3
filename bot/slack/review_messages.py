"""Pure Block Kit builders for what reviewers see: the review DM (leading with what the change
destroys, then the approvals so far), the claim post, and the review after the fact of a
break-glass change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.models import ChangeRequest, Status, Verdict
from bot.slack import ids
from bot.slack.blocks import (
    Block,
    Message,
    blast_radius,
    context,
    decision_buttons,
    description,
    facts,
    header,
    outcome,
    plain_section,
    section,
)
from bot.slack.text import clock_time, mention, safe

Approvals = Sequence[tuple[str, datetime]]  # who approved, and when


def progress_line(req: ChangeRequest, approvals: Approvals, tz: ZoneInfo) -> str:
    """``1 of 2 approvals: approved by @reviewer at 14:02``."""
    line = f"*{req.progress}*"
    if approvals:
        line += ": approved by " + ", ".join(f"{mention(who)} at {clock_time(at, tz)}" for who, at in approvals)
    return line


def review_message(
    req: ChangeRequest, viewer: str, can_decide: bool, tz: ZoneInfo, approvals: Approvals = ()
) -> Message:
    """The reviewer's DM. Buttons only while the viewer may still decide; the content always stays."""
    radius = req.draft.plan.headline() + ". " if req.draft.plan is not None and req.draft.plan.destroys else ""
    text = f"{req.ref} needs your sign-off. {radius}{safe(req.draft.title, 300)}"
    blocks: list[Block] = [header(req), blast_radius(req)]
    if req.approvals_needed > 1:
        blocks.append(context(progress_line(req, approvals, tz)))
    blocks += [facts(req), *description(req)]
    approved_by = {who for who, _ in approvals}
    if req.status is Status.PENDING and can_decide:
        blocks.append(decision_buttons(req.id, f"decide:{req.id}"))
    elif req.status is Status.PENDING and viewer in approved_by:
        blocks.append(context("You approved it; it waits for another senior's approval."))
    elif req.status is Status.PENDING and req.reviewer:
        blocks.append(context(f"Reassigned to {mention(req.reviewer)}; this message no longer decides."))
    elif req.status is Status.PENDING:
        blocks.append(context("Moved to the summary channel for any senior to claim; this message no longer decides."))
    else:
        blocks.append(outcome(req, tz))
    return text, blocks


def _claim_button(request_id: int) -> Block:
    button = {
        "type": "button",
        "action_id": ids.CLAIM,
        "style": "primary",
        "value": str(request_id),
        "text": {"type": "plain_text", "text": "Claim"},
    }
    return {"type": "actions", "block_id": f"claim:{request_id}", "elements": [button]}


def claim_message(req: ChangeRequest, tz: ZoneInfo, seats: int, reviewers: Sequence[str] = ()) -> Message:
    """Posted when routing found too few eligible seniors; ``seats``: reviewers still wanted."""
    what = "review of a break-glass change" if req.break_glass is not None else "sign-off"
    text = f"{req.ref} needs a senior reviewer: {safe(req.draft.title, 300)}"
    blocks: list[Block] = [
        section(f":raising_hand: *{req.ref} needs a senior reviewer* for its {what}. Nobody eligible was free."),
        header(req),
        blast_radius(req),
        facts(req),
        *description(req),
    ]
    still_open = req.status is Status.PENDING or req.awaiting_review_after_the_fact
    if still_open and seats > 0:
        blocks.append(_claim_button(req.id))
    elif still_open:
        blocks.append(context("Claimed by " + ", ".join(mention(r) for r in reviewers)))
    elif req.break_glass is not None:
        blocks.append(context(verdict_line(req, tz)))
    else:
        blocks.append(outcome(req, tz))
    return text, blocks


def _verdict_buttons(request_id: int) -> Block:
    def button(action_id: str, label: str, style: str | None) -> dict[str, Any]:
        b: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "value": str(request_id),
            "text": {"type": "plain_text", "text": label},
        }
        if style:
            b["style"] = style
        return b

    return {
        "type": "actions",
        "block_id": f"hindsight:{request_id}",
        "elements": [
            button(ids.JUSTIFIED, "Justified", "primary"),
            button(ids.NOT_JUSTIFIED, "Not justified", "danger"),
        ],
    }


def break_glass_line(req: ChangeRequest, tz: ZoneInfo) -> str:
    at = clock_time(req.decided_at, tz) if req.decided_at else ""
    return f":rotating_light: *Break-glass:* {mention(req.requester)} approved {req.ref} themselves at {at}"


def verdict_line(req: ChangeRequest, tz: ZoneInfo) -> str:
    glass = req.break_glass
    if glass is None or glass.verdict is Verdict.PENDING:
        return "Waiting for a senior's review after the fact"
    at = clock_time(glass.reviewed_at, tz) if glass.reviewed_at else ""
    if glass.verdict is Verdict.JUSTIFIED:
        return f":white_check_mark: Reviewed by {mention(glass.reviewed_by)} at {at}: justified"
    return f":warning: Reviewed by {mention(glass.reviewed_by)} at {at}: *not justified*"


def after_the_fact_message(req: ChangeRequest, can_review: bool, tz: ZoneInfo) -> Message:
    """The DM asking a senior to review a break-glass change after the fact."""
    glass = req.break_glass
    assert glass is not None
    text = f"{req.ref} was approved by break-glass; review it after the fact: {safe(req.draft.title, 300)}"
    blocks: list[Block] = [
        header(req),
        section(break_glass_line(req, tz) + (". Was it justified?" if glass.verdict is Verdict.PENDING else ".")),
        plain_section(f"Their reason: {glass.reason}"),
        blast_radius(req),
        facts(req),
        *description(req),
    ]
    if glass.verdict is Verdict.PENDING and can_review:
        blocks.append(_verdict_buttons(req.id))
    elif glass.verdict is Verdict.PENDING:
        blocks.append(context("Moved to another senior; this message no longer records the review."))
    else:
        blocks.append(context(verdict_line(req, tz)))
        if glass.note:
            blocks.append(plain_section(f"Note: {glass.note}"))
    return text, blocks
