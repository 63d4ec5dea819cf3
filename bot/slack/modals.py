"""Pure builders for the modals: the request form, the denial form, the confirmation."""

from __future__ import annotations

from typing import Any

from bot.domain.models import ChangeRequest
from bot.domain.request_fields import FIELDS, REASON_MAX, Field, FieldKind
from bot.slack import ids
from bot.slack.text import clip, safe

Block = dict[str, Any]


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _input(
    block_id: str,
    label: str,
    max_length: int,
    *,
    optional: bool = False,
    multiline: bool = False,
    placeholder: str | None = None,
    initial: str | None = None,
) -> Block:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "max_length": max_length}
    if multiline:
        element["multiline"] = True
    if placeholder:
        element["placeholder"] = _plain(placeholder)
    if initial:
        element["initial_value"] = initial
    return {"type": "input", "block_id": block_id, "label": _plain(label), "optional": optional, "element": element}


YES_NO = [
    {"text": _plain("Yes, an AI tool helped write it"), "value": "yes"},
    {"text": _plain("No"), "value": "no"},
]
DESTROYS = [
    {"text": _plain("Yes, it deletes or replaces resources"), "value": "yes"},
    {"text": _plain("No"), "value": "no"},
]


def _form_input(field: Field) -> Block:
    if field.kind in (FieldKind.YES_NO, FieldKind.MAYBE):  # no default: people must choose
        options = YES_NO if field.kind is FieldKind.YES_NO else DESTROYS
        return {
            "type": "input",
            "block_id": field.name,
            "label": _plain(field.label),
            "element": {"type": "radio_buttons", "action_id": "value", "options": options},
        }
    return _input(
        field.name,
        field.label,
        field.max_length,
        optional=not field.required and not field.default,
        multiline=field.multiline,
        placeholder=field.placeholder or None,
        initial=field.default or None,
    )


def request_form() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ids.REQUEST_FORM,
        "title": _plain("Request sign-off"),
        "submit": _plain("Request"),
        "close": _plain("Cancel"),
        "blocks": [_form_input(f) for f in FIELDS if f.in_form],
    }


def break_glass_form() -> dict[str, Any]:
    """The request form with the emergency's reason first: approved at once, reviewed afterwards."""
    warning = (
        ":rotating_light: *Break glass* approves this change now, without a senior's sign-off. "
        "It is announced in the summary channel and to the admins, and a senior reviews it afterwards."
    )
    return {
        "type": "modal",
        "callback_id": ids.BREAK_GLASS_FORM,
        "title": _plain("Break glass"),
        "submit": _plain("Approve now"),
        "close": _plain("Cancel"),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": warning}},
            _input(
                "break_glass",
                "Why can this not wait for sign-off?",
                REASON_MAX,
                multiline=True,
                placeholder="The incident, and what this change fixes",
            ),
            *(_form_input(f) for f in FIELDS if f.in_form),
        ],
    }


def after_the_fact_form(req: ChangeRequest, verdict: str) -> dict[str, Any]:
    """The note with a review after the fact; ``verdict`` rides in private_metadata."""
    word = "Justified" if verdict == "justified" else "Not justified"
    return {
        "type": "modal",
        "callback_id": ids.AFTER_THE_FACT_FORM,
        "private_metadata": f"{req.id}:{verdict}",
        "title": _plain(clip(f"Review {req.ref}", 24)),
        "submit": _plain(word),
        "close": _plain("Back"),
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*{req.ref}*: {safe(req.draft.title, 500)}\nVerdict: *{word}*"},
            },
            _input("note", "Note", REASON_MAX, multiline=True, placeholder="Why; what should happen next time"),
        ],
    }


def deny_form(req: ChangeRequest) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ids.DENY_FORM,
        "private_metadata": str(req.id),
        "title": _plain(clip(f"Deny {req.ref}", 24)),
        "submit": _plain("Deny"),
        "close": _plain("Back"),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{req.ref}*: {safe(req.draft.title, 500)}"}},
            _input(
                "reason", "Reason", REASON_MAX, multiline=True, placeholder="What must change before this can ship?"
            ),
        ],
    }


def submitted(req: ChangeRequest, headline: str) -> dict[str, Any]:
    """Replaces the form after a successful submit, so the person sees the id at once."""
    return {
        "type": "modal",
        "title": _plain("Break glass" if req.break_glass is not None else "Request sign-off"),
        "close": _plain("Done"),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"Check it any time with `/signoff status {req.ref}`."}],
            },
        ],
    }
