"""Validating what people type. Shared by the Slack modal and the pipeline API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from bot.domain.errors import InvalidInput
from bot.domain.models import Draft

# Every field a request can be given, by the form or the API.
REQUEST_FIELDS = (
    "requester",
    "title",
    "url",
    "description",
    "service",
    "environment",
    "ai_assisted",
    "ai_tool",
    "authors",
    "commit",
)
TITLE_MAX = 150
URL_MAX = 2000
DESCRIPTION_MAX = 3000
SHORT_MAX = 80
REASON_MAX = 1000
AUTHORS_MAX = 50


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


def _url(raw: Mapping[str, Any], errors: dict[str, str]) -> str:
    value = _text(raw, "url", URL_MAX, errors, required=True)
    if "url" in errors:
        return value
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in value):
        errors["url"] = "must be an http:// or https:// link to the change (PR, MR or diff)"
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


def _authors(raw: Mapping[str, Any], errors: dict[str, str]) -> tuple[str, ...]:
    value = raw.get("authors")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(a, str) and 0 < len(a.strip()) <= 254 for a in value):
        errors["authors"] = "must be a list of Slack user IDs or emails"
        return ()
    if len(value) > AUTHORS_MAX:
        errors["authors"] = f"must list at most {AUTHORS_MAX} people"
        return ()
    return tuple(dict.fromkeys(a.strip() for a in value))


def validate_draft(raw: Mapping[str, Any], found: Mapping[str, str] | None = None) -> Draft:
    """Turn raw fields into a Draft, or raise InvalidInput naming every bad field, together with
    the field errors the caller ``found`` in what surrounds the draft (the requester, unknown keys)."""
    errors: dict[str, str] = dict(found or {})
    title = _text(raw, "title", TITLE_MAX, errors, required=True)
    url = _url(raw, errors)
    description = _text(raw, "description", DESCRIPTION_MAX, errors)
    service = _text(raw, "service", SHORT_MAX, errors)
    environment = _text(raw, "environment", SHORT_MAX, errors) or "production"
    ai_assisted = _bool(raw, "ai_assisted", errors)
    ai_tool = _text(raw, "ai_tool", SHORT_MAX, errors)
    commit = _text(raw, "commit", 80, errors)
    if commit and not all(c in "0123456789abcdefABCDEF" for c in commit):
        errors["commit"] = "must be a hexadecimal commit SHA"
    authors = _authors(raw, errors)
    if errors:
        raise InvalidInput(errors)
    return Draft(
        title=title,
        url=url,
        ai_assisted=ai_assisted,
        description=description,
        service=service,
        environment=environment,
        ai_tool=ai_tool,
        authors=authors,
        commit=commit.lower(),
    )


def validate_reason(value: str | None) -> str:
    reason = (value or "").strip()
    if not reason:
        raise InvalidInput({"reason": "A denial needs a reason the requester can act on"})
    if "\x00" in reason:
        raise InvalidInput({"reason": "must not contain NUL characters"})
    if len(reason) > REASON_MAX:
        raise InvalidInput({"reason": f"must be at most {REASON_MAX} characters (got {len(reason)})"})
    return reason
