"""Slack request signing (v0): HMAC-SHA256 of "v0:{timestamp}:{body}"."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNING_SECRET = "test-signing-secret-8f2d9c1e"


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}
