"""What every use case needs: the database, the roster, the clock, and a way to wake the outbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.domain.models import Roster
from bot.store.db import Database


def _noop(request_id: int | None) -> None:
    return None


@dataclass
class Deps:
    db: Database
    roster: Callable[[], Roster]
    clock: Clock
    summary_channel: str
    # Called after a commit that changed a request: wakes the outbox and any long-poll waiters.
    committed: Callable[[int | None], None] = field(default=_noop)
    # Called after an admin moved the policy end, so the end job can be rescheduled.
    policy_changed: Callable[[], None] = field(default=lambda: None)
