"""People's display names, for text people read outside Slack (the CLI, the API's answers): in
Slack a mention shows the name by itself, elsewhere an ID would show. Names come from Slack
(users.info) and are kept in the database, shared by every replica, and asked again after a day.

An answer never waits for Slack: it reads the names kept, and the people it found unnamed (or
named more than a day ago) are asked of Slack after it, in the background, for the next answer.
Everyone on the roster is asked at start, so the first answers already have their names. When
Slack cannot say, a person is left unnamed (the reader sees "a senior reviewer", never an ID)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.domain.errors import SignoffError
from bot.store.unit_of_work import Repos, Store, Tx
from bot.tasks import Background

log = logging.getLogger(__name__)
FRESH_FOR = timedelta(days=1)
ASKED_AT_ONCE = 8  # users.info calls in flight at once (Slack's tier 4: about 100 a minute)
RETRY_AFTER = timedelta(minutes=10)  # a person Slack could not name is not asked again sooner


class NameSource(Protocol):
    async def display_name(self, user: str) -> str | None:
        """The name Slack shows for ``user``, None if it has none to give."""
        ...


class NameBook:
    def __init__(self, store: Store, clock: Clock, source: NameSource, background: Background) -> None:
        self._store = store
        self._clock = clock
        self._source = source
        self._background = background
        self._wanted: set[str] = set()  # to ask Slack for, after the answers that found them unnamed
        self._failed: dict[str, datetime] = {}  # user -> when Slack last could not name them
        self._asking = False

    async def names(self, users: Iterable[str]) -> dict[str, str]:
        """The display names kept for ``users``; the unnamed and the stale are asked for later."""
        async with self._store.read() as r:
            return await self.kept(r, users)

    async def kept(self, r: Repos, users: Iterable[str]) -> dict[str, str]:
        """As ``names``, within a read already open (one read for a whole answer)."""
        wanted = sorted({u for u in users if u})
        if not wanted:
            return {}
        known = await r.names.get_many(wanted)
        now = self._clock.now()
        self.learn(u for u in wanted if u not in known or now - known[u][1] > FRESH_FOR)
        return {user: name for user, (name, _) in known.items()}

    def learn(self, users: Iterable[str]) -> None:
        """Ask Slack for ``users``' names in the background (once each, however often asked)."""
        now = self._clock.now()
        fresh = {u for u in users if u and not self._failed_lately(u, now)}
        if not fresh - self._wanted:
            return
        self._wanted |= fresh
        if not self._asking:
            self._asking = True
            self._background.spawn(self._ask_all(), name="display names")

    def _failed_lately(self, user: str, now: datetime) -> bool:
        when = self._failed.get(user)
        return when is not None and now - when < RETRY_AFTER

    async def _ask_all(self) -> None:
        try:
            while self._wanted:
                batch = sorted(self._wanted)[:ASKED_AT_ONCE]
                self._wanted -= set(batch)
                found = await asyncio.gather(*(self._ask(u) for u in batch))
                now = self._clock.now()
                named = {user: name for user, name in zip(batch, found, strict=True) if name}
                for user in set(batch) - set(named):
                    self._failed[user] = now
                if named:
                    await self._keep(named)
        finally:
            self._asking = False

    async def _keep(self, named: dict[str, str]) -> None:
        now = self._clock.now()

        async def keep(tx: Tx) -> None:
            for user, name in sorted(named.items()):
                await tx.names.save(user, name, now)

        try:
            await self._store.transact(keep, durable=False)
        except SignoffError as err:  # names are a courtesy: asked again on a later answer
            log.warning("could not keep display names: %s", err.message)

    async def _ask(self, user: str) -> str | None:
        try:
            return await self._source.display_name(user)
        except SignoffError:
            return None
