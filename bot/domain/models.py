"""Domain models: levels, the roster, requests and their states."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

REF_PREFIX = "CR-"
_REF_RE = re.compile(r"^\s*(?:CR-?)?([0-9]{1,12})\s*$", re.IGNORECASE | re.ASCII)


class Level(StrEnum):
    JUNIOR = "junior"
    MID = "mid"
    SENIOR = "senior"
    STAFF = "staff"
    PRINCIPAL = "principal"

    @property
    def is_senior(self) -> bool:
        return self in (Level.SENIOR, Level.STAFF, Level.PRINCIPAL)


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    CANCELLED = "cancelled"
    NOT_REQUIRED = "not_required"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Engineer:
    user: str
    level: Level
    team: str | None = None
    email: str | None = None
    source: str = "the roster file"  # where the level comes from, for `/signoff roster`


@dataclass(frozen=True)
class GroupRule:
    """Members of a Slack user group (by ID ``S…`` or handle ``@name``) have this level and team."""

    usergroup: str
    level: Level
    team: str | None = None


_RANK = {level: i for i, level in enumerate(("junior", "mid", "senior", "staff", "principal"))}


@dataclass(frozen=True)
class Roster:
    admins: frozenset[str] = frozenset()
    engineers: dict[str, Engineer] = field(default_factory=dict)
    groups: tuple[GroupRule, ...] = ()

    def with_group_members(self, members: dict[str, list[str]]) -> Roster:
        """The roster with the groups' members added. ``engineers:`` entries win for the same person;
        someone in several groups takes the highest level, and the team of the first group listed
        that gives that level. ``members`` maps each rule's ``usergroup`` to its user IDs."""
        found: dict[str, Engineer] = {}
        for rule in self.groups:
            for user in members.get(rule.usergroup, []):
                if user in self.engineers:
                    continue
                current = found.get(user)
                if current is None or _RANK[rule.level.value] > _RANK[current.level.value]:
                    found[user] = Engineer(user, rule.level, rule.team, None, f"the user group {rule.usergroup}")
        return replace(self, engineers={**found, **self.engineers})

    def get(self, user: str) -> Engineer | None:
        return self.engineers.get(user)

    def level_of(self, user: str) -> Level | None:
        eng = self.engineers.get(user)
        return eng.level if eng else None

    def is_admin(self, user: str) -> bool:
        return user in self.admins

    def is_senior(self, user: str) -> bool:
        eng = self.engineers.get(user)
        return eng is not None and eng.level.is_senior

    def seniors(self) -> list[str]:
        return sorted(e.user for e in self.engineers.values() if e.level.is_senior)

    def by_email(self, email: str) -> Engineer | None:
        wanted = email.strip().lower()
        for eng in self.engineers.values():
            if eng.email and eng.email.lower() == wanted:
                return eng
        return None


@dataclass(frozen=True)
class Draft:
    """What somebody asks sign-off for, already validated."""

    title: str
    url: str
    ai_assisted: bool
    description: str = ""
    service: str = ""
    environment: str = "production"
    ai_tool: str = ""
    authors: tuple[str, ...] = ()
    commit: str = ""


@dataclass(frozen=True)
class ChangeRequest:
    id: int
    requester: str
    draft: Draft
    status: Status
    sign_off_required: bool
    policy_reason: str
    approvals_needed: int
    created_at: datetime
    updated_at: datetime
    source: str = "slack"
    pipeline: str | None = None
    reviewer: str | None = None
    assigned_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None

    @property
    def ref(self) -> str:
        return format_ref(self.id)

    def is_party(self, user: str) -> bool:
        """True for the requester and the change's authors: they may never review it."""
        return user == self.requester or user in self.draft.authors


def format_ref(request_id: int) -> str:
    return f"{REF_PREFIX}{request_id}"


def parse_ref(text: str) -> int | None:
    """``CR-42``, ``cr42`` and ``42`` all mean request 42; anything else is None."""
    m = _REF_RE.match(text)
    return int(m.group(1)) if m else None
