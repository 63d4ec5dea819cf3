"""A small HTTP client for the pipeline API, with retries for transient failures."""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

RETRY_STATUSES = {429, 502, 503, 504}
ATTEMPTS = 6
BACKOFF_CAP = 10.0
MIN_CALL = 0.2  # a call with less time than this left is not started
LONG_POLL_MARGIN = 2.0  # a long-poll asks the server to answer this long before the deadline


class GateError(Exception):
    """A usage, configuration, auth or network problem: exit code 3."""


class OutOfTime(GateError):
    """The deadline passed before signoff answered: nothing more is sent."""


class ApiClient:
    """``deadline`` (``time.monotonic()``) bounds every call, its retries and their waits together:
    a call that would end past it is cut short and raises ``OutOfTime``."""

    def __init__(
        self,
        server: str,
        token: str | Callable[[], str],
        attempts: int = ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        say: Callable[[str], None] = lambda _: None,
        deadline: float | None = None,
        token_source: str = "",
    ) -> None:
        self._base = server.rstrip("/")
        self._token = token  # a string, or how to get a fresh one (an ID token, fetched again once on a 401)
        self._attempts = attempts
        self._sleep = sleep
        self._say = say
        self.deadline = deadline
        self._token_source = token_source  # where the token came from, for a refusal: "given with --token"

    def left(self) -> float | None:
        """Seconds until the deadline, or None without one."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def _bounded(self, seconds: float, last: str) -> float:
        left = self.left()
        if left is None:
            return seconds
        if left <= MIN_CALL:
            raise OutOfTime(f"no answer from signoff in the time allowed ({last or 'it did not answer'})")
        return min(seconds, left)

    def __repr__(self) -> str:
        return f"ApiClient(server={self._base!r})"

    def create(self, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return self._request("POST", "/api/v1/requests", body, {"Idempotency-Key": idempotency_key})

    def verify(
        self, ref: str, digests: list[str], once: str | None = None, command: str | None = None, workdir: str = ""
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"sha256": digests} if digests or command is None else {}
        if once is not None:
            body["once"] = once
        if command is not None:
            body["command"], body["workdir"] = command, workdir
        return self._request("POST", f"/api/v1/requests/{ref}/verify", body, {})

    def give_up(self, ref: str) -> dict[str, Any]:
        return self._request("POST", f"/api/v1/requests/{ref}/give-up", {}, {})

    def command(self, ref: str, event: str, command: str, exit_code: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"event": event, "command": command}
        if exit_code is not None:
            body["exit_code"] = exit_code
        return self._request("POST", f"/api/v1/requests/{ref}/command", body, {}, shape="recorded")

    def get(self, ref: str, wait: float = 0) -> dict[str, Any]:
        left = self.left()
        if left is not None:
            wait = min(wait, max(0.0, left - LONG_POLL_MARGIN))
        suffix = f"?wait={wait:.0f}" if wait >= 1 else ""
        return self._request("GET", f"/api/v1/requests/{ref}{suffix}", None, {}, timeout=wait + 15)

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        headers: dict[str, str],
        timeout: float = 30,
        shape: str = "status",
    ) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        token = self._token() if callable(self._token) else self._token
        all_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", **headers}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        last = ""
        refreshed = False
        for attempt in range(max(self._attempts, 2 if callable(self._token) else 1)):
            if attempt:
                delay = min(BACKOFF_CAP, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
                delay = self._bounded(delay + MIN_CALL, last) - MIN_CALL
                self._say(f"retrying in {delay:.1f}s ({last})")
                self._sleep(delay)
            try:
                req = urllib.request.Request(self._base + path, data=data, headers=all_headers, method=method)
                with urllib.request.urlopen(req, timeout=self._bounded(timeout, last)) as resp:
                    return _request_json(resp.read(), self._base, shape)
            except urllib.error.HTTPError as err:
                detail = _message(err)
                if err.code in RETRY_STATUSES:
                    last = f"HTTP {err.code}: {detail}"
                    continue
                if err.code == 401 and callable(self._token) and not refreshed:
                    refreshed = True  # an ID token that expired while we waited: get a fresh one, once
                    all_headers["Authorization"] = f"Bearer {self._token()}"
                    last = f"HTTP 401: {detail}"
                    continue
                if err.code == 401:
                    source = f" {self._token_source}" if self._token_source else ""
                    raise GateError(f"signoff refused the token{source}: {detail}") from None
                if err.code in (400, 422):
                    raise GateError(f"signoff refused the request: {detail}") from None
                if err.code in (403, 404, 409, 413):
                    raise GateError(detail) from None
                raise GateError(f"signoff answered HTTP {err.code}: {detail}") from None
            except (urllib.error.URLError, OSError, TimeoutError, http.client.HTTPException) as err:
                reason = getattr(err, "reason", err)
                last = f"cannot reach {self._base}: {reason}"
            except ValueError as err:  # a URL urllib cannot use (bad port, bad host)
                raise GateError(f"--server/SIGNOFF_URL {self._base!r} is not a usable URL: {err}") from None
        raise GateError(last or f"cannot reach {self._base}")


def _request_json(raw: bytes, server: str, shape: str = "status") -> dict[str, Any]:
    """A request as signoff sends it (an ``id`` and a ``shape`` field: its status, or for a command
    report whether it was recorded), or GateError: a proxy's or an SSO page's 200 is not an answer."""
    try:
        parsed = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("id"), str) or not isinstance(parsed.get(shape), str):
        raise GateError(
            f"{server} did not answer like signoff (not its JSON; a login page or a proxy?); check --server/SIGNOFF_URL"
        )
    return parsed


def _message(err: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(err.read() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, OSError):
        body = None
    if not isinstance(body, dict):
        return err.reason or "no details"
    fields = body.get("fields")
    if isinstance(fields, dict) and fields:  # each field error once, not again after the summary
        return "; ".join(f"{k}: {v}" for k, v in sorted(fields.items()))
    return str(body.get("message", err.reason))
