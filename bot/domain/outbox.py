"""What the outbox holds: notices committed with a state change, and the results of sending them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

IN_FLIGHT = "in flight"
AMBIGUOUS = "ambiguous"
SLACK_DOWN = "slack down"  # a 5xx or a transient error: retried early once Slack answers again


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

    @property
    def maybe_delivered(self) -> bool:
        """An earlier attempt may have reached Slack without us hearing back (a crash, a lost response)."""
        return self.last_error is not None and self.last_error.startswith((IN_FLIGHT, AMBIGUOUS))


@dataclass(frozen=True)
class Outcome:
    row_id: int
    status: str  # sent | retry | failed | untried (an earlier message of its request must go first)
    retry_at: datetime | None = None
    error: str | None = None
    counts: bool = True  # False for a 429: waiting out Retry-After is not a failure
