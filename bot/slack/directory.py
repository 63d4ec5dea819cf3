"""The workspace directory: users.lookupByEmail and users.info, with a short cache."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import Unavailable
from bot.slack.client import slack_error

CACHE_SECONDS = 300.0


class SlackDirectory:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def user_for_email(self, email: str) -> str | None:
        async def lookup() -> str:
            resp = await self._client.users_lookupByEmail(email=email)
            return str(resp["user"]["id"])

        return await self._cached(email.lower(), email, "users_not_found", lookup)

    async def user_exists(self, user: str) -> bool:
        async def lookup() -> str | None:
            resp = await self._client.users_info(user=user)
            return None if resp["user"].get("deleted") else user

        return await self._cached(user, user, "user_not_found", lookup) is not None

    async def display_name(self, user: str) -> str | None:
        """The name Slack shows for ``user``: their display name, else their real name."""
        try:
            resp = await self._client.users_info(user=user)
        except SlackApiError as err:
            if slack_error(err) == "user_not_found":
                return None
            raise Unavailable(f"Could not look up {user} in Slack; try again shortly.") from None
        except Exception as exc:
            raise Unavailable("Could not reach Slack to look up a name; try again shortly.") from exc
        found = resp.get("user") or {}
        profile = found.get("profile") or {}
        for name in (profile.get("display_name"), profile.get("real_name"), found.get("real_name")):
            if isinstance(name, str) and name.strip():
                return name.strip()[:80]
        return None

    async def _cached(
        self, key: str, who: str, not_found: str, lookup: Callable[[], Awaitable[str | None]]
    ) -> str | None:
        """The user ID Slack gives for ``who`` (None: nobody), cached; Unavailable when Slack cannot say."""
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        try:
            user = await lookup()
        except SlackApiError as err:
            error = slack_error(err)
            if error != not_found:
                raise Unavailable(
                    f"Could not look up {who} in Slack ({error or err.response.status_code}); try again shortly."
                ) from None
            user = None
        except Exception as exc:
            raise Unavailable(f"Could not reach Slack to look up {who}; try again shortly.") from exc
        self._cache[key] = (time.monotonic(), user)
        return user
