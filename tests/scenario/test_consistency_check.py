"""The consistency check repairs, once each, the states no code path may leave behind (written
here straight into the database, as a bug would have left them): a pending request whose
approvals are all in, one with a denial, one nobody is asked to review, and an outbox row held
by a replica that is gone. Each repair is audited, logged as an ERROR and counted."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from bot.domain.models import Status
from bot.slack.outbox_worker import PROBE_EVERY_SECONDS
from tests.harness import Harness


def _write(url: str, sql: str, *params: Any) -> None:
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            conn.execute(sql, params)
            conn.commit()
        finally:
            conn.close()
        return
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute(sql.replace("?", "%s").encode(), params)


async def broken(h: Harness, sql: str, *params: Any) -> None:
    await asyncio.to_thread(_write, h.bot.settings.database, sql, *params)


async def repairs(h: Harness) -> dict[str, float]:
    async with h.session.get(f"{h.url}/metrics") as resp:
        text = await resp.text()
    found = {}
    for line in text.splitlines():
        if line.startswith("signoff_repairs_total{"):
            kind = line.split('kind="', 1)[1].split('"', 1)[0]
            found[kind] = float(line.rsplit(" ", 1)[1])
    return found


async def test_a_request_whose_approvals_are_in_is_approved_once(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    ref = await h.ask("U0JUNIOR1", destructive=True)  # two seniors
    request_id = int(ref[3:])
    for senior in ("U0SENIOR1", "U0SENIOR2"):
        await broken(
            h,
            "INSERT INTO decisions (request_id, reviewer, decision, at) VALUES (?, ?, 'approve', ?)",
            request_id,
            senior,
            "2026-12-01T00:00:00.000000Z",
        )
    with caplog.at_level(logging.ERROR):
        await h.tick()
        await h.tick()
    req = await h.get(ref)
    assert (req.status, req.approvals) == (Status.APPROVED, 2)
    assert await h.audit_actions("repaired") == 1
    assert [m.text for m in h.slack.dms("U0JUNIOR1") if "was approved" in m.text]
    assert await repairs(h) == {"approvals_met": 1.0}
    assert [r.getMessage() for r in caplog.records if "repaired" in r.getMessage()] == [
        f"consistency check repaired request {request_id} (approvals_met): a bug left it so"
    ]


async def test_a_pending_request_with_a_denial_is_denied(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    await broken(
        h,
        "INSERT INTO decisions (request_id, reviewer, decision, reason, at) VALUES (?, 'U0SENIOR1', 'deny', 'No', ?)",
        int(ref[3:]),
        "2026-12-01T00:00:00.000000Z",
    )
    await h.tick()
    req = await h.get(ref)
    assert (req.status, req.decided_by, req.reason) == (Status.DENIED, "U0SENIOR1", "No")
    assert await repairs(h) == {"denial_unapplied": 1.0}


async def test_a_request_nobody_is_asked_to_review_is_routed_again(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    await broken(h, "UPDATE assignments SET active = 0 WHERE request_id = ?", int(ref[3:]))
    await h.tick()
    await h.tick()
    req = await h.get(ref)
    assert req.status is Status.PENDING and req.reviewer is not None
    async with h.bot.store.read() as r:
        assert len(await r.assignments.active(req.id)) == 1
    assert await repairs(h) == {"seats_unfilled": 1.0}


async def test_an_outbox_row_held_by_a_gone_replica_is_released_once(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    request_id = int(ref[3:])
    later, long_ago = "2099-01-01T00:00:00.000000Z", "2020-01-01T00:00:00.000000Z"
    await broken(  # an earlier message waits out a backoff, so the held one cannot be taken either
        h,
        "INSERT INTO outbox (kind, request_id, recipient, next_attempt_at, created_at, failure)"
        " VALUES ('reminder_dm', ?, 'U0SENIOR1', ?, ?, 'slack_down')",
        request_id,
        later,
        long_ago,
    )
    await broken(
        h,
        "INSERT INTO outbox (kind, request_id, recipient, next_attempt_at, created_at, claimed_by, claim_expires_at)"
        " VALUES ('reminder_dm', ?, 'U0SENIOR1', ?, ?, 'gone-host:1:w', ?)",
        request_id,
        long_ago,
        long_ago,
        long_ago,
    )
    h.clock.advance(timedelta(seconds=PROBE_EVERY_SECONDS))  # the worker tries the oldest waiting row again
    await h.tick()
    await h.tick()
    assert await repairs(h) == {"stale_claim": 1.0}
    rows = await h.fetchall("SELECT status, claimed_by FROM outbox WHERE created_at = ?", (long_ago,))
    assert [tuple(r) for r in rows] == [("sent", None), ("sent", None)]  # released, both went out


async def test_a_healthy_database_needs_no_repair(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1", destructive=True)
    await h.ask("U0JUNIOR2")
    for senior in ("U0SENIOR1", "U0SENIOR2", "U0STAFF1"):
        await h.driver.command(senior, "away")
    await h.ask("U0JUNIOR1")  # nobody to ask: posted for a senior to claim
    req = await h.get(ref)
    assert req.status is Status.PENDING
    await h.tick()
    assert await repairs(h) == {}
    assert await h.audit_actions("repaired") == 0
