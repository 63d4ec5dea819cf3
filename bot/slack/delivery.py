"""What each kind of outbox row looks like in Slack, rendered from the stored state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.domain.models import ChangeRequest
from bot.domain.outbox import OutboxRow
from bot.services import notices
from bot.services.deps import Deps
from bot.services.home import has_home, home_for
from bot.services.policy_state import window
from bot.services.report import policy_report
from bot.services.summary import LAST_SUMMARY_KEY, pending_summary
from bot.slack import blocks, break_glass_messages, policy_messages, review_messages, scheduled_messages
from bot.slack.blocks import Message
from bot.slack.home_view import home_view
from bot.slack.outbox import Sender, Undeliverable
from bot.slack.review_messages import Approvals


@dataclass
class SlackRenderer:
    deps: Deps
    tz: ZoneInfo
    overdue_after: timedelta
    escalate_after: timedelta

    async def _request(self, row: OutboxRow) -> ChangeRequest:
        req = None
        if row.request_id is not None:
            async with self.deps.store.read() as r:
                req = await r.requests.get(row.request_id)
        if req is None:
            raise Undeliverable(f"request {row.request_id} not found")
        return req

    def _review(self, req: ChangeRequest, viewer: str, active: list[str], approvals: Approvals) -> Message:
        if req.break_glass is not None:
            return review_messages.hindsight_message(req, viewer in active, self.tz)
        return review_messages.review_message(req, viewer, viewer in active, self.tz, approvals)

    async def deliver(self, row: OutboxRow, send: Sender) -> None:
        store, tz = self.deps.store, self.tz
        kind = row.kind
        if kind == notices.REVIEW_DM:
            req = await self._request(row)
            assert row.recipient is not None
            async with store.read() as r:
                active = await r.assignments.active(req.id)
                approvals = await r.decisions.approvals_at(req.id)
            message = self._review(req, row.recipient, active, approvals)
            await send.post(row.recipient, message, f"review:{req.id}:{row.recipient}")
        elif kind == notices.REVIEW_REFRESH:
            req = await self._request(row)
            async with store.read() as r:
                active = await r.assignments.active(req.id)
                approvals = await r.decisions.approvals_at(req.id)
                posted = await r.messages.with_prefix(f"review:{req.id}:")
            for key, channel, ts in posted:
                await send.update(channel, ts, self._review(req, key.rsplit(":", 1)[1], active, approvals))
        elif kind in (notices.CLAIM_POST, notices.CLAIM_REFRESH):
            req = await self._request(row)
            async with store.read() as r:
                active = await r.assignments.active(req.id)
                posted = await r.messages.with_prefix(f"claim:{req.id}") if kind == notices.CLAIM_REFRESH else []
            message = review_messages.claim_message(req, tz, req.seats_open(len(active)), active)
            if kind == notices.CLAIM_POST:
                await send.post(row.recipient or self.deps.summary_channel, message, f"claim:{req.id}")
            for _key, channel, ts in posted:
                await send.update(channel, ts, message)
        elif kind == notices.REQUESTER_DM:
            req = await self._request(row)
            assert row.recipient is not None
            event = str(row.data.get("event", ""))
            final = event in (notices.DECIDED, notices.EXPIRED, notices.CANCELLED, notices.NOT_REQUIRED)
            async with store.read() as r:
                reviewers = await r.assignments.active(req.id)
                approvers = await r.decisions.approvers(req.id)
            metadata = blocks.decision_metadata(req, approvers) if final else None
            message = blocks.requester_message(req, event, self.deps.summary_channel, tz, reviewers, approvers)
            await send.post(row.recipient, message, metadata=metadata)
        elif kind == notices.REMINDER_DM:
            req = await self._request(row)
            assert row.recipient is not None
            async with store.read() as r:
                since = await r.assignments.assigned_at(req.id, row.recipient)  # each reviewer's own clock
            waited = self.deps.clock.now() - (since or req.created_at)
            await send.post(row.recipient, scheduled_messages.reminder_message(req, waited))
        elif kind == notices.CHANNEL_NOTE and row.data.get("event") in (notices.BREAK_GLASS, notices.HINDSIGHT):
            req = await self._request(row)
            note = break_glass_messages.break_glass_note(req, str(row.data["event"]), tz)
            await send.post(row.recipient or self.deps.summary_channel, note)
        elif kind == notices.CHANNEL_NOTE:
            req = await self._request(row)
            old, new = row.data.get("old"), row.data.get("new")
            message = scheduled_messages.channel_note(
                req,
                str(row.data.get("event")),
                str(old) if old else None,
                str(new) if new else None,
                self.escalate_after,
            )
            await send.post(row.recipient or self.deps.summary_channel, message)
        elif kind == notices.POLICY_NOTICE:
            event = str(row.data.get("event", ""))
            report = await policy_report(self.deps) if event == "ended" else None
            message = policy_messages.policy_notice(
                event, row.data, await window(store), self.deps.clock.now(), tz, report
            )
            await send.post(row.recipient or self.deps.summary_channel, message)
        elif kind == notices.SUMMARY_POST:
            summary = await pending_summary(self.deps, self.overdue_after)
            await send.post(
                row.recipient or self.deps.summary_channel,
                scheduled_messages.summary_message(summary, tz),
                key=LAST_SUMMARY_KEY,
            )
        elif kind == notices.AUDIT_ANCHOR:
            data = row.data
            message = scheduled_messages.anchor_message(str(data["day"]), int(str(data["seq"])), str(data["hash"]))
            await send.post(row.recipient or self.deps.summary_channel, message)
        elif kind == notices.WORKFLOW_COMPLETE:
            req = await self._request(row)
            async with store.read() as r:
                execution = await r.workflow.execution_of(req.id)
            if execution is not None:
                method, fields = blocks.workflow_completion(req)
                await send.call(method, function_execution_id=execution, **fields)
        elif kind == notices.AVAILABILITY_DM:
            assert row.recipient is not None
            await send.post(row.recipient, scheduled_messages.availability_message(str(row.data.get("event", ""))))
        elif kind == notices.REPORT_REPLY:
            assert row.recipient is not None
            message = policy_messages.report_message(await policy_report(self.deps), tz)
            url = row.data.get("response_url")
            if isinstance(url, str) and url:
                await send.respond(url, message)
            else:
                await send.post(row.recipient, message)
        elif kind == notices.GROUP_PROBLEM_DM:
            assert row.recipient is not None
            message = scheduled_messages.group_problem_message(str(row.data["group"]), str(row.data["problem"]))
            await send.post(row.recipient, message)
        elif kind == notices.HOME_REFRESH:
            assert row.recipient is not None
            if await has_home(self.deps, row.recipient):
                view = home_view(await home_for(self.deps, row.recipient), tz)
                await send.call("views.publish", user_id=row.recipient, view=view)
        else:
            raise Undeliverable(f"unknown outbox kind {kind!r}")
