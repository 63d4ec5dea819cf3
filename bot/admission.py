"""Busy, not late: admission control by measured queueing delay.

Slack gives up on an answer after 3 seconds. At any offered load signoff answers every request
in time: what it cannot do in time gets a prompt answer that does nothing and stores nothing
(an ephemeral "busy" for a command or a click, a field error on a form, ``503`` with
``Retry-After`` on the API), and the same request works when it is sent again later.

Queueing delay is measured where work waits: the event loop's lag (how late a 100 ms timer
fires: how long ready work waits for the loop), and how long each transaction waited for the
database (the SQLite write lock, a PostgreSQL connection; see ``Store.on_wait``).

* At the door: when the *smallest* delay seen over the last ``INTERVAL`` is above ``TARGET``, a
  queue is standing, not passing (a burst that drains within the interval leaves a small sample
  behind); new work is then answered busy at once, before anything is parsed further or stored.
  (CoDel's rule for telling a standing queue from a burst.)
* Behind now: when the lag sampler's own timer is overdue by more than ``BEHIND``, the loop is
  working through a backlog of ready work longer than that (under overload one turn of the loop
  can take seconds, and then it also takes only one sample): new work is answered busy, which
  costs far less than doing it and drains the backlog. Unless it is ``FAR_BEHIND``, the sample
  before must have been late too, so that one burst the loop clears in time (a hundred pipelines
  asking at once) is served.
* Inside: every admitted request carries a deadline (``bot.deadlines``): its wait for the
  database ends before ``BUDGET``, and then it is answered busy, having stored nothing.

Health, readiness and metrics are never shed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib

from bot.metrics import Metrics

BUDGET = 2.5  # seconds from arrival to answer, below Slack's 3
TARGET = 0.15  # a standing queue longer than this sheds new work
BEHIND = 0.25  # a loop this late now, and late at its previous sample, sheds new work
FAR_BEHIND = 0.6  # a loop this late now sheds new work whatever came before
INTERVAL = 0.5  # seconds over which the smallest delay is taken
SAMPLE_SECONDS = 0.1  # the loop-lag sampling period
BUCKETS = 10  # slices of the interval, each keeping its smallest delay
MAX_WINDOW = 10.0  # signoff_event_loop_lag_max_seconds is the worst lag of this many seconds


class Admission:
    def __init__(self, metrics: Metrics, target: float = TARGET, interval: float = INTERVAL) -> None:
        self._metrics = metrics
        self._target = target
        self._interval = interval
        self._samples: collections.deque[tuple[int, float]] = collections.deque()  # (slice, smallest delay)
        self._recent: collections.deque[tuple[float, float]] = collections.deque()  # (when, loop lag)
        self._task: asyncio.Task[None] | None = None
        self._due: float | None = None  # when the lag sampler's timer should fire next
        self._last_lag = 0.0  # how late the sampler's previous timer fired
        self.shed = 0

    def delayed(self, seconds: float) -> None:
        """A piece of work waited ``seconds`` in a queue. Kept as the smallest wait of each
        ``interval / BUCKETS`` slice, so a decision reads a handful of numbers, however busy."""
        now = asyncio.get_running_loop().time()
        slot = int(now * BUCKETS / self._interval)
        if self._samples and self._samples[-1][0] == slot:
            if seconds < self._samples[-1][1]:
                self._samples[-1] = (slot, seconds)
        else:
            self._samples.append((slot, seconds))
        self._forget(now)

    def _forget(self, now: float) -> None:
        oldest = int(now * BUCKETS / self._interval) - BUCKETS
        while self._samples and self._samples[0][0] < oldest:
            self._samples.popleft()

    def busy(self) -> bool:
        """True when a queue has stood above the target for the whole interval: shed new work."""
        now = asyncio.get_running_loop().time()
        if self._due is not None:
            behind = now - self._due
            if behind > BEHIND and (self._last_lag > self._target or behind > FAR_BEHIND):
                return True  # behind now, and late before (not one burst), or too far behind to wait
        self._forget(now)
        if len(self._samples) < BUCKETS // 2:
            return False  # too little seen to tell a standing queue from a burst
        return min(delay for _, delay in self._samples) > self._target

    def refuse(self, kind: str) -> None:
        self.shed += 1
        self._metrics.shed.labels(kind=kind).inc()

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            self._due = before + SAMPLE_SECONDS
            await asyncio.sleep(SAMPLE_SECONDS)
            lag = max(0.0, loop.time() - before - SAMPLE_SECONDS)
            self._last_lag = lag
            self._metrics.loop_lag.observe(lag)
            self._recent.append((loop.time(), lag))
            while self._recent and self._recent[0][0] < loop.time() - MAX_WINDOW:
                self._recent.popleft()
            self._metrics.loop_lag_max.set(max(seen for _, seen in self._recent))
            self.delayed(lag)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._sample(), name="loop lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self._due = None
