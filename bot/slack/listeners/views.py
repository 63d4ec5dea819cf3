"""Modal submissions: the request form and the denial reason."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.domain.errors import InvalidInput, RepeatedDelivery, SignoffError
from bot.domain.models import ChangeRequest, Status, Verdict
from bot.domain.policy import needs_words
from bot.domain.request_fields import FIELDS
from bot.domain.validation import validate_break_glass, validate_draft
from bot.errors_map import slack_text
from bot.services import break_glass, decide_request
from bot.services.create_request import Submission, create_request
from bot.slack import ids, modals
from bot.slack.listeners.parts import ListenerParts
from bot.slack.listeners.payloads import form_values, request_id_from
from bot.slack.listeners.repeats import receipt_of
from bot.slack.text import safe

LABELS = {f.name: f.error_label for f in FIELDS} | {"break_glass": "The reason"}


def _field_errors(err: InvalidInput, extra: tuple[str, ...] = ()) -> dict[str, str]:
    shown = (*ids.FORM_FIELDS, *extra)
    return {k: f"{LABELS.get(k, k)} {v}" for k, v in err.fields.items() if k in shown} or {"title": slack_text(err)}


def _headline(req: ChangeRequest, summary_channel: str) -> str:
    title = safe(req.draft.title, 300)
    if req.status is Status.NOT_REQUIRED:
        return f"*{req.ref}* ({title}) is recorded. Sign-off is not required: {safe(req.policy_reason, 300)}."
    if req.break_glass is not None:
        return (
            f":rotating_light: *{req.ref}* ({title}) is approved by break-glass: you may ship it now. "
            f"The summary channel and the admins were told, and a senior will review it afterwards."
        )
    if req.approvals_needed > 1:
        return (
            f"*{req.ref}* ({title}) {needs_words(req.approvals_needed)}: {safe(req.policy_reason, 300)}. "
            "You'll get a DM when it is decided."
        )
    if req.reviewer:
        return f"*{req.ref}* ({title}) is waiting for <@{req.reviewer}>'s sign-off. You'll get a DM when they decide."
    return (
        f"*{req.ref}* ({title}) needs sign-off. No senior was free to assign, so it was posted in "
        f"<#{summary_channel}> for any senior to claim."
    )


async def _close_or_explain(ack: AsyncAck, field: str, work: Awaitable[object]) -> None:
    """Run a form's work: close the form when it is stored (now, or by an earlier delivery of the
    same submission), or show why not under ``field``."""
    try:
        await work
    except RepeatedDelivery:
        pass  # stored the first time; close the form as that time would have
    except InvalidInput as err:
        await ack(response_action="errors", errors={field: err.fields.get(field, slack_text(err))})
        return
    except SignoffError as err:
        await ack(response_action="errors", errors={field: slack_text(err)})
        return
    await ack()


def register(app: AsyncApp, parts: ListenerParts) -> None:
    @app.view(ids.REQUEST_FORM)
    async def submit_request(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await _submit(ack, body, context, break_glass=False)

    @app.view(ids.BREAK_GLASS_FORM)
    async def submit_break_glass(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await _submit(ack, body, context, break_glass=True)

    async def _submit(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, break_glass: bool) -> None:
        view = body["view"]
        values = form_values(view.get("state", {}).get("values", {}))
        errors: dict[str, str] = {}
        reason = None
        if break_glass:
            try:
                reason = validate_break_glass(values.get("break_glass"))
            except InvalidInput as err:
                errors.update(err.fields)
        try:
            draft = validate_draft(values, errors, form=True)
        except InvalidInput as err:
            await ack(response_action="errors", errors=_field_errors(err, ("break_glass",)))
            return
        sub = Submission(
            requester=body["user"]["id"],
            draft=draft,
            idempotency_key=f"slack-view:{view['id']}",
            receipt=receipt_of(context),
            break_glass=reason,
        )
        try:
            created = await create_request(parts.deps, sub)
        except RepeatedDelivery:
            await ack()
            return
        except SignoffError as err:
            await ack(response_action="errors", errors={"title": slack_text(err)})
            return
        headline = _headline(created.request, parts.deps.summary_channel)
        await ack(response_action="update", view=modals.submitted(created.request, headline))

    @app.view(ids.AFTER_THE_FACT_FORM)
    async def submit_after_the_fact(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        view = body["view"]
        raw_id, _, raw_verdict = str(view.get("private_metadata") or "").partition(":")
        request_id = request_id_from(raw_id)
        if request_id is None or raw_verdict not in (Verdict.JUSTIFIED, Verdict.NOT_JUSTIFIED):
            await ack(response_action="errors", errors={"note": "This form lost track of its request; review again."})
            return
        note = form_values(view.get("state", {}).get("values", {})).get("note")
        user, verdict = body["user"]["id"], Verdict(raw_verdict)
        await _close_or_explain(
            ack, "note", break_glass.record_verdict(parts.deps, request_id, user, verdict, note, receipt_of(context))
        )

    @app.view(ids.DENY_FORM)
    async def submit_denial(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        view = body["view"]
        request_id = request_id_from(view.get("private_metadata"))
        if request_id is None:
            await ack(response_action="errors", errors={"reason": "This form lost track of its request; deny again."})
            return
        reason = form_values(view.get("state", {}).get("values", {})).get("reason")
        text = reason if isinstance(reason, str) else None
        await _close_or_explain(
            ack, "reason", decide_request.deny(parts.deps, request_id, body["user"]["id"], text, receipt_of(context))
        )
