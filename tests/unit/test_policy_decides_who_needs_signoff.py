"""Sign-off is required exactly for AI-assisted changes by junior, mid or unknown engineers
while the policy is active. Everything else is recorded as not required."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.models import Level
from bot.domain.policy import PolicyWindow, evaluate

START = datetime(2026, 9, 1, tzinfo=UTC)
WINDOW = PolicyWindow.lasting(START, 90)
DURING = START + timedelta(days=10)


@pytest.mark.parametrize(
    ("level", "ai", "required"),
    [
        (Level.JUNIOR, True, True),
        (Level.MID, True, True),
        (None, True, True),
        (Level.SENIOR, True, False),
        (Level.STAFF, True, False),
        (Level.PRINCIPAL, True, False),
        (Level.JUNIOR, False, False),
        (None, False, False),
    ],
)
def test_required_by_level_and_ai(level: Level | None, ai: bool, required: bool) -> None:
    assert evaluate(WINDOW, DURING, ai, {"U0REQ": level}, destroys=False).required is required


def test_unknown_engineer_fails_closed_with_a_reason() -> None:
    outcome = evaluate(WINDOW, DURING, True, {"U0REQ": None}, destroys=False)
    assert outcome.required
    assert "not on the roster" in outcome.reason


def test_window_edges() -> None:
    end = START + timedelta(days=90)
    assert WINDOW.end == end
    assert evaluate(WINDOW, end - timedelta(seconds=1), True, {"U0REQ": Level.JUNIOR}, destroys=False).required
    after = evaluate(WINDOW, end, True, {"U0REQ": Level.JUNIOR}, destroys=False)
    assert not after.required and after.reason == "the policy has ended"
    assert not evaluate(WINDOW, START - timedelta(seconds=1), True, {"U0REQ": Level.JUNIOR}, destroys=False).required


def test_days_left_rounds_up() -> None:
    assert WINDOW.days_left(START) == 90
    assert WINDOW.days_left(START + timedelta(days=89, hours=1)) == 1
    assert WINDOW.days_left(START + timedelta(days=90)) == 0


def test_an_early_end_wins_over_the_natural_end() -> None:
    ended = PolicyWindow(START, START + timedelta(days=5))
    assert not evaluate(ended, START + timedelta(days=6), True, {"U0REQ": Level.JUNIOR}, destroys=False).required


LEVELS = [Level.JUNIOR, Level.MID, Level.SENIOR, Level.STAFF, Level.PRINCIPAL, None]


@given(
    requester=st.sampled_from(LEVELS),
    authors=st.lists(st.sampled_from(LEVELS), max_size=4),
    ai=st.booleans(),
)
def test_the_strictest_person_decides_the_bar(requester: Level | None, authors: list[Level | None], ai: bool) -> None:
    """Naming a senior as the requester never lowers the bar set by an author."""
    parties = {"U0REQ": requester, **{f"U0AUTH{i}": level for i, level in enumerate(authors)}}
    anyone_below = any(level is None or not level.is_senior for level in parties.values())
    assert evaluate(WINDOW, DURING, ai, parties, destroys=False).required is (ai and anyone_below)


def test_a_senior_requester_with_a_junior_author_needs_signoff_and_says_why() -> None:
    outcome = evaluate(WINDOW, DURING, True, {"U0SENIOR1": Level.SENIOR, "U0JUNIOR1": Level.JUNIOR}, destroys=False)
    assert outcome.required
    assert outcome.reason == "a junior engineer wrote it with AI"  # who, by level; never a Slack ID


def test_each_reason_is_one_plain_clause() -> None:
    junior = {"U0JUNIOR1": Level.JUNIOR}
    reasons = {
        evaluate(WINDOW, DURING, True, junior, destroys=None).reason,
        evaluate(WINDOW, DURING, True, junior, destroys=True).reason,
        evaluate(WINDOW, DURING, True, {"U0SENIOR1": Level.SENIOR}, destroys=None).reason,
        evaluate(WINDOW, DURING, True, {"U0MID1": Level.MID}, destroys=False).reason,
        evaluate(WINDOW, DURING, True, {"U0X": None}, destroys=False).reason,
        evaluate(WINDOW, DURING, False, junior, destroys=False).reason,
        evaluate(WINDOW, DURING, True, {"U0SENIOR1": Level.SENIOR}, destroys=False).reason,
    }
    assert reasons == {
        "it may delete resources and nobody said otherwise, and a junior engineer wrote it with AI",
        "it deletes or replaces existing resources, and a junior engineer wrote it with AI",
        "it may delete resources and nobody said otherwise",
        "a mid-level engineer wrote it with AI",
        "an engineer not on the roster wrote it with AI",
        "it was not written with AI",
        "a senior engineer wrote it",
    }
    for reason in reasons:
        assert "(" not in reason and "U0" not in reason and "approval" not in reason
