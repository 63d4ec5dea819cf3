"""Instants as text: UTC, fixed width, so text order is time order on every backend.

The audit chain hashes this text, so it is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


@lru_cache(maxsize=1024)  # a transaction writes the same instant many times
def utc_text(when: datetime) -> str:
    """``2026-12-06T23:46:20.123456Z``: isoformat (fast, in C), always with microseconds."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def from_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text)  # the trailing Z reads as UTC; much faster than strptime


def opt_from_utc_text(text: str | None) -> datetime | None:
    return from_utc_text(text) if text else None
