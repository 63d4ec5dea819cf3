"""The answer to a Slack request signoff sheds because it is busy (see bot/admission.py): it
does nothing and stores nothing, and tells the person so where they are looking.

* a slash command: the ephemeral answer itself;
* a form: a field error under its first field (the form stays open, so Submit works again);
* a button: an empty acknowledgement (Slack allows nothing else), and the ephemeral through the
  payload's ``response_url``: every shed click is told. The tells queue and go
  ``CONCURRENT_TELLS`` at a time, each after the answers in flight (``AckPriority``), so under a
  flood telling is not itself the work that does not fit; they arrive later, never not at all;
* an event: ``503``, so Slack sends it again later.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.domain.errors import Busy
from bot.slack.acks_first import AckPriority
from bot.tasks import Background

log = logging.getLogger(__name__)

TEXT = Busy().message
CONCURRENT_TELLS = 4  # posts to response_urls open at once
MAX_WAITING = 10_000  # tells queued at once (a response_url lasts 30 minutes); past it, logged
RETRY_AFTER = str(Busy.retry_after)


@dataclass(frozen=True)
class Reply:
    """What a request that could not be done now is answered: status, JSON body (None: empty),
    headers, and the ``response_url`` to tell the person at, if any."""

    status: int
    body: dict[str, Any] | None
    headers: dict[str, str]
    response_url: str | None = None


def reply(kind: str, body: dict[str, Any], text: str = TEXT) -> Reply:
    """The answer, by kind of request, for work that was not done (busy, or the database could
    not take it): the person sees ``text`` where they are looking, and can simply try again."""
    if kind == "command":
        return Reply(200, {"response_type": "ephemeral", "text": text}, {})
    if kind == "view_submission":
        values = body.get("view", {}).get("state", {}).get("values", {})
        field = next(iter(values), "title") if isinstance(values, dict) else "title"
        return Reply(200, {"response_action": "errors", "errors": {field: text}}, {})
    if kind == "block_actions":
        url = body.get("response_url")
        usable = isinstance(url, str) and url.startswith(("https://", "http://"))
        return Reply(200, None, {}, str(url) if usable else None)
    return Reply(503, {"error": "busy", "message": text}, {"Retry-After": RETRY_AFTER})


def answer(kind: str, body: dict[str, Any]) -> tuple[web.Response, str | None]:
    """The response for a shed request, and the ``response_url`` to tell the person at, if any."""
    found = reply(kind, body)
    if found.body is None:
        return web.Response(status=found.status, headers=found.headers), found.response_url
    return web.json_response(found.body, status=found.status, headers=found.headers), found.response_url


def ephemeral(text: str = TEXT) -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


class Responder:
    """Posts ephemeral answers to ``response_url``s after the acknowledgement: queued in order,
    ``concurrency`` at a time, in tracked tasks."""

    def __init__(
        self,
        background: Background,
        session: Callable[[], aiohttp.ClientSession | None],
        priority: AckPriority | None = None,
        concurrency: int = CONCURRENT_TELLS,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self._background = background
        self._session = session
        self._priority = priority or AckPriority()
        self._concurrency = concurrency
        self._max_waiting = max_waiting
        self._waiting: collections.deque[tuple[str, dict[str, Any]]] = collections.deque()
        self.posting = 0  # posts open now

    def tell(self, response_url: str, body: dict[str, Any]) -> None:
        if len(self._waiting) >= self._max_waiting:
            log.warning("%d answers to response_urls are queued already; one was not sent", len(self._waiting))
            return
        self._waiting.append((response_url, body))
        if self.posting < self._concurrency:
            self.posting += 1
            self._background.spawn(self._drain(), "response_url")

    def tell_busy(self, response_url: str) -> None:
        """The busy ephemeral, for a click that was shed."""
        self.tell(response_url, ephemeral())

    async def _drain(self) -> None:
        try:
            while self._waiting:
                await self._priority.quiet()  # answers first: a tell can wait, Slack's 3 s cannot
                url, body = self._waiting.popleft()
                await self._post(url, body)
        finally:
            self.posting -= 1

    async def _post(self, url: str, body: dict[str, Any]) -> None:
        session = self._session()
        if session is None:
            return
        try:
            async with session.post(url, json=body, timeout=aiohttp.ClientTimeout(total=10)) as resp:
                await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not post to a response_url: %s", type(exc).__name__)
