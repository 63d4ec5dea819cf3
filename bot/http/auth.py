"""Bearer tokens for pipelines, compared in constant time."""

from __future__ import annotations

import hmac

from bot.domain.errors import Unauthenticated


class ApiTokens:
    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = [(name, token.encode()) for name, token in tokens.items()]

    def __repr__(self) -> str:
        return f"ApiTokens(names={[n for n, _ in self._tokens]})"

    def pipeline_for(self, header: str | None) -> str:
        """The pipeline's name for an ``Authorization: Bearer`` header, or Unauthenticated."""
        if not self._tokens:
            raise Unauthenticated("The pipeline API takes no API tokens: the bot has no API_TOKENS configured.")
        if not header or not header.startswith("Bearer "):
            raise Unauthenticated("Missing bearer token: send 'Authorization: Bearer <token>'.")
        given = header.removeprefix("Bearer ").strip().encode()
        found: str | None = None
        for name, token in self._tokens:  # compare with every token, so timing reveals nothing
            if hmac.compare_digest(given, token):
                found = name
        if found is None:
            raise Unauthenticated("The bearer token is not valid (wrong or revoked).")
        return found
