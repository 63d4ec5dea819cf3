"""Delivers outbox rows to Slack: in order, retried with capped backoff, never twice.

* 429: retried after the Retry-After the server gave.
* 5xx, Slack's transient errors, connection errors and timeouts: exponential backoff, capped.
* Anything else (channel_not_found, user_not_found, invalid_auth, invalid_blocks, ...):
  one attempt, the row is marked failed, one error is logged.

What a row says is rendered by bot/slack/renderers.py from the stored state at delivery
time, so a DM that goes out late already shows the current state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp

from bot.clock import Clock
from bot.domain.errors import Busy, StorageFailure, Unavailable
from bot.domain.numbers import ascii_int
from bot.domain.outbox import CHANNEL_KINDS, Failure, Kind, OutboxRow, Outcome
from bot.domain.words import count
from bot.slack.acks_first import AckPriority
from bot.slack.blocks import Message
from bot.slack.renderers import SlackCalls, Undeliverable
from bot.slack.web_api import SlackWebApi, WebApiError
from bot.store.unit_of_work import Store

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
IDLE_POLL_SECONDS = 5.0
BATCH = 64
CONCURRENCY = 16  # requests delivered at once
CLAIM_LEASE = timedelta(seconds=30)  # renewed while delivering; a crashed process's claims are retried after it
RENEW_EVERY_SECONDS = 5.0
PROBE_EVERY_SECONDS = 5.0  # while Slack fails, the oldest waiting row is tried this often
STOP_DRAIN_SECONDS = 10.0  # a stopping process finishes the batch it is delivering, for at most this long
RATE_LIMIT_DEFAULT_SECONDS = 30.0  # a 429 without Retry-After
HISTORY_LOOKBACK = 200  # messages searched for an earlier, unanswered post
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "timeout"}
)


class Retry(Exception):
    """Try again after ``delay`` seconds. A 429 (``Failure.RATE_LIMITED``) does not count as a failure."""

    def __init__(self, delay: float, error: str, failure: Failure) -> None:
        super().__init__(error)
        self.delay = delay
        self.error = error
        self.failure = failure
        self.counts = failure is not Failure.RATE_LIMITED


def backoff(attempts: int) -> float:
    """Delay before attempt ``attempts + 1``: 2, 4, 8, ... seconds, capped at 5 minutes."""
    return float(min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(attempts, 16)))


class Sender:
    """Slack calls on behalf of one outbox row, classified into Retry or Undeliverable."""

    def __init__(self, worker: OutboxWorker, row: OutboxRow) -> None:
        self._worker = worker
        self._row = row
        self.remembered: list[tuple[str, str, str]] = []  # stored with the row's outcome

    async def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        row = self._row
        try:
            return await self._worker.client.call(method, kwargs)
        except WebApiError as exc:
            status, error = exc.status, exc.error
            if status == 429 or error == "ratelimited":
                seconds = ascii_int(str(exc.retry_after or ""), max_digits=5)
                delay = float(seconds) if seconds is not None else RATE_LIMIT_DEFAULT_SECONDS
                raise Retry(delay, f"{method}: rate limited", Failure.RATE_LIMITED) from None
            if status >= 500 or error in TRANSIENT_ERRORS:
                raise Retry(backoff(row.attempts), f"{method}: {error}", Failure.SLACK_DOWN) from None
            raise Undeliverable(f"{method}: {error}", error) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # The call may have reached Slack; the next attempt checks before posting again.
            error = f"{method}: {type(exc).__name__}: {exc}"
            raise Retry(backoff(row.attempts), error, Failure.AMBIGUOUS) from None

    async def _already_posted(self, channel: str) -> tuple[str, str] | None:
        """Find the message an earlier, unanswered attempt posted, by the outbox id in its metadata."""
        try:
            if channel.startswith(("U", "W")):
                opened = await self.call("conversations.open", users=channel)
                channel = str(dict(opened.get("channel") or {}).get("id", channel))
            history = await self.call(
                "conversations.history", channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
            )
        except Undeliverable as exc:  # e.g. missing_scope: we cannot check, so deliver at least once
            log.warning("outbox %s: cannot check for an earlier delivery (%s); posting", self._row.id, exc)
            return None
        for message in history.get("messages") or []:
            payload = dict(dict(message.get("metadata") or {}).get("event_payload") or {})
            if payload.get("outbox_id") == self._row.id:
                return channel, str(message["ts"])
        return None

    async def post(
        self, channel: str, message: Message, key: str | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
        """chat.postMessage, exactly once; ``key`` remembers where it landed, for later updates.

        ``metadata`` is Slack message metadata other apps can read (``event_type`` and
        ``event_payload``); the outbox id always rides in the payload, to find an earlier post."""
        row = self._row
        text, body = message
        if row.maybe_delivered:
            found = await self._already_posted(channel)
            if found is not None:
                log.info("outbox %s was already delivered; not posting twice", row.id)
                if key is not None:
                    await self._remember(key, *found)
                return
        data = await self.call(
            "chat.postMessage",
            channel=channel,
            text=text,
            blocks=body,
            unfurl_links=False,
            metadata={
                "event_type": (metadata or {}).get("event_type", "signoff_outbox"),
                "event_payload": {**(metadata or {}).get("event_payload", {}), "outbox_id": row.id},
            },
        )
        if key is not None and data.get("channel") and data.get("ts"):
            await self._remember(key, str(data["channel"]), str(data["ts"]))

    async def _remember(self, key: str, channel: str, ts: str) -> None:
        """Where a keyed post landed: stored with the row's outcome (one transaction per batch,
        not one per post), and seen at once by the batch's later rows through ``posted``. Lost
        with a crash before that, it is found again the way an unanswered post is."""
        self.remembered.append((key, channel, ts))
        self._worker.posted_in_batch[key] = (channel, ts)

    async def respond(self, response_url: str, message: Message) -> None:
        """An ephemeral answer in the conversation a command came from (its ``response_url``)."""
        text, body = message
        payload = {"response_type": "ephemeral", "replace_original": False, "text": text, "blocks": body}
        await self._outside_api("response_url", self._worker.client.respond(response_url, payload))

    async def upload(self, url: str, data: bytes) -> None:
        await self._outside_api("file upload", self._worker.client.upload(url, data))

    async def _outside_api(self, what: str, call: Awaitable[None]) -> None:
        """A request to a URL Slack gave (not a Web API method): a 5xx or no answer is retried,
        any other refusal is final."""
        try:
            await call
        except WebApiError as exc:
            if exc.status >= 500:
                raise Retry(backoff(self._row.attempts), f"{what}: {exc.error}", Failure.SLACK_DOWN) from None
            raise Undeliverable(f"{what}: {exc.error}") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"{what}: {type(exc).__name__}: {exc}"
            raise Retry(backoff(self._row.attempts), error, Failure.AMBIGUOUS) from None

    async def update(self, channel: str, ts: str, message: Message) -> None:
        text, body = message
        await self.call("chat.update", channel=channel, ts=ts, text=text, blocks=body)


def process_alive(owner: str) -> bool:
    """Whether the process named ``host:pid:worker`` may still be delivering. Unknown: assume alive."""
    host, _, rest = owner.partition(":")
    pid = ascii_int(rest.partition(":")[0], max_digits=10)
    if host != socket.gethostname() or pid is None:
        return True
    if pid == os.getpid():
        return True  # another worker of this process (tests run several); its lease decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Renderer(Protocol):
    async def read_batch(self, rows: Sequence[OutboxRow], posted: dict[str, tuple[str, str]]) -> None: ...

    def forget_batch(self) -> None: ...

    async def deliver(self, row: OutboxRow, slack: SlackCalls) -> None: ...


def _order_key(row: OutboxRow) -> object:
    """Rows with one key go out one after the other, in order: a channel's posts, else a request's
    messages; anything else on its own."""
    if row.kind in CHANNEL_KINDS and row.recipient:
        return ("channel", row.recipient)
    return row.request_id if row.request_id is not None else ("row", row.id)


# A later row of these kinds for the same recipient shows everything an earlier one would: the
# earlier ones in a batch go out with it (App Home is republished once per person per batch).
COALESCED = frozenset({Kind.HOME_REFRESH})


def _coalesced(batch: list[OutboxRow]) -> tuple[list[OutboxRow], list[Outcome]]:
    """The rows to deliver, and the outcomes of those the batch's newest row of their kind and
    recipient covers (sent with it: it renders what is stored when it goes out)."""
    newest: dict[tuple[str, str | None], int] = {}
    for row in batch:
        if row.kind in COALESCED:
            key = (row.kind, row.recipient)
            newest[key] = max(newest.get(key, row.id), row.id)
    keep = [row for row in batch if row.kind not in COALESCED or newest[(row.kind, row.recipient)] == row.id]
    kept = {row.id for row in keep}
    return keep, [Outcome(row.id, "sent") for row in batch if row.id not in kept]


class OutboxWorker:
    def __init__(
        self, store: Store, client: SlackWebApi, clock: Clock, renderer: Renderer, priority: AckPriority
    ) -> None:
        self.store = store
        self.client = client
        self._clock = clock
        self.renderer = renderer
        self.priority = priority  # shared with the Slack handlers: acks go first
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._probed_at: datetime | None = None
        self._slack_failing = False  # said once per outage, and once when it ends
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.posted_in_batch: dict[str, tuple[str, str]] = {}  # keyed posts of the batch, not yet stored

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        # Only claims of processes that are gone are released: a live process's claims are
        # never taken. Claims from another host are left to run out their short lease.
        async with self.store.read() as r:
            owners = await r.outbox.claim_owners(self._clock.now())
        for owner in owners:
            if owner != self.owner and not process_alive(owner):
                async with self.store.write(durable=False) as tx:
                    released = await tx.outbox.release_claims_of(self._clock.now(), owner)
                log.info(
                    "outbox: %s of a stopped process will be checked and retried", count(released, "delivery attempt")
                )
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self, drain_seconds: float = STOP_DRAIN_SECONDS) -> None:
        """Finish the batch being delivered (up to ``drain_seconds``), then stop."""
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._task), timeout=drain_seconds)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            # What this process was delivering when stopped is due again at once, for whoever runs next.
            with contextlib.suppress(Exception):
                async with self.store.write(durable=False) as tx:
                    await tx.outbox.release_claims_of(self._clock.now(), self.owner)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.drain()
            except Unavailable as err:  # the database is busy or away for a moment: the rows wait
                log.warning("the outbox waits: %s", err.message)
            except Exception:  # keep delivering; the row stays pending
                log.exception("outbox drain failed")
            delay = IDLE_POLL_SECONDS
            try:
                async with self.store.read() as r:
                    nxt = await r.outbox.next_due_at()
            except Exception:
                nxt = None
            if nxt is not None:
                delay = min(delay, max(0.05, (nxt - self._clock.now()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()

    async def drain(self) -> int:
        """Deliver every row that is due now; returns how many were attempted.

        Rows are claimed in batches. Rows of one request go out in order, one after the
        other, and so do a channel's posts (``CHANNEL_KINDS``); the rest go out concurrently."""
        attempted = 0
        limit = asyncio.Semaphore(CONCURRENCY)

        async def run(group: list[OutboxRow]) -> list[Outcome]:
            async with limit:
                done: list[Outcome] = []
                for row in group:
                    if done and done[-1].status in ("retry", "untried"):
                        # A later message of a request waits for the earlier one (claim_due keeps it back).
                        done.append(Outcome(row.id, "untried", None, row.last_error, False, row.failure))
                        continue
                    await self.priority.quiet()  # acks first
                    done.append(await self._attempt(row))
                return done

        async with self._lock:
            await self._probe()
            while not self._stopping:
                async with self.store.write(durable=False) as tx:
                    batch = await tx.outbox.claim_due(self._clock.now(), CLAIM_LEASE, BATCH, self.owner)
                if not batch:
                    return attempted
                attempted += len(batch)
                claimed = [row.id for row in batch]  # every claim is kept until recorded, covered ones too
                batch, covered = _coalesced(batch)
                groups: dict[object, list[OutboxRow]] = {}
                for row in batch:
                    groups.setdefault(_order_key(row), []).append(row)
                keeper = asyncio.create_task(self._keep_claims(claimed))
                try:
                    await self._read_batch(batch)
                    results = await asyncio.gather(*(run(g) for g in groups.values()))
                finally:
                    keeper.cancel()
                    self.renderer.forget_batch()
                outcomes = [o for group in results for o in group] + covered
                try:
                    async with self.store.write(durable=False) as tx:
                        await tx.messages.save_many([p for o in outcomes for p in o.remembered])
                        await tx.outbox.record(self._clock.now(), outcomes, self.owner)
                finally:
                    self.posted_in_batch.clear()
        return attempted

    async def _read_batch(self, batch: Sequence[OutboxRow]) -> None:
        """The batch's requests, reviewers, approvals and message keys, read once for all its rows;
        a database that fails here leaves each row to read its own (and retry as it would)."""
        try:
            await self.renderer.read_batch(batch, self.posted_in_batch)
        except (StorageFailure, Busy, Unavailable) as exc:
            log.warning("outbox: the batch's reads failed (%s); each message reads its own", exc)

    async def _keep_claims(self, row_ids: list[int]) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY_SECONDS)
            try:
                async with self.store.write(durable=False) as tx:
                    await tx.outbox.renew_claims(row_ids, self._clock.now() + CLAIM_LEASE, self.owner)
            except Exception as exc:  # the lease may run out; the next claimer checks before posting
                log.warning("outbox: could not renew delivery claims: %s", exc)

    async def _probe(self) -> None:
        now = self._clock.now()
        if self._probed_at is not None and (now - self._probed_at).total_seconds() < PROBE_EVERY_SECONDS:
            return
        self._probed_at = now
        async with self.store.write(durable=False) as tx:
            await tx.outbox.probe_slack(now)

    async def _attempt(self, row: OutboxRow) -> Outcome:
        sender = Sender(self, row)
        outcome = await self._outcome(row, sender)
        return replace(outcome, remembered=tuple(sender.remembered))

    async def _outcome(self, row: OutboxRow, sender: Sender) -> Outcome:
        try:
            await self.renderer.deliver(row, sender)
        except Retry as exc:
            when = self._clock.now() + timedelta(seconds=exc.delay)
            self._tell_retry(row, exc)
            return Outcome(row.id, "retry", when, exc.error, exc.counts, exc.failure)
        except Undeliverable as exc:
            log.error("outbox %s (%s) failed permanently: %s", row.id, row.kind, exc)
            return Outcome(row.id, "failed", error=str(exc))
        except (StorageFailure, Busy) as exc:  # the database blinked while rendering: not a bug
            when = self._clock.now() + timedelta(seconds=backoff(row.attempts))
            log.warning("outbox %s (%s) will retry: %s", row.id, row.kind, exc)
            return Outcome(row.id, "retry", when, str(exc))
        except Exception as exc:  # a bug in rendering must not stall the outbox; retry later
            log.exception("outbox %s (%s) crashed while rendering", row.id, row.kind)
            when = self._clock.now() + timedelta(seconds=backoff(row.attempts))
            return Outcome(row.id, "retry", when, repr(exc), failure=Failure.CRASHED)
        if self._slack_failing:
            self._slack_failing = False
            log.info("Slack answers again; the messages that waited are being delivered")
        return Outcome(row.id, "sent")

    def _tell_retry(self, row: OutboxRow, exc: Retry) -> None:
        """What the log says about a try that did not work: what will really happen next. While
        Slack fails, every waiting message is held until it answers and the oldest is tried every
        PROBE_EVERY_SECONDS: said once per outage, not per message and try."""
        if exc.failure is Failure.RATE_LIMITED:
            log.warning("outbox %s (%s) rate limited: waiting %.0f s as Slack asked", row.id, row.kind, exc.delay)
        elif exc.failure in (Failure.SLACK_DOWN, Failure.AMBIGUOUS):
            if not self._slack_failing:
                self._slack_failing = True
                log.warning(
                    "Slack is not answering (%s); messages wait, and one is tried every %.0f s until Slack answers",
                    exc.error,
                    PROBE_EVERY_SECONDS,
                )
            else:
                log.debug("outbox %s (%s) still waiting for Slack: %s", row.id, row.kind, exc.error)
        else:
            log.warning("outbox %s (%s) will be tried again in %.0f s: %s", row.id, row.kind, exc.delay, exc.error)
