"""The /signoff slash command: parse the subcommand, call a service, answer privately."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.domain.durations import parse_duration
from bot.domain.errors import InvalidInput, NotOnRoster, RepeatedDelivery, SignoffError, TooSoon
from bot.domain.models import Engineer, parse_ref
from bot.domain.words import count
from bot.errors_map import slack_text
from bot.services import queries
from bot.services.cancel_request import cancel_request
from bot.services.policy_lifecycle import end_policy, extend_policy
from bot.services.policy_state import window
from bot.services.report import request_report
from bot.services.roster_view import by_level, roster_for_admin
from bot.services.set_availability import set_availability
from bot.services.summary import post_summary
from bot.slack import blocks, modals, policy_messages
from bot.slack.client import slack_error
from bot.slack.listeners.parts import ListenerParts
from bot.slack.listeners.repeats import receipt_of
from bot.slack.text import safe, when

log = logging.getLogger(__name__)
ROSTER_SHOWN = 40  # people listed; a section holds 3,000 characters
Reply = tuple[str, list[dict[str, Any]] | None]


@dataclass(frozen=True)
class Command:
    """One `/signoff` invocation: who typed it, what followed the subcommand, the delivery that
    recognises Slack's repeats, and where a later answer goes (``response_url``)."""

    user: str
    arg: str
    receipt: str | None
    response_url: str | None


Handler = Callable[[ListenerParts, Command], Awaitable[Reply]]


def _ref_arg(verb: str, arg: str) -> int:
    request_id = parse_ref(arg)
    if request_id is None:
        raise InvalidInput({"id": f"is missing or not a request id. Usage: `/signoff {verb} CR-42`"})
    return request_id


async def _help(parts: ListenerParts, cmd: Command) -> Reply:
    return blocks.HELP, None


async def _status(parts: ListenerParts, cmd: Command) -> Reply:
    req = await queries.get_request(parts.deps, _ref_arg("status", cmd.arg))
    async with parts.deps.store.read() as r:
        reviewers = await r.assignments.everyone(req.id)
    return blocks.status_message(req, reviewers, parts.tz)


async def _pending(parts: ListenerParts, cmd: Command) -> Reply:
    return blocks.pending_message(await queries.pending_for(parts.deps, cmd.user), parts.tz)


async def _cancel(parts: ListenerParts, cmd: Command) -> Reply:
    req = await cancel_request(parts.deps, _ref_arg("cancel", cmd.arg), cmd.user, cmd.receipt)
    return f"{req.ref} is cancelled. Its reviewer's message now says so.", None


AWAY_USAGE = (
    "Usage: `/signoff away`, `/signoff away until 2026-12-24`, `/signoff away 3d`, optionally `delegate @colleague`"
)
_AWAY = re.compile(
    r"^(?:until\s+(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})|(?P<for>[0-9]{1,4}\s*[mhd]))?"
    r"\s*(?:delegate\s+(?:<@(?P<mention>[UW][A-Z0-9]+)(?:\|[^>]*)?>|(?P<id>[UW][A-Z0-9]+)))?$",
    re.IGNORECASE | re.ASCII,
)


def _away_args(arg: str, now: datetime, tz: ZoneInfo) -> tuple[datetime | None, str | None]:
    """(until, delegate) from ``until 2026-12-24`` or ``3d``, then ``delegate @x``."""
    m = _AWAY.match(arg.strip())
    if m is None:
        raise InvalidInput({"away": AWAY_USAGE})
    until = None
    if m.group("date"):
        try:  # back at the start of that day, in TIMEZONE
            until = datetime.combine(date.fromisoformat(m.group("date")), time(0, 0), tzinfo=tz)
        except ValueError:
            raise InvalidInput({"until": f"is not a date like 2026-12-24. {AWAY_USAGE}"}) from None
    elif m.group("for"):
        try:
            until = now + parse_duration(m.group("for"))
        except ValueError:
            raise InvalidInput({"away": f"must be a time longer than zero. {AWAY_USAGE}"}) from None
    return until, m.group("mention") or m.group("id")


async def _away(parts: ListenerParts, cmd: Command) -> Reply:
    until, delegate = _away_args(cmd.arg, parts.deps.clock.now(), parts.tz)
    result = await set_availability(parts.deps, cmd.user, True, cmd.receipt, until, delegate)
    if not result.changed:
        return "No change: you were already marked away like that.", None
    text = "You are marked away" + (f" until {when(until, parts.tz)}" if until else "") + ": no new reviews come to you"
    text += f" (<@{delegate}> gets them first)." if delegate else "."
    if result.moved:
        text += f" Your {count(result.moved, 'pending review')} moved to other seniors."
    return text + " `/signoff back` undoes it.", None


async def _back(parts: ListenerParts, cmd: Command) -> Reply:
    if not (await set_availability(parts.deps, cmd.user, False, cmd.receipt)).changed:
        return "No change: you were already marked back.", None
    return "Welcome back: new reviews can be routed to you again.", None


