"""A stand-in for Slack's Web API over real HTTP.

It records every call, keeps the messages it was sent (updated in place by
chat.update), and refuses what Slack refuses: a wrong token, unknown channels,
over-long texts, too many blocks, modals that break the rules, and trigger_ids
older than 3 seconds. Failures can be scripted per method.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox import block_rules
from bot.sandbox.slack_files import FileUploads

BOT_TOKEN = "xoxb-test-0000000000-bot-token-value"
APP_TOKEN = "xapp-1-test-app-level-token-value"
TEAM_ID = "T0TEAM"
BOT_USER_ID = "U0SIGNOFFBOT"
TRIGGER_TTL_SECONDS = 3.0


def mint_trigger(age_seconds: float = 0.0) -> str:
    """A trigger_id that carries its issue time, so any process can mint one the stand-in accepts."""
    return f"{int((time.time() - age_seconds) * 1000)}.{uuid.uuid4().hex[:12]}"


def trigger_issued_at(trigger: str) -> float | None:
    millis, _, rest = trigger.partition(".")
    if not millis.isdigit() or len(rest) != 12:
        return None
    return int(millis) / 1000


# Read methods whose arguments Slack takes only as a query string or a form, not as JSON.
FORM_ONLY = frozenset({"conversations.history", "files.getUploadURLExternal", "files.completeUploadExternal"})


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    ok: bool
    error: str | None = None
    url_id: str | None = None  # for response_url calls: which one
    detail: str | None = None  # what exactly was wrong, when Slack would say
    at: float = field(default_factory=time.time)


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None = None
    updates: int = 0


@dataclass
class Ephemeral:
    url_id: str
    text: str
    body: dict[str, Any]
    ts: str = ""


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    drop_response: bool = False  # do the work, then fail the HTTP exchange


@dataclass
class _Script:
    failures: list[Failure] = field(default_factory=list)
    always: Failure | None = None


class SlackStandIn(FileUploads):
    def __init__(self, users: list[str] | None = None, channels: list[str] | None = None) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.arrived: list[str] = []  # every Web API method asked for, as it arrives
        self.messages: dict[tuple[str, str], Message] = {}
        self.ephemerals: list[Ephemeral] = []
        self.opened_views: list[dict[str, Any]] = []
        self.home_views: dict[str, dict[str, Any]] = {}  # user -> the App Home view last published
        self.names: dict[str, str] = {}  # user or channel -> a display name (the sandbox's page)
        self.usergroups: dict[str, dict[str, Any]] = {}  # id -> {"handle": ..., "users": [...]}
        self.scopes: set[str] | None = None  # None: every scope granted; else missing ones are refused
        self.executions: dict[str, dict[str, Any]] = {}  # Workflow Builder step executions, by id
        self._trigger_owners: dict[str, str] = {}  # trigger_id -> who caused it
        self.response_owners: dict[str, str] = {}  # response_url id -> whose ephemeral it is
        self.users: set[str] = set(users or [])
        self.emails: dict[str, str] = {}
        self.channels: set[str] = set(channels or [])
        self.token = BOT_TOKEN
        self.app_token = APP_TOKEN
        self.delay_seconds = 0.0
        self.method_delays: dict[str, float] = {}  # seconds before answering one method
        self.gates: dict[str, asyncio.Event] = {}  # a method waits until its gate is set
        self._scripts: dict[str, _Script] = {}
        self._used_triggers: set[str] = set()
        self._last_us = 0
        self.wall: Callable[[], float] = time.time  # what message timestamps are read from
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._socket_ready = asyncio.Event()
        self.port = 0

    # --- lifecycle -------------------------------------------------------
    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/respond/{url_id}", self._respond)
        self.file_routes(app)
        app.router.add_get("/socket", self._socket)
        # A stand-in that stops drops what it still holds after a second, as a service going away
        # would; aiohttp's default would wait out a test's deliberately slow call for a minute.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, owner: str | None = None) -> tuple[str, str]:
        url_id = uuid.uuid4().hex
        if owner is not None:
            self.response_owners[url_id] = owner
        return url_id, f"http://127.0.0.1:{self.port}/respond/{url_id}"

    def next_ts(self) -> str:
        """A message timestamp as Slack writes one: epoch seconds with microseconds, unique and rising."""
        self._last_us = max(int(self.wall() * 1_000_000), self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    # --- scripting -------------------------------------------------------
    def issue_trigger(self, age_seconds: float = 0.0, owner: str | None = None) -> str:
        trigger = mint_trigger(age_seconds)
        if owner is not None:
            self._trigger_owners[trigger] = owner
        return trigger

    def trigger_owner(self, trigger: str) -> str | None:
        return self._trigger_owners.get(trigger)

    def fail(self, method: str, *failures: Failure) -> None:
        self._scripts.setdefault(method, _Script()).failures.extend(failures)

    def fail_always(self, method: str, failure: Failure | None) -> None:
        self._scripts.setdefault(method, _Script()).always = failure

    def add_email(self, email: str, user: str) -> None:
        self.emails[email.lower()] = user
        self.users.add(user)

    # --- queries for tests ---------------------------------------------
    def calls_to(self, method: str, ok: bool | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def dms(self, user: str) -> list[Message]:
        return [m for (ch, _), m in self.messages.items() if ch == f"D{user}"]

    def posts_in(self, channel: str) -> list[Message]:
        return [m for (ch, _), m in self.messages.items() if ch == channel]

    def ephemeral_texts(self) -> list[str]:
        return [e.text for e in self.ephemerals]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(_wait(), timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- the Web API -----------------------------------------------------
    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)  # Slack reads arguments from the query string too
        if request.method == "POST" and request.content_type == "application/json":
            if method in FORM_ONLY:  # Slack reads these methods' arguments form-encoded, never from JSON
                self.calls.append(Call(method, {}, False, "invalid_arguments"))
                return web.json_response({"ok": False, "error": "invalid_arguments"})
            args.update(await request.json())
        elif request.method == "POST":
            args.update(await request.post())
        self.arrived.append(method)  # asked, whether or not it is answered yet
        await self._notify()
        delay = self.method_delays.get(method, self.delay_seconds)
        if delay:
            await asyncio.sleep(delay)
        gate = self.gates.get(method)
        if gate is not None:
            await gate.wait()
        failure = self._next_failure(method)
        if failure is not None and not failure.drop_response:
            self.calls.append(Call(method, args, False, failure.error or f"HTTP {failure.status}"))
            await self._notify()
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            body = {"ok": False, "error": failure.error or ("ratelimited" if failure.status == 429 else "fatal")}
            return web.json_response(body, status=failure.status, headers=headers)
        auth = request.headers.get("Authorization", "")
        expected = self.app_token if method == "apps.connections.open" else self.token
        if not auth.startswith("Bearer "):
            result: dict[str, Any] = {"ok": False, "error": "not_authed"}
        elif auth.removeprefix("Bearer ") != expected:
            result = {"ok": False, "error": "invalid_auth"}
        else:
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            result = handler(args) if handler else {"ok": False, "error": "unknown_method"}
        self.calls.append(Call(method, args, bool(result.get("ok")), result.get("error"), detail=result.get("detail")))
        await self._notify()
        if failure is not None and failure.drop_response:
            assert request.transport is not None
            request.transport.close()  # the work is done, but the caller never hears back
            return web.Response(status=500)
        return web.json_response(result)

    def _next_failure(self, method: str) -> Failure | None:
        script = self._scripts.get(method)
        if script is None:
            return None
        if script.failures:
            return script.failures.pop(0)
        return script.always

    def _dm_channel(self, channel: str) -> str | None:
        if channel.startswith("U") and channel in self.users:
            return f"D{channel}"
        if channel.startswith("D") and channel[1:] in self.users:
            return channel
        if channel in self.channels:
            return channel
        return None

    def _file_problem(self, blocks: Any) -> str | None:
        unknown = self.unknown_files(blocks or [])
        return f"invalid_blocks: slack_file {unknown[0]} is not a completed upload" if unknown else None

    def _m_auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": "B0SIGNOFF", "team": "Test"}

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._dm_channel(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        problem = block_rules.check_message(args) or self._file_problem(args.get("blocks"))
        if problem:
            return {"ok": False, "error": problem.split(":")[0], "detail": problem}
        ts = self.next_ts()
        self.messages[(channel, ts)] = Message(
            channel, ts, str(args.get("text", "")), list(args.get("blocks") or []), args.get("metadata")
        )
        return {"ok": True, "channel": channel, "ts": ts}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (str(args.get("channel", "")), str(args.get("ts", "")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        problem = block_rules.check_message(args) or self._file_problem(args.get("blocks"))
        if problem:
            return {"ok": False, "error": problem.split(":")[0], "detail": problem}
        msg = self.messages[key]
        msg.text = str(args.get("text", msg.text))
        msg.blocks = list(args.get("blocks") or [])
        msg.updates += 1
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = str(args.get("trigger_id", ""))
        issued = trigger_issued_at(trigger)
        if issued is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        if trigger in self._used_triggers:
            return {"ok": False, "error": "exchanged_trigger_id"}
        if time.time() - issued > TRIGGER_TTL_SECONDS:
            return {"ok": False, "error": "expired_trigger_id"}
        self._used_triggers.add(trigger)
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        problem = block_rules.check_view(view)
        if problem or not isinstance(view, dict):
            return {"ok": False, "error": (problem or "invalid_arguments").split(":")[0], "detail": problem}
        view_id = f"V{uuid.uuid4().hex[:10].upper()}"
        self.opened_views.append({**view, "id": view_id, "user": self._trigger_owners.get(trigger), "trigger": trigger})
        return {"ok": True, "view": {**view, "id": view_id}}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        if str(args.get("user_id", "")) not in self.users:
            return {"ok": False, "error": "user_not_found"}
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        problem = block_rules.check_blocks(view.get("blocks"), block_rules.MODAL_BLOCKS)
        if problem:
            return {"ok": False, "error": problem.split(":")[0], "detail": problem}
        published = {**view, "id": f"V{uuid.uuid4().hex[:10].upper()}"}
        self.home_views[str(args["user_id"])] = published
        return {"ok": True, "view": published}

    def _m_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.emails.get(str(args.get("email", "")).lower())
        if user is None:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": {"id": user, "profile": {"email": args.get("email")}}}

    def start_execution(self, callback_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """A workflow reaches our step: the ``function_executed`` event Slack would send."""
        execution = f"Fx{uuid.uuid4().hex[:10].upper()}"
        self.executions[execution] = {"state": "running", "outputs": None, "error": None}
        return {
            "type": "function_executed",
            "function": {"id": "Fn0SIGNOFF", "callback_id": callback_id, "title": "Request senior sign-off"},
            "inputs": inputs,
            "function_execution_id": execution,
            "workflow_execution_id": f"Wx{uuid.uuid4().hex[:10].upper()}",
            "event_ts": f"{time.time():.6f}",
            "bot_access_token": f"xwfp-{execution}",
        }

    def _complete(self, args: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
        execution = self.executions.get(str(args.get("function_execution_id", "")))
        if execution is None:
            return {"ok": False, "error": "function_execution_not_found"}
        if execution["state"] != "running":
            return {"ok": False, "error": "execution_not_in_running_state"}
        execution.update(outcome)
        return {"ok": True}

    def _m_functions_completeSuccess(self, args: dict[str, Any]) -> dict[str, Any]:
        outputs = args.get("outputs")
        if not isinstance(outputs, dict):
            return {"ok": False, "error": "invalid_arguments"}
        return self._complete(args, {"state": "completed", "outputs": outputs})

    def _m_functions_completeError(self, args: dict[str, Any]) -> dict[str, Any]:
        error = args.get("error")
        if not isinstance(error, str) or not error:
            return {"ok": False, "error": "invalid_arguments"}
        return self._complete(args, {"state": "failed", "error": error})

    def _missing(self, scope: str) -> dict[str, Any] | None:
        if self.scopes is not None and scope not in self.scopes:
            return {"ok": False, "error": "missing_scope", "needed": scope}
        return None

    def _m_usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        refused = self._missing("usergroups:read")
        if refused:
            return refused
        # As Slack: a disabled group is listed only with include_disabled, its date_delete set.
        with_disabled = str(args.get("include_disabled", "")).lower() in ("1", "true")
        groups = [
            {"id": gid, "handle": g["handle"], "date_delete": 1765000000 if g.get("disabled") else 0}
            for gid, g in self.usergroups.items()
            if with_disabled or not g.get("disabled")
        ]
        return {"ok": True, "usergroups": groups}

    def _m_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        refused = self._missing("usergroups:read")
        if refused:
            return refused
        group = self.usergroups.get(str(args.get("usergroup", "")))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        if group.get("disabled") and str(args.get("include_disabled", "")).lower() not in ("1", "true"):
            return {"ok": True, "users": []}  # a disabled group has no members unless asked to include it
        return {"ok": True, "users": list(group["users"])}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user", ""))
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        name = self.names.get(user)
        profile = {"display_name": name, "real_name": name} if name else {"display_name": "", "real_name": ""}
        return {"ok": True, "user": {"id": user, "deleted": False, "real_name": name or "", "profile": profile}}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("users", ""))
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": f"D{user}"}}

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if self._dm_channel(channel) != channel:
            return {"ok": False, "error": "channel_not_found"}
        found = sorted((m for (ch, _), m in self.messages.items() if ch == channel), key=lambda m: m.ts, reverse=True)
        limit = int(args.get("limit", 100))
        with_meta = str(args.get("include_all_metadata", "")).lower() in ("true", "1")
        out = [
            {"ts": m.ts, "text": m.text, **({"metadata": m.metadata} if with_meta and m.metadata else {})}
            for m in found[:limit]
        ]
        return {"ok": True, "messages": out, "has_more": len(found) > limit}

    def _m_apps_connections_open(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    # --- response_url ----------------------------------------------------
    async def _respond(self, request: web.Request) -> web.Response:
        gate = self.gates.get("response_url")
        if gate is not None:
            await gate.wait()
        body = await request.json()
        url_id = request.match_info["url_id"]
        problem = block_rules.check_message(body) or self._file_problem(body.get("blocks"))
        if problem:  # Slack refuses a response_url message it would refuse from chat.postMessage
            self.calls.append(Call("response_url", body, False, problem.split(":")[0], url_id, problem))
            return web.json_response({"ok": False, "error": problem.split(":")[0]}, status=400)
        self.ephemerals.append(Ephemeral(url_id, str(body.get("text", "")), body, self.next_ts()))
        self.calls.append(Call("response_url", body, True, url_id=url_id))
        await self._notify()
        return web.Response(text="ok")

    # --- Socket Mode -----------------------------------------------------
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        self._socket_ready.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                data = json.loads(msg.data)
                fut = self._socket_acks.pop(str(data.get("envelope_id")), None)
                if fut is not None and not fut.done():
                    fut.set_result(data)
        self._sockets.remove(ws)
        return ws

    async def socket_deliver(self, kind: str, payload: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send one envelope over Socket Mode and return the bot's ack."""
        await asyncio.wait_for(self._socket_ready.wait(), timeout)
        envelope_id = uuid.uuid4().hex
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._socket_acks[envelope_id] = fut
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": True}
        await self._sockets[-1].send_json(envelope)
        return await asyncio.wait_for(fut, timeout)
