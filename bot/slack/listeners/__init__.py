"""Slack listeners, one module per concern. Each registers itself on the Bolt app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import actions, commands, events, repeats, views, workflow
from bot.slack.listeners.context import ListenerContext


def register_all(app: AsyncApp, ctx: ListenerContext) -> None:
    repeats.register(app, ctx)
    commands.register(app, ctx)
    actions.register(app, ctx)
    views.register(app, ctx)
    events.register(app, ctx)
    workflow.register(app, ctx)


__all__ = ["ListenerContext", "register_all"]
