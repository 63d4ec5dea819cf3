"""The /signoff slash command and its subcommands."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.domain.errors import InvalidInput, SignoffError
from bot.domain.models import parse_ref
from bot.errors_map import slack_text
from bot.services import queries
from bot.services.cancel_request import cancel_request
from bot.services.set_availability import set_availability
from bot.slack import blocks, modals
from bot.slack.listeners.context import ListenerContext
from bot.slack.text import safe
from bot.store import requests as store

log = logging.getLogger(__name__)


def _ref_arg(verb: str, arg: str) -> int:
    request_id = parse_ref(arg)
    if request_id is None:
        raise InvalidInput({"id": f"is missing or not a request id. Usage: `/signoff {verb} CR-42`"})
    return request_id


async def _reply(ack: AsyncAck, text: str, body_blocks: list[dict[str, Any]] | None = None) -> None:
    """Answer the command privately, always as JSON."""
    await ack(text=text, blocks=body_blocks, response_type="ephemeral")


def register(app: AsyncApp, ctx: ListenerContext) -> None:
    async def open_form(trigger_id: str, respond: AsyncRespond) -> None:
        try:
            await ctx.client.views_open(trigger_id=trigger_id, view=modals.request_form())
        except SlackApiError as err:
            error = err.response.get("error", "unknown_error") if isinstance(err.response.data, dict) else "error"
            log.warning("views.open for the request form failed: %s", error)
            await respond(
                text=f"The sign-off form could not open ({error}). Please type `/signoff` again.",
                response_type="ephemeral",
            )

    @app.command("/signoff")
    async def signoff(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        user = body["user_id"]
        verb, _, arg = str(body.get("text", "")).strip().partition(" ")
        verb, arg = verb.lower(), arg.strip()
        try:
            if verb == "":
                await ack()
                ctx.background.spawn(open_form(body["trigger_id"], respond), "views.open request form")
            elif verb == "help":
                await _reply(ack, blocks.HELP)
            elif verb == "status":
                req = await queries.get_request(ctx.deps, _ref_arg(verb, arg))
                reviewers = await store.all_reviewers(ctx.deps.db, req.id)
                text, body_blocks = blocks.status_message(req, reviewers, ctx.tz)
                await _reply(ack, text, body_blocks)
            elif verb == "pending":
                text, body_blocks = blocks.pending_message(await queries.pending_for(ctx.deps, user), ctx.tz)
                await _reply(ack, text, body_blocks)
            elif verb == "cancel":
                req = await cancel_request(ctx.deps, _ref_arg(verb, arg), user)
                await _reply(ack, f"{req.ref} is cancelled. Its reviewer's message now says so.")
            elif verb in ("away", "back"):
                changed = await set_availability(ctx.deps, user, away=verb == "away")
                if verb == "away":
                    msg = "You are marked away: no new reviews will be routed to you. `/signoff back` undoes it."
                else:
                    msg = "Welcome back: new reviews can be routed to you again."
                await _reply(ack, msg if changed else f"No change: you were already marked {verb}.")
            else:
                await _reply(ack, f"I don't know `{safe(verb, 40)}`.\n{blocks.HELP}")
        except SignoffError as err:
            await _reply(ack, slack_text(err))
