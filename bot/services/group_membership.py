"""The roster's user groups: one truth for every replica.

The members Slack gives for each group the roster names are stored in the database
(``group_members``), with a version that moves on every change. Every replica merges its roster
file with the stored members and looks at that version every ``SYNC_SECONDS``, so a change that
one replica reads (after Slack's ``subteam_members_changed`` event, or in the periodic refresh)
is in force on every replica within about a second: nobody who left a group is a senior on
another replica for longer. The version is one indexed read a second per replica.

Groups refresh one by one: a group Slack cannot read (a misspelt ID, a deleted group, a missing
scope) keeps its last good members and is reported by name (in the log, in ``/readyz``, and in
one DM to the admins until it reads again), while every other group refreshes normally.

Refreshes run after Slack's event has been answered, never before, and one event (however often
Slack delivers it) asks for one refresh: the event is remembered with the wish in one
transaction. The replica that took the event refreshes at once; if it dies first, another one
sees the wish still open after ``TAKEOVER_SECONDS`` and refreshes instead. The periodic refresh,
every ``REFRESH_SECONDS``, is claimed by one replica at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.domain.errors import StorageFailure
from bot.domain.models import GroupRule, Roster
from bot.domain.timestamps import from_utc_text, utc_text
from bot.domain.words import count
from bot.services import notices
from bot.store.unit_of_work import Store, Tx

log = logging.getLogger(__name__)
SYNC_SECONDS = 1.0
CHECK_SECONDS = 5.0  # how often a replica looks whether a refresh is due
REFRESH_SECONDS = 600.0  # the safety net behind Slack's events
TAKEOVER_SECONDS = 30.0  # a wished-for refresh nobody did in this long is done by any replica
WANTED = "groups_refresh_wanted"  # when Slack last said a group changed
CLAIMED = "groups_refresh_claimed"  # when a replica last began a refresh
JOB = "groups-refresh"
# A group Slack says is disabled: its members no longer count (an admin disabled it on purpose).
# Any other problem (Slack down, a missing scope, a handle Slack does not know) keeps the members
# the group last had, so a typo or an outage never takes every senior away at once.
DISABLED = "disabled in Slack, so its members no longer count"


@dataclass(frozen=True)
class GroupRead:
    """What Slack said of one group: its members, or why they could not be read (members None:
    the last ones stay), or both (members that replace the last ones, and why: ``DISABLED``)."""

    members: tuple[str, ...] | None
    problem: str | None = None


class NoUserGroups(Exception):
    """The workspace's plan has no user groups: the roster file alone counts."""


class GroupReader:
    """Reads the members of the given groups from Slack (see bot/slack/usergroups.py)."""

    async def read(self, rules: Sequence[GroupRule]) -> dict[str, GroupRead]:
        raise NotImplementedError


