"""PostgreSQL restarts, fails over or disappears: signoff reconnects by itself, and while it cannot
store anything it says so at once (a JSON 503, an unready /readyz), never hangs and never acks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg

from tests.backends import ADMIN_URL
from tests.harness import running

BODY = {"requester": "U0JUNIOR1", "title": "t", "url": "https://x.example/1", "ai_assisted": True, "destructive": False}


def _terminate_connections(url: str) -> int:
    name = url.rpartition("/")[2]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


def _drop(url: str) -> None:
    name = url.rpartition("/")[2]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


async def test_after_a_restart_the_next_request_just_works(tmp_path: Path, postgres_url: str) -> None:
    async with running(tmp_path, DATABASE_URL=postgres_url) as h:
        assert (await h.api("POST", "/api/v1/requests", BODY))[0] == 201
        assert await asyncio.to_thread(_terminate_connections, postgres_url) > 0  # as a server restart does
        status, created = await h.api("POST", "/api/v1/requests", {**BODY, "title": "after"})
        assert status == 201, created
        status, ready = await h.api("GET", "/readyz", token=None)
        assert status == 200 and ready["database"] == "ok"


async def test_a_database_that_is_gone_gets_a_clear_503_and_nothing_is_acknowledged(
    tmp_path: Path, postgres_url: str
) -> None:
    async with running(tmp_path, DATABASE_URL=postgres_url) as h:
        await asyncio.to_thread(_drop, postgres_url)
        status, body = await asyncio.wait_for(h.api("POST", "/api/v1/requests", BODY), timeout=15)
        assert status == 503 and body["code"] == "storage_failure"
        assert "Nothing was recorded; try again" in body["message"]
        status, ready = await asyncio.wait_for(h.api("GET", "/readyz", token=None), timeout=15)
        assert status == 503 and ready["status"] == "not ready"
