"""Slack Web API clients.

The interactive client (modals, ephemeral replies) retries 429s, 5xx and connection
errors in-process. The outbox client (``web_api.SlackWebApi``) retries nothing itself: the
outbox owns retries, durably, so a post is never sent twice by a hidden retry.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.metrics import Metrics
from bot.slack.web_api import SlackWebApi

TIMEOUT_SECONDS = 10


class MeteredWebClient(AsyncWebClient):
    """Counts every Web API call by method and result (ok, error, rate_limited, unreachable)."""

    def __init__(self, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._metrics = metrics

    async def api_call(self, api_method: str, **kwargs: Any) -> Any:
        result = "ok"
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as err:
            result = "rate_limited" if err.response.status_code == 429 else "error"
            raise
        except Exception:
            result = "unreachable"
            raise
        finally:
            self._metrics.slack_calls.labels(method=api_method, result=result).inc()


def interactive_client(settings: Settings, metrics: Metrics) -> AsyncWebClient:
    return MeteredWebClient(
        metrics,
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=TIMEOUT_SECONDS,
        logger=logging.getLogger("bot.slack.client"),
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def outbox_client(settings: Settings, metrics: Metrics) -> SlackWebApi:
    return SlackWebApi(settings.slack_bot_token.get_secret_value(), settings.slack_api_url, metrics, TIMEOUT_SECONDS)


def slack_error(err: SlackApiError, default: str = "") -> str:
    """Slack's error code (``invalid_auth``, ``ratelimited``, ...) from a failed Web API call."""
    data = err.response.data
    return str(data.get("error") or default) if isinstance(data, dict) else default
