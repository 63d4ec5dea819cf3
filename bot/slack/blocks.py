"""Pure Block Kit builders for messages. No I/O; every text fits Slack's limits."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.models import ChangeRequest, FinalReason, Status
from bot.domain.outcomes import outcome_words
from bot.domain.policy import needs_words
from bot.domain.request_fields import BY_COMMAND, BY_HOOK_PATTERN, BY_REQUESTER
from bot.services.queries import Listing, Pending
from bot.slack import ids
from bot.slack.text import clip, clock_time, link, mention, safe, when

Block = dict[str, Any]
Message = tuple[str, list[Block]]  # fallback text, blocks

SECTION_MAX = 3000
HEADER_MAX = 150
MAX_BLOCKS = 50

HELP = """*signoff* records and routes senior sign-off on AI-assisted production changes.
• `/signoff` opens the request form
• `/signoff status CR-42` shows where a request stands
• `/signoff pending` lists your open requests and your reviews
• `/signoff cancel CR-42` withdraws your pending request
• `/signoff breakglass` approves an emergency change at once: announced, and reviewed by a senior afterwards
• `/signoff away` (`until 2026-12-24`, `3d`, `delegate @colleague`) / `/signoff back` pause or resume reviews
• `/signoff summary` posts the pending changes in the summary channel
• `/signoff policy` shows the policy's dates; admins: `/signoff policy extend 30`, `/signoff policy end`
• `/signoff report` shows the report for the policy period; admins: `/signoff roster` shows who is who
• `/signoff help` shows this"""

_STATUS_WORD = {
    Status.PENDING: "Pending",
    Status.APPROVED: "Approved",
    Status.DENIED: "Denied",
    Status.CANCELLED: "Cancelled",
    Status.NOT_REQUIRED: "Not required",
    Status.EXPIRED: "Expired",
}


def archive_link(channel: str, ts: str) -> str:
    """Slack's permalink form for a message: /archives/<channel>/p<ts without the dot>."""
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def workflow_completion(req: ChangeRequest) -> tuple[str, dict[str, Any]]:
    """The Web API call that ends the Workflow Builder step: success for approved and not
    required (the outputs), an error with the reason for denied, cancelled and expired."""
    if req.status in (Status.APPROVED, Status.NOT_REQUIRED):
        outputs: dict[str, Any] = {"request_id": req.ref, "status": req.status.value, "reason": req.reason or ""}
        if req.decided_by:
            outputs["decided_by"] = req.decided_by
        return "functions.completeSuccess", {"outputs": outputs}

    def who(user: str | None) -> str:  # the step's error is plain text: roles, not IDs
        return "the requester" if user == req.requester else "a senior reviewer"

    return "functions.completeError", {"error": clip(f"{req.ref} {outcome_words(req, who)}", 2000)}


DECIDED_EVENT = "signoff_request_decided"


def decision_metadata(req: ChangeRequest, approvers: list[str]) -> dict[str, Any]:
    """Slack message metadata on the message that tells a request's outcome, for other apps.

    Schema (docs/api.md, "Decisions other apps can read"): event_type ``signoff_request_decided``;
    payload ``request_id`` (CR-42), ``status`` (approved, denied, expired, cancelled,
    not_required), ``approvers`` (user IDs), ``decided_by``, ``reason``, ``service``,
    ``environment``, ``ai_assisted``, ``sign_off_required``."""
    return {
        "event_type": DECIDED_EVENT,
        "event_payload": {
            "request_id": req.ref,
            "status": req.status.value,
            "final_reason": req.final_reason.value if req.final_reason is not None else "",
            "approvers": approvers,
            "decided_by": req.decided_by or "",
            "reason": req.reason or "",
            "service": req.draft.service,
            "environment": req.draft.environment,
            "ai_assisted": req.draft.ai_assisted,
            "sign_off_required": req.sign_off_required,
        },
    }


