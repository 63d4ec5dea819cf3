"""A senior who goes away is never left holding a new review: a request created at the same
moment as `/signoff away` either routes before the away (and its review moves with the rest) or
after it (and goes to someone else). On SQLite, PostgreSQL and two replicas; fixed rounds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.deployments import SHAPES, deployed

ROUNDS = 25
SENIORS_ROSTER = "admins: [U0ADMIN1]\nengineers:\n" + "".join(
    f"  - {{user: {u}, level: {lvl}, team: payments}}\n"
    for u, lvl in [("U0JUNIOR1", "junior"), ("U0SENIOR1", "senior"), ("U0SENIOR2", "senior"), ("U0SENIOR3", "senior")]
)


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_create_racing_an_away_never_assigns_the_away_senior(shape: str, tmp_path: Path) -> None:
    users = ["U0JUNIOR1", "U0SENIOR1", "U0SENIOR2", "U0SENIOR3", "U0ADMIN1"]
    async with deployed(shape, tmp_path, roster=SENIORS_ROSTER, users=users) as d:
        for n in range(ROUNDS):
            senior = f"U0SENIOR{n % 3 + 1}"
            creates = [d.create("U0JUNIOR1", replica=i) for i in range(3)]
            away = d.driver(n).command(senior, "away")
            *_, reply = await asyncio.gather(*creates, away)
            assert reply.status == 200
            held = await d.rows(
                "SELECT a.request_id FROM assignments a JOIN requests r ON r.id = a.request_id"
                " WHERE a.active = 1 AND r.status = 'pending' AND a.reviewer = ?",
                senior,
            )
            assert held == [], f"round {n}: {senior} went away but holds {held}"
            assert (await d.driver(n + 1).command(senior, "back")).status == 200
