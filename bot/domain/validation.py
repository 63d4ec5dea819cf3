"""Validating what people type. Shared by the Slack modal and the pipeline API."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

from bot.domain.errors import InvalidInput
from bot.domain.models import Draft, format_ref, parse_ref
from bot.domain.plan_summary import parse_blast_radius
from bot.domain.request_fields import FIELDS, REASON_MAX, Field, FieldKind


def visible(text: str) -> bool:
    """Whether ``text`` shows anything: a letter, digit, punctuation or symbol (spaces, zero-width and
    other format characters alone do not)."""
    return any(unicodedata.category(ch)[0] in "LNPS" for ch in text)


def _text(raw: Mapping[str, Any], name: str, limit: int, errors: dict[str, str], required: bool = False) -> str:
    value = raw.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = "must be text"
        return ""
    value = value.strip()
    if required and not visible(value):
        errors[name] = "is required"
    elif "\x00" in value:
        errors[name] = "must not contain NUL characters"
    elif len(value) > limit:
        errors[name] = f"must be at most {limit} characters (got {len(value)})"
    return value


def _url(raw: Mapping[str, Any], field: Field, errors: dict[str, str]) -> str:
    value = _text(raw, field.name, field.max_length, errors, required=field.required)
    if field.name in errors:
        return value
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in value):
        errors[field.name] = "must be an http:// or https:// link to the change (PR, MR or diff)"
    return value


def _bool(raw: Mapping[str, Any], name: str, errors: dict[str, str]) -> bool:
    value = raw.get(name)
    if isinstance(value, bool):
        return value
    if value is None or value == "":
        errors[name] = "is required: say yes or no"
    else:
        errors[name] = "must be true or false"
    return False


def _authors(raw: Mapping[str, Any], field: Field, errors: dict[str, str]) -> tuple[str, ...]:
    value = raw.get(field.name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(a, str) and 0 < len(a.strip()) <= 254 for a in value):
        errors[field.name] = "must be a list of Slack user IDs or emails"
        return ()
    if len(value) > field.max_length:
        errors[field.name] = f"must list at most {field.max_length} people"
        return ()
    return tuple(dict.fromkeys(a.strip() for a in value))


def validate_draft(raw: Mapping[str, Any], found: Mapping[str, str] | None = None, form: bool = False) -> Draft:
    """Turn raw fields into a Draft, or raise InvalidInput naming every bad field, together with
    the field errors the caller ``found`` in what surrounds the draft (the requester, unknown keys).
    ``form``: from the Slack form, which insists on the questions the API may leave unanswered."""
    errors: dict[str, str] = dict(found or {})
    values: dict[str, Any] = {}
    for field in FIELDS:
        values[field.name] = _CHECKS[field.kind](raw, field, errors)
        if form and field.form_required and values[field.name] is None and field.name not in errors:
            errors[field.name] = "is required: say yes or no"
    if errors:
        raise InvalidInput(errors)
    return Draft(**values)


def _checked_text(raw: Mapping[str, Any], field: Field, errors: dict[str, str]) -> str:
    return _text(raw, field.name, field.max_length, errors, field.required) or field.default


def _checked_url(raw: Mapping[str, Any], field: Field, errors: dict[str, str]) -> str:
    return _url(raw, field, errors)


def _checked_commit(raw: Mapping[str, Any], field: Field, errors: dict[str, str]) -> str:
    commit = _text(raw, field.name, field.max_length, errors)
    if commit and not all(c in "0123456789abcdefABCDEF" for c in commit):
        errors[field.name] = "must be a hexadecimal commit SHA"
    return commit.lower()


def _maybe(raw: Mapping[str, Any], field: Field, errors: dict[str, str]) -> bool | None:
    value = raw.get(field.name)
    if value is None or isinstance(value, bool):
        return value
    errors[field.name] = "must be true, false, or left out when not known"
    return None


def _plan(raw: Mapping[str, Any], field: Field, errors: dict[str, str]) -> Any:
    radius, problem = parse_blast_radius(raw.get(field.name))
    if problem:
        errors[field.name] = problem
    return radius


def _ref(raw: Mapping[str, Any], field: Field, errors: dict[str, str]) -> str:
    value = _text(raw, field.name, field.max_length, errors)
    if value and parse_ref(value) is None:
        errors[field.name] = "must be a request id like CR-42"
    return format_ref(parse_ref(value) or 0) if value and field.name not in errors else ""


def _choice(raw: Mapping[str, Any], field: Field, errors: dict[str, str]) -> str:
    value = _text(raw, field.name, field.max_length, errors)
    if value and value not in field.choices:
        errors[field.name] = "must be one of " + ", ".join(field.choices)
    return value if field.name not in errors else ""


_CHECKS: dict[FieldKind, Callable[[Mapping[str, Any], Field, dict[str, str]], Any]] = {
    FieldKind.TEXT: _checked_text,
    FieldKind.URL: _checked_url,
    FieldKind.YES_NO: lambda raw, field, errors: _bool(raw, field.name, errors),
    FieldKind.PEOPLE: lambda raw, field, errors: _authors(raw, field, errors),
    FieldKind.COMMIT: _checked_commit,
    FieldKind.MAYBE: _maybe,
    FieldKind.PLAN_SUMMARY: _plan,
    FieldKind.REF: _ref,
    FieldKind.CHOICE: _choice,
}


def validate_reason(value: str | None) -> str:
    return validate_note(value, "reason", "A denial needs a reason the requester can act on")


def validate_break_glass(value: Any) -> str:
    return validate_note(
        value, "break_glass", "needs the emergency's reason: what is broken and why it cannot wait for sign-off"
    )


def validate_note(value: Any, name: str, missing: str) -> str:
    """A required free-text answer (a denial's reason, a break-glass reason, a review's note)."""
    if value is not None and not isinstance(value, str):
        raise InvalidInput({name: "must be text"})
    note = (value or "").strip()
    if not visible(note):
        raise InvalidInput({name: missing})
    if "\x00" in note:
        raise InvalidInput({name: "must not contain NUL characters"})
    if len(note) > REASON_MAX:
        raise InvalidInput({name: f"must be at most {REASON_MAX} characters (got {len(note)})"})
    return note