def fit_lines(lines: list[str], total: int, limit: int = SECTION_MAX) -> str:
    """As many of ``lines`` as fit in one section with room for "…and N more", where N counts
    what is left of ``total``: a long list is cut between lines, and always says how many more."""
    shown: list[str] = []
    used = 0
    for line in lines:
        rest = total - len(shown) - 1
        room = len(f"\n…and {rest} more") if rest > 0 else 0
        if used + len(line) + 1 + room > limit:
            break
        shown.append(line)
        used += len(line) + 1
    if total > len(shown):
        shown.append(f"…and {total - len(shown)} more")
    return "\n".join(shown)


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_MAX)}}


def plain_section(text: str) -> Block:
    """People's own words: plain_text never pings, links or formats."""
    return {"type": "section", "text": {"type": "plain_text", "text": clip(text, SECTION_MAX), "emoji": False}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, SECTION_MAX)}]}


def header(req: ChangeRequest) -> Block:
    # plain_text never pings or formats, so the raw title is safe here.
    return {"type": "header", "text": {"type": "plain_text", "text": clip(f"{req.ref}: {req.draft.title}", HEADER_MAX)}}


def facts(req: ChangeRequest) -> Block:
    d = req.draft
    fields = [
        f"*Requester*\n{mention(req.requester)}",
        f"*Change*\n{link(d.url, 'Open the change')}",
        f"*Service*\n{safe(d.service, 200) or NOT_GIVEN}",
        f"*Environment*\n{safe(d.environment, 200)}",
        f"*AI tool*\n{safe(d.ai_tool, 200) or (NOT_GIVEN if d.ai_assisted else 'none')}",
        f"*Asked from*\n{asked_from(req)}",
    ]
    if d.commit:
        fields.append(f"*Commit*\n`{d.commit[:12]}`")
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]}


NOT_GIVEN = "not given"
_SOURCES = {"slack": "The /signoff form", "workflow": "A Slack workflow", "github": "A GitHub deployment"}


def asked_from(req: ChangeRequest) -> str:
    """Where the request came from, as a reviewer reads it."""
    if req.source != "api":
        return _SOURCES.get(req.source, "signoff")
    what = "`signoff guard` or the agent hook" if req.draft.command else "A pipeline"
    return f"{what} ({safe(req.pipeline, 80)})" if req.pipeline else what


def description(req: ChangeRequest) -> list[Block]:
    """The requester's words, then what runs once approved and where: always shown, because the
    approval is for exactly that command in exactly that directory."""
    d = req.draft
    blocks = [plain_section(d.description)] if d.description else []
    if d.command:
        where = f" in {d.workdir}" if d.workdir else ""
        blocks.append(section(f"*Runs once approved{safe(where, 400)}* (the approval is for this command only):"))
        blocks.append(plain_section(d.command))
    if d.asked_again_after:
        earlier = d.asked_again_after
        blocks.append(context(f"Asked again: {earlier} ended without an approval that could still be used."))
    return blocks


_SAID_BY = {
    BY_REQUESTER: "the requester says so",
    BY_HOOK_PATTERN: "a line of the agent hook's patterns file says so for this command",
    BY_COMMAND: "signoff read the command so",
}


def blast_radius(req: ChangeRequest) -> Block:
    """What the change does to existing resources, first: ``Deletes 1, replaces 2``, then each by address."""
    d = req.draft
    plan = d.plan
    if plan is None:
        said = _SAID_BY.get(d.destructive_by, _SAID_BY[BY_REQUESTER])
        if d.destructive:
            line = f":boom: *Deletes or replaces existing resources* ({said}; no plan attached)"
        elif d.destructive is False:
            if d.destructive_by == BY_COMMAND:
                said = "signoff read the command: it runs no production tool that changes anything"
            line = f"Deletes nothing, replaces nothing ({said}; no plan attached)"
        else:
            line = ":grey_question: *Not said whether it deletes or replaces existing resources*"
            if d.command:
                line = (
                    ":grey_question: *Not known whether it deletes or replaces existing resources*: nobody "
                    "said, and signoff cannot tell from the command"
                )
            if req.approvals_needed > 1:  # fail closed: treated as destructive
                line += f", so it needs {req.approvals_needed} seniors as if it did"
        return section(line)
    lines = [(":boom: " if plan.destroys else "") + f"*{plan.headline()}*"]
    used = len(lines[0])
    for i, r in enumerate(plan.resources):
        why = f" ({safe(r.reason, 200)})" if r.reason else ""
        line = f"• {r.action}: `{safe(r.address, 300)}`{why}"
        if used + len(line) > SECTION_MAX - 200:
            lines.append(f"…and {len(plan.resources) - i} more")
            break
        lines.append(line)
        used += len(line) + 1
    listed = plan.deletes + plan.replaces
    if listed > len(plan.resources):
        lines.append(f"_The plan summary lists {len(plan.resources)} of the {listed} destroyed or replaced._")
    digests = ", ".join(f"`{s[:12]}`" for s in plan.sha256[:5])
    lines.append(f"Plan SHA-256: {digests} (an approval is for this plan only)")
    return section("\n".join(lines))


