"""JSON from outside: an object, not nested deeper than any real payload.

Python's parser recurses, so a body nested 100,000 levels deep raises RecursionError, which
no caller expects; depth is checked first, without recursion.
"""

from __future__ import annotations

import json
from typing import Any

from bot.domain.errors import MalformedPayload

MAX_DEPTH = 64  # Slack's and the API's payloads nest about 8 levels


def _depth(text: str) -> int:
    deepest = depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw``, or MalformedPayload saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("The body is not valid JSON (it is not UTF-8 text).") from None
    # Counting is cheap; the walk runs only when the brackets could nest that deep at all.
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(text) > MAX_DEPTH:
        raise MalformedPayload(f"The JSON is nested more than {MAX_DEPTH} levels deep.")
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise MalformedPayload(f"The body is not valid JSON ({exc}).") from None
    if not isinstance(body, dict):
        raise MalformedPayload("The body must be a JSON object.")
    return body
