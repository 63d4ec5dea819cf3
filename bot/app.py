"""The composition root: build(settings) wires settings, store, Slack client and clock."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.admission import Admission
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.domain.errors import ConfigurationError, StorageFailure
from bot.github.api import GitHubApp
from bot.github.worker import DeploymentWorker
from bot.http.api import PipelineApi
from bot.http.auth import ApiTokens
from bot.http.github_webhook import GithubWebhook
from bot.http.long_poll import ChangeFeed
from bot.http.oidc import OidcVerifier, parse_allow, parse_issuers
from bot.http.server import build_web_app
from bot.metrics import Metrics
from bot.roster import RosterSource
from bot.scheduler import Scheduler
from bot.services import policy_state
from bot.services.audit_sequencer import AuditSequencer
from bot.services.bad_tokens import BadTokenLog
from bot.services.deps import Deps
from bot.services.group_membership import GroupMembership
from bot.services.names import NameBook
from bot.services.replicas import ReplicaRegistry, replica_id
from bot.services.review_timers import reviews_follow_roster
from bot.services.reviewer_load import fold_reviewer_load
from bot.slack.acks_first import AckPriority
from bot.slack.bolt_app import build_bolt_app, slack_handler
from bot.slack.busy import Responder
from bot.slack.client import interactive_client, outbox_client, slack_error
from bot.slack.directory import SlackDirectory
from bot.slack.listeners import ListenerParts
from bot.slack.outbox_worker import OutboxWorker
from bot.slack.renderers import OutboxRenderer, Rendering
from bot.slack.socket_mode import CheckedSocketModeHandler
from bot.slack.usergroups import SlackUserGroups
from bot.store import store_for
from bot.store.executor import Changes
from bot.store.unit_of_work import Store
from bot.tasks import Background, Signal

log = logging.getLogger(__name__)
HTTP_BACKLOG = 1024
IDLE_CONNECTION_SECONDS = 15.0  # idle or never-finished connections are closed after this
# The placeholder people of roster.example.yml: a roster copied unchanged still names them.
EXAMPLE_PEOPLE = frozenset({"U0ADMIN1", "U0JUNIOR1", "U0MID1", "U0SENIOR1", "U0STAFF1"})
TOKEN_CHECK_FIRST_SECONDS = 1.0  # Slack out of reach at start: asked again after 1 s, 2 s, 4 s … 60 s
TOKEN_CHECK_MAX_SECONDS = 60.0
BAD_TOKEN_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}


@dataclass
class Signoff:
    """The running parts of one bot process."""

    settings: Settings
    clock: Clock
    store: Store
    deps: Deps
    client: AsyncWebClient
    bolt: AsyncApp
    outbox: OutboxWorker
    scheduler: Scheduler
    background: Background
    http_app: web.Application
    identity: dict[str, str | None]
    bad_tokens: BadTokenLog
    api: PipelineApi
    groups: GroupMembership
    replicas: ReplicaRegistry
    feed: ChangeFeed
    admission: Admission
    sequencer: AuditSequencer
    deployments: DeploymentWorker | None = None  # GitHub's held deployments, when the App is set up
    _groups_task: asyncio.Task[None] | None = None
    _beat_task: asyncio.Task[None] | None = None
    _watch_task: asyncio.Task[None] | None = None
    _seal_task: asyncio.Task[None] | None = None
    _runner: web.AppRunner | None = None
    slack_state: str = "ok"  # "ok" once Slack took SLACK_BOT_TOKEN; else why not (for /readyz)
    _slack_check: asyncio.Task[None] | None = None
    _socket: CheckedSocketModeHandler | None = None
    _socket_task: asyncio.Task[None] | None = None
    _http: aiohttp.ClientSession | None = None
    port: int = 0

    @property
    def http_session(self) -> aiohttp.ClientSession | None:
        """The keep-alive session outgoing calls share, while the process runs."""
        return self._http

    async def start(self) -> None:
        """Start every part; on any failure, release what was opened and raise.

        A failed start is a ConfigurationError naming the setting to fix; the caller
        (``signoff serve``) prints it on one line and exits 3."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        # One keep-alive HTTP session for every Web API call (slack_sdk opens one per call otherwise).
        self._http = aiohttp.ClientSession()
        self.client.session = self._http
        self.outbox.client.session = self._http
        self.admission.start()
        await self.store.open()
        await policy_state.initialise(
            self.store,
            self.settings.policy_start,
            self.settings.policy_days,
            self.clock.now(),
            welcome_channel=self.settings.summary_channel,
        )
        await self._check_token()
        # Before serving: every routing reads the ledger not yet folded, so a long one (a bulk
        # import, a long stop) is folded first, not while every request pays for reading it.
        await fold_reviewer_load(self.store)
        await self.replicas.beat()
        await self.groups.load()  # what the other replicas know, even if Slack does not answer now
        if await self.groups.refresh():
            await reviews_follow_roster(self.deps)
        roster = self.deps.roster()
        examples = sorted(EXAMPLE_PEOPLE & {*roster.engineers, *roster.admins})
        if examples:
            log.warning(
                "ROSTER_FILE %s still lists the example people of roster.example.yml (%s): replace them with your "
                "team's Slack user IDs",
                self.settings.roster_file,
                ", ".join(examples),
            )
        self.api.names.learn([*roster.engineers, *roster.admins])  # so the first answers name people
        self._groups_task = asyncio.create_task(
            self.groups.keep_current(lambda: reviews_follow_roster(self.deps)), name="roster groups"
        )
        self._beat_task = asyncio.create_task(self.replicas.keep_beating(), name="replica heartbeat")
        self._watch_task = asyncio.create_task(self.feed.watch(self.store), name="long-poll watch")
        self._seal_task = asyncio.create_task(self.sequencer.run(), name="audit sequencer")
        if self.settings.slack_app_token is not None:
            await self._check_app_token(self.settings.slack_app_token.get_secret_value())
        await self.outbox.start()
        if self.deployments is not None:
            await self.deployments.start()
        await self.scheduler.start()
        self._runner = web.AppRunner(
            self.http_app, access_log=None, handler_cancellation=True, keepalive_timeout=IDLE_CONNECTION_SECONDS
        )
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.settings.host, self.settings.port, backlog=HTTP_BACKLOG, reuse_address=True
        )
        try:
            await site.start()
        except OSError as exc:
            raise ConfigurationError(
                "PORT",
                f"cannot listen on {self.settings.host}:{self.settings.port} "
                f"({'the port is already in use' if exc.errno == errno.EADDRINUSE else exc.strerror}); "
                "stop the other process or choose another PORT.",
            ) from None
        self.port = self._runner.addresses[0][1] if self._runner.addresses else self.settings.port
        if self.settings.socket_mode:
            self._start_socket_mode()
        mode = "Socket Mode" if self.settings.socket_mode else "HTTP mode (POST /slack/events)"
        log.info("signoff is up in %s on port %d", mode, self.port)

    async def _check_token(self) -> None:
        """A token Slack refuses stops the start. Slack out of reach does not (decisions still
        work, messages wait in the outbox), but the process is not ready until Slack has taken
        the token once: /readyz says why, and the check runs again with backoff."""
        problem = await self._auth_test()
        if problem is None:
            return
        refused, reason = problem
        if refused:
            raise ConfigurationError(
                "SLACK_BOT_TOKEN", f"Slack refused the token ({reason}); copy the Bot User OAuth Token again."
            )
        self.slack_state = f"not ready: Slack could not be reached to check SLACK_BOT_TOKEN ({reason})"
        log.warning("%s; starting anyway, not ready until it answers; messages wait in the outbox", self.slack_state)
        self._slack_check = asyncio.create_task(self._check_token_again(), name="slack token check")

    async def _auth_test(self) -> tuple[bool, str] | None:
        """None when Slack took the token; else (whether Slack refused it, why)."""
        try:
            resp = await self.client.auth_test()
        except SlackApiError as err:
            error = slack_error(err)
            return error in BAD_TOKEN_ERRORS, error or str(err)
        except Exception as exc:  # Slack unreachable
            return False, type(exc).__name__ if not str(exc) else str(exc)[:200]
        self.identity.update(team_id=resp.get("team_id"), user_id=resp.get("user_id"), bot_id=resp.get("bot_id"))
        return None

    async def _check_token_again(self) -> None:
        delay = TOKEN_CHECK_FIRST_SECONDS
        while True:
            await asyncio.sleep(delay)
            problem = await self._auth_test()
            if problem is None:
                self.slack_state = "ok"
                log.info("Slack took SLACK_BOT_TOKEN; ready")
                return
            refused, reason = problem
            if refused:
                self.slack_state = (
                    f"not ready: Slack refused SLACK_BOT_TOKEN ({reason}); copy the Bot User OAuth Token again"
                )
                log.error("%s", self.slack_state)
                return
            delay = min(TOKEN_CHECK_MAX_SECONDS, delay * 2)

    async def _check_app_token(self, app_token: str) -> None:
        """A refused app token is a configuration error; Slack being down is not (we keep trying)."""
        try:
            await self.client.apps_connections_open(app_token=app_token)
        except SlackApiError as err:
            error = slack_error(err)
            if error in BAD_TOKEN_ERRORS:
                raise ConfigurationError(
                    "SLACK_APP_TOKEN",
                    f"Slack refused the app-level token ({error}); create one with connections:write again.",
                ) from None
            log.warning("apps.connections.open failed (%s); Socket Mode keeps trying", error or err)
        except Exception as exc:
            log.warning("Slack is unreachable at start (%s); Socket Mode keeps trying", exc)

    def _start_socket_mode(self) -> None:
        assert self.settings.slack_app_token is not None
        handler = CheckedSocketModeHandler(
            self.bolt,
            self.settings.slack_app_token.get_secret_value(),
            self.outbox.priority,
            self.deps.metrics,
            self.admission,
        )
        handler.responder = Responder(self.background, lambda: self.client.session, self.outbox.priority)
        self._socket = handler
        # Connecting retries until Slack answers; it runs beside the server so a signal can stop it.
        self._socket_task = asyncio.create_task(handler.connect_async(), name="socket mode connect")  # type: ignore[no-untyped-call]

    async def readiness(self) -> dict[str, object]:
        """What /readyz reports: database and socket_mode decide readiness; the rest is detail."""
        problem = await self.store.writable()
        state: dict[str, object] = {"database": "ok" if problem is None else problem, "slack": self.slack_state}
        if self.groups.problem is not None:
            state["roster_groups"] = self.groups.problem
        if problem is None:
            agreement = await self.replicas.agreement()
            state["roster"] = {"digest": agreement.mine, "replicas": agreement.replicas, "agree": agreement.agree}
        if self._socket is not None:
            connected = await self._socket.client.is_connected()
            state["socket_mode"] = "connected" if connected else "not connected"
        return state

    async def scrape(self) -> bytes:
        """/metrics: the shared state (backlog, days left) is read now, so every replica reports it."""
        now = self.clock.now()
        metrics = self.deps.metrics
        metrics.long_polls.set(self.feed.waiting)
        try:
            async with self.store.read() as r:
                backlog, oldest = await r.outbox.backlog()
                window = await policy_state.window_in(r)
                unsealed = await r.audit.oldest_unsealed()
        except StorageFailure:
            log.warning("metrics: the database could not be read; reporting counters only")
        else:
            metrics.outbox_backlog.set(backlog)
            metrics.outbox_oldest.set((now - oldest).total_seconds() if oldest else 0)
            metrics.policy_days_left.set(max(0.0, (window.end - now).total_seconds() / 86400))
            metrics.audit_unsealed.set(max(0.0, (now - unsealed).total_seconds()) if unsealed else 0)
        return metrics.render()

    async def stop(self) -> None:
        """Release everything; safe after a partial start and safe to call twice."""
        if self._slack_check is not None:
            self._slack_check.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._slack_check
            self._slack_check = None
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watch_task
            self._watch_task = None
        for task in (self._groups_task, self._beat_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._groups_task = self._beat_task = None
        if self._socket_task is not None:
            self._socket_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._socket_task
            self._socket_task = None
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._runner is not None:
            # Drain: stop taking connections, answer long-polls with what they have, and let
            # every request in flight finish before the store closes.
            self.feed.close()
            await self._runner.cleanup()
            self._runner = None
        await self.scheduler.stop()
        if self.deployments is not None:
            await self.deployments.stop()
        await self.background.close()
        await self.outbox.stop()
        with contextlib.suppress(Exception):  # counts of refused calls still held in memory
            await self.bad_tokens.flush()
        with contextlib.suppress(Exception):  # the others need not wait out its heartbeat
            await self.replicas.leave()
        if self._seal_task is not None:  # the rows written until now are sealed before the store closes
            self._seal_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._seal_task
            self._seal_task = None
            with contextlib.suppress(Exception):
                await self.sequencer.turn()
        await self.store.close()
        await self.admission.stop()
        if self._http is not None:
            await self._http.close()
            self._http = None


def build(settings: Settings, clock: Clock | None = None) -> Signoff:
    clock = clock or SystemClock()
    roster = RosterSource(settings.roster_file)
    metrics = Metrics()
    client = interactive_client(settings, metrics)
    store = store_for(settings.database)
    store.use_clock(clock)
    groups = GroupMembership(store, clock, roster.current, SlackUserGroups(client))
    me = replica_id()
    replicas = ReplicaRegistry(store, clock, roster.current, me)
    policy_moved = Signal()
    deps = Deps(
        store=store,
        roster=groups.current,
        clock=clock,
        summary_channel=settings.summary_channel,
        policy_changed=policy_moved.fire,
        metrics=metrics,
        destructive_approvals=settings.destructive_approvals,
        approval_valid_for=settings.approval_valid_for,
        request_ttl=settings.request_ttl,
        break_glass_limit=settings.break_glass_limit,
    )
    scheduler = Scheduler(
        deps,
        settings.summary_cron,
        settings.timezone,
        settings.reminder_after,
        settings.escalate_after,
        settings.sweep_every,
    )
    policy_moved.connect(scheduler.policy_changed)
    renderer = OutboxRenderer(Rendering(deps, settings.tz, settings.reminder_after, settings.escalate_after))
    worker = OutboxWorker(store, outbox_client(settings, metrics), clock, renderer, AckPriority())
    feed = ChangeFeed()
    held: list[DeploymentWorker] = []  # the GitHub worker, once built below

    def committed(changes: Changes) -> None:
        if changes.notices:
            worker.wake()
        if changes.all_requests:
            feed.notify_all()
        for request_id in changes.requests:
            feed.notify(request_id)
        if held and (changes.requests or changes.all_requests):
            held[0].wake()  # a request that ended may have a deployment to answer

    store.subscribe(committed)
    store.on_retry(lambda reason: metrics.store_retries.labels(reason=reason).inc())
    admission = Admission(metrics)
    store.on_wait(admission.delayed)
    background = Background()
    identity: dict[str, str | None] = {}
    listener_parts = ListenerParts(
        deps=deps, background=background, client=client, tz=settings.tz, groups=groups, replicas=replicas
    )
    secret = settings.slack_signing_secret.get_secret_value()
    responder = Responder(background, lambda: client.session, worker.priority)
    bolt = build_bolt_app(secret, client, identity, listener_parts, responder.tell)
    slack = (
        None
        if settings.socket_mode
        else slack_handler(bolt, secret, worker.priority, metrics, admission, responder.tell_busy)
    )
    bad_tokens = BadTokenLog(deps)
    directory = SlackDirectory(client)
    names = NameBook(store, clock, directory, background)
    oidc = OidcVerifier(parse_issuers(settings.oidc_issuers), parse_allow(settings.oidc_allow))
    api = PipelineApi(deps, ApiTokens(settings.api_token_map), directory, feed, bad_tokens, admission, names, oidc)
    parts: list[Signoff] = []  # /readyz asks the running parts, which exist once build returns
    routes = [api.register]
    if settings.github_enabled:
        assert settings.github_app_id is not None and settings.github_app_private_key is not None
        assert settings.github_webhook_secret is not None
        github = GitHubApp(
            settings.github_app_id,
            settings.github_app_private_key.get_secret_value(),
            settings.github_api_url,
            lambda: parts[0].http_session if parts else None,
        )
        held.append(DeploymentWorker(deps, github, names, me, clock, settings.github_sweep_every))
        webhook = GithubWebhook(
            deps,
            settings.github_webhook_secret.get_secret_value().encode(),
            settings.github_api_url,
            held[0].wake,
            bad_tokens,
            admission,
        )
        routes.append(webhook.register)

    def register(app: web.Application) -> None:
        for add in routes:
            add(app)

    async def readiness() -> dict[str, object]:
        return await parts[0].readiness()

    async def scrape() -> bytes:
        return await parts[0].scrape()

    web_app = build_web_app(store, "socket" if settings.socket_mode else "http", slack, register, readiness, scrape)
    signoff = Signoff(
        settings=settings,
        clock=clock,
        store=store,
        deps=deps,
        client=client,
        bolt=bolt,
        outbox=worker,
        scheduler=scheduler,
        background=background,
        http_app=web_app,
        identity=identity,
        bad_tokens=bad_tokens,
        api=api,
        groups=groups,
        replicas=replicas,
        feed=feed,
        admission=admission,
        sequencer=AuditSequencer(store),
        deployments=held[0] if held else None,
    )
    parts.append(signoff)
    return signoff
