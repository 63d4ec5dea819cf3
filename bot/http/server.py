"""Routes of the bot's aiohttp server, and JSON errors for everything that goes wrong."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.errors_map import UNEXPECTED
from bot.metrics import CONTENT_TYPE
from bot.store.unit_of_work import Store

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY_BYTES = 1024 * 1024
log = logging.getLogger(__name__)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as JSON a person can act on; never a traceback."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        messages = {
            404: f"There is nothing at {request.path}.",
            405: f"{request.method} is not allowed on {request.path}.",
            413: f"The body is too large; the limit is {MAX_BODY_BYTES} bytes.",
        }
        body = {"error": exc.reason.lower().replace(" ", "_"), "message": messages.get(exc.status, exc.reason)}
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        return web.json_response(body, status=exc.status, headers=headers)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return web.json_response({"error": "internal_error", "message": UNEXPECTED}, status=500)


def build_web_app(
    store: Store,
    mode: str,
    slack: Handler | None,
    extra: Callable[[web.Application], None] | None = None,
    readiness: Callable[[], Awaitable[dict[str, object]]] | None = None,
    metrics: Callable[[], Awaitable[bytes]] | None = None,
) -> web.Application:
    """/healthz is liveness (the process answers, the database reads); /readyz is readiness
    (the database takes writes, Slack has taken the bot token once, Socket Mode is connected),
    503 until and whenever it is not."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[json_errors])
    if extra is not None:
        extra(app)

    async def healthz(_: web.Request) -> web.Response:
        try:
            async with store.read() as r:
                await r.facts.get("policy_start")
        except Exception as exc:  # report, don't crash the probe
            return web.json_response({"status": "error", "database": str(exc), "mode": mode}, status=503)
        return web.json_response({"status": "ok", "database": "ok", "mode": mode})

    app.router.add_get("/healthz", healthz)
    if readiness is not None:

        async def readyz(_: web.Request) -> web.Response:
            try:
                state = await readiness()
            except Exception as exc:  # report, don't crash the probe
                return web.json_response({"status": "error", "detail": str(exc), "mode": mode}, status=503)
            decide = ("database", "socket_mode", "slack")
            ready = all(state[key] in ("ok", "connected") for key in decide if key in state)
            body = {"status": "ready" if ready else "not ready", "mode": mode, **state}
            return web.json_response(body, status=200 if ready else 503)

        app.router.add_get("/readyz", readyz)
    if metrics is not None:

        async def prometheus(_: web.Request) -> web.Response:
            body = await metrics()
            return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

        app.router.add_get("/metrics", prometheus)
    if slack is not None:
        app.router.add_post("/slack/events", slack)
    return app
