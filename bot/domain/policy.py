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
POLICY_ENDED = "the policy has ended"


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
        return PolicyOutcome(False, "the policy has not started")
    if now >= window.end:
        return PolicyOutcome(False, POLICY_ENDED)
    if not ai_assisted:
        return PolicyOutcome(False, "it was not written with AI")
    below = _below_senior(parties)
    wrote = f"{below} wrote it with AI" if below else ""
    if destroys is not False:
        what = (
            "it deletes or replaces existing resources"
            if destroys
            else "it may delete resources and nobody said otherwise"
        )
        return PolicyOutcome(True, f"{what}, and {wrote}" if wrote else what, max(destructive_approvals, 1))
    if below:
        return PolicyOutcome(True, wrote, 1)
    if len(parties) == 1:
        return PolicyOutcome(False, f"a {next(iter(parties.values()))} engineer wrote it")
    return PolicyOutcome(False, "everyone who wrote it is senior")


def needs_words(approvals: int) -> str:
    """``needs a senior's approval`` or ``needs 2 senior approvals``."""
    return "needs a senior's approval" if approvals <= 1 else f"needs {approvals} senior approvals"


def _below_senior(parties: Mapping[str, Level | None]) -> str:
    """Who makes a change need a senior on their own, in words (never their IDs: the request shows
    who asked and who wrote it); empty when nobody does."""
    if not parties or any(level is None for level in parties.values()):
        return "an engineer not on the roster"
    for rank, words in ((Level.JUNIOR, "a junior engineer"), (Level.MID, "a mid-level engineer")):
        if any(level is rank for level in parties.values()):
            return words
    return ""
