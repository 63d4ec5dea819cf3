"""Durations read as people write them, and crontab weekdays mean what crontab means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.durations import format_duration, parse_duration
from bot.domain.schedule import cron_fields, fire_times


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
    ],
)
def test_durations(text: str, value: timedelta) -> None:
    assert parse_duration(text) == value


@pytest.mark.parametrize("text", ["", "4", "4 hours", "1w", "-3h", "0s", "h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|zero"):
        parse_duration(text)


def test_format_duration() -> None:
    assert format_duration(timedelta(seconds=59)) == "59s"
    assert format_duration(timedelta(minutes=65)) == "1h05m"
    assert format_duration(timedelta(days=3, hours=2)) == "3d02h"


def test_crontab_weekdays_start_on_sunday() -> None:
    assert cron_fields("0 9 * * 1-5")["day_of_week"] == "mon-fri"
    assert cron_fields("0 9 * * 0,6")["day_of_week"] == "sun,sat"
    assert cron_fields("0 9 * * 7")["day_of_week"] == "sun"
    week = fire_times(
        cron_fields("0 9 * * 1-5"), "UTC", datetime(2026, 11, 29, tzinfo=UTC), datetime(2026, 12, 6, 23, tzinfo=UTC)
    )
    assert [t.strftime("%a") for t in week] == ["Mon", "Tue", "Wed", "Thu", "Fri"]


@pytest.mark.parametrize("expr", ["0 9 * *", "0 25 * * *", "0 9 * * 8", "every day"])
def test_bad_cron(expr: str) -> None:
    with pytest.raises(ValueError):
        cron_fields(expr)
