"""`signoff sandbox`: the whole bot in one process, with a local stand-in for Slack and a page.

Nothing is read from the environment or ``.env``: every setting is given here, so a real
deployment cannot fall into sandbox mode by a missing setting, and the sandbox can never
talk to the real Slack (its Web API URL is the stand-in on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import shlex
import shutil
import signal
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bot.sandbox.demo import PEOPLE, ROSTER, SUMMARY_CHANNEL, Person
from bot.sandbox.driver import SlackDriver
from bot.sandbox.github_standin import GitHubStandIn
from bot.sandbox.slack_standin import APP_TOKEN, BOT_TOKEN, SlackStandIn
from bot.sandbox.web import DEPLOY_REPO, Sandbox, sandbox_errors

log = logging.getLogger(__name__)


def run(args: argparse.Namespace) -> int:
    from bot.domain.errors import ConfigurationError

    try:
        folder = Path(args.dir).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        if not args.keep:
            _start_fresh(folder)
        roster_file = Path(args.roster).resolve() if args.roster else folder / "roster.yml"
        if not args.roster:
            roster_file.write_text(ROSTER, encoding="utf-8")
        people = _people(roster_file if args.roster else None)
        if args.port and not _port_free(args.host, args.port):
            print(
                f"signoff: cannot start the sandbox: port {args.port} is already in use; pass another with --port, "
                "or --port 0 for a free one",
                file=sys.stderr,
            )
            return 3
        return asyncio.run(_serve(args, folder, roster_file, people))
    except ConfigurationError as err:
        print(f"signoff: configuration error: {err.message}", file=sys.stderr)
        return 3
    except OSError as err:
        print(f"signoff: cannot start the sandbox: {err}", file=sys.stderr)
        return 3


STATE_FILES = ("signoff.db", "signoff.db-wal", "signoff.db-shm", "policy-start")


def _start_fresh(folder: Path) -> None:
    """Only the files the sandbox itself writes go; anything else in the folder stays."""
    for name in STATE_FILES:
        (folder / name).unlink(missing_ok=True)


def _policy_start(folder: Path) -> datetime:
    """Yesterday on a fresh start; with --keep, the start of the kept run, so an ended policy stays ended."""
    saved = folder / "policy-start"
    with contextlib.suppress(OSError, ValueError):
        return datetime.fromisoformat(saved.read_text(encoding="utf-8").strip())
    start = datetime.now(UTC) - timedelta(days=1)
    saved.write_text(start.isoformat(), encoding="utf-8")
    return start


def _signoff_command() -> str:
    """The full path of the installed `signoff`, so the sample command runs as printed."""
    beside = Path(sys.executable).parent / "signoff"
    found = str(beside) if beside.exists() else shutil.which("signoff")
    return shlex.quote(found) if found else f"{shlex.quote(sys.executable)} -m bot"


def _port_free(host: str, port: int) -> bool:
    """Whether the page could listen there (as the bot will: SO_REUSEADDR, so TIME_WAIT is free)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _people(roster_file: Path | None) -> tuple[Person, ...]:
    if roster_file is None:
        return PEOPLE
    from bot.roster import load_roster

    roster = load_roster(roster_file)
    people = [
        Person(e.user, e.user, f"{e.level.value}{', ' + e.team if e.team else ''}", e.email, e.github)
        for e in roster.engineers.values()
    ]
    people += [Person(a, a, "admin") for a in sorted(roster.admins) if a not in roster.engineers]
    return (*people, Person("U0GUEST", "Guest", "not on the roster"))


async def _serve(args: argparse.Namespace, folder: Path, roster_file: Path, people: tuple[Person, ...]) -> int:
    from bot import logging_setup
    from bot.app import build
    from bot.clock import ShiftedClock
    from bot.config import load_settings

    port = args.port or _free_port(args.host)
    signing_secret = secrets.token_hex(16)
    api_token = "sandbox-" + secrets.token_hex(16)

    slack = SlackStandIn(users=[p.user for p in people], channels=[SUMMARY_CHANNEL])
    for person in people:
        slack.names[person.user] = person.name
        if person.email:
            slack.add_email(person.email, person.user)
    await slack.start()
    github = GitHubStandIn()
    github.repos = {DEPLOY_REPO: 1}
    await github.start()
    settings = load_settings(
        _env_file=None,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_APP_TOKEN=None,
        SLACK_API_URL=slack.api_url,
        HOST=args.host,
        PORT=port,
        DATABASE_URL=f"sqlite:///{folder / 'signoff.db'}",
        ROSTER_FILE=str(roster_file),
        SUMMARY_CHANNEL=SUMMARY_CHANNEL,
        POLICY_START=_policy_start(folder).isoformat(),
        POLICY_DAYS=90,
        TIMEZONE="UTC",
        LOG_LEVEL="INFO",
        API_TOKENS=f"sandbox:{api_token}",
        REMINDER_AFTER="4h",
        ESCALATE_AFTER="24h",
        SUMMARY_CRON="0 9 * * 1-5",
        **github.settings(),
    )
    logging_setup.configure(settings.log_level, [signing_secret, BOT_TOKEN, APP_TOKEN])
    clock = ShiftedClock()
    slack.wall = lambda: clock.now().timestamp()  # as in Slack, a message's time and the bot's clock agree
    bot = build(settings, clock=clock)
    session = aiohttp.ClientSession()
    address = f"http://{'localhost' if args.host in ('127.0.0.1', '0.0.0.0') else args.host}:{port}"
    driver = SlackDriver(f"http://127.0.0.1:{port}", slack, session, signing_secret)
    # Not destructive, so one senior is asked; a destructive change (the default when unsaid) asks two.
    pipeline = (
        f"{_signoff_command()} request \\\n"
        f'  --title "Add an index to the orders table" --url https://example.com/pr/42 \\\n'
        f"  --requester june@demo.example --ai-assisted --not-destructive \\\n"
        f"  --wait --timeout 10m --server {address} \\\n"
        f"  --token {api_token}"
    )
    sandbox = Sandbox(slack, driver, people, SUMMARY_CHANNEL, pipeline, bot, clock, github)
    sandbox.register(bot.http_app)
    bot.http_app.middlewares.append(sandbox_errors)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await bot.start()
        print(f"signoff sandbox: open {address}/ in a browser (Ctrl-C stops it)", flush=True)
        kept = "kept from the last run (Slack's side starts empty)" if args.keep else "fresh; --keep keeps it next time"
        print(f"  state: {folder / 'signoff.db'} ({kept})", flush=True)
        print(f"  pipeline token: {api_token}", flush=True)
        await stop.wait()
    finally:
        await bot.stop()
        await session.close()
        await slack.stop()
        await github.stop()
    return 0
