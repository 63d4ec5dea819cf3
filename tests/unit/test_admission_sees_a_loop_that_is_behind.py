"""Admission control answers busy while the event loop is behind: under overload one turn of the
loop can take seconds (and then the lag sampler takes a single sample), so the sampler's overdue
timer is itself the signal: far behind sheds at once, a little behind only after late turns
before it, and a stall that has passed sheds nothing."""

from __future__ import annotations

import asyncio
import time

from bot.admission import BEHIND, FAR_BEHIND, Admission
from bot.metrics import Metrics


async def test_a_loop_that_is_behind_is_busy_until_it_catches_up() -> None:
    admission = Admission(Metrics())
    admission.start()
    try:
        await asyncio.sleep(0.35)  # the sampler runs
        assert not admission.busy()
        time.sleep(FAR_BEHIND + 0.1)  # noqa: ASYNC251 - one long turn of the loop, on purpose: everything ready waits
        assert admission.busy()
        await asyncio.sleep(0.25)
        assert not admission.busy()  # the loop caught up; one slow sample is not a standing queue
        time.sleep(BEHIND + 0.1)  # noqa: ASYNC251 - one burst's long turn, after turns on time
        assert not admission.busy()
        await asyncio.sleep(0.25)  # the loop caught up; one slow sample is not a standing queue
        assert not admission.busy()
        time.sleep(0.35)  # noqa: ASYNC251 - turns late one after another: overload
        await asyncio.sleep(0.01)  # the sampler sees the late turn
        time.sleep(BEHIND + 0.2)  # noqa: ASYNC251
        assert admission.busy()
    finally:
        await admission.stop()


async def test_a_standing_queue_stays_busy_and_a_burst_does_not() -> None:
    admission = Admission(Metrics())
    for _ in range(40):
        admission.delayed(0.01)  # a burst that drained: some waits are short
        admission.delayed(0.9)
        await asyncio.sleep(0.02)
    assert not admission.busy()
    for _ in range(40):
        admission.delayed(0.5)  # every wait long, for the whole interval
        await asyncio.sleep(0.02)
    assert admission.busy()
