"""What routing needs to choose reviewers, read once per transaction: the roster, who is away
(and their delegates), and each senior's open reviews and last assignment. Creating a request,
reassigning reviews and filling empty seats all route from it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.models import Roster
from bot.domain.routing import choose_reviewers
from bot.store.unit_of_work import Tx


@dataclass
class RoutingInputs:
    roster: Roster
    away: set[str]
    delegates: dict[str, str]
    load: dict[str, int]  # open reviews per senior, kept current as reviews move
    last: dict[str, datetime]  # when each senior was last assigned anything
    # Requests posted for any senior to claim in this transaction: one Claim post and one message
    # to the requester each, however many of their seats were lost at once.
    posted_for_claim: set[int] = field(default_factory=set)

    @classmethod
    async def read(cls, tx: Tx, roster: Roster) -> RoutingInputs:
        # Lock first, read after: a statement of its own, so what follows sees every change of
        # who is away committed before the lock was granted (READ COMMITTED).
        await tx.requests.lock_routing()
        load, last, away, delegates = await tx.assignments.load_and_unavailable(roster.seniors())
        return cls(roster, away, delegates, load, last)

    def choose(self, requester: str, authors: Collection[str], count: int, exclude: Collection[str] = ()) -> list[str]:
        """Up to ``count`` eligible reviewers for a change, best first."""
        return choose_reviewers(
            self.roster, requester, authors, self.away, self.load, self.last, count, exclude, self.delegates
        )
