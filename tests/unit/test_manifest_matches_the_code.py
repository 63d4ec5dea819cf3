"""manifest.yml is what a new user pastes into Slack: it must declare the command and every
subcommand, subscribe to every event the code listens to, and grant a scope for every Web API
method the code calls."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.slack.listeners.commands import SUBCOMMANDS

ROOT = Path(__file__).parents[2]
# What Slack's documentation says each method needs of a bot token (None: no scope).
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "conversations.open": {"im:write"},
    "conversations.history": {"im:history", "channels:history", "groups:history"},
    "users.lookupByEmail": {"users:read.email"},
    "users.info": {"users:read"},
    "views.open": set(),
    "views.publish": set(),
    "apps.connections.open": set(),  # the app-level token's connections:write
    "usergroups.list": {"usergroups:read"},
    "functions.completeSuccess": set(),  # a function's own execution, no scope
    "functions.completeError": set(),
    "usergroups.users.list": {"usergroups:read"},
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
}
FAMILIES = ("auth", "chat", "conversations", "users", "views", "apps", "usergroups", "functions", "files")


def manifest() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def code() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "bot").rglob("*.py"))


def methods_called() -> set[str]:
    source = code()
    named = set(re.findall(r"""\.call\(\s*["']([a-z]+\.[A-Za-z.]+)["']""", source))
    for family, rest in re.findall(r"client\.(" + "|".join(FAMILIES) + r")_([A-Za-z_]+)\(", source):
        named.add(f"{family}.{rest.replace('_', '.')}")
    return named


def test_the_command_and_every_subcommand_are_declared() -> None:
    [command] = manifest()["features"]["slash_commands"]
    assert command["command"] == "/signoff"
    hint = command["usage_hint"]
    for verb in SUBCOMMANDS:
        assert re.search(rf"\b{verb}\b", hint), f"usage_hint does not mention {verb}"


def test_every_event_listened_to_is_subscribed() -> None:
    source = code()
    listened = set(re.findall(r"""@app\.event\(\s*["']([a-z_.]+)["']""", source))
    for names in re.findall(r"for event in \(([^)]*)\):\s*\n\s*app\.event\(event\)", source):
        listened |= set(re.findall(r"""["']([a-z_.]+)["']""", names))
    subscribed = set(manifest()["settings"]["event_subscriptions"]["bot_events"])
    assert listened, "found no event listeners; the pattern is stale"
    assert listened <= subscribed, listened - subscribed


def test_every_web_api_method_called_has_its_scope() -> None:
    called = methods_called()
    assert {"chat.postMessage", "users.info", "views.open"} <= called, called
    unknown = called - set(METHOD_SCOPES)
    assert not unknown, f"add these methods and their scopes to METHOD_SCOPES: {unknown}"
    granted = set(manifest()["oauth_config"]["scopes"]["bot"])
    for method in called:
        assert METHOD_SCOPES[method] <= granted, (method, METHOD_SCOPES[method] - granted)
    assert "commands" in granted


def test_the_workflow_step_is_declared_with_its_inputs_and_outputs() -> None:
    from bot.slack import ids

    step = manifest()["functions"][ids.WORKFLOW_STEP]
    inputs = set(step["input_parameters"]["properties"])
    assert {
        "title",
        "link",
        "service",
        "environment",
        "requester",
        "ai_assisted",
        "destructive",
        "description",
    } == inputs
    assert {"request_id", "status", "decided_by", "reason"} == set(step["output_parameters"]["properties"])
    assert "function_executed" in manifest()["settings"]["event_subscriptions"]["bot_events"]
