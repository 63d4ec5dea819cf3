"""A request goes to a senior, staff or principal engineer who is not the requester, not an
author, and not away: fewest open reviews first, then the requester's team, then whoever
was assigned least recently."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.models import Engineer, Level, Roster
from bot.domain.routing import choose_reviewer


def roster(*engineers: tuple[str, Level, str]) -> Roster:
    return Roster(engineers={u: Engineer(u, lvl, team) for u, lvl, team in engineers})


TEAM = roster(
    ("J", Level.JUNIOR, "pay"),
    ("S1", Level.SENIOR, "pay"),
    ("S2", Level.SENIOR, "web"),
    ("P", Level.PRINCIPAL, "web"),
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 2, tzinfo=UTC)


def test_prefers_the_requesters_team_when_loads_are_equal() -> None:
    assert choose_reviewer(TEAM, "J", (), (), {}, {}) == "S1"


def test_fewest_open_reviews_beats_team() -> None:
    assert choose_reviewer(TEAM, "J", (), (), {"S1": 1}, {}) == "P"


def test_least_recently_assigned_breaks_ties() -> None:
    assert choose_reviewer(TEAM, "J", (), (), {"S1": 1}, {"S2": T1, "P": T0}) == "P"
    assert choose_reviewer(TEAM, "J", (), (), {"S1": 1}, {"S2": T0, "P": T1}) == "S2"


def test_never_the_requester_or_an_author_or_someone_away() -> None:
    assert choose_reviewer(TEAM, "S1", (), (), {}, {}) in {"S2", "P"}
    assert choose_reviewer(TEAM, "J", ("S1",), ("P",), {}, {}) == "S2"


def test_juniors_and_mids_never_review() -> None:
    only_juniors = roster(("J", Level.JUNIOR, "pay"), ("M", Level.MID, "pay"), ("J2", Level.JUNIOR, "pay"))
    assert choose_reviewer(only_juniors, "J", (), (), {}, {}) is None


def test_nobody_eligible_gives_none() -> None:
    assert choose_reviewer(TEAM, "J", ("S1", "S2"), ("P",), {}, {}) is None


def test_unknown_requester_still_gets_a_reviewer() -> None:
    assert choose_reviewer(TEAM, "U0STRANGER", (), (), {}, {}) == "P"
