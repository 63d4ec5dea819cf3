"""Turning the emails pipelines send into Slack user IDs.

The roster's emails are tried first, then the workspace directory. An unknown
requester fails closed: nobody can be DMed about the request, so it is refused.
Unknown authors (bots, former staff) are kept as written: they cannot review anyway.
"""

from __future__ import annotations

import re
from typing import Protocol

from bot.domain.errors import InvalidInput
from bot.domain.models import Roster

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Directory(Protocol):
    async def user_for_email(self, email: str) -> str | None:
        """The Slack user ID for an email, None if nobody has it; raises Unavailable if unsure."""
        ...

    async def user_exists(self, user: str) -> bool:
        """True if the workspace has an active user with this ID; raises Unavailable if unsure."""
        ...


async def resolve_person(directory: Directory, roster: Roster, who: str) -> str | None:
    who = who.strip()
    if USER_ID.match(who):
        return who
    if not EMAIL.match(who):
        raise ValueError(who)
    engineer = roster.by_email(who)
    if engineer is not None:
        return engineer.user
    return await directory.user_for_email(who)


async def resolve_requester(directory: Directory, roster: Roster, who: str) -> str:
    """The requester must be a real person: the bot DMs them about their request."""
    try:
        user = await resolve_person(directory, roster, who)
    except ValueError:
        raise InvalidInput({"requester": "must be a Slack user ID (U…) or an email address"}) from None
    if user is None:
        raise InvalidInput({"requester": f"no Slack user has the email {who!r}; use their Slack user ID"})
    if roster.get(user) is None and not await directory.user_exists(user):
        raise InvalidInput({"requester": f"no active Slack user has the ID {user!r}; check the ID or use an email"})
    return user


async def resolve_authors(directory: Directory, roster: Roster, authors: tuple[str, ...]) -> tuple[str, ...]:
    resolved: list[str] = []
    for who in authors:
        try:
            user = await resolve_person(directory, roster, who)
        except ValueError:
            raise InvalidInput({"authors": f"{who!r} is neither a Slack user ID nor an email address"}) from None
        resolved.append(user or who.lower())
    return tuple(dict.fromkeys(resolved))
