"""Delivers outbox rows to Slack: in order, retried with capped backoff, never twice.

* 429: retried after the Retry-After the server gave.
* 5xx, Slack's transient errors, connection errors and timeouts: exponential backoff, capped.
* Anything else (channel_not_found, user_not_found, invalid_auth, invalid_blocks, ...):
  one attempt, the row is marked failed, one error is logged.

Messages are rendered from the stored state at delivery time, so a DM that goes out
late already shows the current state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.domain.models import ChangeRequest
from bot.services import notices
from bot.slack import blocks
from bot.store import outbox as rows
from bot.store import requests as store
from bot.store.db import Database
from bot.store.outbox import OutboxRow

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
IDLE_POLL_SECONDS = 5.0
HISTORY_LOOKBACK = 200  # messages searched for an earlier, unanswered post
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "timeout"}
)


class _Retry(Exception):
    def __init__(self, delay: float, error: str) -> None:
        super().__init__(error)
        self.delay = delay
        self.error = error


class _Permanent(Exception):
    pass


def backoff(attempts: int) -> float:
    """Delay before attempt ``attempts + 1``: 2, 4, 8, ... seconds, capped at 5 minutes."""
    return float(min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(attempts, 16)))


class OutboxWorker:
    def __init__(self, db: Database, client: AsyncWebClient, clock: Clock, tz: ZoneInfo, summary_channel: str) -> None:
        self._db = db
        self._client = client
        self._clock = clock
        self._tz = tz
        self._summary_channel = summary_channel
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.drain()
            except Exception:  # keep delivering; the row stays pending
                log.exception("outbox drain failed")
            delay = IDLE_POLL_SECONDS
            nxt = await rows.next_due_at(self._db)
            if nxt is not None:
                delay = min(delay, max(0.05, (nxt - self._clock.now()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()

    async def drain(self) -> int:
        """Deliver every row that is due now; returns how many were attempted."""
        attempted = 0
        async with self._lock:
            while True:
                batch = await rows.due(self._db, self._clock.now())
                if not batch:
                    return attempted
                for row in batch:
                    attempted += 1
                    await self._attempt(row)

    async def _attempt(self, row: OutboxRow) -> None:
        try:
            await self._deliver(row)
        except _Retry as exc:
            when = self._clock.now() + timedelta(seconds=exc.delay)
            log.warning("outbox %s (%s) will retry in %.0fs: %s", row.id, row.kind, exc.delay, exc.error)
            await rows.mark_retry(self._db, row.id, when, exc.error)
        except _Permanent as exc:
            log.error("outbox %s (%s) failed permanently: %s", row.id, row.kind, exc)
            await rows.mark_failed(self._db, row.id, str(exc))
        else:
            await rows.mark_sent(self._db, row.id, self._clock.now())

    async def _call(self, method: str, row: OutboxRow, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = await self._client.api_call(method, json=kwargs)
            return dict(resp.data) if isinstance(resp.data, dict) else {}
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
            if status == 429 or error == "ratelimited":
                retry_after = exc.response.headers.get("retry-after") or exc.response.headers.get("Retry-After")
                delay = float(retry_after) if retry_after and str(retry_after).isdigit() else backoff(row.attempts)
                raise _Retry(delay, f"{method}: rate limited") from None
            if status >= 500 or error in TRANSIENT_ERRORS:
                raise _Retry(backoff(row.attempts), f"{method}: {error or f'HTTP {status}'}") from None
            raise _Permanent(f"{method}: {error or f'HTTP {status}'}") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # The call may have reached Slack; the next attempt checks before posting again.
            raise _Retry(backoff(row.attempts), f"{rows.AMBIGUOUS}: {method}: {type(exc).__name__}: {exc}") from None

    async def _request(self, row: OutboxRow) -> ChangeRequest:
        req = await store.read(self._db, row.request_id) if row.request_id is not None else None
        if req is None:
            raise _Permanent(f"request {row.request_id} not found")
        return req

    async def _already_posted(self, row: OutboxRow, channel: str) -> tuple[str, str] | None:
        """Find the message an earlier, unanswered attempt posted, by the outbox id in its metadata."""
        try:
            if channel.startswith(("U", "W")):
                opened = await self._call("conversations.open", row, users=channel)
                channel = str(dict(opened.get("channel") or {}).get("id", channel))
            history = await self._call(
                "conversations.history", row, channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
            )
        except _Permanent as exc:  # e.g. missing_scope: we cannot check, so deliver at least once
            log.warning("outbox %s: cannot check for an earlier delivery (%s); posting", row.id, exc)
            return None
        for message in history.get("messages") or []:
            payload = dict(dict(message.get("metadata") or {}).get("event_payload") or {})
            if payload.get("outbox_id") == row.id:
                return channel, str(message["ts"])
        return None

    async def _post(self, row: OutboxRow, channel: str, message: blocks.Message, key: str | None) -> None:
        text, body = message
        if row.maybe_delivered:
            found = await self._already_posted(row, channel)
            if found is not None:
                log.info("outbox %s was already delivered; not posting twice", row.id)
                if key is not None:
                    await rows.save_message(self._db, key, *found)
                return
        await rows.mark_in_flight(self._db, row.id)
        data = await self._call(
            "chat.postMessage",
            row,
            channel=channel,
            text=text,
            blocks=body,
            unfurl_links=False,
            metadata={"event_type": "signoff_outbox", "event_payload": {"outbox_id": row.id}},
        )
        if key is not None and data.get("channel") and data.get("ts"):
            await rows.save_message(self._db, key, str(data["channel"]), str(data["ts"]))

    async def _deliver(self, row: OutboxRow) -> None:
        req = await self._request(row)
        if row.kind == notices.REVIEW_DM:
            assert row.recipient is not None
            may_decide = row.recipient in await store.all_active(self._db, req.id)
            message = blocks.review_message(req, row.recipient, may_decide, self._tz)
            await self._post(row, row.recipient, message, f"review:{req.id}:{row.recipient}")
        elif row.kind == notices.REVIEW_REFRESH:
            active = await store.all_active(self._db, req.id)
            for key, channel, ts in await rows.messages_with_prefix(self._db, f"review:{req.id}:"):
                viewer = key.rsplit(":", 1)[1]
                text, body = blocks.review_message(req, viewer, viewer in active, self._tz)
                await self._call("chat.update", row, channel=channel, ts=ts, text=text, blocks=body)
        elif row.kind == notices.CLAIM_POST:
            channel = row.recipient or self._summary_channel
            await self._post(row, channel, blocks.claim_message(req, self._tz), f"claim:{req.id}")
        elif row.kind == notices.CLAIM_REFRESH:
            for _key, channel, ts in await rows.messages_with_prefix(self._db, f"claim:{req.id}"):
                text, body = blocks.claim_message(req, self._tz)
                await self._call("chat.update", row, channel=channel, ts=ts, text=text, blocks=body)
        elif row.kind == notices.REQUESTER_DM:
            assert row.recipient is not None
            event = str(row.data.get("event", ""))
            message = blocks.requester_message(req, event, self._summary_channel, self._tz)
            await self._post(row, row.recipient, message, None)
        else:
            raise _Permanent(f"unknown outbox kind {row.kind!r}")
