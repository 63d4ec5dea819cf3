"""The sandbox's page and the small JSON API behind it, on the bot's own aiohttp server.

The page never talks to the bot directly: it tells this module what a person did, and this
module sends it to ``/slack/events`` the way Slack would, signed, then reports what the bot
answered. What the page shows is what the bot sent to the Slack stand-in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.clock import ShiftedClock
from bot.domain.durations import parse_duration
from bot.sandbox.demo import Person
from bot.sandbox.driver import SlackDriver
from bot.sandbox.emoji_table import emoji_table
from bot.sandbox.github_standin import GitHubStandIn
from bot.sandbox.page_state import CHANNEL, DM, HOME, PLACES, PageBook
from bot.sandbox.slack_standin import SlackStandIn
from bot.services.policy_state import window

if TYPE_CHECKING:  # the composition root imports the sandbox's stand-in; avoid the cycle at run time
    from bot.app import Signoff

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
DEPLOY_REPO = "acme/shop"
# What the "deploy to production" button deploys: a change an AI agent helped write.
DEPLOY_COMMIT = "Raise the checkout timeout\n\nCo-authored-by: Claude <noreply@anthropic.com>\n"
DEPLOYS_SHOWN = 5
STATIC = {"index.html": "text/html", "sandbox.css": "text/css", "sandbox.js": "application/javascript"}


class SandboxInputError(Exception):
    pass


@dataclass
class Sandbox:
    """What the page needs: the stand-in's record, a driver that signs like Slack, the running bot."""

    slack: SlackStandIn
    driver: SlackDriver
    people: tuple[Person, ...]
    summary_channel: str
    pipeline_command: str
    bot: Signoff
    clock: ShiftedClock  # the bot's clock, which the time control moves
    github: GitHubStandIn | None = None  # GitHub, holding deployments until signoff answers
    book: PageBook = field(init=False)
    _emoji: bytes | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.book = PageBook(self.slack, self.summary_channel)

    def register(self, app: web.Application) -> None:
        app.router.add_get("/", self.index)
        app.router.add_get("/favicon.ico", self.no_icon)
        app.router.add_get("/sandbox/static/{name}", self.static)
        app.router.add_get("/sandbox/state", self.state)
        app.router.add_get("/sandbox/emoji.json", self.emoji)
        app.router.add_get("/sandbox/file/{file_id}", self.file)
        app.router.add_post("/sandbox/dismiss", self.dismiss)
        app.router.add_post("/sandbox/command", self.command)
        app.router.add_post("/sandbox/action", self.action)
        app.router.add_post("/sandbox/submit", self.submit)
        app.router.add_post("/sandbox/close", self.close)
        app.router.add_post("/sandbox/home", self.home)
        app.router.add_post("/sandbox/time", self.time)
        app.router.add_post("/sandbox/deploy", self.deploy)

    # --- the page --------------------------------------------------------
    async def index(self, _: web.Request) -> web.Response:
        return self._file("index.html")

    async def no_icon(self, _: web.Request) -> web.Response:
        return web.Response(status=204)

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return self._file(name)

    def _file(self, name: str) -> web.Response:
        text = resources.files("bot.sandbox").joinpath("static").joinpath(name).read_text(encoding="utf-8")
        return web.Response(text=text, content_type=STATIC[name], headers={"Cache-Control": "no-store"})

    # --- what a person sees ----------------------------------------------
    async def emoji(self, _: web.Request) -> web.Response:
        if self._emoji is None:
            self._emoji = json.dumps(emoji_table(), ensure_ascii=False).encode()
        return web.Response(body=self._emoji, content_type="application/json", charset="utf-8")

    async def file(self, request: web.Request) -> web.Response:
        """A file the bot uploaded and completed, as an image block shows it."""
        stored = self.slack.files.get(request.match_info["file_id"])
        if stored is None or not stored.complete or stored.data is None:
            raise web.HTTPNotFound()
        kind = "image/png" if stored.filename.endswith(".png") else "application/octet-stream"
        return web.Response(body=stored.data, content_type=kind)

    async def state(self, request: web.Request) -> web.Response:
        user = self._user(request.query.get("user", ""))
        tab = request.query.get("tab", "")
        now = self.clock.now()
        policy = await window(self.bot.store)
        groups = {gid: "@" + str(g.get("handle", gid)) for gid, g in self.slack.usergroups.items()}
        body = {
            "me": user,
            "people": [{"user": p.user, "name": p.name, "role": p.role} for p in self.people],
            "names": {**{p.user: p.name for p in self.people}, self.summary_channel: "signoff-summary"},
            "groups": groups,
            "summary_channel": self.summary_channel,
            "conversations": {place: self.book.conversation(user, place) for place in PLACES},
            "modal": self.book.modal(user, tab),
            "home": self.slack.home_views.get(user),
            "pipeline": self.pipeline_command,
            "now": now.isoformat(),
            "policy": {"start": policy.start.isoformat(), "end": policy.end.isoformat()},
            "deployments": self._deployments(),
        }
        return web.json_response(body)

    def _deployments(self) -> list[dict[str, Any]]:
        """The newest runs GitHub holds or held, as its run page would show them."""
        if self.github is None:
            return []
        names = {p.github: p.name for p in self.people if p.github}
        runs = sorted(self.github.runs.values(), key=lambda r: -r.run_id)[:DEPLOYS_SHOWN]
        return [
            {
                "run": run.run_id,
                "by": names.get(run.creator, run.creator),
                "state": self.github.state_of(run),
                "said": run.answers[-1]["comment"] if run.answers else (run.reports[-1] if run.reports else ""),
            }
            for run in runs
        ]

    async def deploy(self, request: web.Request) -> web.Response:
        """What a push to main does in a repository whose production environment ticks signoff:
        GitHub starts the deploy job, holds it, and tells signoff (a signed webhook)."""
        body = await self._json(request)
        user = self._user(body.get("user"))
        if self.github is None:
            raise SandboxInputError("GitHub is not part of this sandbox")
        person = next(p for p in self.people if p.user == user)
        self.github.add_commit(DEPLOY_COMMIT, repo=DEPLOY_REPO, login=person.github or "", name=person.name)
        run = self.github.deploy(creator=person.github or user.lower(), repo=DEPLOY_REPO)
        session = self.driver.session
        status, answer = await self.github.deliver(session, self.driver.bot_url, run)
        return web.json_response({"run": run.run_id, "status": status, "answer": answer})

    async def dismiss(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        self.book.dismiss(self._user(body.get("user")), str(body.get("key", "")))
        return web.json_response({"ok": True})

    # --- what a person does, sent the way Slack sends it -------------------
    async def command(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        user = self._user(body.get("user"))
        text = str(body.get("text", "")).strip()
        text = text.removeprefix("/signoff").strip()
        # Slack escapes mentions in command text (should_escape): @Sean arrives as <@U0SEAN|sean>.
        by_name = {p.name.lower(): p.user for p in self.people}
        text = re.sub(
            r"@(\w+)", lambda m: f"<@{by_name[m[1].lower()]}|{m[1].lower()}>" if m[1].lower() in by_name else m[0], text
        )
        place, tab = _place(body.get("conv")), str(body.get("tab", ""))
        reply = await self.driver.command(
            user, text, self.book.trigger(user, tab), response_url=self.book.response_url(user, place)
        )
        answer = reply.json() if reply.text else None
        self.book.note(user, place, answer)  # stays in the conversation until dismissed, as in Slack
        return web.json_response({"status": reply.status, "answer": answer})

    async def action(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        user = self._user(body.get("user"))
        channel, ts = str(body.get("channel") or f"D{user}"), str(body.get("ts", ""))
        place = HOME if body.get("conv") == HOME else self.book.place_of(channel)
        payload = self.driver.action_payload(
            user,
            str(body.get("action_id", "")),
            str(body.get("value", "")),
            self.book.trigger(user, str(body.get("tab", ""))),
            response_url=self.book.response_url(user, place),
        )
        payload["container"] = {"type": "message", "channel_id": channel, "message_ts": ts}
        payload["channel"] = {"id": channel}
        reply = await self.driver.payload(payload)
        return web.json_response({"status": reply.status})

    async def submit(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        user = self._user(body.get("user"))
        view = self._view(user, str(body.get("view_id", "")))
        values = body.get("values")
        if not isinstance(values, dict):
            raise SandboxInputError("values must be an object of block_id -> action_id -> element state")
        payload = self.driver.view_payload(
            user,
            str(view.get("callback_id", "")),
            values,
            view_id=str(view["id"]),
            private_metadata=str(view.get("private_metadata", "")),
        )
        reply = await self.driver.payload(payload)
        answer = reply.json() if reply.text else None
        if reply.status == 200 and answer is None:
            view["closed"] = True  # an empty ack closes the modal, as in Slack
        elif isinstance(answer, dict) and answer.get("response_action") == "update":
            replacement = {**answer["view"], "id": view["id"], "user": user, "trigger": view.get("trigger")}
            view.clear()  # the new view replaces the old one whole, as in Slack
            view.update(replacement)
        elif isinstance(answer, dict) and answer.get("response_action") == "errors":
            view["errors"] = answer.get("errors")
        elif isinstance(answer, dict) and answer.get("response_action") == "clear":
            view["closed"] = True
        return web.json_response({"status": reply.status, "answer": answer})

    async def close(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        self._view(self._user(body.get("user")), str(body.get("view_id", "")))["closed"] = True
        return web.json_response({"ok": True})

    async def home(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        user = self._user(body.get("user"))
        reply = await self.driver.event({"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"})
        await self.bot.background.idle()
        return web.json_response({"status": reply.status})

    async def time(self, request: web.Request) -> web.Response:
        """Moves the bot's clock forward, then runs every time-driven sweep and delivers."""
        body = await self._json(request)
        to = str(body.get("advance", ""))
        now = self.clock.now()
        if to == "end":
            delta = (await window(self.bot.store)).end - now + timedelta(seconds=1)
        else:
            try:
                delta = parse_duration(to)
            except ValueError as exc:
                raise SandboxInputError(f"advance: {exc}, or 'end'") from None
        if delta > timedelta(0):
            self.clock.advance(delta)
        await self.bot.scheduler.tick()
        await self.bot.outbox.drain()
        return web.json_response({"now": self.clock.now().isoformat()})

    # --- parsing -----------------------------------------------------------
    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.read())
        except (ValueError, RecursionError):
            raise SandboxInputError("the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise SandboxInputError("the body must be a JSON object")
        return body

    def _user(self, user: Any) -> str:
        if not isinstance(user, str) or not USER_ID.match(user) or user not in self.slack.users:
            raise SandboxInputError("choose who you are first (an unknown user)")
        return user

    def _view(self, user: str, view_id: str) -> dict[str, Any]:
        for view in self.slack.opened_views:
            if view["id"] == view_id and view.get("user") == user:
                return view
        raise SandboxInputError(f"no open form {view_id!r} for {user}")


def _place(conv: Any) -> str:
    return conv if conv in (DM, CHANNEL, HOME) else DM


@web.middleware
async def sandbox_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except SandboxInputError as exc:
        return web.json_response({"error": "bad_request", "message": str(exc)}, status=400)


def sandbox_url_ok(user: str) -> bool:
    return bool(USER_ID.match(user))
