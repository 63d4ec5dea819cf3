"""Open-loop load: requests leave on a fixed arrival schedule, so a slow answer never slows the
sender, and latency is measured from the scheduled send time (no coordinated omission)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bench.procs import SIGNING_SECRET
from bot.sandbox.slack_standin import mint_trigger

SLACK_TIMEOUT = 3.0  # Slack gives up after 3 s; a slower answer counts as an error


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    sent: int = 0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))] * 1000

    def row(self) -> dict[str, float]:
        return {
            "sent": self.sent,
            "p50_ms": round(self.pct(50), 2),
            "p99_ms": round(self.pct(99), 2),
            "max_ms": round(max(self.latencies) * 1000, 2) if self.latencies else float("nan"),
            "errors": self.errors,
        }


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def approve_body(request_id: str, reviewer: str, response_url: str) -> str:
    """A signed-to-be Approve click on ``request_id`` by ``reviewer``."""
    payload = {
        "type": "block_actions",
        "user": {"id": reviewer},
        "team": {"id": "T0TEAM"},
        "trigger_id": mint_trigger(),
        "response_url": response_url,
        "actions": [
            {
                "action_id": "signoff_approve",
                "value": request_id,
                "action_ts": f"{time.time():.6f}{uuid.uuid4().hex[:6]}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


class SlackTraffic:
    """Signed /signoff commands, Approve clicks and request-form submissions, in turn."""

    def __init__(self, respond_base: str, requesters: list[str], decisions: list[tuple[str, str]]) -> None:
        self.respond_base = respond_base
        self.requesters = itertools.cycle(requesters)
        self.decisions = itertools.cycle(decisions) if decisions else None
        self.kinds = itertools.cycle(["command", "click", "submit"] if decisions else ["command", "submit"])

    def next_body(self) -> str:
        kind = next(self.kinds)
        user = next(self.requesters)
        response_url = f"{self.respond_base}/respond/{uuid.uuid4().hex}"
        if kind == "command":
            return urlencode(
                {
                    "command": "/signoff",
                    "text": "",
                    "user_id": user,
                    "team_id": "T0TEAM",
                    "channel_id": "C0GENERAL",
                    "trigger_id": mint_trigger(),
                    "response_url": response_url,
                }
            )
        if kind == "click" and self.decisions is not None:
            request_id, reviewer = next(self.decisions)
            return approve_body(request_id, reviewer, response_url)
        else:
            text = lambda v: {"value": {"type": "plain_text_input", "value": v}}  # noqa: E731
            payload: dict[str, Any] = {
                "type": "view_submission",
                "user": {"id": user},
                "team": {"id": "T0TEAM"},
                "trigger_id": mint_trigger(),
                "view": {
                    "id": f"V{uuid.uuid4().hex[:12].upper()}",
                    "type": "modal",
                    "callback_id": "signoff_request",
                    "private_metadata": "",
                    "state": {
                        "values": {
                            "title": text("Raise the payments timeout"),
                            "url": text("https://git.example.com/pay/pull/1"),
                            "description": text("From 2s to 5s"),
                            "service": text("payments"),
                            "environment": text("production"),
                            "ai_assisted": {"value": {"type": "radio_buttons", "selected_option": {"value": "yes"}}},
                            "ai_tool": text("Copilot"),
                            "destructive": {"value": {"type": "radio_buttons", "selected_option": {"value": "no"}}},
                        }
                    },
                },
            }
        return urlencode({"payload": json.dumps(payload)})


async def open_loop(
    session: aiohttp.ClientSession, url: str, next_body: Callable[[], str], rate: float, seconds: float
) -> Stats:
    stats = Stats()
    total = int(rate * seconds)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    tasks = []

    async def one(scheduled: float, body: str) -> None:
        try:
            async with session.post(
                url, data=body.encode(), headers=signed(body), timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT)
            ) as resp:
                await resp.read()
                ok = resp.status == 200
        except (TimeoutError, aiohttp.ClientError):
            ok = False
        latency = loop.time() - scheduled
        if ok and latency <= SLACK_TIMEOUT:
            stats.latencies.append(latency)
        else:
            stats.errors += 1

    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        body = next_body()
        stats.sent += 1
        tasks.append(asyncio.create_task(one(scheduled, body)))
    await asyncio.gather(*tasks)
    return stats
