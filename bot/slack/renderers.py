"""How each kind of outbox row looks in Slack: one small renderer per kind, in a registry.

A renderer reads what it needs from the stored state at delivery time (so a row queued before a
decision still shows the request as it is now), builds its message with a pure builder, and makes
its Slack calls through ``SlackCalls``, which the outbox worker gives it for that one row. A
claimed batch's requests, reviewers, approvals and message keys are read once for all its rows
(``BatchReads``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.domain.models import ChangeRequest, Status
from bot.domain.outbox import Event, Kind, OutboxRow
from bot.domain.report import Report
from bot.domain.timestamps import utc_text
from bot.services.deps import Deps
from bot.services.home import has_home, home_for
from bot.services.policy_state import window
from bot.services.report import policy_report
from bot.services.summary import LAST_SUMMARY_KEY, pending_summary
from bot.slack import blocks, break_glass_messages, policy_messages, review_messages, scheduled_messages
from bot.slack.blocks import Message
from bot.slack.home_view import home_view
from bot.slack.report_chart import chart_png
from bot.slack.review_messages import Approvals

log = logging.getLogger(__name__)


class Undeliverable(Exception):
    """A permanent failure: tried once, marked failed, logged once. ``error`` is Slack's code."""

    def __init__(self, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


class SlackCalls(Protocol):
    """The Slack calls a renderer may make for its row (exactly-once posting is the caller's)."""

    async def post(
        self, channel: str, message: Message, key: str | None = None, metadata: dict[str, Any] | None = None
    ) -> None: ...

    async def update(self, channel: str, ts: str, message: Message) -> None: ...

    async def call(self, method: str, **kwargs: Any) -> dict[str, Any]: ...

    async def respond(self, response_url: str, message: Message) -> None: ...

    async def upload(self, url: str, data: bytes) -> None: ...


@dataclass(frozen=True)
class BatchReads:
    """The requests of a claimed batch, their active reviewers, approvals and message keys, read in
    four statements once the rows are claimed, instead of each row reading its own. Every row was
    queued before the claim, so each still sees its request as new as when it was queued, or
    newer; a change after the read queues rows of its own, delivered after these."""

    requests: dict[int, ChangeRequest]
    active: dict[int, list[str]]
    approvals: Mapping[int, Approvals]
    messages: dict[str, tuple[str, str]]  # key -> (channel, ts), for the keys in ``read``
    read: frozenset[str]  # the keys and key prefixes ``messages`` holds all of


def message_keys(request_id: int) -> tuple[list[str], list[str]]:
    """Where a request's posts are remembered: (key prefixes, keys). Each reviewer's DM and
    reminder, and the one claim post."""
    return [f"review:{request_id}:", f"reminder:{request_id}:"], [f"claim:{request_id}"]


@dataclass
class _Batch:
    reads: BatchReads | None = None
    posted: dict[str, tuple[str, str]] = field(default_factory=dict)  # the batch's own posts, not yet stored


@dataclass(frozen=True)
class Rendering:
    """What every renderer may read: the services' dependencies and how times read, and the
    batch being delivered (``read_batch``)."""

    deps: Deps
    tz: ZoneInfo
    overdue_after: timedelta
    escalate_after: timedelta
    batch: _Batch = field(default_factory=_Batch)

    async def read_batch(self, rows: Sequence[OutboxRow], posted: dict[str, tuple[str, str]]) -> None:
        """Read for the whole batch at once; ``posted`` is where the batch's own posts land until
        they are stored (the outbox worker's)."""
        self.batch.posted = posted
        ids = sorted({row.request_id for row in rows if row.request_id is not None})
        if not ids:
            self.batch.reads = None
            return
        each = [message_keys(i) for i in ids]
        prefixes = [p for under, _exact in each for p in under]
        keys = [k for _under, exact in each for k in exact]
        async with self.deps.store.read() as r:
            self.batch.reads = BatchReads(
                await r.requests.many(ids),
                await r.assignments.active_of(ids),
                await r.decisions.approvals_of(ids),
                {key: (channel, ts) for key, channel, ts in await r.messages.under(prefixes, keys)},
                frozenset(prefixes + keys),
            )

    def forget_batch(self) -> None:
        self.batch.reads = None
        self.batch.posted = {}

    async def posted(self, key: str) -> list[tuple[str, str, str]]:
        """(key, channel, ts) of the post remembered under ``key``, or of every post under a key
        that ends with ``:`` (``review:12:`` finds each reviewer's DM of CR-12), the batch's own
        posts included."""
        under = key.endswith(":")

        def matches(k: str) -> bool:
            return k.startswith(key) if under else k == key

        reads = self.batch.reads
        if reads is not None and key in reads.read:
            found = {k: v for k, v in reads.messages.items() if matches(k)}
        else:
            async with self.deps.store.read() as r:
                if under:
                    found = {k: (channel, ts) for k, channel, ts in await r.messages.with_prefix(key)}
                else:
                    one = await r.messages.where(key)
                    found = {key: one} if one is not None else {}
        found.update({k: v for k, v in self.batch.posted.items() if matches(k)})
        return [(k, channel, ts) for k, (channel, ts) in sorted(found.items())]

    async def request(self, row: OutboxRow) -> ChangeRequest:
        req = None
        reads = self.batch.reads
        if row.request_id is not None and reads is not None and row.request_id in reads.requests:
            return reads.requests[row.request_id]
        if row.request_id is not None:
            async with self.deps.store.read() as r:
                req = await r.requests.get(row.request_id)
        if req is None:
            raise Undeliverable(f"request {row.request_id} not found")
        return req

    async def active(self, request_id: int) -> list[str]:
        reads = self.batch.reads
        if reads is not None and request_id in reads.active:
            return reads.active[request_id]
        async with self.deps.store.read() as r:
            return await r.assignments.active(request_id)

    async def approvals(self, request_id: int) -> Approvals:
        """Who approved, and when, first first."""
        reads = self.batch.reads
        if reads is not None and request_id in reads.approvals:
            return reads.approvals[request_id]
        async with self.deps.store.read() as r:
            return await r.decisions.approvals_at(request_id)

    def channel(self, row: OutboxRow) -> str:
        return row.recipient or self.deps.summary_channel


Renderer = Callable[[Rendering, OutboxRow, SlackCalls], Awaitable[None]]
RENDERERS: dict[Kind, Renderer] = {}


def renders(kind: Kind) -> Callable[[Renderer], Renderer]:
    def register(renderer: Renderer) -> Renderer:
        RENDERERS[kind] = renderer
        return renderer

    return register


def _person(row: OutboxRow) -> str:
    if row.recipient is None:
        raise Undeliverable(f"outbox row {row.id} ({row.kind}) has no recipient")
    return row.recipient


def _review(ctx: Rendering, req: ChangeRequest, viewer: str, active: list[str], approvals: Approvals) -> Message:
    if req.break_glass is not None:
        return review_messages.after_the_fact_message(req, viewer in active, ctx.tz)
    return review_messages.review_message(req, viewer, viewer in active, ctx.tz, approvals)


@renders(Kind.REVIEW_DM)
async def review_dm(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    req, reviewer = await ctx.request(row), _person(row)
    active, approvals = await ctx.active(req.id), await ctx.approvals(req.id)
    await slack.post(reviewer, _review(ctx, req, reviewer, active, approvals), f"review:{req.id}:{reviewer}")


@renders(Kind.REVIEW_REFRESH)
async def review_refresh(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    req = await ctx.request(row)
    active, approvals = await ctx.active(req.id), await ctx.approvals(req.id)
    posted = await ctx.posted(f"review:{req.id}:")
    reminded = await ctx.posted(f"reminder:{req.id}:")
    for key, channel, ts in posted:
        await slack.update(channel, ts, _review(ctx, req, key.rsplit(":", 1)[1], active, approvals))
    for key, channel, ts in reminded:  # a reminder asks to decide only while the review is theirs
        reviewer = key.split(":")[2]
        theirs = reviewer in active and (req.status is Status.PENDING or req.awaiting_review_after_the_fact)
        if not theirs:
            await slack.update(channel, ts, scheduled_messages.reminder_moved_on(req, active))


async def _claim(ctx: Rendering, row: OutboxRow, slack: SlackCalls, refresh: bool) -> None:
    req = await ctx.request(row)
    active = await ctx.active(req.id)
    posted = await ctx.posted(f"claim:{req.id}") if refresh else []
    message = review_messages.claim_message(req, ctx.tz, req.seats_open(len(active)), active)
    if not refresh:
        await slack.post(ctx.channel(row), message, f"claim:{req.id}")
    for _key, channel, ts in posted:
        await slack.update(channel, ts, message)


@renders(Kind.CLAIM_POST)
async def claim_post(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    await _claim(ctx, row, slack, refresh=False)


@renders(Kind.CLAIM_REFRESH)
async def claim_refresh(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    await _claim(ctx, row, slack, refresh=True)


@renders(Kind.REQUESTER_DM)
async def requester_dm(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    req, requester = await ctx.request(row), _person(row)
    event = str(row.data.get("event", ""))
    reviewers = await ctx.active(req.id)
    approvers = [who for who, _at in await ctx.approvals(req.id)]
    final = event in (Event.DECIDED, Event.EXPIRED, Event.CANCELLED, Event.NOT_REQUIRED)
    metadata = blocks.decision_metadata(req, approvers) if final else None
    message = blocks.requester_message(req, event, ctx.deps.summary_channel, ctx.tz, reviewers, approvers)
    await slack.post(requester, message, metadata=metadata)


@renders(Kind.REMINDER_DM)
async def reminder_dm(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    req, reviewer = await ctx.request(row), _person(row)
    async with ctx.deps.store.read() as r:
        since = await r.assignments.assigned_at(req.id, reviewer)  # each reviewer's own clock
    waited = ctx.deps.clock.now() - (since or req.created_at)
    # Remembered per assignment, so the review's refresh can say when it is no longer theirs.
    key = f"reminder:{req.id}:{reviewer}:{utc_text(since or req.created_at)}"
    await slack.post(reviewer, scheduled_messages.reminder_message(req, waited), key)


@renders(Kind.CHANNEL_NOTE)
async def channel_note(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    req = await ctx.request(row)
    event = str(row.data.get("event"))
    if event in (Event.BREAK_GLASS, Event.REVIEWED_AFTER):
        await slack.post(ctx.channel(row), break_glass_messages.break_glass_note(req, event, ctx.tz))
        return
    old, new = row.data.get("old"), row.data.get("new")
    message = scheduled_messages.channel_note(
        req, event, str(old) if old else None, str(new) if new else None, ctx.escalate_after
    )
    await slack.post(ctx.channel(row), message)


@renders(Kind.POLICY_NOTICE)
async def policy_notice(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    event = str(row.data.get("event", ""))
    report = await policy_report(ctx.deps) if event == "ended" else None
    when = await window(ctx.deps.store)
    message = policy_messages.policy_notice(event, row.data, when, ctx.deps.clock.now(), ctx.tz, report)
    if report is not None:
        message = await _with_chart(ctx, row, slack, report, message)
    await slack.post(ctx.channel(row), message)


@renders(Kind.SUMMARY_POST)
async def summary_post(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    summary = await pending_summary(ctx.deps, ctx.overdue_after)
    await slack.post(ctx.channel(row), scheduled_messages.summary_message(summary, ctx.tz), key=LAST_SUMMARY_KEY)


@renders(Kind.AUDIT_ANCHOR)
async def audit_anchor(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    data = row.data
    new = data.get("new")
    message = scheduled_messages.anchor_message(
        str(data["day"]), int(str(data["seq"])), str(data["hash"]), int(str(new)) if new is not None else None
    )
    await slack.post(ctx.channel(row), message)


@renders(Kind.WORKFLOW_COMPLETE)
async def workflow_complete(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    req = await ctx.request(row)
    async with ctx.deps.store.read() as r:
        execution = await r.workflow.execution_of(req.id)
    if execution is not None:
        method, fields = blocks.workflow_completion(req)
        await slack.call(method, function_execution_id=execution, **fields)


@renders(Kind.AVAILABILITY_DM)
async def availability_dm(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    message = scheduled_messages.availability_message(str(row.data.get("event", "")))
    await slack.post(_person(row), message)


@renders(Kind.REPORT_REPLY)
async def report_reply(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    person = _person(row)
    report = await policy_report(ctx.deps)
    message = await _with_chart(ctx, row, slack, report, policy_messages.report_message(report, ctx.tz))
    url = row.data.get("response_url")
    if isinstance(url, str) and url:
        await slack.respond(url, message)
    else:
        await slack.post(person, message)


CHART_TITLE = "signoff report chart"


async def _with_chart(ctx: Rendering, row: OutboxRow, slack: SlackCalls, report: Report, message: Message) -> Message:
    """The report's message with its chart (an image block of a file the bot uploaded). A chart
    that cannot be drawn or uploaded for good leaves the text report to go out on its own."""
    text, body = message
    try:
        png = await asyncio.to_thread(chart_png, report, ctx.tz)  # a few hundred ms of CPU: off the loop
    except Exception:
        log.exception("outbox %s: the report's chart could not be drawn; sending the report without it", row.id)
        return message
    if png is None:
        return message
    try:
        file_id = await _upload_once(ctx, row, slack, png)
    except Undeliverable as exc:
        log.warning(
            "outbox %s: the report's chart could not be uploaded (%s); sending the report without it", row.id, exc
        )
        return message
    image = {
        "type": "image",
        "title": {"type": "plain_text", "text": "The period in a picture"},
        "slack_file": {"id": file_id},
        "alt_text": "Requests per week by tier, and time to decision, week by week",
    }
    return text, [*body, image]


async def _upload_once(ctx: Rendering, row: OutboxRow, slack: SlackCalls, png: bytes) -> str:
    """Upload the chart (private to the bot; the message shows it), once per outbox row. The file
    is remembered as soon as Slack names it, so a retry of the row (after a lost answer) finishes
    that file instead of starting another: completing it again answers that it is complete."""
    key = f"chart:{row.id}"
    async with ctx.deps.store.read() as r:
        known = await r.messages.where(key)
    if known:
        upload_url, file_id = known
    else:
        got = await slack.call("files.getUploadURLExternal", filename="signoff-report.png", length=len(png))
        if not isinstance(got.get("upload_url"), str) or not isinstance(got.get("file_id"), str):
            raise Undeliverable("files.getUploadURLExternal answered without an upload_url")
        upload_url, file_id = str(got["upload_url"]), str(got["file_id"])
        async with ctx.deps.store.write(durable=False) as tx:
            await tx.messages.save(key, upload_url, file_id)
        await slack.upload(upload_url, png)
    files = [{"id": file_id, "title": CHART_TITLE}]
    try:
        await slack.call("files.completeUploadExternal", files=files)
    except Undeliverable as exc:
        if exc.error == "file_already_completed":
            return file_id  # an earlier attempt finished it and did not hear back
        if exc.error != "file_not_found" or not known:
            raise
        await slack.upload(upload_url, png)  # the earlier attempt's bytes never arrived
        await slack.call("files.completeUploadExternal", files=files)
    return file_id


@renders(Kind.GROUP_PROBLEM_DM)
async def group_problem_dm(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    message = scheduled_messages.group_problem_message(str(row.data["group"]), str(row.data["problem"]))
    await slack.post(_person(row), message)


@renders(Kind.HOME_REFRESH)
async def home_refresh(ctx: Rendering, row: OutboxRow, slack: SlackCalls) -> None:
    person = _person(row)
    if await has_home(ctx.deps, person):
        view = home_view(await home_for(ctx.deps, person), ctx.tz)
        await slack.call("views.publish", user_id=person, view=view)


@dataclass(frozen=True)
class OutboxRenderer:
    """Renders one outbox row into its Slack calls, by its kind's renderer."""

    rendering: Rendering

    async def read_batch(self, rows: Sequence[OutboxRow], posted: dict[str, tuple[str, str]]) -> None:
        await self.rendering.read_batch(rows, posted)

    def forget_batch(self) -> None:
        self.rendering.forget_batch()

    async def deliver(self, row: OutboxRow, slack: SlackCalls) -> None:
        try:
            renderer = RENDERERS[Kind(row.kind)]
        except (ValueError, KeyError):  # a row written by a newer version, or by hand
            raise Undeliverable(f"unknown outbox kind {row.kind!r}") from None
        await renderer(self.rendering, row, slack)
