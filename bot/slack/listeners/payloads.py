"""Checking the shape of Slack payloads before any listener trusts them.

A payload that lacks what its type needs is answered 400 with a JSON body and
touches nothing. The delivery key identifies one delivery, so a retry or a replay
of the same signed request is acknowledged and dropped.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.domain.errors import MalformedPayload
from bot.domain.numbers import ascii_int


def _str(d: Any, *path: str) -> str:
    cur = d
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            raise MalformedPayload(f"malformed Slack payload: missing {'.'.join(path)}")
        cur = cur[p]
    if not isinstance(cur, str) or not cur:
        raise MalformedPayload(f"malformed Slack payload: {'.'.join(path)} must be a non-empty string")
    return cur


def check_shape(body: dict[str, Any]) -> None:
    """Raise MalformedPayload if ``body`` lacks what its kind of payload needs."""
    if "command" in body:
        _str(body, "user_id")
        _str(body, "trigger_id")
        if not isinstance(body.get("text", ""), str):
            raise MalformedPayload("malformed Slack payload: text must be a string")
        return
    kind = body.get("type")
    if kind == "block_actions":
        _str(body, "user", "id")
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
            raise MalformedPayload("malformed Slack payload: actions must be a non-empty list")
        _str(actions[0], "action_id")
        if not isinstance(actions[0].get("value", ""), str):
            raise MalformedPayload("malformed Slack payload: actions[0].value must be a string")
    elif kind in ("view_submission", "view_closed"):
        _str(body, "user", "id")
        _str(body, "view", "id")
        _str(body, "view", "type")  # Bolt reads it before any listener runs
        _str(body, "view", "callback_id")
        state = body["view"].get("state", {})
        if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
            raise MalformedPayload("malformed Slack payload: view.state.values must be an object")


def receipt_key(body: dict[str, Any]) -> str | None:
    if "command" in body:
        return f"cmd:{body.get('trigger_id')}"
    kind = body.get("type")
    if kind == "block_actions":
        action = body["actions"][0]
        return f"act:{body['user']['id']}:{action.get('action_ts') or body.get('trigger_id')}:{action['action_id']}"
    if kind == "view_submission":
        values = json.dumps(body["view"].get("state", {}).get("values", {}), sort_keys=True)
        return f"view:{body['view']['id']}:{hashlib.sha256(values.encode()).hexdigest()}"
    if kind == "event_callback" and isinstance(body.get("event_id"), str):
        return f"evt:{body['event_id']}"
    return None


def form_values(values: dict[str, Any]) -> dict[str, Any]:
    """Flatten view.state.values into {field: value} for validation."""
    out: dict[str, Any] = {}
    for block_id, actions in values.items():
        if not isinstance(actions, dict):
            continue
        for element in actions.values():
            if not isinstance(element, dict):
                continue
            if element.get("type") == "radio_buttons":
                selected = element.get("selected_option")
                choice = selected.get("value") if isinstance(selected, dict) else None
                out[block_id] = {"yes": True, "no": False}.get(choice) if isinstance(choice, str) else None
            else:
                out[block_id] = element.get("value")
    return out


def request_id_from(value: Any) -> int | None:
    return ascii_int(value, max_digits=12)
