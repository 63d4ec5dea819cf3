"""What a change does to existing resources: the summary of one or more plans.

The CLI reads plan files locally (bot/gate/plans.py) and sends only this summary and each
plan's SHA-256, so a plan of many megabytes never crosses the network. The API checks the
summary's shape here; it cannot check it against a plan it never sees, which is why an
approval is bound to the digests (``signoff verify``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

MAX_PLANS = 20
MAX_RESOURCES = 300  # listed; the counts are always the plan's true totals
ADDRESS_MAX = 500
REASON_MAX = 300
FORMAT_NAMES = ("terraform", "pulumi", "cloudformation")
DESTROYING = ("delete", "replace")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COUNTS = ("creates", "updates", "deletes", "replaces")


@dataclass(frozen=True)
class Destroyed:
    """One resource a plan deletes or replaces."""

    address: str  # Terraform address, Pulumi URN, CloudFormation logical id
    action: str  # delete | replace
    reason: str = ""  # why it is replaced (action_reason, replaceReasons, Replacement), when known


@dataclass(frozen=True)
class PlanSummary:
    sha256: tuple[str, ...]  # one per plan file, lowercase hex
    formats: tuple[str, ...]
    creates: int = 0
    updates: int = 0
    deletes: int = 0
    replaces: int = 0
    resources: tuple[Destroyed, ...] = ()

    @property
    def destroys(self) -> bool:
        return self.deletes > 0 or self.replaces > 0

    def headline(self) -> str:
        """``Deletes 1, replaces 2`` (or what it does when it destroys nothing)."""
        if self.destroys:
            parts = []
            if self.deletes:
                parts.append(f"deletes {self.deletes}")
            if self.replaces:
                parts.append(f"replaces {self.replaces}")
            text = ", ".join(parts)
        else:
            text = f"deletes nothing, replaces nothing ({self.creates} to create, {self.updates} to update)"
        return text[0].upper() + text[1:]

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": list(self.sha256),
            "formats": list(self.formats),
            **{name: getattr(self, name) for name in _COUNTS},
            "resources": [{"address": d.address, "action": d.action, "reason": d.reason} for d in self.resources],
        }


def merge(plans: list[PlanSummary]) -> PlanSummary:
    """Several plans applied together, as one summary."""
    listed = tuple(d for p in plans for d in p.resources)[:MAX_RESOURCES]
    return PlanSummary(
        sha256=tuple(dict.fromkeys(s for p in plans for s in p.sha256)),
        formats=tuple(dict.fromkeys(f for p in plans for f in p.formats)),
        creates=sum(p.creates for p in plans),
        updates=sum(p.updates for p in plans),
        deletes=sum(p.deletes for p in plans),
        replaces=sum(p.replaces for p in plans),
        resources=listed,
    )


DIGESTS_WANTED = f"must list 1 to {MAX_PLANS} SHA-256 digests (64 lowercase hex characters each)"


def valid_digests(value: Any) -> TypeGuard[list[str]]:
    """A list of 1 to MAX_PLANS plan digests, as the CLI computes them."""
    return (
        isinstance(value, list)
        and 0 < len(value) <= MAX_PLANS
        and all(isinstance(s, str) and _SHA256.match(s) for s in value)
    )


def parse_blast_radius(value: Any) -> tuple[PlanSummary | None, str | None]:
    """The API's ``plan`` object as a PlanSummary, or (None, what is wrong with it)."""
    if value is None:
        return None, None
    if not isinstance(value, Mapping):
        return None, "must be an object: the summary `signoff request --plan` sends"
    unknown = sorted(set(value) - {"sha256", "formats", "resources", *_COUNTS})
    if unknown:
        return None, f"has unknown keys: {', '.join(unknown)[:200]}"
    digests = value.get("sha256")
    if not valid_digests(digests):
        return None, f"sha256 {DIGESTS_WANTED}"
    formats = value.get("formats", [])
    if not isinstance(formats, list) or not all(isinstance(f, str) and f in FORMAT_NAMES for f in formats):
        return None, f"formats must list plan formats from: {', '.join(FORMAT_NAMES)}"
    counts: dict[str, int] = {}
    for name in _COUNTS:
        n = value.get(name, 0)
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 10_000_000:
            return None, f"{name} must be a whole number from 0"
        counts[name] = n
    raw = value.get("resources", [])
    if not isinstance(raw, list) or len(raw) > MAX_RESOURCES:
        return None, f"resources must be a list of at most {MAX_RESOURCES} destroyed or replaced resources"
    resources = []
    for item in raw:
        problem = _resource_problem(item)
        if problem:
            return None, f"resources: {problem}"
        resources.append(Destroyed(item["address"], item["action"], item.get("reason", "")))
    if counts["deletes"] + counts["replaces"] < len(resources):
        return None, "lists more destroyed resources than deletes and replaces counts"
    radius = PlanSummary(
        tuple(dict.fromkeys(digests)), tuple(dict.fromkeys(formats)), resources=tuple(resources), **counts
    )
    return radius, None


def _resource_problem(item: Any) -> str | None:
    if not isinstance(item, Mapping) or set(item) - {"address", "action", "reason"}:
        return "each must be an object with address, action and reason"
    address, action, reason = item.get("address"), item.get("action"), item.get("reason", "")
    if not isinstance(address, str) or not 0 < len(address) <= ADDRESS_MAX or "\x00" in address:
        return f"address must be text of 1 to {ADDRESS_MAX} characters"
    if action not in DESTROYING:
        return "action must be delete or replace"
    if not isinstance(reason, str) or len(reason) > REASON_MAX or "\x00" in reason:
        return f"reason must be text of at most {REASON_MAX} characters"
    return None


def from_stored(value: Mapping[str, Any]) -> PlanSummary:
    """What the store wrote with ``to_json`` (already checked when it came in)."""
    radius, problem = parse_blast_radius(value)
    if radius is None:
        raise ValueError(f"stored plan summary is not valid: {problem}")
    return radius
