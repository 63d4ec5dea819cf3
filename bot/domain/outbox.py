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


@dataclass(frozen=True)
class Notice:
    """A notification to deliver. ``kind`` names what to render; Slack details live in bot/slack."""

    kind: str
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
