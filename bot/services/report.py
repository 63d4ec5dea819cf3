"""The report for the policy period, from what the database counted (never a row per request)."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.report import PeriodFacts, Report, ReviewerLoad, Week, build_report, weeks_of
from bot.services import notices
from bot.services.deps import Deps
from bot.services.policy_state import window_in
from bot.store.unit_of_work import Tx

TOP_REASONS = 50  # read from the database; the report shows the top five after merging spacing


async def policy_report(deps: Deps) -> Report:
    roster = deps.roster()
    async with deps.store.read() as r:
        w = await window_in(r)
        median, p90 = await r.report.seconds_to_decision(w.start, w.end, (50, 90))
        facts = PeriodFacts(
            statuses=await r.report.statuses(w.start, w.end),
            by_requester=await r.report.by_requester(w.start, w.end),
            denial_reasons=await r.report.denial_reasons(w.start, w.end, TOP_REASONS),
            break_glass=await r.report.break_glass_by_requester(w.start, w.end),
            median_seconds=median,
            p90_seconds=p90,
            several_seniors=await r.report.several_seniors(w.start, w.end),
            reviewer_shares=[ReviewerLoad(*share) for share in await r.report.reviewer_shares(w.start, w.end)],
            commands_run=await r.report.commands_run(w.start, w.end),
        )
        bounds = weeks_of(w.start, min(w.end, deps.clock.now()))  # the weeks so far
        tiers = await r.report.weekly_tiers(bounds)
        weeks = []
        for i, (week_start, week_end) in enumerate(bounds):
            counts = tiers.get(i, {})
            median_w, p90_w = await r.report.seconds_to_decision(week_start, week_end, (50, 90))
            weeks.append(
                Week(
                    week_start,
                    counts.get("not_required", 0),
                    counts.get("one", 0),
                    counts.get("several", 0),
                    counts.get("break_glass", 0),
                    median_w,
                    p90_w,
                )
            )

    def team_of(user: str) -> str:
        engineer = roster.get(user)
        return engineer.team if engineer and engineer.team else "no team"

    report = build_report(w.start, w.end, facts, team_of, deps.destructive_approvals)
    return replace(report, weeks=weeks)


async def request_report(deps: Deps, user: str, response_url: str | None, receipt: str | None = None) -> None:
    """`/signoff report`: queue the report for ``user`` (to ``response_url``, in the conversation they
    asked in; without one, by DM). It is put together and sent by the outbox, after the command
    was answered: a period of a million requests takes the database seconds."""

    async def queue(tx: Tx) -> None:
        await tx.outbox.enqueue(deps.clock.now(), notices.report_reply(user, response_url))

    await deps.store.transact(queue, receipt)
