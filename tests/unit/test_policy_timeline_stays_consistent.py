"""Whatever the sequence of settings changes and admin actions, the policy has one window:
its start is never after its end, an admin's end stops it now, an extend makes it run now,
and what is enforced is exactly what the window says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.models import Level
from bot.domain.policy import PolicyTimeline, evaluate

T0 = datetime(2026, 9, 1, tzinfo=UTC)

step = st.one_of(
    st.tuples(st.just("set_start"), st.integers(-400, 400)),
    st.tuples(st.just("set_days"), st.integers(1, 400)),
    st.tuples(st.just("end"), st.just(0)),
    st.tuples(st.just("extend"), st.integers(1, 400)),
    st.tuples(st.just("wait_hours"), st.integers(0, 24 * 200)),
)


@given(st.integers(-100, 100), st.integers(1, 200), st.lists(step, max_size=25))
def test_random_sequences_keep_one_consistent_window(start_days: int, days: int, steps: list[tuple[str, int]]) -> None:
    now = T0
    timeline = PolicyTimeline(T0 + timedelta(days=start_days), days)
    for action, n in steps:
        if action == "set_start":
            timeline = replace(timeline, start=T0 + timedelta(days=n))
        elif action == "set_days":
            timeline = replace(timeline, days=n)
        elif action == "end":
            if now < timeline.window.end:
                timeline = timeline.ended(now)
                assert not timeline.window.is_active(now) and timeline.window.end == now
        elif action == "extend":
            was = timeline.window
            timeline = timeline.extended(n, now)
            assert timeline.window.is_active(now) or now < timeline.window.start
            assert timeline.window.end > now and timeline.window.end >= was.end
        else:
            now += timedelta(hours=n)
        window = timeline.window
        assert window.start <= window.end
        required = evaluate(window, now, True, {"U0JUNIOR1": Level.JUNIOR}, destroys=False).required
        assert required is window.is_active(now)


def test_end_before_the_start_then_extend_runs_now() -> None:
    """The sequence the outside check found: a future start, an end, then extend 10."""
    now = T0
    timeline = PolicyTimeline(T0 + timedelta(days=30), 90).ended(now).extended(10, now)
    assert timeline.window.start == now and timeline.window.end == now + timedelta(days=10)
    assert evaluate(timeline.window, now, True, {"U0JUNIOR1": Level.JUNIOR}, destroys=False).required
