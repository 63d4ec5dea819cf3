"""The kinds of notification a state change can leave in the outbox.

Services name *what happened*; bot/slack/delivery.py decides how it looks in Slack,
rendering from the stored state at delivery time.
"""

from __future__ import annotations

from bot.domain.outbox import Notice

REVIEW_DM = "review_dm"  # ask the reviewer, with Approve/Deny buttons
REVIEW_REFRESH = "review_refresh"  # re-render every reviewer DM of a request in place
CLAIM_POST = "claim_post"  # nobody eligible: post to the summary channel with a Claim button
CLAIM_REFRESH = "claim_refresh"  # re-render the claim post in place
REQUESTER_DM = "requester_dm"  # tell the requester; data.event says what happened
REMINDER_DM = "reminder_dm"  # nudge the current reviewer
CHANNEL_NOTE = "channel_note"  # a line in the summary channel; data.event says what happened
POLICY_NOTICE = "policy_notice"  # policy warnings, extension, the end (with the report)
SUMMARY_POST = "summary_post"  # the pending-changes summary
AUDIT_ANCHOR = "audit_anchor"  # the day's last audit hash, posted as an independent copy
HOME_REFRESH = "home_refresh"  # republish someone's App Home, if they ever opened it
WORKFLOW_COMPLETE = "workflow_complete"  # complete the Workflow Builder step that asked, with the outcome
AVAILABILITY_DM = "availability_dm"  # tell someone their availability changed; data.event says how
GROUP_PROBLEM_DM = "group_problem_dm"  # tell an admin a roster user group cannot be read from Slack
REPORT_REPLY = "report_reply"  # the report someone asked for, to their response_url (or by DM)

# data.event values for REQUESTER_DM
WAITING = "waiting"
UNASSIGNED = "unassigned"
NOT_REQUIRED = "not_required"
DECIDED = "decided"
CANCELLED = "cancelled"
ESCALATED = "escalated"
EXPIRED = "expired"
BACK = "back"  # an away time ended
# data.event values for CHANNEL_NOTE (besides ESCALATED)
BREAK_GLASS = "break_glass"  # somebody broke glass: who, what and why
HINDSIGHT = "hindsight"  # a break-glass change was reviewed after the fact


def review_dm(request_id: int, reviewer: str) -> Notice:
    return Notice(REVIEW_DM, request_id, reviewer)


def review_refresh(request_id: int) -> Notice:
    return Notice(REVIEW_REFRESH, request_id)


def claim_post(request_id: int, channel: str) -> Notice:
    return Notice(CLAIM_POST, request_id, channel)


def claim_refresh(request_id: int) -> Notice:
    return Notice(CLAIM_REFRESH, request_id)


def tell_requester(request_id: int, requester: str, event: str) -> Notice:
    return Notice(REQUESTER_DM, request_id, requester, {"event": event})


def reminder(request_id: int, reviewer: str) -> Notice:
    return Notice(REMINDER_DM, request_id, reviewer)


def channel_note(request_id: int, channel: str, event: str, **data: object) -> Notice:
    return Notice(CHANNEL_NOTE, request_id, channel, {"event": event, **data})


def policy_notice(channel: str, event: str, **data: object) -> Notice:
    return Notice(POLICY_NOTICE, None, channel, {"event": event, **data})


def summary_post(channel: str) -> Notice:
    return Notice(SUMMARY_POST, None, channel)


def workflow_complete(request_id: int) -> Notice:
    return Notice(WORKFLOW_COMPLETE, request_id)


def availability_dm(user: str, event: str) -> Notice:
    return Notice(AVAILABILITY_DM, None, user, {"event": event})


def group_problem(admin: str, group: str, problem: str) -> Notice:
    return Notice(GROUP_PROBLEM_DM, None, admin, {"group": group, "problem": problem})


def report_reply(user: str, response_url: str | None) -> Notice:
    return Notice(REPORT_REPLY, None, user, {"response_url": response_url})


def home_refresh(user: str) -> Notice:
    return Notice(HOME_REFRESH, None, user)


def audit_anchor(channel: str, **data: object) -> Notice:
    return Notice(AUDIT_ANCHOR, None, channel, dict(data))


def break_glass_alarm(request_id: int, channel: str, admins: list[str]) -> list[Notice]:
    """Break-glass is loud: the summary channel and every admin hear of it at once."""
    return [channel_note(request_id, channel, BREAK_GLASS)] + [
        channel_note(request_id, admin, BREAK_GLASS) for admin in admins
    ]
