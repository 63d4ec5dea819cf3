"""Choosing a reviewer.

Eligible: level senior, staff or principal; not the requester or an author; not away and
not deactivated. Order: fewest open reviews, then the requester's team, then whoever was
assigned least recently (never-assigned first), then user id so the choice is deterministic.
An away reviewer's delegate gets what routing would have given that reviewer.

When a change needs several seniors, they are chosen at once, each from those not yet chosen,
by the same order, except that the second prefers a reviewer from another team than the
first's (one who knows the code, one who does not), where load is equal.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from bot.domain.models import Roster

_NEVER = "0000"  # sorts before any ISO timestamp


def eligible_reviewers(
    roster: Roster, parties: Collection[str], away: Collection[str], exclude: Collection[str] = ()
) -> list[str]:
    return sorted(
        eng.user
        for eng in roster.engineers.values()
        if eng.level.is_senior and eng.user not in parties and eng.user not in away and eng.user not in exclude
    )


def choose_reviewer(
    roster: Roster,
    requester: str,
    authors: Collection[str],
    away: Collection[str],
    open_reviews: Mapping[str, int],
    last_assigned: Mapping[str, datetime],
    exclude: Collection[str] = (),
    delegates: Mapping[str, str] | None = None,
    prefer: str | None = None,
) -> str | None:
    """The reviewer to ask, or None when nobody is eligible.

    ``prefer`` is taken when eligible (a delegate named by the reviewer a review moves from).
    ``delegates`` maps away reviewers to the senior taking their new reviews: when routing
    would have picked an away reviewer, their eligible delegate gets it first."""
    parties = {requester, *authors}
    candidates = eligible_reviewers(roster, parties, away, exclude)
    if not candidates:
        return None
    if prefer is not None and prefer in candidates:
        return prefer
    req = roster.get(requester)
    team = req.team if req else None

    def key(user: str) -> tuple[int, int, str, str]:
        eng = roster.engineers[user]
        same_team = 0 if team is not None and eng.team == team else 1
        last = last_assigned.get(user)
        return (open_reviews.get(user, 0), same_team, last.isoformat() if last else _NEVER, user)

    if delegates:
        would_have = eligible_reviewers(roster, parties, (), exclude)
        best = min(would_have, key=key) if would_have else None
        if best is not None and best in away and delegates.get(best) in candidates:
            return delegates[best]
    return min(candidates, key=key)


def choose_reviewers(
    roster: Roster,
    requester: str,
    authors: Collection[str],
    away: Collection[str],
    open_reviews: Mapping[str, int],
    last_assigned: Mapping[str, datetime],
    count: int,
    exclude: Collection[str] = (),
    delegates: Mapping[str, str] | None = None,
) -> list[str]:
    """Up to ``count`` different reviewers (fewer when fewer are eligible), best first."""
    chosen: list[str] = []
    req = roster.get(requester)
    team = req.team if req else None
    while len(chosen) < count:
        skip = {*exclude, *chosen}
        if not chosen:
            pick = choose_reviewer(roster, requester, authors, away, open_reviews, last_assigned, skip, delegates)
        else:
            pick = _another_team(roster, requester, authors, away, open_reviews, last_assigned, skip, chosen, team)
        if pick is None:
            break
        chosen.append(pick)
    return chosen


def _another_team(
    roster: Roster,
    requester: str,
    authors: Collection[str],
    away: Collection[str],
    open_reviews: Mapping[str, int],
    last_assigned: Mapping[str, datetime],
    skip: Collection[str],
    chosen: list[str],
    team: str | None,
) -> str | None:
    candidates = eligible_reviewers(roster, {requester, *authors}, away, skip)
    if not candidates:
        return None
    teams_in = {roster.engineers[c].team for c in chosen}
    owning_in = team is not None and team in teams_in

    def key(user: str) -> tuple[int, int, str, str]:
        eng = roster.engineers[user]
        if owning_in:  # the owning team is represented: prefer anyone from elsewhere
            wanted = 0 if eng.team not in teams_in else 1
        else:  # nobody from the owning team yet: prefer one
            wanted = 0 if team is not None and eng.team == team else 1
        last = last_assigned.get(user)
        return (open_reviews.get(user, 0), wanted, last.isoformat() if last else _NEVER, user)

    return min(candidates, key=key)
