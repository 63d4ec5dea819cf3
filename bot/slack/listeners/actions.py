"""Buttons: Approve, Deny (opens the reason form), Claim, and Justified / Not justified for the
review after the fact of a break-glass change (each opens the note form).

The actor is always ``body.user.id`` from the signed payload; the button's value only
names the request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.domain.errors import MalformedPayload, RepeatedDelivery, SignoffError
from bot.domain.models import ChangeRequest, Verdict
from bot.errors_map import slack_text
from bot.services import break_glass, decide_request
from bot.services.claim_request import claim_request
from bot.services.deps import Deps
from bot.slack import ids, modals
from bot.slack.client import slack_error
from bot.slack.listeners.parts import ListenerParts
from bot.slack.listeners.payloads import request_id_from
from bot.slack.listeners.repeats import receipt_of

log = logging.getLogger(__name__)
View = dict[str, Any]
Check = Callable[[Deps, int, str], Awaitable[ChangeRequest]]  # may ``actor`` open this request's form?


def _target(body: dict[str, Any]) -> tuple[str, int]:
    request_id = request_id_from(body["actions"][0].get("value"))
    if request_id is None:
        raise MalformedPayload("This button does not name a request. Use `/signoff status CR-42` instead.")
    return body["user"]["id"], request_id


def register(app: AsyncApp, parts: ListenerParts) -> None:
    def tell(respond: AsyncRespond, err: SignoffError) -> None:
        if isinstance(err, RepeatedDelivery):
            return  # done the first time; the person already saw its outcome
        parts.background.spawn(
            respond(text=slack_text(err), response_type="ephemeral", replace_original=False), "ephemeral refusal"
        )

    async def open_form(trigger_id: str, view: dict[str, Any], respond: AsyncRespond, again: str) -> None:
        try:
            await parts.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as err:
            error = slack_error(err, "unknown_error")
            log.warning("views.open for the %s form failed: %s", view.get("callback_id"), error)
            await respond(
                text=f"The form could not open ({error}). {again}",
                response_type="ephemeral",
                replace_original=False,
            )

    @app.action(ids.APPROVE)
    async def approve(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        await ack()
        try:
            actor, request_id = _target(body)
            await decide_request.approve(parts.deps, request_id, actor, receipt_of(context))
        except SignoffError as err:
            tell(respond, err)

    async def check_then_open(
        body: dict[str, Any], respond: AsyncRespond, check: Check, form: Callable[[ChangeRequest], View], again: str
    ) -> None:
        """A button that opens a form: refuse (privately, audited by ``check``) before opening it."""
        try:
            actor, request_id = _target(body)
            req = await check(parts.deps, request_id, actor)
        except SignoffError as err:
            tell(respond, err)
            return
        view = form(req)
        trigger = str(body.get("trigger_id", ""))
        parts.background.spawn(open_form(trigger, view, respond, again), f"views.open {view['callback_id']}")

    @app.action(ids.DENY)
    async def deny(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await check_then_open(body, respond, decide_request.can_decide, modals.deny_form, "Press Deny again.")

    def after_the_fact_form(verdict: Verdict) -> Callable[[ChangeRequest], View]:
        return lambda req: modals.after_the_fact_form(req, verdict.value)

    @app.action(ids.JUSTIFIED)
    async def justified(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        form = after_the_fact_form(Verdict.JUSTIFIED)
        await check_then_open(body, respond, break_glass.can_review, form, "Press the button again.")

    @app.action(ids.NOT_JUSTIFIED)
    async def not_justified(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        form = after_the_fact_form(Verdict.NOT_JUSTIFIED)
        await check_then_open(body, respond, break_glass.can_review, form, "Press the button again.")

    @app.action(ids.CLAIM)
    async def claim(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        await ack()
        try:
            actor, request_id = _target(body)
            await claim_request(parts.deps, request_id, actor, receipt_of(context))
        except SignoffError as err:
            tell(respond, err)
