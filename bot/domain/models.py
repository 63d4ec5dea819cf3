"""Domain models: levels, the roster, requests and their states."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from bot.domain.plan_summary import PlanSummary

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


class FinalReason(StrEnum):
    """Why a request ended; each has its own words wherever people read it (``bot/domain/outcomes.py``)."""

    APPROVED = "approved"
    BREAK_GLASS = "break_glass"
    DENIED = "denied"
    CANCELLED = "cancelled"
    NOT_REQUIRED = "not_required"
    NO_DECISION = "no_decision"  # nobody decided within REQUEST_TTL
    POLICY_ENDED = "policy_ended"
    PIPELINE_GAVE_UP = "pipeline_gave_up"  # the pipeline that asked stopped waiting


@dataclass(frozen=True)
class Engineer:
    user: str
    level: Level
    team: str | None = None
    email: str | None = None
    source: str = "the roster file"  # where the level comes from, for `/signoff roster`
    usergroup: str | None = None  # the Slack user group it comes from, when it does
    github: str | None = None  # their GitHub login: deployments GitHub holds, pipelines' OIDC tokens
    gitlab: str | None = None  # their GitLab username: GitLab pipelines' OIDC tokens


@dataclass(frozen=True)
class GroupRule:
    """Members of a Slack user group (by ID ``S…`` or handle ``@name``) have this level and team."""

    usergroup: str
    level: Level
    team: str | None = None


def _logins(e: Engineer) -> list[str]:
    """An engineer's GitHub and GitLab logins, for the roster's digest; nothing when none is set,
    so rosters without them keep the digest they had."""
    return [f"{site}:{login}" for site, login in (("github", e.github), ("gitlab", e.gitlab)) if login]


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
                    found[user] = Engineer(user, rule.level, rule.team, None, "a user group", rule.usergroup)
        return replace(self, engineers={**found, **self.engineers})

    def get(self, user: str) -> Engineer | None:
        return self.engineers.get(user)

    def by_github(self, login: str) -> Engineer | None:
        """The engineer with this GitHub login (GitHub logins are case-insensitive)."""
        wanted = login.strip().lower()
        return next((e for e in self.engineers.values() if e.github and e.github.lower() == wanted), None)

    def by_gitlab(self, login: str) -> Engineer | None:
        """The engineer with this GitLab username (case-insensitive)."""
        wanted = login.strip().lower()
        return next((e for e in self.engineers.values() if e.gitlab and e.gitlab.lower() == wanted), None)

    def digest(self) -> str:
        """A short fingerprint of who is who (admins, engineers, group rules), equal for equal rosters
        whatever the order they were written in: replicas compare theirs to find a differing file."""
        body = {
            "admins": sorted(self.admins),
            "engineers": sorted(
                (e.user, e.level.value, e.team or "", e.email or "", *_logins(e)) for e in self.engineers.values()
            ),
            "groups": sorted((g.usergroup, g.level.value, g.team or "") for g in self.groups),
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]

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
    destructive: bool | None = None  # as the person or pipeline said; None: not said
    authors: tuple[str, ...] = ()
    commit: str = ""
    plan: PlanSummary | None = None
    command: str = ""  # what runs once approved (guard, the agent hook); the approval binds it
    workdir: str = ""  # where it runs; the approval binds it too
    asked_again_after: str = ""  # the earlier request (CR-41) that ended without a usable approval
    destructive_by: str = ""  # who answered ``destructive`` (request_fields.JUDGES); "": the requester

    @property
    def destroys(self) -> bool | None:
        """True when the plan deletes or replaces something or the requester says so; None when
        nobody knows (no plan, no answer)."""
        if self.destructive or (self.plan is not None and self.plan.destroys):
            return True
        if self.destructive is False or self.plan is not None:
            return False
        return None


class Verdict(StrEnum):
    """The review after the fact of a break-glass change."""

    PENDING = "pending"
    JUSTIFIED = "justified"
    NOT_JUSTIFIED = "not_justified"


@dataclass(frozen=True)
class BreakGlass:
    """A change approved at once in an emergency, reviewed by a senior afterwards."""

    reason: str
    verdict: Verdict = Verdict.PENDING
    reviewed_by: str | None = None
    note: str | None = None
    reviewed_at: datetime | None = None


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
    approvals: int = 0  # distinct seniors who approved so far
    break_glass: BreakGlass | None = None
    final_reason: FinalReason | None = None  # None while pending
    used_by_run: str | None = None  # the CI run that used the approval up (`signoff verify --once`)

    @property
    def ref(self) -> str:
        return format_ref(self.id)

    @property
    def progress(self) -> str:
        """``1 of 2 approvals``: how far a request that needs sign-off has come."""
        return f"{self.approvals} of {self.approvals_needed} approval{'s' if self.approvals_needed != 1 else ''}"

    def seats_open(self, active_reviewers: int) -> int:
        """How many more reviewers it needs: approvals still missing beyond those asked, or the
        review after the fact of a break-glass change while nobody has it."""
        if self.status is Status.PENDING:
            return max(0, self.approvals_needed - self.approvals - active_reviewers)
        if self.awaiting_review_after_the_fact:
            return max(0, 1 - active_reviewers)
        return 0

    @property
    def awaiting_review_after_the_fact(self) -> bool:
        return self.break_glass is not None and self.break_glass.verdict is Verdict.PENDING

    def is_party(self, user: str) -> bool:
        """True for the requester and the change's authors: they may never review it."""
        return user == self.requester or user in self.draft.authors


def format_ref(request_id: int) -> str:
    return f"{REF_PREFIX}{request_id}"


def parse_ref(text: str) -> int | None:
    """``CR-42``, ``cr42`` and ``42`` all mean request 42; anything else is None."""
    m = _REF_RE.match(text)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class NewRequest:
    """A request as it is first stored (``Requests.insert``): what was asked, what the policy
    said, and where it came from. A break-glass one is stored approved by ``decided_by``."""

    requester: str
    draft: Draft
    status: Status
    required: bool
    policy_reason: str
    now: datetime
    source: str
    pipeline: str | None
    idempotency_key: str | None
    idempotency_hash: str | None
    approvals_needed: int = 1
    break_glass: str | None = None
    decided_by: str | None = None
