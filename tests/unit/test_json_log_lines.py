"""LOG_FORMAT=json: one JSON object per line, naming the request and the Slack delivery it concerns."""

from __future__ import annotations

import json
import logging

from bot import log_context
from bot.logging_setup import JsonLines


def test_json_log_lines_name_the_request_and_the_delivery() -> None:
    record = logging.LogRecord("bot.http.api", logging.INFO, __file__, 1, "created %s", ("CR-7",), None)
    request, receipt = log_context.request_id.set("CR-7"), log_context.receipt_id.set("view:abc")
    try:
        line = json.loads(JsonLines().format(record))
    finally:
        log_context.request_id.reset(request)
        log_context.receipt_id.reset(receipt)
    assert line["message"] == "created CR-7" and line["level"] == "INFO" and line["logger"] == "bot.http.api"
    assert line["request_id"] == "CR-7" and line["slack_delivery"] == "view:abc"
    assert "request_id" not in json.loads(JsonLines().format(record))
