"""The workspace directory: users.lookupByEmail and users.info, with a short cache."""

from __future__ import annotations

import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import Unavailable

CACHE_SECONDS = 300.0


class SlackDirectory:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def user_for_email(self, email: str) -> str | None:
        key = email.lower()
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        try:
            resp = await self._client.users_lookupByEmail(email=email)
            user: str | None = str(resp["user"]["id"])
        except SlackApiError as err:
            error = err.response.get("error", "") if isinstance(err.response.data, dict) else ""
            if error != "users_not_found":
                raise Unavailable(
                    f"Could not look up {email} in Slack ({error or err.response.status_code}); try again shortly."
                ) from None
            user = None
        except Exception as exc:
            raise Unavailable(f"Could not reach Slack to look up {email}; try again shortly.") from exc
        self._cache[key] = (time.monotonic(), user)
        return user

    async def user_exists(self, user: str) -> bool:
        hit = self._cache.get(user)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1] is not None
        try:
            resp = await self._client.users_info(user=user)
            found = not bool(resp["user"].get("deleted"))
        except SlackApiError as err:
            error = err.response.get("error", "") if isinstance(err.response.data, dict) else ""
            if error != "user_not_found":
                raise Unavailable(
                    f"Could not look up {user} in Slack ({error or err.response.status_code}); try again shortly."
                ) from None
            found = False
        except Exception as exc:
            raise Unavailable(f"Could not reach Slack to look up {user}; try again shortly.") from exc
        self._cache[user] = (time.monotonic(), user if found else None)
        return found
