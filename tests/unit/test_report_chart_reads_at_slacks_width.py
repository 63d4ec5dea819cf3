"""The end report's chart as a person sees it in Slack, about 800 pixels wide: time to decision in
the unit the data needs (a median of 10 s is not 0.0025 hours), whole numbers on the count axis,
type large enough to read at that width, and no chart at all for a single week (the report says
there is not enough for a trend instead)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from matplotlib.text import Text

from bot.domain.report import WEEK, Report, Week
from bot.slack.policy_messages import report_blocks
from bot.slack.report_chart import chart_figure, chart_png

START = datetime(2026, 9, 7, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


def report(weeks: list[Week]) -> Report:
    total = sum(w.not_required + w.one_senior + w.several_seniors + w.break_glass for w in weeks)
    return Report(
        start=START, end=START + WEEK * len(weeks), total=total, required=total, not_required=0, approved=total,
        denied=0, pending=0, expired=0, cancelled=0, median_to_decision=timedelta(seconds=10),
        p90_to_decision=timedelta(minutes=10), per_team=[], reviewer_load=[], top_denial_reasons=[], weeks=weeks,
    )  # fmt: skip


def weeks_taking(*seconds: tuple[int, int]) -> list[Week]:
    return [
        Week(START + WEEK * i, one_senior=1 + i % 2, median_seconds=median, p90_seconds=p90)
        for i, (median, p90) in enumerate(seconds)
    ]


def time_axis(weeks: list[Week]) -> tuple[str, list[float]]:
    figure = chart_figure(report(weeks), UTC_ZONE)
    assert figure is not None
    times = figure.axes[1]
    median = times.get_lines()[0]
    return times.get_ylabel(), [float(v) for v in median.get_ydata()]


@pytest.mark.parametrize(
    ("seconds", "unit", "median_shown"),
    [
        (((10, 50), (12, 61)), "seconds", [10.0, 12.0]),
        (((300, 614), (600, 1200)), "minutes", [5.0, 10.0]),
        (((3 * 3600, 9 * 3600), (3600, 5 * 3600)), "hours", [3.0, 1.0]),
        (((2 * 86400, 6 * 86400), (86400, 3 * 86400)), "days", [2.0, 1.0]),
    ],
)
def test_time_to_decision_is_drawn_in_the_unit_the_data_needs(
    seconds: tuple[tuple[int, int], ...], unit: str, median_shown: list[float]
) -> None:
    assert time_axis(weeks_taking(*seconds)) == (unit, median_shown)


def test_the_count_axis_has_whole_numbers_only() -> None:
    figure = chart_figure(report(weeks_taking((10, 20), (10, 20), (10, 20))), UTC_ZONE)
    assert figure is not None
    figure.canvas.draw()
    ticks = [t for t in figure.axes[0].get_yticks() if t >= 0]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_every_word_on_the_chart_is_legible_at_slacks_width() -> None:
    figure = chart_figure(report(weeks_taking(*[(600, 1200)] * 12)), UTC_ZONE)
    assert figure is not None
    figure.canvas.draw()
    width_px = figure.get_figwidth() * figure.dpi
    shown_at = min(1.0, 800 / width_px)  # Slack scales the image down to about 800 pixels
    texts = [t for t in figure.findobj(Text) if t.get_text().strip() and t.get_visible()]
    assert len(texts) > 20  # titles, labels, ticks and legends were all looked at
    sizes = {t.get_text(): t.get_fontsize() * figure.dpi / 72 * shown_at for t in texts}
    small = {text: round(px, 1) for text, px in sizes.items() if px < 12}
    assert small == {}, f"type under 12 px at 800 px wide: {small}"


def test_one_week_is_not_a_trend_and_the_report_says_so() -> None:
    one = report(weeks_taking((10, 20)))
    assert chart_png(one, UTC_ZONE) is None
    text = "\n".join(b["text"]["text"] for b in report_blocks(one, UTC_ZONE))
    assert "Not enough weeks for a trend yet" in text
    two = report(weeks_taking((10, 20), (10, 20)))
    assert (chart_png(two, UTC_ZONE) or b"").startswith(b"\x89PNG")
    assert "Not enough weeks" not in "\n".join(b["text"]["text"] for b in report_blocks(two, UTC_ZONE))
