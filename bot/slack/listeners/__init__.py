"""Slack listeners, one module per concern. Each registers itself on the Bolt app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import actions, commands, events, repeats, views, workflow
from bot.slack.listeners.parts import ListenerParts


def register_all(app: AsyncApp, parts: ListenerParts) -> None:
    repeats.register(app, parts)
    commands.register(app, parts)
    actions.register(app, parts)
    views.register(app, parts)
    events.register(app, parts)
    workflow.register(app, parts)


__all__ = ["ListenerParts", "register_all"]
