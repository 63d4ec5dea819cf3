"""Availability (away, delegates, deactivated) and who opened the App Home."""

from __future__ import annotations

from datetime import datetime

from bot.domain.timestamps import from_utc_text, utc_text
from bot.store.executor import Executor


class Availability:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    async def unavailable(self) -> tuple[set[str], dict[str, str]]:
        """Who may not be asked to review now (away, or deactivated in Slack), and each away
        reviewer's delegate: the senior they asked to take their new reviews."""
        rows = await self._ex.many('SELECT "user", away, delegate FROM availability WHERE away = 1 OR deactivated = 1')
        return (
            {str(r["user"]) for r in rows},
            {str(r["user"]): str(r["delegate"]) for r in rows if r["away"] and r["delegate"] is not None},
        )

    async def set_away(
        self, user: str, away: bool, now: datetime, until: datetime | None = None, delegate: str | None = None
    ) -> bool:
        """True when the stored availability changed."""
        until_text = utc_text(until) if away and until is not None else None
        delegate = delegate if away else None
        row = await self._ex.one(
            'SELECT away, away_until, delegate FROM availability WHERE "user" = ? FOR UPDATE', (user,)
        )
        if row is not None and (bool(row["away"]), row["away_until"], row["delegate"]) == (away, until_text, delegate):
            return False
        await self._ex.send(
            'INSERT INTO availability ("user", away, away_until, delegate, updated_at) VALUES (?, ?, ?, ?, ?)'
            ' ON CONFLICT ("user") DO UPDATE SET away = excluded.away, away_until = excluded.away_until,'
            " delegate = excluded.delegate, updated_at = excluded.updated_at",
            (user, int(away), until_text, delegate, utc_text(now)),
        )
        return True

    async def set_deactivated(self, user: str, deactivated: bool, now: datetime) -> bool:
        """Slack says this person is deactivated (or back); True when that changed what is stored."""
        row = await self._ex.one('SELECT deactivated FROM availability WHERE "user" = ? FOR UPDATE', (user,))
        if (bool(row["deactivated"]) if row is not None else False) == deactivated:
            return False
        await self._ex.send(
            'INSERT INTO availability ("user", away, deactivated, updated_at) VALUES (?, 0, ?, ?)'
            ' ON CONFLICT ("user") DO UPDATE SET deactivated = excluded.deactivated, updated_at = excluded.updated_at',
            (user, int(deactivated), utc_text(now)),
        )
        return True

    async def back_due(self, now: datetime, limit: int) -> list[str]:
        """Up to ``limit`` away people whose end has come."""
        rows = await self._ex.many(
            'SELECT "user" FROM availability WHERE away = 1 AND away_until IS NOT NULL AND away_until <= ?'
            ' ORDER BY "user" LIMIT ?',
            (utc_text(now), limit),
        )
        return [str(r["user"]) for r in rows]


class HomeViewers:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    async def opened(self, user: str, now: datetime) -> None:
        await self._ex.send(
            'INSERT INTO home_viewers ("user", opened_at) VALUES (?, ?)'
            ' ON CONFLICT ("user") DO UPDATE SET opened_at = excluded.opened_at',
            (user, utc_text(now)),
        )

    async def among(self, users: list[str]) -> set[str]:
        """Which of ``users`` ever opened their App Home."""
        if not users:
            return set()
        marks = ", ".join("?" * len(users))
        rows = await self._ex.many(f'SELECT "user" FROM home_viewers WHERE "user" IN ({marks})', users)
        return {str(r["user"]) for r in rows}

    async def has_home(self, user: str) -> bool:
        return await self._ex.one('SELECT 1 AS one FROM home_viewers WHERE "user" = ?', (user,)) is not None


class PeopleNames:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    async def get_many(self, users: list[str]) -> dict[str, tuple[str, datetime]]:
        """user -> (display name, when Slack gave it), for those of ``users`` known."""
        if not users:
            return {}
        marks = ", ".join("?" * len(users))
        rows = await self._ex.many(
            f'SELECT "user", name, fetched_at FROM people_names WHERE "user" IN ({marks})', users
        )
        return {str(r["user"]): (str(r["name"]), from_utc_text(r["fetched_at"])) for r in rows}

    async def save(self, user: str, name: str, now: datetime) -> None:
        await self._ex.send(
            'INSERT INTO people_names ("user", name, fetched_at) VALUES (?, ?, ?)'
            ' ON CONFLICT ("user") DO UPDATE SET name = excluded.name, fetched_at = excluded.fetched_at',
            (user, name, utc_text(now)),
        )
