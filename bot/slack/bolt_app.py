"""The Bolt app and the bridge from aiohttp to it.

``process_before_response=True``: a listener's state change commits before Slack gets
its 200, so nothing is lost if the process dies right after the ack. Work that only
touches the UI (opening a modal) runs in tracked background tasks.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot import deadlines
from bot.admission import BUDGET, Admission
from bot.domain.errors import Busy, MalformedPayload, Unavailable
from bot.domain.json_input import parse_json_object
from bot.domain.numbers import ascii_int
from bot.metrics import Metrics
from bot.slack import busy
from bot.slack.acks_first import AckPriority
from bot.slack.listeners import ListenerParts, register_all
from bot.slack.listeners.payloads import check_shape

log = logging.getLogger(__name__)
BOLT_LOGGER = "bot.slack.bolt"


class _QuietTokenNotice(logging.Filter):
    """Bolt notices SLACK_BOT_TOKEN in the environment and warns that it is unused; it is, on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token`" not in record.getMessage()


def build_bolt_app(
    signing_secret: str,
    client: AsyncWebClient,
    identity: dict[str, str | None],
    parts: ListenerParts,
    tell: Callable[[str, dict[str, Any]], None] = lambda _url, _body: None,
) -> AsyncApp:
    async def authorize(**_: Any) -> AuthorizeResult:
        # The token was checked once at start (auth.test); no Slack call before each ack.
        return AuthorizeResult(
            enterprise_id=None,
            team_id=identity.get("team_id"),
            bot_token=client.token,
            bot_id=identity.get("bot_id"),
            bot_user_id=identity.get("user_id"),
        )

    bolt_logger = logging.getLogger(BOLT_LOGGER)
    if not any(isinstance(f, _QuietTokenNotice) for f in bolt_logger.filters):
        bolt_logger.addFilter(_QuietTokenNotice())
    # Bolt gets a token-less twin of the client: the token comes from ``authorize``.
    bolt_client = AsyncWebClient(
        base_url=client.base_url, timeout=client.timeout, logger=client.logger, retry_handlers=client.retry_handlers
    )
    app = AsyncApp(
        signing_secret=signing_secret,
        client=bolt_client,
        authorize=authorize,
        process_before_response=True,
        # slack_handler() verifies every HTTP request before Bolt sees it; Socket Mode needs none.
        request_verification_enabled=False,
        logger=bolt_logger,
    )
    register_all(app, parts)

    @app.error
    async def unavailable(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        """The one place where work that could not be done now, raised anywhere (a listener, or a
        middleware before it), becomes its answer: busy text where the person looks, never a 500.
        Anything else is logged and stays a 500."""
        if not isinstance(error, Unavailable):
            log.error("a Slack request failed: %s", type(error).__name__, exc_info=error)
            return None
        if isinstance(error, Busy):
            parts.deps.metrics.shed.labels(kind=interaction_kind(body)).inc()
        found = busy.reply(interaction_kind(body), body, error.message)
        if found.response_url is not None:
            tell(found.response_url, busy.ephemeral(error.message))
        text = json.dumps(found.body) if found.body is not None else ""
        headers: dict[str, str | Sequence[str]] = {**found.headers}
        if text:
            headers["content-type"] = "application/json"
        return BoltResponse(status=found.status, body=text, headers=headers)

    return app


def _json_error(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


def _parse_form(raw: str) -> dict[str, Any]:
    """Slack's form bodies: either payload=<json> or plain fields (slash commands).

    Bolt's own parser treats any body containing the word "payload" as an interaction,
    which breaks `/signoff status` with "payload" in its text; parse the fields instead.
    """
    params = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in params and "command" not in params:
        return parse_json_object(params["payload"].encode())
    return params


BODY_READ_SECONDS = 10.0  # a slow client cannot hold a handler longer
REPLAY_WINDOW_SECONDS = 300  # Slack's own: a signed request older than 5 minutes is refused


def signed_by_slack(secret: bytes, body: bytes, timestamp: str, signature: str, now: float) -> bool:
    """Slack's v0 signature over the raw bytes, within the 5-minute window, compared in constant time.
    Not slack_sdk's SignatureVerifier: it decodes the body as UTF-8 first and raises on other bytes
    (a 500 for a signed body that is not UTF-8, which must be a 400), and its int() takes any
    script's digits as a timestamp."""
    sent = ascii_int(timestamp, max_digits=12)
    if sent is None or abs(now - sent) > REPLAY_WINDOW_SECONDS:
        return False
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}".encode(), signature.encode())


KIND = web.RequestKey("kind", str)  # set once a request is parsed as an interaction
UNSHED = frozenset({"url_verification", "view_closed"})  # answered whatever the load: they do nothing


def interaction_kind(body: dict[str, Any]) -> str:
    """A fixed label for metrics: command, block_actions, view_submission, event, ..."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    if kind == "event_callback":
        return "event"
    known = ("block_actions", "view_submission", "view_closed", "block_suggestion", "shortcut", "url_verification")
    return kind if isinstance(kind, str) and kind in known else "other"


def slack_handler(
    app: AsyncApp,
    signing_secret: str,
    priority: AckPriority,
    metrics: Metrics,
    admission: Admission,
    tell_busy: Callable[[str], None],
) -> Any:
    """The aiohttp handler for ``/slack/events``. ``tell_busy(response_url)`` posts the busy
    ephemeral after the acknowledgement of a shed click."""
    secret = signing_secret.encode()

    async def handle(request: web.Request) -> web.Response:
        started = time.perf_counter()
        with priority.answering():
            response = await _handle(request, started)
        kind = request.get(KIND)
        if kind is not None:  # refused before it was parsed: not an interaction
            metrics.ack.labels(kind=kind).observe(time.perf_counter() - started)
        return response

    async def _handle(request: web.Request, started: float) -> web.Response:
        try:
            async with asyncio.timeout(BODY_READ_SECONDS):
                data = await request.read()
        except TimeoutError:
            return _json_error(408, "request_timeout", f"The body did not arrive within {BODY_READ_SECONDS:.0f} s.")
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not signed_by_slack(secret, data, timestamp, signature, time.time()):
            return _json_error(401, "invalid_signature", "The request is not signed by Slack, or it is too old.")
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError:
            return _json_error(400, "malformed_payload", "The body is not UTF-8 text.")
        try:
            if request.content_type == "application/json" or raw.lstrip().startswith("{"):
                body = parse_json_object(data)
            else:
                body = _parse_form(raw)
            check_shape(body)
        except ValueError as exc:
            return _json_error(400, "malformed_payload", f"The body could not be parsed: {exc}.")
        except MalformedPayload as err:
            log.warning("rejected a Slack payload: %s", err.message)
            return _json_error(400, "malformed_payload", err.message)
        kind = request[KIND] = interaction_kind(body)
        if kind not in UNSHED and admission.busy():
            admission.refuse(kind)
            response, response_url = busy.answer(kind, body)
            if response_url is not None:
                tell_busy(response_url)
            return response
        # Bolt gets the body already parsed (and checked), not the raw text to parse again.
        bolt_req = AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))
        bolt_req.raw_body, bolt_req.body = raw, body
        bolt_req.context = build_async_context(AsyncBoltContext({}), body)
        with deadlines.within(BUDGET - (time.perf_counter() - started)):
            bolt_resp = await app.async_dispatch(bolt_req)
        return await to_aiohttp_response(bolt_resp)

    return handle
