"""The report as a picture: requests per week by tier (stacked bars), and time to decision per
week (median and 90th percentile, in hours). A PNG drawn with matplotlib's Agg backend, through
its object API only (no pyplot state), so it can be drawn in a worker thread."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from bot.domain.report import Report

TIERS = (
    ("not_required", "No sign-off needed", "#c7ccd1"),
    ("one_senior", "One senior", "#2eb67d"),
    ("several_seniors", "Several seniors (destructive)", "#ecb22e"),
    ("break_glass", "Break-glass", "#e01e5a"),
)


def chart_png(report: Report, tz: ZoneInfo) -> bytes | None:
    """The chart as PNG bytes; None when the period has no week to show yet."""
    if not report.weeks:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported here: slow, and only for charts
    from matplotlib.figure import Figure

    weeks = report.weeks
    labels = [w.start.astimezone(tz).strftime("%d %b") for w in weeks]
    x = list(range(len(weeks)))
    figure = Figure(figsize=(10, 6), dpi=100)
    FigureCanvasAgg(figure)
    bars, times = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    bottom = [0] * len(weeks)
    for field, label, colour in TIERS:
        values = [getattr(w, field) for w in weeks]
        bars.bar(x, values, bottom=bottom, color=colour, label=label, width=0.7)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    bars.set_title("Requests per week, by what the policy asked")
    bars.set_ylabel("requests")
    bars.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    for name, attr, style in (("median", "median_seconds", "-o"), ("90th percentile", "p90_seconds", "--s")):
        hours = [getattr(w, attr) / 3600 if getattr(w, attr) is not None else float("nan") for w in weeks]
        times.plot(x, hours, style, label=name, markersize=4)
    times.set_title("Time to a decision")
    times.set_ylabel("hours")
    times.set_ylim(bottom=0)
    times.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    times.set_xticks(x, labels, rotation=45, fontsize=8)
    times.set_xlabel("week starting")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
