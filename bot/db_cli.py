"""`signoff db migrate` and `signoff db copy`: schema and data, without starting the bot.

``migrate`` brings DATABASE_URL's schema up to date (every start does too, under a lock, so
it is for deploy pipelines that migrate before rolling out). ``copy`` moves a deployment,
for example from SQLite to PostgreSQL, and verifies the audit chain on the target.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.audit_cli import database_url, run_tool

OK, FAILED, ERROR = 0, 1, 3


async def _migrate(url: str) -> int:
    from bot.store import store_for

    store = store_for(url)
    await store.open()  # opening migrates, under the backend's lock
    await store.close()
    print(f"signoff: the {store.kind} schema is up to date")
    return OK


async def _copy(source_url: str, target_url: str) -> int:
    from bot.services.audit_sequencer import seal_audit
    from bot.store import store_for
    from bot.store.copy import copy_database

    source, target = store_for(source_url, tool=True), store_for(target_url)
    await source.open()
    try:
        await target.open()
        try:
            copied = await copy_database(
                source, target, lambda table, n: print(f"  {table:<15} {n:>9} rows"), then=seal_audit
            )
        finally:
            await target.close()
    finally:
        await source.close()
    if copied.audit_break is not None:
        print(
            f"signoff: copied, but the audit chain does not verify on the target: {copied.audit_break}", file=sys.stderr
        )
        return FAILED
    print(
        f"signoff: copied {sum(copied.rows.values())} rows; audit chain intact on the target ({copied.audit_rows} rows)"
    )
    return OK


def run(args: argparse.Namespace) -> int:
    from bot.domain.errors import ConfigurationError
    from bot.store.urls import check_url

    async def work() -> int:
        if args.db_command == "migrate":
            url = database_url(args.database)
            check_url(url)
            return await _migrate(url)
        source, target = database_url(args.source), database_url(args.target)
        for flag, url in (("--from", source), ("--to", target)):
            try:
                check_url(url)
            except ValueError as exc:
                raise ConfigurationError(flag, str(exc)) from None
        if source == target:
            raise ConfigurationError("--to", "is the same database as --from")
        return await _copy(source, target)

    return run_tool(work)


def add_parser(sub: Any) -> None:
    db = sub.add_parser("db", help="migrate the schema, or copy a deployment to another database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    migrate = db_sub.add_parser("migrate", help="bring the schema of DATABASE_URL (or --database) up to date")
    migrate.add_argument("--database", help="sqlite:///path or postgresql://... (default: $DATABASE_URL, .env)")
    copy = db_sub.add_parser("copy", help="copy everything, audit chain included, into an empty database")
    copy.add_argument("--from", dest="source", required=True, help="e.g. sqlite:///signoff.db")
    copy.add_argument("--to", dest="target", required=True, help="e.g. postgresql://signoff@db.internal/signoff")
    db.set_defaults(run=run)
