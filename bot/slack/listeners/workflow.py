"""The "Request senior sign-off" step for Workflow Builder (a custom function).

Slack sends ``function_executed``; the request is created through the same service as
/signoff, linked to the step's execution, and the step is completed by the outbox when the
request is final. Inputs that cannot make a request end the step at once with the reason.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.domain.errors import RepeatedDelivery, SignoffError, Unavailable
from bot.domain.validation import validate_draft
from bot.errors_map import slack_text
from bot.services.create_request import Submission, create_request
from bot.services.workflow_step import WORKFLOW_SOURCE
from bot.slack import ids
from bot.slack.client import slack_error
from bot.slack.listeners.parts import ListenerParts
from bot.slack.listeners.repeats import receipt_of

log = logging.getLogger(__name__)
USER_ID_PREFIXES = ("U", "W")


def step_submission(inputs: dict[str, Any], execution: str, receipt: str | None) -> Submission:
    """The step's inputs as a request, or InvalidInput naming each bad input."""
    requester = inputs.get("requester")
    raw = {
        "title": inputs.get("title"),
        "url": inputs.get("link"),
        "description": inputs.get("description"),
        "service": inputs.get("service"),
        "environment": inputs.get("environment") or "production",
        "ai_assisted": inputs.get("ai_assisted"),
        "destructive": inputs.get("destructive"),  # left out: not known, which counts as destructive for AI
    }
    errors: dict[str, str] = {}
    if not isinstance(requester, str) or not requester.startswith(USER_ID_PREFIXES):
        errors["requester"] = "must be a Slack user"
    draft = validate_draft(raw, errors)
    return Submission(
        requester=str(requester),
        draft=draft,
        source=WORKFLOW_SOURCE,
        idempotency_key=f"workflow:{execution}",
        receipt=receipt,
        workflow_execution=execution,
    )


def register(app: AsyncApp, parts: ListenerParts) -> None:
    async def fail_step(execution: str, error: str) -> None:
        try:
            await parts.client.functions_completeError(function_execution_id=execution, error=error)
        except SlackApiError as err:
            log.warning("functions.completeError for %s failed: %s", execution, slack_error(err))

    @app.function(ids.WORKFLOW_STEP)
    async def request_signoff(event: dict[str, Any], context: AsyncBoltContext) -> None:
        execution = event.get("function_execution_id")
        inputs = event.get("inputs")
        if not isinstance(execution, str) or not isinstance(inputs, dict):
            log.warning("function_executed without an execution id or inputs; ignored")
            return
        try:
            await create_request(parts.deps, step_submission(inputs, execution, receipt_of(context)))
        except RepeatedDelivery:
            return
        except Unavailable:
            raise  # busy or the database away: answered 503, so Slack sends the step again later
        except SignoffError as err:
            parts.background.spawn(fail_step(execution, slack_text(err)), "functions.completeError")
