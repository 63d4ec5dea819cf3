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


def _seed_audit(conn: Any, n: int) -> None:
    last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
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
            conn.executemany("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
            batch = []
    conn.executemany("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
    conn.commit()
