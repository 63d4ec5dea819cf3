"""Fill a signoff database quickly, straight through SQL, for the at-scale benchmarks."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.databases import after_seeding, connect
from bench.procs import JUNIORS, SENIORS
from bot.domain.audit import GENESIS, canonical, chain_hash
from bot.domain.timestamps import utc_text as to_db


def seed_requests(url: str, n: int, pending_share: float = 0.1, seed: int = 1) -> None:
    with connect(url) as conn:
        _seed_requests(conn, n, pending_share, seed)
    after_seeding(url)


def _seed_requests(conn: Any, n: int, pending_share: float, seed: int) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    requests, assignments = [], []
    start = conn.execute("SELECT COALESCE(MAX(id), 0) FROM requests").fetchone()[0]
    for i in range(start + 1, start + n + 1):
        pending = rng.random() < pending_share
        # Pending ones are recent, as in steady state; old ones would all be escalated at start.
        age = rng.randint(1, 60) if pending else rng.randint(1, 60 * 24 * 80)
        created = to_db(now - timedelta(minutes=age))
        status = "pending" if pending else rng.choice(["approved", "approved", "approved", "denied", "not_required"])
        reviewer = rng.choice(SENIORS) if status != "not_required" else None
        decided = None if pending or status == "not_required" else created
        requests.append(
            (
                i,
                rng.choice(JUNIORS),
                f"Seeded change {i}",
                f"https://git.example.com/pr/{i}",
                "seeded",
                "payments",
                "production",
                1,
                "Copilot",
                "[]",
                "",
                "api",
                "bench",
                status,
                int(status != "not_required"),
                "seeded",
                reviewer if decided else None,
                decided,
                "seeded reason" if status == "denied" else None,
                created,
                created,
            )
        )
        if reviewer:
            assignments.append((i, reviewer, created, "routed", int(pending)))
    conn.executemany(
        "INSERT INTO requests (id, requester, title, url, description, service, environment, ai_assisted, ai_tool,"
        " authors, commit_sha, source, pipeline, status, sign_off_required, policy_reason,"
        " decided_by, decided_at, reason, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        requests,
    )
    conn.executemany(
        "INSERT INTO assignments (request_id, reviewer, assigned_at, how, active) VALUES (?, ?, ?, ?, ?)", assignments
    )
    conn.commit()


def seed_audit(url: str, n: int) -> None:
    """n audit rows that extend the chain correctly (the append-only trigger checks)."""
    with connect(url) as conn:
        _seed_audit(conn, n)


def _seed_audit(conn: Any, n: int, copy: bool = False) -> None:
    last = conn.execute("SELECT seq, hash FROM audit WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    at = to_db(datetime.now(UTC))
    batch = []
    details = json.dumps({"seeded": True}, separators=(",", ":"))
    for _ in range(n):
        seq += 1
        digest = chain_hash(prev, canonical(seq, at, "U0SEED", "seeded", seq % 1000 + 1, None, details))
        batch.append((seq, at, "U0SEED", "seeded", seq % 1000 + 1, None, details, prev, digest))
        prev = digest
        if len(batch) == 50_000:
            _audit_rows(conn, batch, copy)
            batch = []
    _audit_rows(conn, batch, copy)
    conn.commit()


_AUDIT_COLUMNS = "seq, at, actor, action, request_id, reason, details, prev_hash, hash"  # sealed rows


def _audit_rows(conn: Any, rows: list[tuple[Any, ...]], copy: bool) -> None:
    if not rows:
        return
    if not copy:
        conn.executemany(f"INSERT INTO audit ({_AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY audit ({_AUDIT_COLUMNS}) FROM STDIN") as out,
    ):  # the chain trigger checks each row
        for row in rows:
            out.write_row(row)


def seed_year(url: str, requests: int, pending: int, audit_rows: int, deliveries: int, seed: int = 7) -> None:
    """A database as a year of use at the scale the loop budget is set for: ``requests`` made over
    the last 80 days (``pending`` of them waiting, made in the last hour), their assignments and
    decisions, ``audit_rows`` chained audit rows and ``deliveries`` Slack delivery keys older
    than an hour. PostgreSQL is filled with COPY, SQLite with executemany."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    finals = ["approved"] * 6 + ["denied", "not_required", "cancelled", "expired"]
    req_rows: list[tuple[Any, ...]] = []
    assign_rows: list[tuple[Any, ...]] = []
    decision_rows: list[tuple[Any, ...]] = []
    waiting = set(rng.sample(range(1, requests + 1), pending))
    for i in range(1, requests + 1):
        is_pending = i in waiting
        age = timedelta(minutes=rng.randint(1, 60)) if is_pending else timedelta(minutes=rng.randint(61, 60 * 24 * 80))
        created = now - age
        status = "pending" if is_pending else rng.choice(finals)
        required = status != "not_required"
        reviewer = rng.choice(SENIORS)
        waited = rng.randint(60, 86_400) if status in ("approved", "denied", "cancelled", "expired") else None
        decided_at = to_db(created + timedelta(seconds=waited)) if waited is not None else None
        decided_by = reviewer if status in ("approved", "denied") else None
        reason = rng.choice(["No tests", "Too risky", "Wrong window", "Needs a plan"]) if status == "denied" else None
        req_rows.append(
            (i, rng.choice(JUNIORS), f"Seeded change {i}", f"https://git.example.com/pr/{i}", "", "payments",
             "production", 1, "Copilot", "[]", "", "api", "bench", status, int(required),
             "an AI-assisted change by a junior engineer", 1, decided_by, decided_at, reason, to_db(created),
             decided_at or to_db(created), waited)
        )  # fmt: skip
        if required:
            assign_rows.append((i, reviewer, to_db(created), "routed", int(is_pending), 0))
        if decided_by is not None:
            decision_rows.append((i, reviewer, "approve" if status == "approved" else "deny", reason, decided_at))
    columns = {
        "requests": "id, requester, title, url, description, service, environment, ai_assisted, ai_tool, authors,"
        " commit_sha, source, pipeline, status, sign_off_required, policy_reason, approvals_needed, decided_by,"
        " decided_at, reason, created_at, updated_at, seconds_to_decision",
        "assignments": "request_id, reviewer, assigned_at, how, active, moved",
        "decisions": "request_id, reviewer, decision, reason, at",
        "deliveries": "key, seen_at",
    }
    old = to_db(now - timedelta(hours=3))
    tables = {
        "requests": req_rows,
        "assignments": assign_rows,
        "decisions": decision_rows,
        "deliveries": [(f"cmd:seeded-{k}", old) for k in range(deliveries)],
    }
    if url.startswith("sqlite:///"):
        with connect(url) as conn:
            for table, rows in tables.items():
                marks = ", ".join("?" * len(rows[0])) if rows else ""
                if rows:
                    conn.executemany(f"INSERT INTO {table} ({columns[table]}) VALUES ({marks})", rows)
            conn.commit()
            _seed_audit(conn, audit_rows)
        return
    import psycopg

    with psycopg.connect(url) as pg:
        for table, rows in tables.items():
            with pg.cursor() as cur, cur.copy(f"COPY {table} ({columns[table]}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        pg.commit()
    with connect(url) as conn:
        _seed_audit(conn, audit_rows, copy=True)
    after_seeding(url)
