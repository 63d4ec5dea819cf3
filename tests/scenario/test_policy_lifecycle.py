"""The policy ends on its own, announced exactly once, never silently: pending requests expire
and their requesters are told; new requests are recorded as not required. Warnings come 14, 7
and 1 days before. Admins can extend or end it; anyone else is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import MovableClock
from bot.domain.models import Status
from bot.services.report import policy_report
from bot.slack import ids
from tests.harness import Harness, fake_slack, running

START = datetime(2026, 9, 1, tzinfo=UTC)
END = START + timedelta(days=90)


def at(when: datetime) -> MovableClock:
    return MovableClock(when)


def ended_posts(h: Harness) -> list[str]:
    return [t for t in h.channel_posts() if "sign-off policy has ended" in t]


async def test_the_end_boundary_to_the_second(tmp_path: Path) -> None:
    clock = at(END - timedelta(hours=1))
    async with running(tmp_path, clock=clock, POLICY_START="2026-09-01") as h:
        pending = await h.ask("U0JUNIOR1")
        clock.set(END - timedelta(seconds=1))
        await h.tick()
        assert ended_posts(h) == []
        assert (await h.get(await h.ask("U0JUNIOR2"))).status is Status.PENDING

        clock.set(END)
        await h.tick()
        assert len(ended_posts(h)) == 1
        for ref in (pending, "CR-2"):
            req = await h.get(ref)
            assert req.status is Status.EXPIRED and req.reason == "the policy has ended"
        assert any(f"{pending} no longer needs sign-off" in m.text for m in h.slack.dms("U0JUNIOR1"))
        dm = h.review_dm("U0SENIOR1", pending)
        assert "Expired" in dm.blocks[-1]["elements"][0]["text"]
        late = await h.get(await h.ask("U0JUNIOR1"))
        assert late.status is Status.NOT_REQUIRED and late.policy_reason == "the policy has ended"

        clock.set(END + timedelta(seconds=1))
        await h.tick()
        await h.tick()
        assert len(ended_posts(h)) == 1
        assert await h.audit_actions("policy_ended") == 1


async def test_a_bot_that_was_down_at_the_end_announces_once_on_its_next_start(tmp_path: Path) -> None:
    clock = at(END - timedelta(days=2))
    async with fake_slack() as slack:
        async with running(tmp_path, clock=clock, slack=slack, POLICY_START="2026-09-01") as h:
            await h.ask("U0JUNIOR1")
        clock.set(END + timedelta(days=3))
        async with running(tmp_path, clock=clock, slack=slack, POLICY_START="2026-09-01") as h:
            await h.settle()
            assert len(ended_posts(h)) == 1
            assert (await h.get("CR-1")).status is Status.EXPIRED
        async with running(tmp_path, clock=clock, slack=slack, POLICY_START="2026-09-01") as h:
            await h.tick()
            assert len(ended_posts(h)) == 1


async def test_warnings_at_14_7_and_1_days_each_once(tmp_path: Path) -> None:
    clock = at(END - timedelta(days=20))
    async with running(tmp_path, clock=clock, POLICY_START="2026-09-01") as h:
        warnings = lambda: [t for t in h.channel_posts() if t.startswith(":warning:")]  # noqa: E731
        await h.tick()
        assert warnings() == []
        for days in (14, 7, 1):
            clock.set(END - timedelta(days=days))
            await h.tick()
            await h.tick()
            assert len(warnings()) == [14, 7, 1].index(days) + 1
            assert f"ends in {days} day" in warnings()[-1]


async def test_after_downtime_only_the_latest_warning_is_sent(tmp_path: Path) -> None:
    clock = at(END - timedelta(days=20))
    async with running(tmp_path, clock=clock, POLICY_START="2026-09-01") as h:
        clock.set(END - timedelta(days=5))
        await h.tick()
        posts = [t for t in h.channel_posts() if t.startswith(":warning:")]
        assert len(posts) == 1 and "ends in 5 days" in posts[0]


async def test_policy_command_shows_dates_and_days_left(tmp_path: Path) -> None:
    async with running(tmp_path, clock=at(START + timedelta(days=10, hours=1)), POLICY_START="2026-09-01") as h:
        text = (await h.driver.command("U0JUNIOR1", "policy")).json()["blocks"][0]["text"]["text"]
        assert "*Policy:* active" in text
        assert "*Start:* 2026-09-01 00:00 UTC" in text
        assert "*End:* 2026-11-30 00:00 UTC" in text
        assert "*Days left:* 80" in text


async def test_admins_extend_and_end_and_others_are_refused(tmp_path: Path) -> None:
    clock = at(START + timedelta(days=80))
    async with running(tmp_path, clock=clock, POLICY_START="2026-09-01") as h:
        ref = await h.ask("U0JUNIOR1")
        for user in ("U0SENIOR1", "U0JUNIOR1"):
            for text in ("policy extend 30", "policy end"):
                reply = (await h.driver.command(user, text)).json()["text"]
                assert reply == "Only signoff admins (the roster's `admins`) can change the policy."
        assert await h.audit_actions("refused") == 4

        reply = (await h.driver.command("U0ADMIN1", "policy extend 30")).json()["text"]
        assert reply.startswith("The policy now ends 2026-12-30 00:00 UTC")
        await h.settle()
        assert any("<@U0ADMIN1> extended the sign-off policy by 30 days" in t for t in h.channel_posts())
        assert "*Days left:* 40" in (await h.driver.command("U0JUNIOR1", "policy")).json()["blocks"][0]["text"]["text"]

        reply = (await h.driver.command("U0ADMIN1", "policy end")).json()["text"]
        assert reply.startswith("The policy has ended. Its 1 pending request is being expired now")
        await h.tick()  # the policy sweep expires them and announces the end (started at once in a live bot)
        [ended] = ended_posts(h)
        assert "ended early by <@U0ADMIN1>" in ended
        assert (await h.get(ref)).status is Status.EXPIRED
        assert "already ended" in (await h.driver.command("U0ADMIN1", "policy end")).json()["text"]
        assert await h.audit_actions("policy_extended") == 1
        assert await h.audit_actions("policy_end_requested") == 1


async def test_changed_settings_at_restart_follow_the_documented_precedence(tmp_path: Path) -> None:
    clock = at(START + timedelta(days=10))
    async with fake_slack() as slack:
        async with running(tmp_path, clock=clock, slack=slack, POLICY_START="2026-09-01"):
            pass
        async with running(tmp_path, clock=clock, slack=slack, POLICY_START="2026-09-01", POLICY_DAYS=120) as h:
            text = (await h.driver.command("U0JUNIOR1", "policy")).json()["blocks"][0]["text"]["text"]
            assert "*End:* 2026-12-30 00:00 UTC" in text
            assert await h.audit_actions("policy_days_changed") == 1
            await h.driver.command("U0ADMIN1", "policy extend 10")
        async with running(tmp_path, clock=clock, slack=slack, POLICY_START="2026-09-01", POLICY_DAYS=30) as h:
            text = (await h.driver.command("U0JUNIOR1", "policy")).json()["blocks"][0]["text"]["text"]
            assert "*End:* 2027-01-09 00:00 UTC" in text  # the admin's explicit end stays in force


async def test_the_report_covers_the_policy_period(tmp_path: Path) -> None:
    clock = at(START + timedelta(days=1))
    async with running(tmp_path, clock=clock, POLICY_START="2026-09-01") as h:
        a = await h.ask("U0JUNIOR1")
        b = await h.ask("U0JUNIOR2")
        await h.ask("U0MID1", ai_assisted=False)
        clock.advance(timedelta(hours=2))
        await h.driver.click("U0SENIOR1", ids.APPROVE, a[3:])
        clock.advance(timedelta(hours=2))
        reviewer = (await h.get(b)).reviewer
        assert reviewer is not None
        await h.driver.submit(
            reviewer,
            ids.DENY_FORM,
            {"reason": {"value": {"type": "plain_text_input", "value": "No tests"}}},
            private_metadata=b[3:],
        )
        answer = (await h.driver.command("U0NOBODY", "report")).json()
        assert answer["text"].startswith("Putting the report for the policy period together")
        await h.settle()  # the report follows in the same conversation, through its response_url
        [reply] = [e for e in h.slack.ephemerals if h.slack.response_owners.get(e.url_id) == "U0NOBODY"]
        text = "\n".join(b["text"]["text"] for b in reply.body["blocks"] if "text" in b)
        assert "Requests: *3* (2 required, 1 not required; 0 needed more than one senior as destructive)" in text
        assert "Approved: *1* · Denied: *1*" in text
        assert "median 2h00m, 90th percentile 4h00m" in text
        assert "• payments: 2" in text and "• platform: 1" in text
        assert "• No tests (1)" in text  # grouped case-insensitively, shown as written
        assert "<@U0SENIOR1>: 1 assigned, 1 decided" in text


async def test_a_future_start_ended_then_extended_agrees_everywhere(tmp_path: Path) -> None:
    """Announced, shown, reported and enforced: one period, whatever the admin did first."""
    clock = MovableClock(datetime(2026, 11, 1, tzinfo=UTC))
    future = (clock.now() + timedelta(days=30)).isoformat()
    async with running(tmp_path, clock=clock, POLICY_START=future) as h:
        assert "not started" in (await h.driver.command("U0ADMIN1", "policy")).json()["text"]
        await h.driver.command("U0ADMIN1", "policy end")
        await h.tick()
        reply = (await h.driver.command("U0ADMIN1", "policy extend 10")).json()["text"]
        end_day = (clock.now() + timedelta(days=10)).strftime("%Y-%m-%d")
        assert end_day in reply
        await h.settle()
        shown = (await h.driver.command("U0JUNIOR1", "policy")).json()
        text = shown["blocks"][0]["text"]["text"]
        assert shown["text"] == "Sign-off policy: active" and end_day in text and "*Days left:* 10" in text
        ref = await h.ask("U0JUNIOR1")
        assert (await h.get(ref)).sign_off_required
        report = await policy_report(h.bot.deps)
        assert report.start <= report.end and report.end.strftime("%Y-%m-%d") == end_day
