"""The report as a picture: requests per week by tier (stacked bars), and time to decision per
week (median and 90th percentile, in the unit the data needs). A PNG drawn with matplotlib's Agg
backend, through its object API only (no pyplot state), so it can be drawn in a worker thread.

Slack shows an image about 800 pixels wide or less: the figure is drawn for that width, with type
that stays at least 12 pixels tall there."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.report import TREND_WEEKS, Report

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TIERS = (
    ("not_required", "No sign-off needed", "#c7ccd1"),
    ("one_senior", "One senior", "#2eb67d"),
    ("several_seniors", "Several seniors (destructive)", "#ecb22e"),
    ("break_glass", "Break-glass", "#e01e5a"),
)
WIDTH_IN, HEIGHT_IN, DPI = 8.0, 6.0, 150
TYPE_PT = 12.0  # tick labels and legends; titles are larger
SLOTS = 6  # at least this many weeks wide, so that two weeks do not fill the width
# The time axis in seconds, minutes, hours or days: the largest unit that keeps the slowest week
# above 2 of it.
UNITS = ((1, "seconds"), (60, "minutes"), (3600, "hours"), (86400, "days"))


def time_unit(seconds: Sequence[float]) -> tuple[int, str]:
    """The unit to plot these durations in: ``(seconds per unit, its name)``."""
    top = max(seconds, default=0.0)
    chosen = UNITS[0]
    for unit in UNITS:
        if top >= 2 * unit[0]:
            chosen = unit
    return chosen


def chart_figure(report: Report, tz: ZoneInfo) -> Figure | None:
    """The chart; None when the period has fewer than ``TREND_WEEKS`` weeks."""
    weeks = report.weeks
    if len(weeks) < TREND_WEEKS:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported here: slow, and only for charts
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    labels = [w.start.astimezone(tz).strftime("%d %b") for w in weeks]
    x = list(range(len(weeks)))
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    bars, times = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    bottom = [0] * len(weeks)
    for field, label, colour in TIERS:
        values = [getattr(w, field) for w in weeks]
        bars.bar(x, values, bottom=bottom, color=colour, label=label, width=0.7)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    bars.set_title("Requests per week, by what the policy asked", fontsize=TYPE_PT + 2, loc="left")
    bars.set_ylabel("requests", fontsize=TYPE_PT)
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: whole numbers only
    bars.legend(loc="upper left", fontsize=TYPE_PT, frameon=False, ncols=2)
    bars.set_ylim(0, max(max(bottom) * 1.6, 1))  # room above the bars for the legend
    durations = [getattr(w, a) for w in weeks for a in ("median_seconds", "p90_seconds") if getattr(w, a) is not None]
    size, unit = time_unit(durations)
    for name, attr, style in (("median", "median_seconds", "-o"), ("90th percentile", "p90_seconds", "--s")):
        shown = [getattr(w, attr) / size if getattr(w, attr) is not None else float("nan") for w in weeks]
        times.plot(x, shown, style, label=name, markersize=6)
    times.set_title("Time to a decision", fontsize=TYPE_PT + 2, loc="left")
    times.set_ylabel(unit, fontsize=TYPE_PT)
    times.legend(loc="upper left", fontsize=TYPE_PT, frameon=False, ncols=2)
    times.set_ylim(0, max((d / size for d in durations), default=1) * 1.5 or 1)
    times.set_xticks(x, labels, rotation=45 if len(weeks) > 8 else 0, fontsize=TYPE_PT)
    times.set_xlim(-0.5, max(len(weeks), SLOTS) - 0.5)
    for axes in (bars, times):
        axes.tick_params(labelsize=TYPE_PT)
        axes.spines[["top", "right"]].set_visible(False)
    times.set_xlabel("week starting", fontsize=TYPE_PT)
    figure.tight_layout()
    return figure


def chart_png(report: Report, tz: ZoneInfo) -> bytes | None:
    """The chart as PNG bytes; None when there is no trend to show yet."""
    figure = chart_figure(report, tz)
    if figure is None:
        return None
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
