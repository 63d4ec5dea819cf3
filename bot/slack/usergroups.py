"""Reading the roster's user groups from Slack: usergroups.list turns handles into IDs, and
usergroups.users.list gives each group's members, one group at a time, so one group Slack cannot
read says so by name and does not stop the others (bot/services/group_membership.py stores them)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.models import GroupRule
from bot.services.group_membership import DISABLED, GroupRead, GroupReader, NoUserGroups
from bot.slack.client import slack_error

log = logging.getLogger(__name__)
NO_GROUPS_ON_PLAN = "plan_upgrade_required"
# What each of Slack's refusals means for the admin who reads it.
WHY = {
    "no_such_subteam": "Slack has no user group with this ID",
    "subteam_not_found": "Slack has no user group with this ID",
    "missing_scope": "the app lacks the usergroups:read scope; add it and reinstall the app",
    "not_allowed_token_type": "the bot token cannot read user groups",
    "invalid_auth": "Slack refused the bot's token",
    "account_inactive": "Slack refused the bot's token",
    "token_revoked": "Slack refused the bot's token",
    "ratelimited": "Slack asked signoff to slow down; it tries again later",
}


def _why(err: SlackApiError) -> str:
    error = slack_error(err)
    if error == NO_GROUPS_ON_PLAN:
        raise NoUserGroups() from None
    if err.response.status_code >= 500:
        return "Slack did not answer (it may be having trouble); signoff tries again later"
    return WHY.get(error, "Slack refused to list its members")


class SlackUserGroups(GroupReader):
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def read(self, rules: Sequence[GroupRule]) -> dict[str, GroupRead]:
        groups = sorted({rule.usergroup for rule in rules})
        ids: dict[str, str] = {g: g for g in groups if not g.startswith("@")}
        handles_problem: str | None = None
        disabled: set[str] = set()  # group IDs Slack says are disabled
        if groups:
            try:
                listed = await self._client.usergroups_list(include_disabled=True)
                every = listed.get("usergroups") or []
                known = {"@" + str(g.get("handle")): str(g.get("id")) for g in every}
                disabled = {str(g.get("id")) for g in every if g.get("date_delete")}
                ids.update({g: known[g] for g in groups if g in known})
            except SlackApiError as err:
                handles_problem = _why(err)
                log.warning("usergroups.list failed (%s)", slack_error(err) or err.response.status_code)
            except Exception as exc:
                handles_problem = "Slack could not be reached; signoff tries again later"
                log.warning("usergroups.list failed (%s)", exc)
        reads = await asyncio.gather(
            *(self._members(g, ids.get(g), handles_problem, ids.get(g) in disabled) for g in groups)
        )
        return dict(zip(groups, reads, strict=True))

    async def _members(
        self, group: str, group_id: str | None, handles_problem: str | None, disabled: bool
    ) -> GroupRead:
        if group_id is None:
            return GroupRead(None, handles_problem or "Slack has no user group with this handle")
        if disabled:  # disabled in Slack on purpose: its members stop counting
            return GroupRead((), DISABLED)
        try:
            resp = await self._client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as err:
            log.warning("usergroups.users.list for %s failed (%s)", group, slack_error(err) or err.response.status_code)
            return GroupRead(None, _why(err))
        except Exception as exc:
            log.warning("usergroups.users.list for %s failed (%s)", group, exc)
            return GroupRead(None, "Slack could not be reached; signoff tries again later")
        return GroupRead(tuple(str(u) for u in resp.get("users") or []))
