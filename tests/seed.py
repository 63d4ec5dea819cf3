"""Many requests at once, written straight into the database (as a year of use would have left
them), for tests about work that grows with the data."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta
from typing import Any

import psycopg

from bot.domain.timestamps import utc_text


def _rows(n: int, start_id: int, now: datetime, requesters: list[str], reviewers: list[str]) -> Any:
    requests, assignments = [], []
    for k in range(n):
        i = start_id + k
        created = utc_text(now - timedelta(minutes=30, seconds=k))
        requester, reviewer = requesters[k % len(requesters)], reviewers[k % len(reviewers)]
        requests.append(
            (i, requester, f"Seeded change {i}", f"https://git.example.com/pr/{i}", 1, "pending", 1,
             "a junior engineer wrote it with AI", created, created)
        )  # fmt: skip
        assignments.append((i, reviewer, created, "routed", 1))
    return requests, assignments


_REQUEST = (
    "INSERT INTO requests (id, requester, title, url, ai_assisted, status, sign_off_required, policy_reason,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_ASSIGNMENT = "INSERT INTO assignments (request_id, reviewer, assigned_at, how, active) VALUES (?, ?, ?, ?, ?)"


def _seed(url: str, n: int, now: datetime, requesters: list[str], reviewers: list[str]) -> list[int]:
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
        try:
            start = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM requests").fetchone()[0]
            requests, assignments = _rows(n, start, now, requesters, reviewers)
            conn.executemany(_REQUEST, requests)
            conn.executemany(_ASSIGNMENT, assignments)
            conn.commit()
        finally:
            conn.close()
        return list(range(start, start + n))
    with psycopg.connect(url) as pg:
        start = pg.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM requests").fetchone()[0]  # type: ignore[index]
        requests, assignments = _rows(n, start, now, requesters, reviewers)
        with pg.cursor() as cur:
            cur.executemany(_REQUEST.replace("?", "%s"), requests)
            cur.executemany(_ASSIGNMENT.replace("?", "%s"), assignments)
        pg.execute("SELECT setval(pg_get_serial_sequence('requests', 'id'), (SELECT MAX(id) FROM requests))")
    return list(range(start, start + n))


async def pending_requests(url: str, n: int, now: datetime, requesters: list[str], reviewers: list[str]) -> list[int]:
    """``n`` pending requests, each assigned to one of ``reviewers``; returns their ids."""
    return await asyncio.to_thread(_seed, url, n, now, requesters, reviewers)
