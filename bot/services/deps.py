"""What every use case needs: the store, the roster, the clock, the summary channel, and metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.clock import Clock
from bot.domain.models import Roster
from bot.metrics import Metrics
from bot.store.unit_of_work import Store


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Deps:
    store: Store
    roster: Callable[[], Roster]
    clock: Clock
    summary_channel: str
    # Called after an admin moved the policy end, so the end job can be rescheduled.
    policy_changed: Callable[[], None] = field(default=_nothing)
    metrics: Metrics = field(default_factory=Metrics)
    destructive_approvals: int = 2  # DESTRUCTIVE_APPROVALS: seniors an AI-assisted destructive change needs
    approval_valid_for: timedelta = timedelta(hours=24)  # APPROVAL_VALID_FOR: how long an approval may be applied
    request_ttl: timedelta = timedelta(days=7)  # REQUEST_TTL: how long a request may wait for a decision
    break_glass_limit: int = 3  # BREAK_GLASS_LIMIT: break-glass uses per person per 24 hours
