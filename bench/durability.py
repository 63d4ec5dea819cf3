"""What `synchronous = FULL` costs on the create path: the real create_request service on a real
SQLite file, FULL against NORMAL, one transaction after another (as the writer serialises them).

    python bench/durability.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import MovableClock
from bot.domain.models import Draft, Engineer, Level, Roster
from bot.services import policy_state
from bot.services.create_request import Submission, create_request
from bot.services.deps import Deps
from bot.store.sqlite import SqliteStore

ROSTER = Roster(
    admins=frozenset(),
    engineers={
        "U0JUNIOR1": Engineer("U0JUNIOR1", Level.JUNIOR, "payments"),
        "U0SENIOR1": Engineer("U0SENIOR1", Level.SENIOR, "payments"),
        "U0SENIOR2": Engineer("U0SENIOR2", Level.SENIOR, "platform"),
    },
)


async def creates_per_second(mode: str, count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        db = SqliteStore(str(Path(tmp) / "signoff.db"))
        await db.open()
        for conn in (db._writer, db._reader):  # the bench sets what the store fixes, to compare
            assert conn is not None
            conn.execute(f"PRAGMA synchronous = {mode}")
        clock = MovableClock(datetime.now(UTC))
        await policy_state.initialise(db, clock.now() - timedelta(days=1), 90, clock.now())
        deps = Deps(store=db, roster=lambda: ROSTER, clock=clock, summary_channel="C0SIGNOFF")
        draft = Draft(title="Bump timeout", url="https://x.example/pr/1", ai_assisted=True)
        started = time.perf_counter()
        for _ in range(count):
            await create_request(deps, Submission(requester="U0JUNIOR1", draft=draft))
        elapsed = time.perf_counter() - started
        await db.close()
        return count / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    rows = [(mode, await creates_per_second(mode, args.requests)) for mode in ("NORMAL", "FULL", "NORMAL", "FULL")]
    print(f"| synchronous | creates/s ({args.requests} sequential, real SQLite file) |")
    print("|-------------|------------------|")
    for mode, rate in rows:
        print(f"| {mode:<11} | {rate:>16.0f} |")


if __name__ == "__main__":
    asyncio.run(main())
