"""Slack request signing (v0): HMAC-SHA256 of "v0:{timestamp}:{body}", as Slack signs what it sends."""

from __future__ import annotations

import hashlib
import hmac
import time


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}