def outcome_line(req: ChangeRequest, tz: ZoneInfo) -> str:
    at = clock_time(req.decided_at, tz) if req.decided_at else ""
    progress = f" ({req.progress})" if req.approvals_needed > 1 and req.break_glass is None else ""
    if req.break_glass is not None:
        return f":rotating_light: Approved by break-glass: {mention(req.decided_by)} at {at}"
    if req.status is Status.APPROVED:
        return f":white_check_mark: Approved by {mention(req.decided_by)} at {at}{progress}"
    if req.status is Status.DENIED:
        return f":x: Denied by {mention(req.decided_by)} at {at}"
    if req.status is Status.CANCELLED:
        return f":no_entry_sign: Cancelled by {mention(req.decided_by)} at {at}"
    if req.status is Status.EXPIRED:
        return f":hourglass: Expired at {at}: {expiry_words(req)}"
    if req.status is Status.NOT_REQUIRED:
        return f"Sign-off not required: {safe(req.policy_reason, 300)}"
    return (
        f":hourglass_flowing_sand: Waiting for {mention(req.reviewer)}{progress}"
        if req.reviewer
        else f"Waiting for a reviewer to claim it{progress}"
    )


def expiry_words(req: ChangeRequest) -> str:
    """Why an expired request expired, as a clause: ``no decision within 7 days``."""
    if req.final_reason is FinalReason.NO_DECISION:
        return safe(req.reason or "nobody decided in time", 200)
    if req.final_reason is FinalReason.PIPELINE_GAVE_UP:
        return "the pipeline that asked stopped waiting"
    return "the sign-off policy ended"


def names_of(people: list[str]) -> str:
    """``@a``, ``@a and @b``, ``@a, @b and @c``: mentions, which Slack shows as names."""
    shown = [mention(p) for p in people]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1] if shown else "a senior"


def outcome(req: ChangeRequest, tz: ZoneInfo) -> Block:
    """The outcome as a context block; a denial's reason rides along as plain_text, never parsed."""
    elements: list[dict[str, Any]] = [{"type": "mrkdwn", "text": clip(outcome_line(req, tz), SECTION_MAX)}]
    if req.status is Status.DENIED and req.reason:
        elements.append({"type": "plain_text", "text": clip(f"Reason: {req.reason}", 2000), "emoji": False})
    return {"type": "context", "elements": elements}


def decision_buttons(request_id: int, block_id: str) -> Block:
    """Approve and Deny. The value names the request only; who clicked comes from the payload."""

    def button(action_id: str, label: str, style: str) -> dict[str, Any]:
        text = {"type": "plain_text", "text": label}
        return {"type": "button", "action_id": action_id, "style": style, "value": str(request_id), "text": text}

    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [button(ids.APPROVE, "Approve", "primary"), button(ids.DENY, "Deny", "danger")],
    }


