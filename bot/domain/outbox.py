"""What the outbox holds: notices committed with a state change, and the results of sending them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Failure(StrEnum):
    """Why the last attempt to deliver a row did not work."""

    SLACK_DOWN = "slack_down"  # a 5xx or a transient error: retried early once Slack answers again
    AMBIGUOUS = "ambiguous"  # no answer: the message may have gone out; checked before posting again
    RATE_LIMITED = "rate_limited"  # a 429: waited out, not counted as a failure
    PERMANENT = "permanent"  # Slack refused it for good: tried once
    CRASHED = "crashed"  # rendering it failed (a bug): retried with backoff


class Kind(StrEnum):
    """What an outbox row asks to be shown; each has one renderer (bot/slack/renderers.py)."""

    REVIEW_DM = "review_dm"  # ask the reviewer, with Approve/Deny buttons
    REVIEW_REFRESH = "review_refresh"  # re-render every reviewer DM of a request in place
    CLAIM_POST = "claim_post"  # nobody eligible: post to the summary channel with a Claim button
    CLAIM_REFRESH = "claim_refresh"  # re-render the claim post in place
    REQUESTER_DM = "requester_dm"  # tell the requester; data["event"] (an Event) says what happened
    REMINDER_DM = "reminder_dm"  # nudge the current reviewer
    CHANNEL_NOTE = "channel_note"  # a line in the summary channel; data["event"] says what happened
    POLICY_NOTICE = "policy_notice"  # policy warnings, extension, the end (with the report)
    SUMMARY_POST = "summary_post"  # the pending-changes summary
    AUDIT_ANCHOR = "audit_anchor"  # the day's last audit hash, posted as an independent copy
    HOME_REFRESH = "home_refresh"  # republish someone's App Home, if they ever opened it
    WORKFLOW_COMPLETE = "workflow_complete"  # complete the Workflow Builder step that asked
    AVAILABILITY_DM = "availability_dm"  # tell someone their availability changed; data["event"] says how
    GROUP_PROBLEM_DM = "group_problem_dm"  # tell an admin a roster user group cannot be read from Slack
    REPORT_REPLY = "report_reply"  # the report someone asked for, to their response_url (or by DM)


# Posted to a channel: in one delivery batch they go out in the order they were queued, whatever
# request they are about, so the channel reads in the order things happened (a sweep's
# escalation notes before the summary that lists the new reviewers).
CHANNEL_KINDS = frozenset(
    {Kind.CLAIM_POST, Kind.CLAIM_REFRESH, Kind.CHANNEL_NOTE, Kind.POLICY_NOTICE, Kind.SUMMARY_POST, Kind.AUDIT_ANCHOR}
)


class Event(StrEnum):
    """What happened, for a requester's DM and a channel note (``data["event"]``)."""

    WAITING = "waiting"
    UNASSIGNED = "unassigned"
    NOT_REQUIRED = "not_required"
    DECIDED = "decided"
    CANCELLED = "cancelled"
    ESCALATED = "escalated"
    EXPIRED = "expired"
    BACK = "back"  # an away time ended
    BREAK_GLASS = "break_glass"  # somebody broke glass: who, what and why
    REVIEWED_AFTER = "hindsight"  # a break-glass change was reviewed after the fact (stored name kept)


@dataclass(frozen=True)
class Notice:
    """A notification to deliver. ``kind`` names what to render; Slack details live in bot/slack."""

    kind: Kind
    request_id: int | None = None
    recipient: str | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: str
    request_id: int | None
    recipient: str | None
    data: dict[str, Any]
    attempts: int
    created_at: datetime
    last_error: str | None = None
    failure: Failure | None = None
    claimed_by: str | None = None  # a worker claimed it and did not record how the attempt went

    @property
    def maybe_delivered(self) -> bool:
        """An earlier attempt may have reached Slack without us hearing back (a crash, a lost response)."""
        return self.claimed_by is not None or self.failure is Failure.AMBIGUOUS


@dataclass(frozen=True)
class Outcome:
    row_id: int
    status: str  # sent | retry | failed | untried (an earlier message of its request must go first)
    retry_at: datetime | None = None
    error: str | None = None
    counts: bool = True  # False for a 429: waiting out Retry-After is not a failure
    failure: Failure | None = None
    # Where its keyed posts landed: (key, channel, ts), stored with the outcome in one transaction.
    remembered: tuple[tuple[str, str, str], ...] = ()
