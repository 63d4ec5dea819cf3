"""The answer to a Slack request signoff sheds because it is busy (see bot/admission.py): it
does nothing and stores nothing, and tells the person so where they are looking.

* a slash command: the ephemeral answer itself;
* a form: a field error under its first field (the form stays open, so Submit works again);
* a button: an empty acknowledgement (Slack allows nothing else), and the ephemeral through the
  payload's ``response_url``, at most ``TELLS_PER_SECOND`` of them: under a flood, telling every
  shed click would itself be the work that does not fit (the click did nothing either way);
* an event: ``503``, so Slack sends it again later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.domain.errors import Busy
from bot.tasks import Background

log = logging.getLogger(__name__)

TEXT = Busy().message
TELLS_PER_SECOND = 20.0
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
    """Posts an ephemeral answer to a ``response_url`` after the acknowledgement, in a tracked task."""

    def __init__(
        self,
        background: Background,
        session: Callable[[], aiohttp.ClientSession | None],
        per_second: float = TELLS_PER_SECOND,
    ) -> None:
        self._background = background
        self._session = session
        self._rate = per_second
        self._tokens = per_second
        self._filled = time.monotonic()
        self.skipped = 0

    def tell(self, response_url: str, body: dict[str, Any]) -> None:
        self._background.spawn(self._post(response_url, body), "response_url")

    def tell_busy(self, response_url: str) -> None:
        """The busy ephemeral, unless this second's allowance is spent (a token bucket)."""
        now = time.monotonic()
        self._tokens = min(self._rate, self._tokens + (now - self._filled) * self._rate)
        self._filled = now
        if self._tokens < 1:
            self.skipped += 1
            return
        self._tokens -= 1
        self.tell(response_url, ephemeral())

    async def _post(self, url: str, body: dict[str, Any]) -> None:
        session = self._session()
        if session is None:
            return
        try:
            async with session.post(url, json=body, timeout=aiohttp.ClientTimeout(total=10)) as resp:
                await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not post to a response_url: %s", type(exc).__name__)
