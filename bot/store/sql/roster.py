"""The shared roster's parts: the user groups' members as last read from Slack, and the replicas
that are running with the digest of the roster file each one reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.domain.timestamps import from_utc_text, opt_from_utc_text, utc_text
from bot.store.executor import Executor

VERSION = "group_members_version"  # meta: bumped by every change of any group's members


@dataclass(frozen=True)
class StoredGroup:
    members: tuple[str, ...]
    refreshed_at: datetime | None
    problem: str | None  # why the last read failed; None when it worked
    told_admins: bool


@dataclass(frozen=True)
class Replica:
    id: str
    host: str
    started_at: datetime
    seen_at: datetime
    roster_digest: str


class GroupMembers:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    async def version(self) -> int:
        row = await self._ex.one("SELECT value FROM meta WHERE key = ?", (VERSION,))
        return int(row["value"]) if row else 0

    async def all(self) -> dict[str, StoredGroup]:
        rows = await self._ex.many(
            "SELECT usergroup, members, refreshed_at, problem, told_admins FROM group_members ORDER BY usergroup"
        )
        return {
            str(r["usergroup"]): StoredGroup(
                tuple(json.loads(r["members"])),
                opt_from_utc_text(r["refreshed_at"]),
                r["problem"],
                bool(r["told_admins"]),
            )
            for r in rows
        }

    async def read_ok(self, group: str, members: tuple[str, ...], now: datetime) -> bool:
        """Slack answered for ``group``: store its members. True when that changed what replicas
        hold (its members, or a problem it had), so the shared version moves."""
        changed, _tell = await self._read(group, members, now, None)
        return changed

    async def read_failed(self, group: str, problem: str) -> bool:
        """Slack did not answer for ``group``: its last good members stay and ``problem`` says why.
        True when the admins have not been told of a problem with it yet (they are told once,
        until the group reads again)."""
        row = await self._ex.one(
            "SELECT problem, told_admins FROM group_members WHERE usergroup = ? FOR UPDATE", (group,)
        )
        await self._ex.send(
            "INSERT INTO group_members (usergroup, problem, told_admins) VALUES (?, ?, 1)"
            " ON CONFLICT (usergroup) DO UPDATE SET problem = excluded.problem, told_admins = 1",
            (group, problem),
        )
        if row is None or row["problem"] != problem:
            await self._bump()
        return row is None or not row["told_admins"]

    async def read_gone(self, group: str, members: tuple[str, ...], problem: str, now: datetime) -> tuple[bool, bool]:
        """Slack answered for ``group`` and its members stop counting (``problem`` says why, e.g.
        disabled): store both. ``(changed, tell)``: whether replicas must reload, and whether the
        admins have not been told of this yet (once, until the group reads well again)."""
        return await self._read(group, members, now, problem)

    async def _read(
        self, group: str, members: tuple[str, ...], now: datetime, problem: str | None
    ) -> tuple[bool, bool]:
        text = json.dumps(sorted(set(members)))
        row = await self._ex.one(
            "SELECT members, problem, told_admins FROM group_members WHERE usergroup = ? FOR UPDATE", (group,)
        )
        told = 0 if problem is None else 1  # a problem is told once; a good read forgets it was
        await self._ex.send(
            "INSERT INTO group_members (usergroup, members, refreshed_at, problem, told_admins) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (usergroup) DO UPDATE SET members = excluded.members, refreshed_at = excluded.refreshed_at,"
            " problem = excluded.problem, told_admins = excluded.told_admins",
            (group, text, utc_text(now), problem, told),
        )
        changed = row is None or row["members"] != text or row["problem"] != problem
        if changed:
            await self._bump()
        tell = problem is not None and (row is None or row["problem"] != problem or not row["told_admins"])
        return changed, tell

    async def _bump(self) -> None:
        await self._ex.send(
            "INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE"
            " SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)",
            (VERSION,),
        )


class Replicas:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    async def beat(self, replica: str, host: str, started: datetime, now: datetime, digest: str) -> None:
        await self._ex.send(
            "INSERT INTO replicas (id, host, started_at, seen_at, roster_digest) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at, roster_digest = excluded.roster_digest",
            (replica, host, utc_text(started), utc_text(now), digest),
        )

    async def gone(self, replica: str) -> None:
        await self._ex.send("DELETE FROM replicas WHERE id = ?", (replica,))

    async def forget_before(self, cutoff: datetime) -> int:
        """Replicas not heard of since ``cutoff`` are gone (killed, or on a lost machine)."""
        return await self._ex.run("DELETE FROM replicas WHERE seen_at < ?", (utc_text(cutoff),))

    async def alive(self, since: datetime) -> list[Replica]:
        rows = await self._ex.many(
            "SELECT id, host, started_at, seen_at, roster_digest FROM replicas WHERE seen_at >= ?"
            " ORDER BY started_at, id",
            (utc_text(since),),
        )
        return [
            Replica(
                str(r["id"]),
                str(r["host"]),
                from_utc_text(r["started_at"]),
                from_utc_text(r["seen_at"]),
                str(r["roster_digest"]),
            )
            for r in rows
        ]
