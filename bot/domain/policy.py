"""Who needs a senior's sign-off. Fails closed: an unknown engineer is treated as junior."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
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
class PolicyTimeline:
    """What is stored about the policy's period, and the one window every reader derives from it.

    ``start`` and ``days`` come from the settings (or the first start); an admin's ``end`` or
    ``extend`` sets explicit overrides, which win over the settings. The window is normalised so
    that its start is never after its end: a policy ended before it began is an empty window.
    """

    start: datetime
    days: int
    start_override: datetime | None = None
    end_override: datetime | None = None

    @property
    def window(self) -> PolicyWindow:
        start = self.start_override or self.start
        end = self.end_override or start + timedelta(days=self.days)
        return PolicyWindow(min(start, end), end)

    def ended(self, now: datetime) -> PolicyTimeline:
        """An admin ends it now; one that had not started yet never runs."""
        window = self.window
        if now >= window.end:
            raise ValueError("the policy has already ended")
        start = now if window.start > now else self.start_override
        return replace(self, start_override=start, end_override=now)

    def extended(self, days: int, now: datetime) -> PolicyTimeline:
        """A running (or not yet started) policy ends ``days`` later; an ended one restarts now for ``days``."""
        window = self.window
        if now < window.end:
            return replace(self, start_override=self.start_override, end_override=window.end + timedelta(days=days))
        return replace(self, start_override=now, end_override=now + timedelta(days=days))


@dataclass(frozen=True)
class PolicyOutcome:
    required: bool
    reason: str
    approvals: int = 0  # distinct senior approvals needed; 0 when sign-off is not required


DESTRUCTIVE_APPROVALS = 2  # the default of the DESTRUCTIVE_APPROVALS setting


def evaluate(
    window: PolicyWindow,
    now: datetime,
    ai_assisted: bool,
    parties: Mapping[str, Level | None],
    *,
    destroys: bool | None,
    destructive_approvals: int = DESTRUCTIVE_APPROVALS,
) -> PolicyOutcome:
    """The strictest rule decides the bar.

    ``parties`` are everyone known to have written the change (the requester and every author)
    with their roster level, None when not on the roster. If any of them would need sign-off,
    the change needs it, so naming a senior as the requester cannot skip it.

    ``destroys``: the change deletes or replaces existing resources (True), does not (False), or
    nobody said (None), which counts as destructive for an AI-assisted change: fail closed. An
    AI-assisted destructive change needs ``destructive_approvals`` seniors whoever asks; one by a
    junior, mid-level or unknown engineer needs at least one.
    """
    if now < window.start:
        return PolicyOutcome(False, "policy not started yet")
    if now >= window.end:
        return PolicyOutcome(False, "policy ended")
    if not ai_assisted:
        return PolicyOutcome(False, "not AI-assisted")
    below = _below_senior(parties)
    if destroys is not False:
        what = "deletes or replaces existing resources" if destroys else "may destroy resources (not said)"
        approvals = max(destructive_approvals, 1)
        seniors = f"{approvals} senior approval{'s' if approvals != 1 else ''}"
        return PolicyOutcome(
            True, f"AI-assisted change that {what}: {seniors}" + (f"; {below}" if below else ""), approvals
        )
    if below:
        return PolicyOutcome(True, f"AI-assisted change by {below}", 1)
    if len(parties) == 1:
        return PolicyOutcome(False, f"requester is {next(iter(parties.values()))}")
    return PolicyOutcome(False, "requester and every author are senior")


def _below_senior(parties: Mapping[str, Level | None]) -> str:
    """Who makes a change need a senior on their own, described; empty when nobody does."""
    unknown = sorted(who for who, level in parties.items() if level is None)
    if unknown or not parties:
        return f"an engineer not on the roster ({_names(unknown)})"
    for rank in (Level.JUNIOR, Level.MID):
        below = sorted(who for who, level in parties.items() if level is rank)
        if below:
            return f"a {rank.value} engineer ({_names(below)})"
    return ""


def _names(people: list[str]) -> str:
    shown = ", ".join(people[:3])
    return shown + (f" and {len(people) - 3} more" if len(people) > 3 else "")
