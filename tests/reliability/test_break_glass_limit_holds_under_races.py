"""BREAK_GLASS_LIMIT holds when one person breaks glass many times at once: on SQLite, on
PostgreSQL (where READ COMMITTED lets two transactions each count the uses before the other's
insert, unless the count waits for a per-person lock), and across two replicas on one
PostgreSQL database. Exactly the limit is approved; every other attempt is refused and audited."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.deployments import SHAPES, deployed

ATTEMPTS = 10
LIMIT = 3
ROUNDS = 3  # each round one person, fresh, so every round races from zero


@pytest.mark.parametrize("shape", SHAPES)
async def test_concurrent_break_glasses_by_one_person_stop_at_the_limit(shape: str, tmp_path: Path) -> None:
    async with deployed(shape, tmp_path, BREAK_GLASS_LIMIT=LIMIT) as d:
        for person in ("U0JUNIOR1", "U0JUNIOR2", "U0JUNIOR3")[:ROUNDS]:
            body = {
                "requester": person,
                "title": "Roll back the checkout release",
                "url": "https://github.com/acme/shop/pull/9",
                "ai_assisted": True,
                "destructive": False,
                "break_glass": "Checkout is down for every customer",
            }
            answers = await asyncio.gather(
                *(d.api("POST", "/api/v1/requests", body, replica=i) for i in range(ATTEMPTS))
            )
            statuses = sorted(status for status, _ in answers)
            assert statuses == [201] * LIMIT + [403] * (ATTEMPTS - LIMIT), [a for _, a in answers]
            refused = [a for status, a in answers if status == 403]
            assert all(a["code"] == "break_glass_limit" for a in refused), refused
            rows = await d.count(
                "SELECT COUNT(*) FROM requests WHERE requester = ? AND break_glass_reason IS NOT NULL", person
            )
            assert rows == LIMIT
