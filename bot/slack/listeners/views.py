"""Modal submissions: the request form and the denial reason."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.domain.errors import InvalidInput, RepeatedDelivery, SignoffError
from bot.domain.models import ChangeRequest, Status
from bot.domain.request_fields import FIELDS
from bot.domain.validation import validate_draft
from bot.errors_map import slack_text
from bot.services import decide_request
from bot.services.create_request import Submission, create_request
from bot.slack import ids, modals
from bot.slack.listeners.context import ListenerContext
from bot.slack.listeners.payloads import form_values, request_id_from
from bot.slack.listeners.repeats import delivery_of
from bot.slack.text import safe

LABELS = {f.name: f.error_label for f in FIELDS}


def _field_errors(err: InvalidInput) -> dict[str, str]:
    return {k: f"{LABELS.get(k, k)} {v}" for k, v in err.fields.items() if k in ids.FORM_FIELDS} or {
        "title": slack_text(err)
    }


def _headline(req: ChangeRequest, summary_channel: str) -> str:
    title = safe(req.draft.title, 300)
    if req.status is Status.NOT_REQUIRED:
        return f"*{req.ref}* ({title}) is recorded. Sign-off is not required: {safe(req.policy_reason, 300)}."
    if req.reviewer:
        return f"*{req.ref}* ({title}) is waiting for <@{req.reviewer}>'s sign-off. You'll get a DM when they decide."
    return (
        f"*{req.ref}* ({title}) needs sign-off. No senior was free to assign, so it was posted in "
        f"<#{summary_channel}> for any senior to claim."
    )


def register(app: AsyncApp, ctx: ListenerContext) -> None:
    @app.view(ids.REQUEST_FORM)
    async def submit_request(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        view = body["view"]
        try:
            draft = validate_draft(form_values(view.get("state", {}).get("values", {})))
        except InvalidInput as err:
            await ack(response_action="errors", errors=_field_errors(err))
            return
        sub = Submission(
            requester=body["user"]["id"],
            draft=draft,
            idempotency_key=f"slack-view:{view['id']}",
            delivery=delivery_of(context),
        )
        try:
            created = await create_request(ctx.deps, sub)
        except RepeatedDelivery:
            await ack()
            return
        except SignoffError as err:
            await ack(response_action="errors", errors={"title": slack_text(err)})
            return
        headline = _headline(created.request, ctx.deps.summary_channel)
        await ack(response_action="update", view=modals.submitted(created.request, headline))

    @app.view(ids.DENY_FORM)
    async def submit_denial(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        view = body["view"]
        request_id = request_id_from(view.get("private_metadata"))
        if request_id is None:
            await ack(response_action="errors", errors={"reason": "This form lost track of its request; deny again."})
            return
        reason = form_values(view.get("state", {}).get("values", {})).get("reason")
        try:
            await decide_request.deny(
                ctx.deps,
                request_id,
                body["user"]["id"],
                reason if isinstance(reason, str) else None,
                delivery_of(context),
            )
        except RepeatedDelivery:
            pass  # stored the first time; close the form as that time would have
        except InvalidInput as err:
            await ack(response_action="errors", errors={"reason": err.fields.get("reason", slack_text(err))})
            return
        except SignoffError as err:
            await ack(response_action="errors", errors={"reason": slack_text(err)})
            return
        await ack()