def requester_message(
    req: ChangeRequest,
    event: str,
    summary_channel: str,
    tz: ZoneInfo,
    reviewers: list[str] | None = None,
    approvers: list[str] | None = None,
) -> Message:
    ref = req.ref
    title = safe(req.draft.title, 300)
    if event == "waiting" and req.approvals_needed > 1:
        asked = " and ".join(mention(r) for r in reviewers or [])
        line = f"{ref} {needs_words(req.approvals_needed)}: {safe(req.policy_reason, 300)}."
        line += f" Asked: {asked}." if asked else ""
    elif event == "waiting":
        line = f"{ref} is waiting for {mention(req.reviewer)}'s sign-off."
    elif event == "unassigned":
        line = (
            f"{ref} needs sign-off, but no senior reviewer is available right now. "
            f"It was posted in <#{summary_channel}> for any senior to claim."
        )
    elif event == "not_required":
        line = f"{ref} is recorded. Sign-off is not required: {safe(req.policy_reason, 300)}."
    elif event == "escalated":
        line = f"{ref} waited too long for a decision, so it is now with {mention(req.reviewer)}."
    elif event == "expired" and req.final_reason is FinalReason.POLICY_ENDED:
        line = f"{ref} no longer needs sign-off: the sign-off policy ended."
    elif event == "expired":
        line = f":hourglass: {ref} expired: {expiry_words(req)}. It was not approved; ask again if it is still wanted."
    elif req.status is Status.APPROVED and req.break_glass is not None:
        line = f":rotating_light: {ref} was approved by break-glass. A senior reviews it after the fact."
    elif req.status is Status.APPROVED:
        by = names_of(approvers or [req.decided_by or ""])
        line = f":white_check_mark: {ref} was approved by {by}. You may ship it."
    elif req.status is Status.DENIED:
        line = f":x: {ref} was denied by {mention(req.decided_by)}."
    elif req.status is Status.CANCELLED:
        line = f":no_entry_sign: {ref} was cancelled by {mention(req.decided_by)}. Nobody needs to review it now."
    else:
        line = f"{ref}: {outcome_line(req, tz)}"
    body: list[Block] = [section(line), _plain_context(f"{ref}: {req.draft.title}")]
    fallback = f"{line} ({title})"
    if req.status is Status.DENIED and event == "decided":
        body.append(plain_section(f"Reason: {req.reason or ''}"))
        fallback += f" Reason: {safe(req.reason or '', 2000)}"
    return fallback, body


def _plain_context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "plain_text", "text": clip(text, 2000), "emoji": False}]}


def status_message(req: ChangeRequest, reviewers: list[str], tz: ZoneInfo) -> Message:
    word = _STATUS_WORD[req.status]
    blocks: list[Block] = [header(req), blast_radius(req), facts(req), *description(req)]
    lines = [f"*Status:* {word}. {outcome_line(req, tz)}", f"*Asked:* {when(req.created_at, tz)}"]
    if req.sign_off_required:
        lines.append(f"*Approvals:* {req.progress}")
    glass = req.break_glass
    if glass is not None:
        review = glass.verdict.value.replace("_", " ")
        lines.append(f"*Break-glass:* {safe(glass.reason, 500)} (review after the fact: {review})")
    if req.status is Status.DENIED and req.reason:
        lines.append("*Reason:* " + safe(req.reason, 1500))
    if reviewers:
        lines.append("*Reviewers:* " + ", ".join(mention(r) for r in reviewers))
    blocks.append(section("\n".join(lines)))
    return f"{req.ref}: {word}", blocks


def _listing(title: str, listing: Listing, tz: ZoneInfo, show_reviewer: bool) -> list[Block]:
    if listing.total == 0:
        return [section(f"*{title}:* none")]
    lines: list[str] = []
    used = 0
    for req in listing.items:
        other = (
            (mention(req.reviewer) if req.reviewer else "unclaimed")
            if show_reviewer
            else f"from {mention(req.requester)}"
        )
        line = f"• *{req.ref}* {safe(req.draft.title, 120)} · {other} · {req.progress} · {when(req.created_at, tz)}"
        if used + len(line) > SECTION_MAX - 200:
            break
        lines.append(line)
        used += len(line) + 1
    more = listing.total - len(lines)
    if more > 0:
        lines.append(f"…and {more} more")
    return [section(f"*{title} ({listing.total}):*\n" + "\n".join(lines))]


def pending_message(pending: Pending, tz: ZoneInfo) -> Message:
    blocks = _listing("Your open requests", pending.mine, tz, True) + _listing(
        "Your reviews", pending.reviews, tz, False
    )
    return f"{pending.mine.total} open requests, {pending.reviews.total} reviews", blocks
