"""The Block Kit limits Slack enforces, as the stand-in checks them.

Each check returns an error string like Slack's (``invalid_blocks``, ...) or None.
"""

from __future__ import annotations

import re
from typing import Any

MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
FIELD_TEXT = 2000
FIELDS = 10
BUTTON_VALUE = 2000
BUTTON_TEXT = 75
ACTION_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
MODAL_TITLE = 24
MODAL_BUTTON = 24
PRIVATE_METADATA = 3000
MESSAGE_TEXT = 40_000
INPUT_MAX_LENGTH = 3000
BLOCK_ID = 255
IMAGE_ALT = 2000


def _text_len(obj: Any) -> int:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return -1
    return len(obj["text"])


def check_blocks(blocks: Any, limit: int) -> str | None:
    if not isinstance(blocks, list):
        return "invalid_blocks_format"
    if len(blocks) > limit:
        return f"invalid_blocks: more than {limit} blocks"
    for i, block in enumerate(blocks):
        problem = _check_block(block)
        if problem:
            return f"invalid_blocks: block {i}: {problem}"
    return None


def _check_block(block: Any) -> str | None:
    if not isinstance(block, dict) or "type" not in block:
        return "not a block"
    if len(str(block.get("block_id", ""))) > BLOCK_ID:
        return "block_id too long"
    kind = block["type"]
    if kind == "section":
        if "text" not in block and "fields" not in block:
            return "section needs text or fields"
        if "text" in block and not 0 < _text_len(block["text"]) <= SECTION_TEXT:
            return f"section text must be 1..{SECTION_TEXT} characters"
        fields = block.get("fields", [])
        if len(fields) > FIELDS:
            return f"more than {FIELDS} fields"
        if any(not 0 < _text_len(f) <= FIELD_TEXT for f in fields):
            return f"field text must be 1..{FIELD_TEXT} characters"
    elif kind == "header":
        if block.get("text", {}).get("type") != "plain_text" or not 0 < _text_len(block["text"]) <= HEADER_TEXT:
            return f"header must be plain_text of 1..{HEADER_TEXT} characters"
    elif kind == "context":
        elements = block.get("elements", [])
        if not 0 < len(elements) <= CONTEXT_ELEMENTS:
            return "context elements"
        if any(_text_len(e) > SECTION_TEXT for e in elements):
            return "context text too long"
    elif kind == "actions":
        elements = block.get("elements", [])
        if not 0 < len(elements) <= ACTION_ELEMENTS:
            return "actions elements"
        for el in elements:
            if len(str(el.get("value", ""))) > BUTTON_VALUE:
                return f"button value over {BUTTON_VALUE} characters"
            if el.get("type") == "button" and not 0 < _text_len(el.get("text")) <= BUTTON_TEXT:
                return "button text"
    elif kind == "input":
        element = block.get("element", {})
        if not 0 < _text_len(block.get("label")) <= 2000:
            return "input label"
        if element.get("type") == "plain_text_input" and int(element.get("max_length", 0)) > INPUT_MAX_LENGTH:
            return "plain_text_input max_length over 3000"
        if len(str(element.get("initial_value", ""))) > INPUT_MAX_LENGTH:
            return "initial_value too long"
    elif kind == "image":
        if not 0 < len(str(block.get("alt_text") or "")) <= IMAGE_ALT:
            return f"image alt_text must be 1..{IMAGE_ALT} characters"
        if ("image_url" in block) == ("slack_file" in block):
            return "image needs exactly one of image_url and slack_file"
        ref = block.get("slack_file")
        if ref is not None and (not isinstance(ref, dict) or ("id" in ref) == ("url" in ref)):
            return "slack_file needs exactly one of id and url"
        if "title" in block and (block["title"].get("type") != "plain_text" or _text_len(block["title"]) > IMAGE_ALT):
            return "image title must be plain_text"
    elif kind not in ("divider", "rich_text"):
        return f"unknown block type {kind}"
    return None


def check_view(view: Any) -> str | None:
    if not isinstance(view, dict) or view.get("type") != "modal":
        return "invalid_arguments: view must be a modal"
    if not 0 < _text_len(view.get("title")) <= MODAL_TITLE:
        return f"invalid_arguments: title must be 1..{MODAL_TITLE} characters"
    for key in ("submit", "close"):
        if key in view and not 0 < _text_len(view[key]) <= MODAL_BUTTON:
            return f"invalid_arguments: {key} must be 1..{MODAL_BUTTON} characters"
    if len(str(view.get("private_metadata", ""))) > PRIVATE_METADATA:
        return "invalid_arguments: private_metadata too long"
    if any(b.get("type") == "input" for b in view.get("blocks", [])) and "submit" not in view:
        return "invalid_arguments: a modal with inputs needs submit"
    return check_blocks(view.get("blocks"), MODAL_BLOCKS)


def check_message(args: dict[str, Any]) -> str | None:
    text = args.get("text")
    blocks = args.get("blocks")
    if not text and not blocks:
        return "no_text"
    if isinstance(text, str) and len(text) > MESSAGE_TEXT:
        return "msg_too_long"
    if blocks is not None:
        return check_blocks(blocks, MESSAGE_BLOCKS)
    return None


BROADCASTS = ("<!channel>", "<!here>", "<!everyone>")


def parsed_texts(obj: Any) -> list[str]:
    """Every string Slack parses for mentions: mrkdwn text objects (plain_text is never parsed)."""
    if isinstance(obj, list):
        return [t for item in obj for t in parsed_texts(item)]
    if isinstance(obj, dict):
        if obj.get("type") == "mrkdwn" and isinstance(obj.get("text"), str):
            return [obj["text"]]
        return [t for v in obj.values() for t in parsed_texts(v)]
    return []


def mentions(args: dict[str, Any]) -> list[str]:
    """Broadcasts and user mentions a message would trigger."""
    texts = [str(args.get("text") or ""), *parsed_texts(args.get("blocks") or [])]
    found: list[str] = []
    for text in texts:
        found += [b for b in BROADCASTS if b in text]
        found += re.findall(r"<@[UW][A-Z0-9]+>", text)
    return found
