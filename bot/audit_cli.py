"""`signoff audit verify` and `signoff audit export`: read the trail straight from SQLite.

They need only DATABASE_URL (not the Slack tokens), so an auditor can run them on a copy.
Verify exits 0 when the chain is intact and 1 naming the first broken row.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import sys
from datetime import UTC, date, datetime
from typing import Any, TextIO

from bot.domain.models import format_ref

# The store is imported where it is used, so that `signoff request` and `signoff status` run
# with the standard library alone (a CI runner installs with --no-deps).

OK, BROKEN, ERROR = 0, 1, 3
EXPORT_FIELDS = ("seq", "at", "actor", "action", "request_id", "reason", "details", "hash")


def _database(arg: str | None) -> str:
    url = arg or os.environ.get("DATABASE_URL") or _dotenv("DATABASE_URL") or "sqlite:///signoff.db"
    path = url.removeprefix("sqlite:///")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no database at {path} (set --database or DATABASE_URL)")
    return path


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


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


def verify(args: argparse.Namespace) -> int:
    from bot.store.audit import COLUMNS, verify_rows

    conn = _connect(_database(args.database))
    try:
        rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM audit ORDER BY seq")
        count, last, broken = verify_rows(rows)
    finally:
        conn.close()
    if broken is not None:
        print(f"audit chain BROKEN at row {broken.seq}: {broken}", file=sys.stderr)
        print(f"{count} row(s) before it verify", file=sys.stderr)
        return BROKEN
    print(f"audit chain intact: {count} row(s), last hash {last}")
    return OK


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a leading ' stops =, +, -, @, tab and CR starting a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _bound(text: str | None, flag: str) -> str | None:
    from bot.store.db import to_db

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
    return to_db(when if when.tzinfo else when.replace(tzinfo=UTC))


def export(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    since, until = _bound(args.since, "--since"), _bound(args.until, "--until")
    where, params = [], []
    if since:
        where.append("at >= ?")
        params.append(since)
    if until:
        where.append("at < ?")
        params.append(until)
    sql = "SELECT seq, at, actor, action, request_id, reason, details, hash FROM audit"
    sql += (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq"
    conn = _connect(_database(args.database))
    try:
        writer = csv.writer(out) if args.format == "csv" else None
        if writer:
            writer.writerow(EXPORT_FIELDS)
        for seq, at, actor, action, request_id, reason, details, digest in conn.execute(sql, params):
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
        conn.close()
    return OK


def run(args: argparse.Namespace) -> int:
    try:
        return verify(args) if args.audit_command == "verify" else export(args)
    except (FileNotFoundError, ValueError, sqlite3.DatabaseError) as exc:
        print(f"signoff: {exc}", file=sys.stderr)
        return ERROR


def add_parser(sub: Any) -> None:
    audit = sub.add_parser("audit", help="verify or export the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--database", help="sqlite:///path or a path (default: $DATABASE_URL, .env, signoff.db)")
    audit_sub.add_parser(
        "verify", parents=[db], help="check the hash chain; exit 0 if intact, 1 naming the first broken row"
    )
    ex = audit_sub.add_parser("export", parents=[db], help="write the trail as CSV or JSON lines")
    ex.add_argument("--since", help="first day (UTC) to include, e.g. 2026-09-01")
    ex.add_argument("--until", help="first day (UTC) to leave out")
    ex.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    audit.set_defaults(run=run)
