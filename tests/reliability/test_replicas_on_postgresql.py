"""Three `signoff serve` replicas on one PostgreSQL database, under mixed load (API creates with
waiting pipelines, request forms, slash commands, Approve clicks), survive a kill -9
and a rolling restart: nothing acknowledged is lost, nothing is decided or sent twice, every
waiting pipeline gets its answer, and the audit chain verifies.

Clients spread requests over the replicas themselves, as a load balancer would, and move to
the next replica when one does not answer (an API create keeps its Idempotency-Key; a Slack
payload is sent again unchanged, as Slack's retry or a person's second click would be).
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from bot.sandbox.slack_standin import SlackStandIn
from bot.slack import ids
from tests.fakes.driver import SlackDriver, form_values
from tests.harness import CI_TOKEN
from tests.process import BotProcess

API_CREATES = 40
FORM_CREATES = 12
TOTAL = API_CREATES + FORM_CREATES


class Cluster:
    def __init__(self, tmp: Path, slack: SlackStandIn, url: str) -> None:
        self.slack = slack
        self.replicas = []
        for i in range(3):
            (tmp / f"r{i}").mkdir()
            self.replicas.append(BotProcess(tmp / f"r{i}", slack, DATABASE_URL=url))
        self.failovers = 0  # times a client moved on because a replica did not answer
        self._turn = itertools.count()

    def order(self) -> list[BotProcess]:
        """Every replica, starting from the next in turn (round robin)."""
        start = next(self._turn)
        return [self.replicas[(start + k) % 3] for k in range(3)]

    async def send(self, attempt: Any) -> Any:
        """Run ``attempt(replica)`` on the next replica that answers at all."""
        for _round in range(60):
            for replica in self.order():
                try:
                    return await attempt(replica)
                except (aiohttp.ClientConnectionError, TimeoutError):
                    self.failovers += 1
                    continue
            await asyncio.sleep(0.5)
        raise AssertionError("no replica answered for 30 s")


async def test_three_replicas_survive_a_kill_and_a_rolling_restart(
    tmp_path: Path, slack: SlackStandIn, postgres_url: str
) -> None:
    cluster = Cluster(tmp_path, slack, postgres_url)
    for replica in cluster.replicas:
        await replica.start()
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
    acked_api: dict[str, str] = {}  # idempotency key -> request id the API acknowledged
    acked_forms: list[str] = []  # titles of form submissions Slack saw acknowledged
    answers: dict[str, str] = {}  # request id -> final status a waiter received
    mid_load = asyncio.Event()

    async def api_create(i: int) -> None:
        key = f"build-{i}"
        body = {
            "requester": "U0JUNIOR1",
            "title": f"api change {i}",
            "url": f"https://x.example/{i}",
            "ai_assisted": True,
            "destructive": False,
        }

        async def attempt(replica: BotProcess) -> None:
            headers = {"Authorization": f"Bearer {CI_TOKEN}", "Idempotency-Key": key}
            async with session.post(f"{replica.url}/api/v1/requests", json=body, headers=headers) as resp:
                assert resp.status in (200, 201), await resp.text()
                acked_api[key] = (await resp.json())["id"]
                if len(acked_api) >= API_CREATES // 2 + 4:  # in the middle of phase 2's load
                    mid_load.set()

        await cluster.send(attempt)

    async def form_create(i: int) -> None:
        title = f"form change {i}"
        payload: dict[str, Any] | None = None

        async def attempt(replica: BotProcess) -> None:
            nonlocal payload
            driver = SlackDriver(replica.url, slack, session)
            again = payload is not None  # the replica asked first went away before it answered
            payload = payload or driver.view_payload("U0JUNIOR2", ids.REQUEST_FORM, form_values(title=title))
            reply = await driver.payload(payload)
            # Sent again after a failover, a submission the first replica stored before it died is
            # a repeat: acknowledged without doing it twice (the end checks it is stored).
            repeat = again and reply.status == 200 and reply.text == ""
            assert repeat or (reply.status == 200 and f"({title}) is waiting for" in reply.text), reply.text
            acked_forms.append(title)

        await cluster.send(attempt)

    async def wait_for(ref: str) -> None:
        async def attempt(replica: BotProcess) -> str:
            headers = {"Authorization": f"Bearer {CI_TOKEN}"}
            async with session.get(f"{replica.url}/api/v1/requests/{ref}?wait=20", headers=headers) as resp:
                assert resp.status == 200
                return str((await resp.json())["status"])

        while (status := await cluster.send(attempt)) == "pending":
            pass
        answers[ref] = status

    def reviewer_of(request_id: int) -> str:
        with psycopg.connect(postgres_url) as conn:
            row = conn.execute(
                "SELECT reviewer FROM assignments WHERE request_id = %s AND moved = 0"
                " ORDER BY assigned_at DESC LIMIT 1",
                (request_id,),
            ).fetchone()
            assert row is not None, request_id
            return str(row[0])

    commands_answered = 0

    async def command(ref: str) -> None:
        """`/signoff status CR-n`: a slash command, answered by whichever replica gets it."""

        async def attempt(replica: BotProcess) -> None:
            nonlocal commands_answered
            reply = await SlackDriver(replica.url, slack, session).command("U0JUNIOR1", f"status {ref}")
            assert reply.status == 200
            commands_answered += 1

        await cluster.send(attempt)

    async def approve(ref: str) -> None:
        reviewer = await asyncio.to_thread(reviewer_of, int(ref.removeprefix("CR-")))
        payload: dict[str, Any] | None = None

        async def attempt(replica: BotProcess) -> None:
            nonlocal payload
            driver = SlackDriver(replica.url, slack, session)
            payload = payload or driver.action_payload(reviewer, ids.APPROVE, ref.removeprefix("CR-"))
            assert (await driver.payload(payload)).status == 200

        await cluster.send(attempt)

    try:
        # Phase 1: creates from pipelines and from Slack, with a waiter for each API request.
        await asyncio.gather(
            *(api_create(i) for i in range(API_CREATES // 2)), *(form_create(i) for i in range(FORM_CREATES // 2))
        )
        first = set(acked_api.values())
        waiters = [asyncio.create_task(wait_for(ref)) for ref in first]
        # Phase 2: kill -9 one replica in the middle of more load and the first approvals.
        load = asyncio.gather(
            *(api_create(i) for i in range(API_CREATES // 2, API_CREATES)),
            *(form_create(i) for i in range(FORM_CREATES // 2, FORM_CREATES)),
            *(approve(ref) for ref in sorted(first)[:6]),
            *(command(ref) for ref in sorted(first)),
        )
        await mid_load.wait()
        cluster.replicas[0].kill()
        await load
        await cluster.replicas[0].start()
        waiters += [asyncio.create_task(wait_for(ref)) for ref in set(acked_api.values()) - first]
        # Phase 3: a rolling restart (SIGTERM, one at a time) while the rest is approved.
        refs = await asyncio.to_thread(_all_refs, postgres_url)
        assert len(refs) == TOTAL
        approvals = asyncio.gather(*(approve(ref) for ref in refs), *(command(ref) for ref in refs))
        for replica in cluster.replicas[1:]:
            assert replica.stop() == 0, replica.log.read_text()[-2000:]
            await replica.start()
        await approvals
        await asyncio.wait_for(asyncio.gather(*waiters), timeout=60)
        await slack.wait_for(lambda: _approved_dms(slack) == TOTAL, timeout=60)
    finally:
        await session.close()
        codes = [r.stop() for r in cluster.replicas if r.proc is not None]
    assert all(code == 0 for code in codes)
    assert cluster.failovers > 0  # the kill and the restarts did interrupt clients
    assert commands_answered == len(first) + TOTAL

    # Nothing acknowledged is lost.
    assert len(acked_api) == API_CREATES and len(set(acked_forms)) == FORM_CREATES
    with psycopg.connect(postgres_url) as conn:
        titles = {r[0] for r in conn.execute("SELECT title FROM requests")}
        assert set(acked_forms) <= titles and len(titles) == TOTAL
        # Nothing decided twice: one decision and one "decided" audit row per request.
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT request_id) FROM decisions").fetchone() == (TOTAL, TOTAL)
        assert conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'decided'").fetchone() == (TOTAL,)
        assert conn.execute("SELECT COUNT(*) FROM requests WHERE status = 'approved'").fetchone() == (TOTAL,)
    # Nothing sent twice: one review DM and one "approved" DM per request.
    review_dms = [m.text.split(" ", 1)[0] for r in ("U0SENIOR1", "U0SENIOR2", "U0STAFF1") for m in slack.dms(r)]
    review_dms = [ref for ref in review_dms if ref.startswith("CR-")]
    assert sorted(review_dms) == sorted(refs)  # ids may skip: a killed transaction still used its id
    assert _approved_dms(slack) == TOTAL
    # Every waiting pipeline got its answer.
    assert answers == {ref: "approved" for ref in set(acked_api.values())}
    verify = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "audit", "verify", "--database", postgres_url, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await verify.communicate()
    assert verify.returncode == 0 and out.decode().startswith("audit chain intact")


def _all_refs(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [f"CR-{r[0]}" for r in conn.execute("SELECT id FROM requests ORDER BY id")]


def _approved_dms(slack: SlackStandIn) -> int:
    return sum(1 for u in ("U0JUNIOR1", "U0JUNIOR2") for m in slack.dms(u) if "was approved" in m.text)
