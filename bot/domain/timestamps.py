"""Instants as text: UTC, fixed width, so text order is time order on every backend.

The audit chain hashes this text, so it is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_text(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text)  # the trailing Z reads as UTC; much faster than strptime


def opt_from_utc_text(text: str | None) -> datetime | None:
    return from_utc_text(text) if text else None
