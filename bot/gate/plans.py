"""Reading the plan a pipeline is about to apply, to say what it destroys.

The format is told from the file itself:
  * Terraform and OpenTofu, ``terraform show -json plan.tfplan``: ``resource_changes[].change.actions``.
    Any list with ``delete`` destroys: ``["delete"]`` deletes, ``["delete","create"]`` and
    ``["create","delete"]`` replace. ``["forget"]`` only drops the resource from state: not destructive.
  * Pulumi, ``pulumi preview --json``: ``steps[].op``. ``delete`` deletes; ``replace``,
    ``create-replacement``, ``delete-replaced``, ``discard-replaced`` and ``import-replacement``
    replace (one resource, however many steps name its URN).
  * CloudFormation, ``aws cloudformation describe-change-set``: ``Changes[].ResourceChange``.
    ``Remove`` deletes unless ``PolicyAction`` is ``Retain`` (the physical resource is kept);
    ``Modify`` with ``Replacement`` ``True`` or ``Conditionally`` replaces; ``Dynamic`` (decided
    only while deploying) counts as replacing.

Fail closed: an action a reader does not know counts as destructive, and anything else (a
file that is not a plan, Terraform *state* instead of a plan, one page of a change set that
has more, a file that does not hold what its format promises) is refused, never taken to
destroy nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.domain.plan_summary import MAX_RESOURCES, REASON_MAX, Destroyed, PlanSummary

MAX_PLAN_BYTES = 512 * 1024 * 1024
PULUMI_REPLACING = frozenset(
    {"replace", "create-replacement", "delete-replaced", "discard-replaced", "import-replacement"}
)
PULUMI_HARMLESS = frozenset(
    {"same", "read", "refresh", "import", "read-replacement", "discard", "remove-pending-replace"}
)
TERRAFORM_ACTIONS = frozenset({"no-op", "create", "read", "update", "delete", "forget"})
HOW_TO_MAKE = (
    "Give the JSON of a plan: `terraform show -json plan.tfplan > plan.json` (or `tofu show -json`), "
    "`pulumi preview --json > plan.json`, or `aws cloudformation describe-change-set ... > plan.json`."
)


class PlanError(Exception):
    """The file is not a plan signoff can read; the message says what to give instead."""


def read_plan_file(path: str) -> PlanSummary:
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_PLAN_BYTES:
            raise PlanError(f"{path} is {size} bytes; plans over {MAX_PLAN_BYTES} bytes are not read")
        raw = file.read_bytes()
    except OSError as err:
        raise PlanError(f"cannot read {path}: {err.strerror or err}") from None
    return read_plan(raw, path)


def digest_of(path: str) -> str:
    """The SHA-256 of a file, read in chunks (a plan to verify may be large)."""
    sha = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                sha.update(chunk)
    except OSError as err:
        raise PlanError(f"cannot read {path}: {err.strerror or err}") from None
    return sha.hexdigest()


def read_plan(raw: bytes, name: str = "the plan") -> PlanSummary:
    digest = hashlib.sha256(raw).hexdigest()
    if raw[:2] == b"PK":
        raise PlanError(f"{name} is a binary Terraform plan, which only Terraform can read. {HOW_TO_MAKE}")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise PlanError(f"{name} is not JSON ({_short(err)}). {HOW_TO_MAKE}") from None
    if isinstance(doc, dict) and ("resource_changes" in doc or "terraform_version" in doc):
        if "resource_changes" not in doc and "planned_values" not in doc:
            raise PlanError(
                f"{name} is Terraform state, not a plan: `terraform show -json` without a plan file prints the "
                "state. Save the plan and show it: `terraform plan -out=plan.tfplan && "
                "terraform show -json plan.tfplan > plan.json`."
            )
        return _terraform(doc, digest, name)
    if isinstance(doc, dict) and "steps" in doc:
        return _pulumi(doc, digest, name)
    if isinstance(doc, dict) and "Changes" in doc:
        return _cloudformation(doc, digest, name)
    raise PlanError(f"{name} is JSON but not a Terraform, OpenTofu, Pulumi or CloudFormation plan. {HOW_TO_MAKE}")


def _short(err: Exception) -> str:
    return str(err).splitlines()[0][:120]


def _list(doc: dict[str, Any], key: str, name: str, what: str) -> list[dict[str, Any]]:
    items = doc.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise PlanError(f"{name} looks like a {what} but its {key!r} is not a list of objects; is the file whole?")
    return items


def _text(value: Any, name: str, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise PlanError(f"{name}: {where} has no name; is the file whole?")
    return value


class _Tally:
    def __init__(self) -> None:
        self.counts = {"creates": 0, "updates": 0, "deletes": 0, "replaces": 0}
        self.listed: list[Destroyed] = []

    def add(self, kind: str, address: str = "", reason: str = "") -> None:
        self.counts[kind] += 1
        if kind in ("deletes", "replaces") and len(self.listed) < MAX_RESOURCES:
            action = "delete" if kind == "deletes" else "replace"
            self.listed.append(Destroyed(address[:500], action, reason[:REASON_MAX]))

    def radius(self, digest: str, fmt: str) -> PlanSummary:
        return PlanSummary((digest,), (fmt,), resources=tuple(self.listed), **self.counts)


def _terraform(doc: dict[str, Any], digest: str, name: str) -> PlanSummary:
    tally = _Tally()
    for item in _list(doc, "resource_changes", name, "Terraform plan"):
        address = _text(item.get("address"), name, "a resource change")
        change = item.get("change")
        actions = change.get("actions") if isinstance(change, dict) else None
        if (
            not isinstance(change, dict)
            or not isinstance(actions, list)
            or not all(isinstance(a, str) for a in actions)
        ):
            raise PlanError(f"{name}: {address} has no list of actions; is the file whole?")
        unknown = sorted(set(actions) - TERRAFORM_ACTIONS)
        if unknown:
            tally.add(
                "replaces", address, f"action {', '.join(unknown)[:60]} not known to signoff: counted as destructive"
            )
        elif "delete" in actions:
            kind = "replaces" if "create" in actions else "deletes"
            tally.add(kind, address, _terraform_reason(item, change))
        elif "create" in actions:
            tally.add("creates")
        elif "update" in actions:
            tally.add("updates")
    return tally.radius(digest, "terraform")


def _terraform_reason(item: dict[str, Any], change: dict[str, Any]) -> str:
    parts = []
    if isinstance(item.get("action_reason"), str):
        parts.append(item["action_reason"])
    paths = change.get("replace_paths")
    if isinstance(paths, list) and paths:
        shown = [".".join(str(p) for p in path) if isinstance(path, list) else str(path) for path in paths[:5]]
        parts.append("replace_paths: " + ", ".join(shown))
    return "; ".join(parts)


def _pulumi(doc: dict[str, Any], digest: str, name: str) -> PlanSummary:
    tally = _Tally()
    seen: dict[str, str] = {}  # urn -> what happens to it; one replace takes several steps
    reasons: dict[str, str] = {}
    for step in _list(doc, "steps", name, "Pulumi preview"):
        op = step.get("op")
        urn = _text(step.get("urn"), name, "a step")
        if not isinstance(op, str):
            raise PlanError(f"{name}: the step for {urn} has no op; is the file whole?")
        why = step.get("replaceReasons")
        if isinstance(why, list) and why:
            reasons[urn] = "replaceReasons: " + ", ".join(str(w) for w in why[:5])
        kind = "replaces" if op in PULUMI_REPLACING else {"delete": "deletes", "create": "creates"}.get(op)
        kind = kind or ("updates" if op == "update" else None)
        if kind is None and op not in PULUMI_HARMLESS:
            kind = "replaces"
            reasons[urn] = f"op {op[:40]} not known to signoff: counted as destructive"
        if kind is None:
            continue
        before = seen.get(urn)
        if before is None or _RANK[kind] > _RANK[before]:
            seen[urn] = kind
    for urn, kind in seen.items():
        tally.add(kind, urn, reasons.get(urn, ""))
    return tally.radius(digest, "pulumi")


_RANK = {"creates": 0, "updates": 1, "deletes": 2, "replaces": 3}


def _cloudformation(doc: dict[str, Any], digest: str, name: str) -> PlanSummary:
    tally = _Tally()
    for change in _resource_changes(doc, name):
        action = change.get("Action")
        logical = _text(change.get("LogicalResourceId"), name, "a resource change")
        kind_of = change.get("ResourceType")
        address = f"{logical} ({kind_of})" if isinstance(kind_of, str) else logical
        policy = change.get("PolicyAction")
        kept = f"; PolicyAction {policy}" if isinstance(policy, str) else ""
        if action == "Remove":
            if policy == "Retain":
                continue  # removed from the stack, the physical resource kept
            tally.add("deletes", address, f"Remove{kept}")
        elif action == "Modify" and change.get("Replacement") in ("True", "Conditionally"):
            tally.add("replaces", address, f"Replacement {change.get('Replacement')}{kept}")
        elif action == "Add":
            tally.add("creates")
        elif action in ("Modify", "Import"):
            tally.add("updates")
        elif action == "Dynamic":
            tally.add("replaces", address, "Dynamic: its effect is known only while deploying; counted as destructive")
        else:
            what = str(action)[:40]
            tally.add("replaces", address, f"Action {what} not known to signoff: counted as destructive")
    return tally.radius(digest, "cloudformation")


def _resource_changes(doc: dict[str, Any], name: str) -> Iterator[dict[str, Any]]:
    if doc.get("NextToken"):
        raise PlanError(
            f"{name} is one page of a change set that has more (it holds a NextToken): save every page. "
            "`aws cloudformation describe-change-set` without --max-items (the CLI fetches every page) gives "
            "the whole change set."
        )
    for change in _list(doc, "Changes", name, "CloudFormation change set"):
        if change.get("Type", "Resource") != "Resource":
            continue
        inner = change.get("ResourceChange")
        if not isinstance(inner, dict):
            raise PlanError(f"{name}: a change has no ResourceChange; is the file whole?")
        yield inner
