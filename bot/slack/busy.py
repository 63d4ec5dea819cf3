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
from typing import Any

import aiohttp
from aiohttp import web

from bot.domain.errors import Busy
from bot.tasks import Background

log = logging.getLogger(__name__)

TEXT = Busy().message
TELLS_PER_SECOND = 20.0
RETRY_AFTER = str(Busy.retry_after)


def answer(kind: str, body: dict[str, Any]) -> tuple[web.Response, str | None]:
    """The response for a shed request, and the ``response_url`` to tell the person at, if any."""
    if kind == "command":
        return web.json_response({"response_type": "ephemeral", "text": TEXT}), None
    if kind == "view_submission":
        values = body.get("view", {}).get("state", {}).get("values", {})
        field = next(iter(values), "title") if isinstance(values, dict) else "title"
        return web.json_response({"response_action": "errors", "errors": {field: TEXT}}), None
    if kind == "block_actions":
        url = body.get("response_url")
        usable = isinstance(url, str) and url.startswith(("https://", "http://"))
        return web.Response(status=200), str(url) if usable else None
    headers = {"Retry-After": RETRY_AFTER}
    return web.json_response({"error": "busy", "message": TEXT}, status=503, headers=headers), None


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
