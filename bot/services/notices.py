"""The notices a state change leaves in the outbox, built one way everywhere.

Services name *what happened*; bot/slack/renderers.py decides how it looks in Slack,
rendering from the stored state at delivery time.
"""

from __future__ import annotations

from bot.domain.outbox import Event, Kind, Notice


def review_dm(request_id: int, reviewer: str) -> Notice:
    return Notice(Kind.REVIEW_DM, request_id, reviewer)


def review_refresh(request_id: int) -> Notice:
    return Notice(Kind.REVIEW_REFRESH, request_id)


def claim_post(request_id: int, channel: str) -> Notice:
    return Notice(Kind.CLAIM_POST, request_id, channel)


def claim_refresh(request_id: int) -> Notice:
    return Notice(Kind.CLAIM_REFRESH, request_id)


def tell_requester(request_id: int, requester: str, event: Event) -> Notice:
    return Notice(Kind.REQUESTER_DM, request_id, requester, {"event": event})


def reminder(request_id: int, reviewer: str) -> Notice:
    return Notice(Kind.REMINDER_DM, request_id, reviewer)


def channel_note(request_id: int, channel: str, event: Event, **data: object) -> Notice:
    return Notice(Kind.CHANNEL_NOTE, request_id, channel, {"event": event, **data})


def policy_notice(channel: str, event: str, **data: object) -> Notice:
    return Notice(Kind.POLICY_NOTICE, None, channel, {"event": event, **data})


def summary_post(channel: str) -> Notice:
    return Notice(Kind.SUMMARY_POST, None, channel)


def workflow_complete(request_id: int) -> Notice:
    return Notice(Kind.WORKFLOW_COMPLETE, request_id)


def availability_dm(user: str, event: str) -> Notice:
    return Notice(Kind.AVAILABILITY_DM, None, user, {"event": event})


def group_problem(admin: str, group: str, problem: str) -> Notice:
    return Notice(Kind.GROUP_PROBLEM_DM, None, admin, {"group": group, "problem": problem})


def report_reply(user: str, response_url: str | None) -> Notice:
    return Notice(Kind.REPORT_REPLY, None, user, {"response_url": response_url})


def home_refresh(user: str) -> Notice:
    return Notice(Kind.HOME_REFRESH, None, user)


def audit_anchor(channel: str, **data: object) -> Notice:
    return Notice(Kind.AUDIT_ANCHOR, None, channel, dict(data))


def break_glass_alarm(request_id: int, channel: str, admins: list[str]) -> list[Notice]:
    """Break-glass is loud: the summary channel and every admin hear of it at once."""
    return [channel_note(request_id, channel, Event.BREAK_GLASS)] + [
        channel_note(request_id, admin, Event.BREAK_GLASS) for admin in admins
    ]
