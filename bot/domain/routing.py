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

from collections.abc import Callable, Collection, Mapping
from datetime import datetime

from bot.domain.models import Engineer, Roster

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
    key = _order(roster, open_reviews, last_assigned, _in_team(_team_of(roster, requester)))
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
    first = choose_reviewer(roster, requester, authors, away, open_reviews, last_assigned, exclude, delegates)
    chosen = [first] if first is not None and count > 0 else []
    team = _team_of(roster, requester)
    while 0 < len(chosen) < count:
        candidates = eligible_reviewers(roster, {requester, *authors}, away, {*exclude, *chosen})
        if not candidates:
            break
        teams_in = {roster.engineers[c].team for c in chosen}
        # Once the owning team is represented prefer anyone from elsewhere; until then, one from it.
        wanted = _outside(teams_in) if team is not None and team in teams_in else _in_team(team)
        chosen.append(min(candidates, key=_order(roster, open_reviews, last_assigned, wanted)))
    return chosen


def _team_of(roster: Roster, user: str) -> str | None:
    eng = roster.get(user)
    return eng.team if eng else None


def _in_team(team: str | None) -> Callable[[Engineer], bool]:
    return lambda eng: team is not None and eng.team == team


def _outside(teams: set[str | None]) -> Callable[[Engineer], bool]:
    return lambda eng: eng.team not in teams


def _order(
    roster: Roster,
    open_reviews: Mapping[str, int],
    last_assigned: Mapping[str, datetime],
    wanted: Callable[[Engineer], bool],
) -> Callable[[str], tuple[int, int, str, str]]:
    """Fewest open reviews, then ``wanted`` (a team), then least recently assigned, then user id."""

    def key(user: str) -> tuple[int, int, str, str]:
        last = last_assigned.get(user)
        preferred = 0 if wanted(roster.engineers[user]) else 1
        return (open_reviews.get(user, 0), preferred, last.isoformat() if last else _NEVER, user)

    return key
