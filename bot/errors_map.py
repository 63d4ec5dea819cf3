"""The one place where domain errors become Slack replies and HTTP statuses."""

from __future__ import annotations

from bot.domain import errors as e

_STATUS: list[tuple[type[e.SignoffError], int]] = [
    (e.IdempotencyMismatch, 422),
    (e.TooSoon, 429),
    (e.InvalidInput, 422),
    (e.MalformedPayload, 400),
    (e.UnknownRequest, 404),
    (e.Refused, 403),
    (e.Conflict, 409),
    (e.Unauthenticated, 401),
    (e.Unavailable, 503),
    (e.ConfigurationError, 500),
]

UNEXPECTED = "Something went wrong on our side. Nothing you stored was lost; try again in a moment."


def http_status(err: e.SignoffError) -> int:
    for cls, status in _STATUS:
        if isinstance(err, cls):
            return status
    return 500


def http_body(err: e.SignoffError) -> dict[str, object]:
    body: dict[str, object] = {"error": type(err).__name__, "message": err.message}
    if isinstance(err, e.InvalidInput):
        body["fields"] = err.fields
    code = getattr(err, "code", None)
    if code:
        body["code"] = code
    return body


def slack_text(err: e.SignoffError) -> str:
    """An ephemeral reply a person can act on."""
    if isinstance(err, e.InvalidInput):
        return "That did not work: " + "; ".join(f"{k} {v}" for k, v in sorted(err.fields.items()))
    return err.message
