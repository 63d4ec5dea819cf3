"""Routes of the bot's aiohttp server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.store.db import Database

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY_BYTES = 1024 * 1024


def build_web_app(db: Database, mode: str, slack: Handler | None) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)

    async def healthz(_: web.Request) -> web.Response:
        try:
            await db.fetchone("SELECT 1")
        except Exception as exc:  # report, don't crash the probe
            return web.json_response({"status": "error", "database": str(exc), "mode": mode}, status=503)
        return web.json_response({"status": "ok", "database": "ok", "mode": mode})

    app.router.add_get("/healthz", healthz)
    if slack is not None:
        app.router.add_post("/slack/events", slack)
    return app
