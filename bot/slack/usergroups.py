"""The roster's `groups:`: members of Slack user groups, kept current.

Membership is read with usergroups.list (to turn handles into IDs) and usergroups.users.list,
at start, on `subteam_members_changed` and `subteam_updated`, and periodically as a safety net.
A refresh that fails keeps the last good membership and says so (log and /readyz detail); a
workspace whose plan has no user groups gets one line at start and the file alone counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.models import Roster
from bot.slack.client import slack_error

log = logging.getLogger(__name__)
NO_GROUPS_ON_PLAN = "plan_upgrade_required"


class GroupMembership:
    def __init__(self, client: AsyncWebClient, file_roster: Callable[[], Roster]) -> None:
        self._client = client
        self._file = file_roster
        self._members: dict[str, list[str]] = {}
        self._lock = asyncio.Lock()
        self.problem: str | None = None  # why the membership may be stale, for /readyz
        self.unsupported = False
        self._merged: tuple[Roster, dict[str, list[str]], Roster] | None = None  # (file, members, merged)

    def current(self) -> Roster:
        """The roster file's people plus the groups' members (the file wins for the same person).

        Merged once per change of either side, not on every call: routing asks often."""
        roster = self._file()
        if not roster.groups:
            return roster
        if self._merged is None or self._merged[0] is not roster or self._merged[1] is not self._members:
            self._merged = (roster, self._members, roster.with_group_members(self._members))
        return self._merged[2]

    async def refresh(self) -> bool:
        """Read every group's members again; True when the membership was replaced."""
        roster = self._file()
        if not roster.groups or self.unsupported:
            return False
        async with self._lock:
            try:
                members = await self._read(roster)
            except SlackApiError as err:
                error = slack_error(err)
                if error == NO_GROUPS_ON_PLAN:
                    self.unsupported = True
                    self.problem = "this workspace's plan has no user groups; only the roster file's engineers count"
                    log.warning("ROSTER_FILE groups: %s (plan_upgrade_required)", self.problem)
                    return False
                return self._failed(error or f"HTTP {err.response.status_code}")
            except Exception as exc:  # unreachable Slack, a handle nobody has: keep the last good membership
                return self._failed(f"{type(exc).__name__}: {exc}")
            if members != self._members:
                log.info("roster groups refreshed: %d member(s)", len({u for us in members.values() for u in us}))
            self._members = members
            self.problem = None
            return True

    def _failed(self, why: str) -> bool:
        self.problem = f"refreshing the user groups failed at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({why}); "
        self.problem += "the last good membership stays"
        log.warning("roster groups: %s", self.problem)
        return False

    async def _read(self, roster: Roster) -> dict[str, list[str]]:
        ids: dict[str, str] = {}
        if any(rule.usergroup.startswith("@") for rule in roster.groups):
            listed = await self._client.usergroups_list()
            ids = {"@" + str(g.get("handle")): str(g.get("id")) for g in listed.get("usergroups") or []}
        members: dict[str, list[str]] = {}
        for rule in roster.groups:
            group_id = ids.get(rule.usergroup) if rule.usergroup.startswith("@") else rule.usergroup
            if group_id is None:
                raise LookupError(f"no user group has the handle {rule.usergroup}")
            resp = await self._client.usergroups_users_list(usergroup=group_id)
            members[rule.usergroup] = [str(u) for u in resp.get("users") or []]
        return members
