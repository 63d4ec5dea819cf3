"""The roster from Slack user groups: `groups:` maps user groups (by ID or handle) to a level and
a team; `engineers:` entries win; someone in two groups takes the highest level. Membership follows
Slack's events without a restart, a failed refresh keeps the last good membership and says so,
and a workspace without user groups gets one line and the file alone."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.sandbox.slack_standin import Failure, SlackStandIn
from tests.harness import ROSTER, Harness, fake_slack, running

GROUPS = (
    ROSTER
    + """\
groups:
  - {usergroup: S0SENIORS, level: senior, team: payments}
  - {usergroup: "@platform-staff", level: staff, team: platform}
"""
)


def seed(slack: SlackStandIn) -> None:
    for user in ("U0GRPSEN", "U0GRPBOTH", "U0JUNIOR2"):
        slack.users.add(user)
    slack.usergroups = {
        "S0SENIORS": {"handle": "payments-seniors", "users": ["U0GRPSEN", "U0GRPBOTH", "U0JUNIOR2"]},
        "S0STAFF": {"handle": "platform-staff", "users": ["U0GRPBOTH"]},
    }


async def membership_event(h: Harness) -> None:
    await h.driver.event({"type": "subteam_members_changed", "subteam_id": "S0SENIORS"})
    await h.settle()


async def test_levels_come_from_groups_and_the_file_wins(tmp_path: Path) -> None:
    async with fake_slack() as slack:
        seed(slack)
        async with running(tmp_path, roster=GROUPS, slack=slack) as h:
            roster = h.bot.deps.roster()
            assert roster.level_of("U0GRPSEN").value == "senior"
            assert roster.get("U0GRPBOTH").level.value == "staff"  # type: ignore[union-attr]
            assert roster.get("U0GRPBOTH").team == "platform"  # type: ignore[union-attr]
            assert roster.level_of("U0JUNIOR2").value == "junior"  # engineers: wins over the group
            reply = (await h.driver.command("U0ADMIN1", "roster")).json()
            text = "\n".join(b["text"]["text"] for b in reply["blocks"])
            assert "<@U0GRPBOTH>: staff, platform (from the user group @platform-staff)" in text
            assert "<@U0SENIOR1>: senior, payments (from the roster file)" in text
            refused = (await h.driver.command("U0JUNIOR1", "roster")).json()["text"]
            assert "Only signoff admins" in refused


async def test_a_membership_event_adds_and_removes_a_reviewer_mid_review(tmp_path: Path) -> None:
    async with fake_slack() as slack:
        seed(slack)
        slack.usergroups["S0SENIORS"]["users"] = []
        slack.usergroups["S0STAFF"]["users"] = []
        async with running(tmp_path, roster=GROUPS, slack=slack) as h:
            for senior in ("U0SENIOR1", "U0SENIOR2", "U0STAFF1"):
                await h.driver.command(senior, "away")
            slack.usergroups["S0SENIORS"]["users"] = ["U0GRPSEN"]
            await membership_event(h)  # added: now the only eligible senior
            ref = await h.ask("U0JUNIOR1")
            assert (await h.get(ref)).reviewer == "U0GRPSEN"
            await h.driver.command("U0SENIOR2", "back")
            slack.usergroups["S0SENIORS"]["users"] = []
            await membership_event(h)  # removed mid-review: the review moves at once
            assert (await h.get(ref)).reviewer == "U0SENIOR2"
            assert h.review_dm("U0SENIOR2", ref)


async def test_a_failed_refresh_keeps_the_last_good_membership_and_says_so(tmp_path: Path) -> None:
    async with fake_slack() as slack:
        seed(slack)
        async with running(tmp_path, roster=GROUPS, slack=slack) as h:
            slack.fail_always("usergroups.users.list", Failure(status=500))
            await membership_event(h)
            assert h.bot.deps.roster().level_of("U0GRPSEN") is not None  # still a senior
            async with h.session.get(f"{h.url}/readyz") as resp:
                body = await resp.json()
            assert resp.status == 200 and "S0SENIORS: Slack did not answer" in body["roster_groups"]
            slack.fail_always("usergroups.users.list", None)
            await membership_event(h)
            async with h.session.get(f"{h.url}/readyz") as resp:
                assert "roster_groups" not in await resp.json()


async def test_a_workspace_without_user_groups_gets_one_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with fake_slack() as slack:
        seed(slack)
        slack.fail_always("usergroups.list", Failure(error="plan_upgrade_required"))
        slack.fail_always("usergroups.users.list", Failure(error="plan_upgrade_required"))
        with caplog.at_level(logging.WARNING):
            async with running(tmp_path, roster=GROUPS, slack=slack) as h:
                ref = await h.ask("U0JUNIOR1")  # the file's people still work
                assert (await h.get(ref)).reviewer == "U0SENIOR1"
                await membership_event(h)
        lines = [r.getMessage() for r in caplog.records if "plan_upgrade_required" in r.getMessage()]
        assert len(lines) == 1, lines


async def test_the_stand_in_refuses_what_slack_refuses(tmp_path: Path) -> None:
    async with fake_slack() as slack:
        seed(slack)
        slack.scopes = {"chat:write"}
        async with running(tmp_path, roster=GROUPS, slack=slack) as h:
            assert any(c.error == "missing_scope" for c in slack.calls_to("usergroups.list"))
            assert "lacks the usergroups:read scope" in (h.bot.groups.problem or "")
        slack.scopes = None
        slack.usergroups.pop("S0SENIORS")
        async with running(tmp_path, roster=GROUPS, slack=slack) as h:
            assert "S0SENIORS: Slack has no user group with this ID" in (h.bot.groups.problem or "")


MISSPELT = GROUPS + "  - {usergroup: S0NOSUCH, level: senior, team: data}\n"


async def test_one_misspelt_group_is_named_and_the_others_still_refresh(tmp_path: Path) -> None:
    async with fake_slack() as slack:
        seed(slack)
        async with running(tmp_path, roster=MISSPELT, slack=slack) as h:
            assert h.bot.deps.roster().is_senior("U0GRPSEN")
            slack.usergroups["S0SENIORS"]["users"] = ["U0GRPBOTH"]  # U0GRPSEN leaves the seniors
            for _ in range(3):
                await membership_event(h)
            assert not h.bot.deps.roster().is_senior("U0GRPSEN")  # the good groups refreshed
            async with h.session.get(f"{h.url}/readyz") as resp:
                body = await resp.json()
            assert resp.status == 200
            assert body["roster_groups"].startswith("S0NOSUCH: Slack has no user group with this ID")
            told = [m.text for m in slack.dms("U0ADMIN1") if "S0NOSUCH" in m.text]
            assert told == ["signoff cannot read the user group S0NOSUCH"]  # once, not every refresh
            roster = (await h.driver.command("U0ADMIN1", "roster")).json()
            assert "S0NOSUCH: Slack has no user group with this ID" in roster["blocks"][0]["text"]["text"]


async def test_a_membership_event_is_answered_before_slack_is_asked(tmp_path: Path) -> None:
    async with fake_slack() as slack:
        seed(slack)
        async with running(tmp_path, roster=GROUPS, slack=slack) as h:
            gate = slack.gates["usergroups.users.list"] = asyncio.Event()
            slack.usergroups["S0SENIORS"]["users"] = []
            reply = await asyncio.wait_for(
                h.driver.event({"type": "subteam_members_changed", "subteam_id": "S0SENIORS"}), 10
            )
            assert reply.status == 200
            assert h.bot.deps.roster().is_senior("U0GRPSEN")  # Slack has not answered yet
            gate.set()
            await h.settle()
            assert not h.bot.deps.roster().is_senior("U0GRPSEN")


async def test_one_event_delivered_three_times_refreshes_once(tmp_path: Path) -> None:
    async with fake_slack() as slack:
        seed(slack)
        async with running(tmp_path, roster=GROUPS, slack=slack) as h:
            before = len(slack.calls_to("usergroups.users.list"))
            await membership_event(h)
            for _ in range(2):  # Slack's retries carry the same event id
                assert (await h.driver.replay()).status == 200
                await h.settle()
            assert len(slack.calls_to("usergroups.users.list")) == before + 2  # two groups, read once each


async def test_no_event_waits_for_a_web_api_call_before_it_is_answered(tmp_path: Path) -> None:
    async with fake_slack() as slack:
        seed(slack)
        async with running(tmp_path, roster=GROUPS, slack=slack) as h:
            gates = {m: asyncio.Event() for m in ("usergroups.users.list", "usergroups.list", "views.publish")}
            gates |= {m: asyncio.Event() for m in ("users.info", "functions.completeError", "chat.postMessage")}
            slack.gates.update(gates)
            events = [
                {"type": "subteam_members_changed", "subteam_id": "S0SENIORS"},
                {"type": "subteam_updated", "subteam": {"id": "S0STAFF"}},
                {"type": "app_home_opened", "user": "U0SENIOR1", "tab": "home"},
                {"type": "user_change", "user": {"id": "U0SENIOR2", "deleted": True}},
            ]
            for event in events:
                assert (await asyncio.wait_for(h.driver.event(event), 10)).status == 200
            execution, reply = await asyncio.wait_for(h.driver.run_step({"title": ""}), 10)
            assert reply.status == 200
            for gate in gates.values():
                gate.set()
            await h.settle()
            assert slack.executions[execution]["state"] == "failed"  # the bad step ended, after the answer
            assert "U0SENIOR1" in slack.home_views


async def readyz_groups(h: Harness) -> str:
    async with h.session.get(f"{h.url}/readyz") as resp:
        return str((await resp.json()).get("roster_groups", ""))


async def test_a_disabled_group_drops_its_members_and_a_vanished_one_keeps_them_each_saying_so(
    tmp_path: Path,
) -> None:
    async with fake_slack() as slack:
        seed(slack)
        async with running(tmp_path, roster=GROUPS, slack=slack) as h:
            assert h.bot.deps.roster().level_of("U0GRPSEN") is not None
            slack.usergroups["S0SENIORS"]["disabled"] = True  # an admin disabled it in Slack
            await membership_event(h)
            assert h.bot.deps.roster().get("U0GRPSEN") is None  # no longer a senior: it counts no more
            said = await readyz_groups(h)
            assert "S0SENIORS: disabled in Slack, so its members no longer count" in said
            assert "keeps" not in said

            del slack.usergroups["S0STAFF"]  # Slack no longer knows the handle
            await membership_event(h)
            assert h.bot.deps.roster().get("U0GRPBOTH") is not None  # kept, as for a misspelt handle
            said = await readyz_groups(h)
            assert "@platform-staff: Slack has no user group with this handle; it keeps the members it last had" in said
            assert "S0SENIORS: disabled in Slack, so its members no longer count" in said

            slack.usergroups["S0SENIORS"]["disabled"] = False  # enabled again: its members count again
            await membership_event(h)
            assert h.bot.deps.roster().level_of("U0GRPSEN") is not None
            assert "S0SENIORS" not in await readyz_groups(h)
