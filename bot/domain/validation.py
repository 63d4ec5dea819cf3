"""Validating what people type. Shared by the Slack modal and the pipeline API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

from bot.domain.errors import InvalidInput
from bot.domain.models import Draft
from bot.domain.request_fields import FIELDS, REASON_MAX, Field, Kind


def _text(raw: Mapping[str, Any], name: str, limit: int, errors: dict[str, str], required: bool = False) -> str:
    value = raw.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = "must be text"
        return ""
    value = value.strip()
    if required and not value:
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


def validate_draft(raw: Mapping[str, Any], found: Mapping[str, str] | None = None) -> Draft:
    """Turn raw fields into a Draft, or raise InvalidInput naming every bad field, together with
    the field errors the caller ``found`` in what surrounds the draft (the requester, unknown keys)."""
    errors: dict[str, str] = dict(found or {})
    values: dict[str, Any] = {}
    for field in FIELDS:
        values[field.name] = _CHECKS[field.kind](raw, field, errors)
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


_CHECKS: dict[Kind, Callable[[Mapping[str, Any], Field, dict[str, str]], Any]] = {
    Kind.TEXT: _checked_text,
    Kind.URL: _checked_url,
    Kind.YES_NO: lambda raw, field, errors: _bool(raw, field.name, errors),
    Kind.PEOPLE: lambda raw, field, errors: _authors(raw, field, errors),
    Kind.COMMIT: _checked_commit,
}


def validate_reason(value: str | None) -> str:
    reason = (value or "").strip()
    if not reason:
        raise InvalidInput({"reason": "A denial needs a reason the requester can act on"})
    if "\x00" in reason:
        raise InvalidInput({"reason": "must not contain NUL characters"})
    if len(reason) > REASON_MAX:
        raise InvalidInput({"reason": f"must be at most {REASON_MAX} characters (got {len(reason)})"})
    return reason
