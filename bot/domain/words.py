"""Small pieces of English that every text uses the same way."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 request``, ``3 requests``: never ``request(s)``."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
