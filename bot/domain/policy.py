"""Who needs a senior's sign-off. Fails closed: an unknown engineer is treated as junior."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.models import Level


@dataclass(frozen=True)
class PolicyWindow:
    start: datetime
    end: datetime

    @classmethod
    def lasting(cls, start: datetime, days: int) -> PolicyWindow:
        return cls(start, start + timedelta(days=days))

    def is_active(self, now: datetime) -> bool:
        return self.start <= now < self.end

    def days_left(self, now: datetime) -> int:
        if now >= self.end:
            return 0
        return max(0, -(-int((self.end - now).total_seconds()) // 86400))


@dataclass(frozen=True)
class PolicyOutcome:
    required: bool
    reason: str


def evaluate(window: PolicyWindow, now: datetime, ai_assisted: bool, level: Level | None) -> PolicyOutcome:
    if now < window.start:
        return PolicyOutcome(False, "policy not started yet")
    if now >= window.end:
        return PolicyOutcome(False, "policy ended")
    if not ai_assisted:
        return PolicyOutcome(False, "not AI-assisted")
    if level is None:
        return PolicyOutcome(True, "AI-assisted change by an engineer not on the roster")
    if level.is_senior:
        return PolicyOutcome(False, f"requester is {level.value}")
    return PolicyOutcome(True, f"AI-assisted change by a {level.value} engineer")
