"""How a request stands, in words a person reads, and the exit code that goes with it."""

from __future__ import annotations

from typing import Any

from bot.domain.models import Status
from bot.gate.exit_codes import APPROVED, DENIED, UNDECIDED


def name(req: dict[str, Any], user: Any, role: str = "a senior reviewer") -> str:
    """A person as the API's answer names them; never a raw Slack ID."""
    names = req.get("names")
    found = names.get(user) if isinstance(names, dict) and isinstance(user, str) else None
    return str(found) if isinstance(found, str) and found else role


def when(text: Any) -> str:
    return str(text).replace("T", " ")[:16] + " UTC" if isinstance(text, str) and text else "?"


def outcome(req: dict[str, Any]) -> int:
    """Print how ``req`` stands in words and return its exit code (-1: still pending)."""
    status = req.get("status")
    ref = req.get("id")
    words = str(req.get("outcome") or status)
    if status == Status.APPROVED:
        until = req.get("valid_until")
        if req.get("approval_expired"):
            print(f"{ref} was {words}, but the approval expired at {when(until)}; ask again")
            return UNDECIDED
        valid = f", valid until {when(until)}" if isinstance(until, str) else ""
        if req.get("break_glass"):
            print(f"{ref} {words}{valid}; a senior reviews it after the fact")
        else:
            print(f"{ref} {words}{valid}")
        return APPROVED
    if status == Status.NOT_REQUIRED:
        print(f"{ref} {words}")
        return APPROVED
    if status == Status.DENIED:
        print(f"{ref} {words.replace('denied', 'DENIED', 1)}")
        return DENIED
    if status in (Status.CANCELLED, Status.EXPIRED):
        print(f"{ref} {words}; it was not approved")
        return UNDECIDED
    return -1  # still pending


def waiting_for(req: dict[str, Any]) -> str:
    """Who a pending request waits for, by name: every reviewer asked and what is still missing."""
    reviewers = [name(req, r) for r in req.get("reviewers") or [] if r != req.get("decided_by")]
    needed, approved = int(req.get("approvals_needed") or 1), int(req.get("approvals") or 0)
    if needed > 1:
        asked = f"; asked: {', '.join(reviewers)}" if reviewers else ""
        return f"{needed - approved} more of {needed} senior approvals ({approved} so far{asked})"
    if req.get("reviewer"):
        return name(req, req["reviewer"])
    return "a senior to claim it in Slack"


def status_words(req: dict[str, Any]) -> str:
    """A status as people say it ("waiting for Sara Senior", "not required"), never a code."""
    if req.get("status") == Status.PENDING:
        return f"waiting for {waiting_for(req)}"
    return str(req.get("outcome") or str(req.get("status", "")).replace("_", " "))


def spent(req: dict[str, Any], run: str | None, denial_counts: bool = True) -> str | None:
    """Why ``req`` can no longer let this run go ahead, in words ("expired", "was denied"), or None
    while it is pending or holds an approval this run may still use."""
    status = req.get("status")
    if status == Status.EXPIRED:
        return "expired"
    if status == Status.CANCELLED:
        return "was cancelled"
    if status == Status.DENIED and denial_counts:
        return "was denied"
    if status == Status.APPROVED and req.get("approval_expired") is True:
        return "was approved, but the approval expired"
    used = req.get("used_by_run")
    if status == Status.APPROVED and isinstance(used, str) and used != run:
        return "was approved, and the approval was used up by another run"
    return None
