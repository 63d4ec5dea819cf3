"""Works through the deployments GitHub holds, on every replica: claims the due ones with a
lease, opens their requests, tells GitHub how they stand while they wait, and answers each once
when its request ends. Woken by every commit that changes a request and by every webhook;
polls as a fallback. A second loop, the sweep, finds deployments whose webhook never came."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.deployments import Answer, HeldDeployment, progress_for
from bot.domain.errors import SignoffError
from bot.github.api import GitHubApp, GitHubRefused, GitHubUnavailable
from bot.services import deployment_gate
from bot.services.deployment_gate import CommitFacts, Unknown
from bot.services.deps import Deps
from bot.services.names import NameBook

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0
LEASE = timedelta(seconds=60)  # longer than every GitHub call a row makes, each bounded to 10 s
BATCH = 20
RECHECK = timedelta(minutes=1)  # a waiting request is looked at again at least this often
MAX_REPORTS = 5  # progress reports on one run while it waits
BACKOFF_CAP = timedelta(minutes=10)


class DeploymentWorker:
    def __init__(
        self, deps: Deps, github: GitHubApp, names: NameBook, owner: str, clock: Clock, sweep_every: timedelta
    ) -> None:
        self._deps = deps
        self._github = github
        self._names = names
        self._owner = owner
        self._clock = clock
        self._sweep_every = sweep_every
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(), name="github deployments"),
            asyncio.create_task(self._sweeping(), name="github sweep"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()
            try:
                while await self.run_once() == BATCH:
                    pass
            except SignoffError as err:
                log.warning("held deployments were not worked on: %s; trying again shortly", err)
            except Exception:
                log.exception("held deployments were not worked on; trying again shortly")

    async def _sweeping(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_every.total_seconds())
            try:
                await self.sweep()
            except GitHubUnavailable as err:
                log.warning("the GitHub sweep could not reach GitHub (%s); it runs again in %s", err, self._sweep_every)
            except Exception:
                log.exception("the GitHub sweep failed; it runs again at its next time")

    async def sweep(self) -> int:
        """Store the waiting deployments GitHub never told us of (a lost webhook); how many."""
        waiting = await self._github.waiting()
        async with self._deps.store.read() as r:
            known = await r.deployments.known([d.deployment_id for d in waiting])
        found = 0
        for deployment in waiting:
            if deployment.deployment_id not in known and await deployment_gate.receive(self._deps, deployment):
                found += 1
                log.info("found deployment %d of %s waiting with no webhook", deployment.deployment_id,
                         deployment.repository)  # fmt: skip
        if found:
            self.wake()
        return found

    async def run_once(self) -> int:
        """Work on the deployments due now; how many were claimed."""
        now = self._clock.now()
        async with self._deps.store.write() as tx:
            claimed = await tx.deployments.claim(self._owner, now, LEASE, BATCH)
        for held in claimed:
            await self._work(held)
        return len(claimed)

    async def _work(self, held: HeldDeployment) -> None:
        d = held.deployment
        try:
            request_id = held.request_id
            if request_id is None:
                try:
                    req = await deployment_gate.made_before(self._deps, d) or await deployment_gate.open_request(
                        self._deps, d, await self._facts(held)
                    )
                except Unknown as unknown:
                    await self._answer(held, Answer.REJECTED, str(unknown))
                    return
                async with self._deps.store.write() as tx:
                    await tx.deployments.link(d.deployment_id, req.id, self._owner)
                request_id = req.id
            req, answer = await deployment_gate.answer_of(self._deps, request_id, self._names)
            if answer is not None:
                await self._answer(held, *answer)
                return
            progress = progress_for(req)
            if progress != held.progress and held.reports < MAX_REPORTS:
                await self._github.report(d, progress)
                async with self._deps.store.write() as tx:
                    await tx.deployments.reported(d.deployment_id, progress, self._owner)
            await self._release(held, self._clock.now() + RECHECK)
        except GitHubUnavailable as err:
            delay = min(BACKOFF_CAP, timedelta(seconds=5 * 2 ** min(held.attempts, 10)))
            log.warning("GitHub did not take deployment %d's answer (%s); trying again in %s", d.deployment_id, err,
                        delay)  # fmt: skip
            await self._release(held, self._clock.now() + delay, failed=True)
        except GitHubRefused as err:
            log.warning("GitHub refused the answer for deployment %d for good: %s", d.deployment_id, err)
            await self._release(held, self._clock.now(), failure=str(err))

    async def _facts(self, held: HeldDeployment) -> CommitFacts | None:
        """The commits the deployment brings, or None when GitHub cannot tell us (then it counts as
        AI-assisted); a retried row asks GitHub again."""
        try:
            provenance = await self._github.provenance(held.deployment)
        except (GitHubUnavailable, GitHubRefused) as err:
            log.warning("could not read the commits of deployment %d (%s)", held.deployment.deployment_id, err)
            return None
        return CommitFacts(
            [(c.sha, c.message, c.people) for c in provenance.commits],
            [c.author_login for c in provenance.commits if c.author_login],
            provenance.more,
        )

    async def _answer(self, held: HeldDeployment, answer: Answer, comment: str) -> None:
        await self._github.answer(held.deployment, answer, comment)
        async with self._deps.store.write() as tx:
            if not await tx.deployments.answered(held.deployment.deployment_id, answer, self._owner, self._clock.now()):
                log.warning("deployment %d was answered, but its claim had passed to another replica",
                            held.deployment.deployment_id)  # fmt: skip

    async def _release(
        self, held: HeldDeployment, at_time: datetime, failed: bool = False, failure: str | None = None
    ) -> None:
        async with self._deps.store.write() as tx:
            await tx.deployments.release(held.deployment.deployment_id, self._owner, at_time, failed, failure)
