"""Command line: `signoff serve` runs the bot; `sandbox` tries it locally; `request` and `status` gate a
deploy; `audit` checks the trail; `db` migrates and copies."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from urllib.parse import urlsplit

from bot import __version__, audit_cli, db_cli
from bot.gate import hook
from bot.gate.commands import add_parsers

EXIT_CONFIG = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # Usage errors exit 3, like every other configuration problem of the gate.
        self.print_usage(sys.stderr)
        self.exit(EXIT_CONFIG, f"{self.prog}: error: {message}\n")


def _sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox.run import run  # the bot's dependencies load only for the sandbox

    return run(args)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="signoff", description="Senior sign-off on AI-assisted production changes.")
    parser.add_argument("--version", action="version", version=f"signoff {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = sub.add_parser(
        "serve",
        help="run the Slack bot (HTTP mode, or Socket Mode when SLACK_APP_TOKEN is set)",
        description="Run the Slack bot: HTTP mode (POST /slack/events), or Socket Mode when SLACK_APP_TOKEN is set.",
        epilog="Settings come from the environment, or a .env file in the current folder (start from "
        ".env.example). Required: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, ROSTER_FILE, SUMMARY_CHANNEL. "
        "Often set: DATABASE_URL (default sqlite:///signoff.db; postgresql://… for replicas), PORT (3000), "
        "API_TOKENS, GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET, OIDC_ISSUERS with "
        "OIDC_ALLOW. Every setting is in docs/configuration.md. A missing or wrong one stops the start with one "
        "line naming it (exit code 3).",
    )
    serve.set_defaults(run=None)
    add_parsers(sub)
    hook.add_parser(sub)
    audit_cli.add_parser(sub)
    db_cli.add_parser(sub)
    sandbox = sub.add_parser(
        "sandbox",
        help="try signoff in a browser: the bot, a local stand-in for Slack and a page; no workspace, no settings",
    )
    sandbox.add_argument("--port", type=int, default=3000, help="the page's port (default 3000; 0 picks a free one)")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sandbox.add_argument("--dir", default="signoff-sandbox", help="folder for its database (default ./signoff-sandbox)")
    sandbox.add_argument("--roster", help="a roster file to use instead of the built-in demo people")
    sandbox.add_argument(
        "--keep", action="store_true", help="keep the requests of the last run (by default each run starts fresh)"
    )
    sandbox.set_defaults(run=_sandbox)
    return parser


OPEN_FILES_WANTED = 16_384  # thousands of pipelines long-polling at once, each a connection


def raise_open_file_limit() -> None:
    """Raise the soft open-file limit toward the hard one when it is too low for many waiters."""
    import logging
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = OPEN_FILES_WANTED if hard == resource.RLIM_INFINITY else min(OPEN_FILES_WANTED, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        logging.getLogger("bot").info("raised the open-file limit from %d to %d (for many long-polls)", soft, want)


async def _serve() -> int:
    from bot import logging_setup
    from bot.app import build
    from bot.config import load_settings

    settings = load_settings()
    secrets = [settings.slack_bot_token.get_secret_value(), settings.slack_signing_secret.get_secret_value()]
    if settings.slack_app_token is not None:
        secrets.append(settings.slack_app_token.get_secret_value())
    secrets += list(settings.api_token_map.values())
    secrets.append(urlsplit(settings.database).password or "")  # a PostgreSQL URL may carry a password
    logging_setup.configure(settings.log_level, secrets, settings.log_format)
    raise_open_file_limit()
    # Signals work from the first moment, also while the start waits on Slack or the database.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    bot = build(settings)
    starting = asyncio.create_task(bot.start(), name="start")
    stopping = asyncio.create_task(stop.wait(), name="wait for a signal")
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()  # start() releases what it opened when cancelled
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        return 0
    starting.result()  # a failed start raises here; start() already released everything
    try:
        await stopping
    finally:
        await bot.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    from bot.domain.errors import ConfigurationError

    parser = _parser()
    if not (sys.argv[1:] if argv is None else argv):  # `signoff` alone: what it can do
        parser.print_help(sys.stderr)
        return EXIT_CONFIG
    args = parser.parse_args(argv)
    if args.run is not None:
        try:
            return int(args.run(args))
        except KeyboardInterrupt:
            print("signoff: interrupted", file=sys.stderr)
            return EXIT_CONFIG
        except Exception as exc:  # exit 1 means "denied" to a pipeline; anything unforeseen is 3
            print(f"signoff: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_CONFIG
    try:
        return asyncio.run(_serve())
    except ConfigurationError as err:
        print(f"signoff: configuration error: {err.message}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as err:
        print(f"signoff: cannot start: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were installed
        return 130
