"""A lean Slack Web API caller for the outbox: one HTTP POST per call, no retries of its own.

The outbox owns retries, durably, so this only classifies what came back. It skips the
per-call work of slack_sdk's client (which the interactive paths keep, for Bolt), because
the outbox makes several calls per interaction and they compete with acks for the CPU.
Write methods get JSON bodies; read methods, which Slack does not accept JSON for, get
form-encoded ones. The token travels in the Authorization header and never in a repr.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp

from bot.metrics import Metrics

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10.0
# Methods Slack reads form-encoded arguments for, not JSON.
FORM_METHODS = frozenset(
    {"conversations.history", "conversations.open", "files.getUploadURLExternal", "files.completeUploadExternal"}
)


class WebApiError(Exception):
    """Slack answered, and not with ok: the HTTP status, Slack's error code and any Retry-After."""

    def __init__(self, status: int, error: str, retry_after: str | None = None) -> None:
        super().__init__(f"{error} (HTTP {status})")
        self.status = status
        self.error = error
        self.retry_after = retry_after


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


class SlackWebApi:
    def __init__(self, token: str, base_url: str, metrics: Metrics, timeout: float = TIMEOUT_SECONDS) -> None:
        self._auth = {"Authorization": f"Bearer {token}"}
        self._base = base_url if base_url.endswith("/") else base_url + "/"
        self._metrics = metrics
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.session: aiohttp.ClientSession | None = None  # set by the composition root (one keep-alive session)

    def __repr__(self) -> str:
        return f"SlackWebApi({self._base!r})"

    async def respond(self, url: str, payload: dict[str, Any]) -> None:
        """POST to a command's ``response_url`` (no token: the URL is the credential). Slack answers
        ``ok`` as text, or JSON with an error (``expired_url``, ``used_url``)."""
        assert self.session is not None, "SlackWebApi.session was not set"
        result = "unreachable"
        try:
            async with self.session.post(url, json=payload, timeout=self._timeout) as resp:
                status = resp.status
                text = await resp.text()
            error = None
            if text.strip().startswith("{"):
                try:
                    data = json.loads(text)
                except ValueError:
                    data = {}
                if isinstance(data, dict) and data.get("ok") is False:
                    error = str(data.get("error") or "refused")
            if status >= 300 or error is not None:
                result = "error"
                raise WebApiError(status, error or f"HTTP {status}")
            result = "ok"
        finally:
            self._metrics.slack_calls.labels(method="response_url", result=result).inc()

    async def upload(self, url: str, data: bytes) -> None:
        """POST a file's bytes to the ``upload_url`` files.getUploadURLExternal gave (no token:
        the URL is the credential)."""
        assert self.session is not None, "SlackWebApi.session was not set"
        result = "unreachable"
        try:
            async with self.session.post(url, data=data, timeout=self._timeout) as resp:
                status = resp.status
                await resp.read()
            if status >= 300:
                result = "error"
                raise WebApiError(status, f"HTTP {status}")
            result = "ok"
        finally:
            self._metrics.slack_calls.labels(method="file_upload", result=result).inc()

    async def call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Slack's answer to ``method``; WebApiError when it is not ok; aiohttp/OS errors when unreachable."""
        assert self.session is not None, "SlackWebApi.session was not set"
        if method in FORM_METHODS:
            body: dict[str, Any] = {"data": {k: _form_value(v) for k, v in args.items()}}
        else:
            body = {"json": args}
        result, status = "unreachable", 0
        try:
            async with self.session.post(
                self._base + method, headers=self._auth, timeout=self._timeout, **body
            ) as resp:
                status, retry_after = resp.status, resp.headers.get("Retry-After")
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = None
            if not isinstance(data, dict):
                data = {}
            if status == 429 or data.get("error") == "ratelimited":
                result = "rate_limited"
                raise WebApiError(status, "ratelimited", retry_after)
            if status >= 300 or not data.get("ok"):
                result = "error"
                raise WebApiError(status, str(data.get("error") or f"HTTP {status}"), retry_after)
            result = "ok"
            return data
        finally:
            self._metrics.slack_calls.labels(method=method, result=result).inc()
            log.debug("%s: %s (HTTP %s)", method, result, status or "-")