class GroupMembership:
    def __init__(self, store: Store, clock: Clock, file_roster: Callable[[], Roster], reader: GroupReader) -> None:
        self._store = store
        self._clock = clock
        self._file = file_roster
        self._reader = reader
        self._members: dict[str, list[str]] = {}
        self.problems: dict[str, str] = {}  # group -> why its members could not be read
        self._version = -1
        self.unsupported = False
        self._merged: tuple[Roster, dict[str, list[str]], Roster] | None = None  # (file, members, merged)
        self._wanted = asyncio.Event()
        self._checked_at = 0.0
        self._idle = asyncio.Event()  # set while no refresh is asked for or running
        self._idle.set()

    def current(self) -> Roster:
        """The roster file's people plus the groups' members (the file wins for the same person).

        Merged once per change of either side, not on every call: routing asks often."""
        roster = self._file()
        if not roster.groups:
            return roster
        if self._merged is None or self._merged[0] is not roster or self._merged[1] is not self._members:
            self._merged = (roster, self._members, roster.with_group_members(self._members))
        return self._merged[2]

    @property
    def problem(self) -> str | None:
        """What /readyz and `/signoff roster` say, or None when every group reads."""
        if self.unsupported:
            return "this workspace's plan has no user groups; only the roster file's engineers count"
        if not self.problems:
            return None
        return "; ".join(
            f"{group}: {why}" if why == DISABLED else f"{group}: {why}; it keeps the members it last had"
            for group, why in sorted(self.problems.items())
        )

    async def load(self) -> bool:
        """Take the stored membership if it changed since the last look; True when it did."""
        async with self._store.read() as r:
            version = await r.groups.version()
            if version == self._version:
                return False
            stored = await r.groups.all()
        self._version = version
        wanted = {rule.usergroup for rule in self._file().groups}
        self._members = {g: list(s.members) for g, s in stored.items() if g in wanted}
        self.problems = {g: s.problem for g, s in stored.items() if g in wanted and s.problem is not None}
        return True

    async def refresh(self) -> bool:
        """Read every group from Slack and store what it said; True when anyone's level may have changed."""
        roster = self._file()
        if not roster.groups or self.unsupported:
            return False
        started = self._clock.now()
        try:
            reads = await self._reader.read(roster.groups)
        except NoUserGroups:
            self.unsupported = True
            log.warning("ROSTER_FILE groups: %s (plan_upgrade_required)", self.problem)
            return False
        admins = sorted(roster.admins)

        async def store(tx: Tx) -> bool:
            changed = False
            for group, read in sorted(reads.items()):
                if read.members is not None and read.problem is None:
                    changed |= await tx.groups.read_ok(group, read.members, started)
                    continue
                if read.members is not None and read.problem is not None:  # read, and dropped (disabled)
                    moved, tell = await tx.groups.read_gone(group, read.members, read.problem, started)
                    changed |= moved
                    if tell:
                        log.warning("roster group %s: %s", group, read.problem)
                        await tx.outbox.enqueue_many(
                            started, [notices.group_problem(admin, group, read.problem) for admin in admins]
                        )
                    continue
                problem = read.problem or "Slack did not say why"
                if await tx.groups.read_failed(group, problem):
                    log.warning("roster group %s cannot be read from Slack: %s; its last members stay", group, problem)
                    await tx.outbox.enqueue_many(
                        started, [notices.group_problem(admin, group, problem) for admin in admins]
                    )
            await tx.facts.put(CLAIMED, utc_text(started))
            return changed

        changed = await self._store.transact(store, durable=False)
        await self.load()
        if changed:
            log.info(
                "roster groups refreshed: %s", count(len({u for us in self._members.values() for u in us}), "member")
            )
        return changed

    def want_refresh(self) -> None:
        """Slack said a group changed (and the wish is stored): refresh on this replica now."""
        self._idle.clear()
        self._wanted.set()

    async def _due(self) -> bool:
        """Whether this replica should refresh now: a wish nobody acted on, or the periodic refresh.
        Claimed under a job lock, so one replica does each."""
        now = self._clock.now()

        async def claim(tx: Tx) -> bool:
            if not await tx.facts.try_lock_job(JOB):
                return False
            facts = await tx.facts.get_many((WANTED, CLAIMED))
            claimed = from_utc_text(facts[CLAIMED]) if CLAIMED in facts else None
            wanted = from_utc_text(facts[WANTED]) if WANTED in facts else None
            overdue = claimed is None or now - claimed >= timedelta(seconds=REFRESH_SECONDS)
            orphaned = wanted is not None and (claimed is None or wanted > claimed)
            orphaned = orphaned and now - wanted >= timedelta(seconds=TAKEOVER_SECONDS)  # type: ignore[operator]
            if overdue or orphaned:
                await tx.facts.put(CLAIMED, utc_text(now))
                return True
            return False

        return await self._store.transact(claim, durable=False)

    async def keep_current(self, changed: Callable[[], Awaitable[object]]) -> None:
        """Runs until cancelled: follow the stored membership, and refresh when asked or due.
        ``changed`` runs after a refresh that changed someone's level (reviews follow the roster)."""
        loop = asyncio.get_running_loop()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wanted.wait(), SYNC_SECONDS)
            woken = self._wanted.is_set()
            self._wanted.clear()
            try:
                await self.load()
                due = woken
                if not due and loop.time() - self._checked_at >= CHECK_SECONDS:
                    self._checked_at = loop.time()
                    due = bool(self._file().groups) and await self._due()
                if due and await self.refresh():
                    await changed()
            except StorageFailure as err:  # the database is away: keep what we have, try again
                log.warning("roster groups could not be synchronised: %s", err.detail)
            except Exception:
                log.exception("roster groups could not be refreshed; the last good membership stays")
            finally:
                if not self._wanted.is_set():
                    self._idle.set()

    async def idle(self) -> None:
        """Wait until no refresh this replica was asked for is waiting or running."""
        await self._idle.wait()


async def note_group_change(store: Store, clock: Clock, receipt: str | None) -> None:
    """Slack said a group changed: remember that (with the event's delivery, so a repeat of the
    same event is recognised) before the event is answered; the refresh comes after."""

    async def note(tx: Tx) -> None:
        await tx.facts.put(WANTED, utc_text(clock.now()))

    await store.transact(note, receipt, durable=False)
