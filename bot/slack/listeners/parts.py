"""What listeners share: the use-case dependencies and where to run after-ack UI work."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.services.deps import Deps
from bot.services.group_membership import GroupMembership
from bot.services.replicas import ReplicaRegistry
from bot.tasks import Background


@dataclass(frozen=True)
class ListenerParts:
    deps: Deps
    background: Background
    client: AsyncWebClient
    tz: ZoneInfo
    groups: GroupMembership  # the roster's user-group members, shared by every replica
    replicas: ReplicaRegistry  # who else runs, and whether they read the same roster file
