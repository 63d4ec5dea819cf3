"""An HTTP relay in front of the bot that can hold the answer to a request until told: the bot
has done the work (a request exists) while the caller still waits for the answer. For what a
client does when it is stopped in that moment."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web


class HeldAnswers:
    def __init__(self, target: str, hold: str) -> None:
        self._target = target.rstrip("/")
        self._hold = hold  # "POST /api/v1/requests": answers to these wait for ``release``
        self.released = asyncio.Event()
        self.held = asyncio.Event()  # set once an answer is being held
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._relay)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        self.released.set()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _relay(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with self._session.request(
            request.method, self._target + request.path_qs, data=body, headers=headers
        ) as resp:
            answer, status, content_type = await resp.read(), resp.status, resp.content_type
        if f"{request.method} {request.path}" == self._hold:
            self.held.set()
            await self.released.wait()
        return web.Response(body=answer, status=status, content_type=content_type)