async def _policy(parts: ListenerParts, cmd: Command) -> Reply:
    action, _, rest = cmd.arg.partition(" ")
    action = action.lower()
    if action == "":
        return policy_messages.policy_status(await window(parts.deps.store), parts.deps.clock.now(), parts.tz)
    if action == "extend":
        extended = await extend_policy(parts.deps, cmd.user, rest.strip(), cmd.receipt)
        return f"The policy now ends {when(extended.end, parts.tz)}. The summary channel was told.", None
    if action == "end":
        ended = await end_policy(parts.deps, cmd.user, cmd.receipt)
        return (
            f"The policy has ended. Its {count(ended.pending, 'pending request')} "
            f"{'is' if ended.pending == 1 else 'are'} being expired now; the summary "
            "channel gets the announcement and the report once they are.",
            None,
        )
    raise InvalidInput({"policy": "Usage: `/signoff policy`, `/signoff policy extend 30`, `/signoff policy end`"})


async def _summary(parts: ListenerParts, cmd: Command) -> Reply:
    try:
        await post_summary(parts.deps, cmd.user, cmd.receipt)
    except TooSoon as err:
        link = f" <{blocks.archive_link(*err.last)}|See the last one.>" if err.last else ""
        return err.message + link, None
    return f"Posting the pending summary in <#{parts.deps.summary_channel}>.", None


def _source(engineer: Engineer) -> str:
    group = engineer.usergroup
    if group and group.startswith("@"):
        return f"the user group {safe(group, 80)}"  # the handle, as the roster file names it
    if group:
        return f"the user group <!subteam^{group}>"  # Slack shows the group's name, not its ID
    return safe(engineer.source, 80)


async def _roster(parts: ListenerParts, cmd: Command) -> Reply:
    roster = await roster_for_admin(parts.deps, cmd.user)
    people = by_level(roster)
    lines = [
        f"• <@{e.user}>: {e.level.value}{', ' + safe(e.team, 60) if e.team else ''} (from {_source(e)})"
        for e in people[:ROSTER_SHOWN]
    ]
    admins = ", ".join(f"<@{a}>" for a in sorted(roster.admins)) or "none"
    head = f"*Roster: {count(len(people), 'engineer')}, admins {admins}*"
    note = f"\n:warning: {parts.groups.problem}" if parts.groups.problem else ""
    agreement = await parts.replicas.agreement()
    note += f"\n{'' if agreement.agree else ':warning: '}Replicas: {agreement.describe()}."
    listing = blocks.fit_lines(lines, len(people)) or "—"
    return f"Roster: {count(len(people), 'engineer')}", [blocks.section(head + note), blocks.section(listing)]


async def _report(parts: ListenerParts, cmd: Command) -> Reply:
    """Answered at once; the report (which grows with the period) follows in this conversation."""
    await request_report(parts.deps, cmd.user, cmd.response_url, cmd.receipt)
    return "Putting the report for the policy period together; it appears here in a moment.", None


SUBCOMMANDS: dict[str, Handler] = {
    "help": _help,
    "status": _status,
    "pending": _pending,
    "cancel": _cancel,
    "away": _away,
    "back": _back,
    "policy": _policy,
    "summary": _summary,
    "report": _report,
    "roster": _roster,
}
# Subcommands answered with a form: `/signoff` and `/signoff breakglass`.
FORMS: dict[str, Callable[[], dict[str, Any]]] = {"": modals.request_form, "breakglass": modals.break_glass_form}


def register(app: AsyncApp, parts: ListenerParts) -> None:
    async def open_form(trigger_id: str, respond: AsyncRespond, view: dict[str, Any]) -> None:
        try:
            await parts.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as err:
            error = slack_error(err, "unknown_error")
            log.warning("views.open for the request form failed: %s", error)
            await respond(
                text=f"The form could not open ({error}). Please type the command again.",
                response_type="ephemeral",
            )

    @app.command("/signoff")
    async def signoff(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        verb, _, arg = str(body.get("text", "")).strip().partition(" ")
        verb = verb.lower()
        if verb in FORMS:
            roster = parts.deps.roster()
            if verb == "breakglass" and roster.get(body["user_id"]) is None and not roster.is_admin(body["user_id"]):
                # Said now, not after the form is filled in; the submission checks again.
                refusal = NotOnRoster("Only engineers on signoff's roster can break glass; ask a senior to request it.")
                await ack(text=slack_text(refusal), response_type="ephemeral")
                return
            await ack()
            parts.background.spawn(open_form(body["trigger_id"], respond, FORMS[verb]()), "views.open form")
            return
        handler = SUBCOMMANDS.get(verb)
        try:
            if handler is None:
                text, reply_blocks = f"I don't know `{safe(verb, 40)}`.\n{blocks.HELP}", None
            else:
                response_url = body.get("response_url")
                cmd = Command(
                    body["user_id"],
                    arg.strip(),
                    receipt_of(context),
                    response_url if isinstance(response_url, str) else None,
                )
                text, reply_blocks = await handler(parts, cmd)
        except RepeatedDelivery:
            await ack()  # done the first time; that answer was the one to see
            return
        except SignoffError as err:
            text, reply_blocks = slack_text(err), None
        await ack(text=text, blocks=reply_blocks, response_type="ephemeral")
