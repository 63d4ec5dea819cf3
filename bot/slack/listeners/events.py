"""Events: app_home_opened publishes the person's App Home."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.domain.errors import RepeatedDelivery
from bot.services.group_membership import note_group_change
from bot.services.home import home_for, opened_home
from bot.services.set_availability import set_deactivated
from bot.slack.home_view import home_view
from bot.slack.listeners.parts import ListenerParts
from bot.slack.listeners.repeats import receipt_of

log = logging.getLogger(__name__)


def register(app: AsyncApp, parts: ListenerParts) -> None:
    async def publish(user: str) -> None:
        view = home_view(await home_for(parts.deps, user), parts.tz)
        await parts.client.views_publish(user_id=user, view=view)

    async def groups_changed(context: AsyncBoltContext) -> None:
        """A user group changed: the wish is stored with this event's delivery (a repeat of the event
        is recognised and does nothing), Slack is answered, and the members are read afterwards;
        reviews of people who left move as soon as they are."""
        try:
            await note_group_change(parts.deps.store, parts.deps.clock, receipt_of(context))
        except RepeatedDelivery:
            return
        parts.groups.want_refresh()

    for event in ("subteam_members_changed", "subteam_updated"):
        app.event(event)(groups_changed)

    @app.event("user_change")
    async def user_changed(event: dict[str, Any]) -> None:
        """A deactivated person stops reviewing at once; their pending reviews move on."""
        user = event.get("user")
        if isinstance(user, dict) and isinstance(user.get("id"), str) and isinstance(user.get("deleted"), bool):
            await set_deactivated(parts.deps, user["id"], user["deleted"])

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any]) -> None:
        user = event.get("user")
        if not isinstance(user, str) or event.get("tab", "home") != "home":
            return
        await opened_home(parts.deps, user)
        parts.background.spawn(publish(user), "views.publish home")
