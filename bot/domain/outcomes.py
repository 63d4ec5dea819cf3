"""Every final state in words: the same sentence for a DM, the CLI, the API, the summary and the
report, with people named by whoever renders them (a mention in Slack, a display name in the
CLI). Each way a request can end reads differently: approved, approved by break-glass, denied
(with the reason), cancelled, expired because nobody decided, expired because the policy ended,
expired because the pipeline stopped waiting, and not required."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.models import ChangeRequest, FinalReason, Status

Name = Callable[[str | None], str]


def plain(user: str | None) -> str:
    return user or "someone"


def both(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def outcome_words(req: ChangeRequest, name: Name = plain, approvers: list[str] | None = None) -> str:
    """One sentence (no final full stop) for how ``req`` ended, or where it stands; ``approvers``
    (when known) are every senior who approved, all named."""
    final = req.final_reason
    if req.status is Status.PENDING:
        return f"waiting for sign-off ({req.progress})" if req.sign_off_required else "waiting for sign-off"
    if final is FinalReason.BREAK_GLASS:
        return f"approved by break-glass ({name(req.decided_by)})"
    if req.status is Status.APPROVED:
        return f"approved by {both([name(a) for a in approvers or [req.decided_by or '']])}"
    if req.status is Status.DENIED:
        return f"denied by {name(req.decided_by)}" + (f": {req.reason}" if req.reason else "")
    if req.status is Status.CANCELLED:
        return f"cancelled by {name(req.decided_by)}"
    if req.status is Status.NOT_REQUIRED:
        return f"recorded; sign-off was not required: {req.policy_reason}"
    if final is FinalReason.NO_DECISION:
        return f"expired: {req.reason}" if req.reason else "expired: nobody decided in time"
    if final is FinalReason.PIPELINE_GAVE_UP:
        return "expired: the pipeline that asked stopped waiting"
    return "expired: the sign-off policy ended"
