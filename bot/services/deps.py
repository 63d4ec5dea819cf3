"""What every use case needs: the database, the roster, the clock, and a way to wake the outbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.domain.models import Roster
from bot.store.db import Database


def _noop() -> None:
    return None


@dataclass
class Deps:
    db: Database
    roster: Callable[[], Roster]
    clock: Clock
    summary_channel: str
    # Called after a commit that wrote outbox rows, so delivery starts at once.
    wake_outbox: Callable[[], None] = field(default=_noop)
