"""Property tests of the risk tiers: for random requesters, authors, levels, AI flags, answers
and plan summaries, the approvals needed are never fewer than the rule, and routing never asks
an author, the requester, or the same senior twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.models import Draft, Engineer, Level, Roster
from bot.domain.plan_summary import Destroyed, PlanSummary
from bot.domain.policy import PolicyWindow, evaluate
from bot.domain.routing import choose_reviewers

START = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = PolicyWindow.lasting(START, 90)
DURING = START + timedelta(days=3)
LEVELS = [Level.JUNIOR, Level.MID, Level.SENIOR, Level.STAFF, Level.PRINCIPAL, None]
PEOPLE = [f"U{i}" for i in range(8)]

plans = st.none() | st.builds(
    lambda deletes, replaces, creates: PlanSummary(
        ("a" * 64,),
        ("terraform",),
        creates=creates,
        deletes=deletes,
        replaces=replaces,
        resources=tuple(Destroyed(f"r.{i}", "delete") for i in range(deletes)),
    ),
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(0, 3),
)


def the_rule(ai: bool, levels: list[Level | None], destroys: bool | None, two: int) -> int:
    """The issue's rule, written plainly: the least a request may need."""
    if not ai:
        return 0
    need = 0
    if any(level is None or not level.is_senior for level in levels):
        need = 1
    if destroys is not False:  # destructive, or not known: fail closed
        need = max(need, two)
    return need


@given(
    requester=st.sampled_from(LEVELS),
    authors=st.lists(st.sampled_from(LEVELS), max_size=4),
    ai=st.booleans(),
    said=st.none() | st.booleans(),
    plan=plans,
    two=st.integers(1, 5),
)
def test_the_approvals_needed_are_never_fewer_than_the_rule(
    requester: Level | None,
    authors: list[Level | None],
    ai: bool,
    said: bool | None,
    plan: PlanSummary | None,
    two: int,
) -> None:
    draft = Draft("t", "https://e.com", ai, destructive=said, plan=plan)
    parties = {"UREQ": requester, **{f"UAUTH{i}": level for i, level in enumerate(authors)}}
    outcome = evaluate(WINDOW, DURING, ai, parties, destroys=draft.destroys, destructive_approvals=two)
    least = the_rule(ai, list(parties.values()), draft.destroys, two)
    assert outcome.required is (least > 0)
    assert outcome.approvals >= least
    if plan is not None and plan.destroys:
        assert draft.destroys is True  # a plan that destroys cannot be talked down
    if said is True:
        assert draft.destroys is True


@given(
    levels=st.lists(st.sampled_from(LEVELS[:5]), min_size=len(PEOPLE), max_size=len(PEOPLE)),
    teams=st.lists(st.sampled_from(["pay", "web", None]), min_size=len(PEOPLE), max_size=len(PEOPLE)),
    requester=st.sampled_from(PEOPLE),
    authors=st.lists(st.sampled_from(PEOPLE), max_size=3),
    away=st.sets(st.sampled_from(PEOPLE), max_size=3),
    load=st.dictionaries(st.sampled_from(PEOPLE), st.integers(0, 4)),
    count=st.integers(1, 5),
)
def test_no_author_ever_reviews_and_nobody_is_asked_twice(
    levels: list[Level],
    teams: list[str | None],
    requester: str,
    authors: list[str],
    away: set[str],
    load: dict[str, int],
    count: int,
) -> None:
    roster = Roster(engineers={u: Engineer(u, lvl, team) for u, lvl, team in zip(PEOPLE, levels, teams, strict=True)})
    chosen = choose_reviewers(roster, requester, authors, away, load, {}, count)
    eligible = {u for u in PEOPLE if roster.is_senior(u) and u not in {requester, *authors} and u not in away}
    assert len(chosen) == len(set(chosen)) == min(count, len(eligible))
    assert set(chosen) <= eligible


def test_two_reviewers_one_from_the_owning_team_one_from_elsewhere() -> None:
    roster = Roster(
        engineers={
            "J": Engineer("J", Level.JUNIOR, "pay"),
            "S1": Engineer("S1", Level.SENIOR, "pay"),
            "S2": Engineer("S2", Level.SENIOR, "pay"),
            "W1": Engineer("W1", Level.SENIOR, "web"),
        }
    )
    assert choose_reviewers(roster, "J", (), (), {}, {}, 2) == ["S1", "W1"]
    # least-loaded still comes first: a busy owning team gives way
    assert choose_reviewers(roster, "J", (), (), {"S1": 2, "S2": 2}, {}, 2) == ["W1", "S1"]
