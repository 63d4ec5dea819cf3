"""`POST /github/webhook`: GitHub tells signoff a deployment waits on its protection rule.

The signature is checked before anything is read; a bad one is `401` and audited like a bad
token. Only ``deployment_protection_rule`` with action ``requested`` is stored; any other event
is `204` and stores nothing. A stored deployment is answered `202` at once (GitHub waits 10 s at
most); the request is made and GitHub answered afterwards, by the deployment worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.admission import Admission
from bot.domain.errors import Busy, MalformedPayload, SignoffError, Unauthenticated, Unavailable
from bot.domain.json_input import parse_json_object
from bot.errors_map import http_body, http_status
from bot.github.payloads import deployment_of, signed
from bot.services import deployment_gate
from bot.services.bad_tokens import BadTokenLog
from bot.services.deps import Deps

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
BODY_READ_SECONDS = 8.0
EVENT = "deployment_protection_rule"


@dataclass
class GithubWebhook:
    deps: Deps
    secret: bytes
    api_url: str
    wake: Callable[[], None]
    bad_tokens: BadTokenLog
    admission: Admission

    def __repr__(self) -> str:
        return f"GithubWebhook(api_url={self.api_url!r})"

    def register(self, app: web.Application) -> None:
        app.router.add_post("/github/webhook", self.receive)

    async def receive(self, request: web.Request) -> web.StreamResponse:
        try:
            if self.admission.busy():
                self.admission.refuse("github_webhook")
                raise Busy()
            raw = await self._body(request)
            if raw is None:
                return web.json_response({"error": "body_too_large", "message": "The body is over 1 MiB."}, status=413)
            if not signed(self.secret, raw, request.headers.get("X-Hub-Signature-256")):
                refusal = Unauthenticated("The X-Hub-Signature-256 signature does not match GITHUB_WEBHOOK_SECRET.")
                await self.bad_tokens.refuse(f"github:{request.remote or 'unknown'}", "POST /github/webhook", refusal)
                raise refusal
            if request.headers.get("X-GitHub-Event") != EVENT:
                return web.Response(status=204)
            payload = parse_json_object(raw)
            if payload.get("action") != "requested":
                return web.Response(status=204)
            deployment = deployment_of(payload, self.api_url)
            fresh = await deployment_gate.receive(self.deps, deployment)
        except SignoffError as err:
            headers = {"Retry-After": str(getattr(err, "retry_after", 5))} if isinstance(err, Unavailable) else None
            return web.json_response(http_body(err), status=http_status(err), headers=headers)
        self.wake()
        return web.json_response({"deployment": deployment.deployment_id, "held": True, "new": fresh}, status=202)

    @staticmethod
    async def _body(request: web.Request) -> bytes | None:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return None
        try:
            async with asyncio.timeout(BODY_READ_SECONDS):
                raw = await request.content.read(MAX_BODY + 1)
        except TimeoutError:
            raise MalformedPayload(f"The body did not arrive within {BODY_READ_SECONDS:.0f} seconds.") from None
        return None if len(raw) > MAX_BODY else raw
