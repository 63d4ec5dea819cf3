"""`signoff audit verify` and `signoff audit export`: read the trail from either backend.

They need only DATABASE_URL (not the Slack tokens), so an auditor can run them on a copy;
a SQLite file is opened read-only. Verify checks every sealed row, and every row written but
not yet sealed against its own row hash; it exits 0 when the trail is intact (saying how many
rows wait to be sealed, and since when) and 1 naming the first broken row. Export writes the
sealed rows.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from typing import Any, TextIO

from bot.domain.models import format_ref
from bot.domain.words import count

# The store is imported where it is used, so that `signoff request` and `signoff status` run
# with the standard library alone (a CI runner installs with --no-deps).

OK, BROKEN, ERROR = 0, 1, 3
EXPORT_FIELDS = ("seq", "at", "actor", "action", "request_id", "reason", "details", "hash")


def database_url(arg: str | None) -> str:
    """--database, else DATABASE_URL, else .env, else sqlite:///signoff.db; a bare path means SQLite."""
    url = arg or os.environ.get("DATABASE_URL") or _dotenv("DATABASE_URL") or "sqlite:///signoff.db"
    return url if "://" in url else f"sqlite:///{url}"


def _dotenv(key: str) -> str | None:
    try:
        with open(".env", encoding="utf-8") as f:
            for line in f:
                name, sep, value = line.strip().partition("=")
                if sep and name.strip() == key and value.strip():
                    return value.strip().strip("'\"")
    except OSError:
        return None
    return None


async def _verify(url: str) -> int:
    from bot.store import store_for

    store = store_for(url, tool=True)
    await store.open()
    try:
        async with store.read(snapshot=True) as r:
            check = await r.audit.check()
            waiting = await r.audit.unsealed()
    finally:
        await store.close()
    if check.broken is not None:
        print(f"audit chain BROKEN at row {check.broken.seq}: {check.broken}", file=sys.stderr)
        print(f"{count(check.count, 'row')} before it verify", file=sys.stderr)
        return BROKEN
    if waiting.changed is not None:
        print(
            f"audit trail BROKEN: row {waiting.changed}, written but not yet sealed into the chain, was changed"
            " (its contents do not match its row hash); nothing after it is sealed",
            file=sys.stderr,
        )
        return BROKEN
    print(f"audit chain intact: {count(check.count, 'row')}, last hash {check.last}")
    if waiting.rows and waiting.oldest is not None:
        age = max(0.0, (datetime.now(UTC) - waiting.oldest).total_seconds())
        print(
            f"{count(waiting.rows, 'row')} written but not yet sealed into the chain (the oldest {age:.0f} s ago);"
            " a running signoff seals them within a second"
        )
    return OK


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a leading ' stops =, +, -, @, tab and CR starting a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _bound(text: str | None, flag: str) -> datetime | None:
    if not text:
        return None
    try:
        when = (
            datetime.fromisoformat(text)
            if "T" in text
            else datetime.combine(date.fromisoformat(text), datetime.min.time())
        )
    except ValueError:
        raise ValueError(f"{flag} {text!r} is not a date (2026-11-27) or an ISO datetime") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def _export(url: str, args: argparse.Namespace, out: TextIO) -> int:
    from bot.store import store_for

    since, until = _bound(args.since, "--since"), _bound(args.until, "--until")
    store = store_for(url, tool=True)
    await store.open()
    try:
        writer = csv.writer(out) if args.format == "csv" else None
        if writer:
            writer.writerow(EXPORT_FIELDS)
        async with store.read(snapshot=True) as r:
            async for seq, at, actor, action, request_id, reason, details, _prev, digest in r.audit.rows(since, until):
                row: dict[str, Any] = {
                    "seq": seq,
                    "at": at,
                    "actor": actor,
                    "action": action,
                    "request_id": format_ref(request_id) if request_id is not None else None,
                    "reason": reason,
                    "details": json.loads(details),
                    "hash": digest,
                }
                if writer:
                    writer.writerow([spreadsheet_safe(row[k] if k != "details" else details) for k in EXPORT_FIELDS])
                else:
                    out.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")
    finally:
        await store.close()
    return OK


def run_tool(work: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run a database tool; what is wrong with its input or the database is one line and exit 3."""
    from bot.domain.errors import ConfigurationError, StorageFailure

    try:
        return asyncio.run(work())
    except ConfigurationError as err:
        print(f"signoff: {err.message}", file=sys.stderr)
        return ERROR
    except (ValueError, StorageFailure) as exc:
        print(f"signoff: {exc}", file=sys.stderr)
        return ERROR


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    async def work() -> int:
        url = database_url(args.database)
        return await (_verify(url) if args.audit_command == "verify" else _export(url, args, out))

    return run_tool(work)


def add_parser(sub: Any) -> None:
    audit = sub.add_parser("audit", help="verify or export the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument(
        "--database", help="sqlite:///path, a path, or postgresql://... (default: $DATABASE_URL, .env, signoff.db)"
    )
    audit_sub.add_parser(
        "verify", parents=[db], help="check the hash chain; exit 0 if intact, 1 naming the first broken row"
    )
    ex = audit_sub.add_parser("export", parents=[db], help="write the trail as CSV or JSON lines")
    ex.add_argument("--since", help="first day (UTC) to include, e.g. 2026-09-01")
    ex.add_argument("--until", help="first day (UTC) to leave out")
    ex.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    audit.set_defaults(run=run)
