"""The tests' signing secret, and signing with it (the signing itself lives in bot/sandbox)."""

from __future__ import annotations

from bot.sandbox import signing

SIGNING_SECRET = "test-signing-secret-8f2d9c1e"


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    return signing.sign(body, secret, timestamp)
