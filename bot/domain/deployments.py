"""A deployment GitHub holds for signoff, and the answer a request's end gives it. Pure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.models import ChangeRequest, FinalReason, Status
from bot.domain.outcomes import outcome_words

COMMENT_MAX = 1000  # GitHub shows the comment in the run's page; keep it to a few lines


class Answer(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Deployment:
    """What GitHub told us of one deployment waiting on signoff's protection rule."""

    deployment_id: int
    installation_id: int
    repository: str  # owner/name
    environment: str
    sha: str
    ref: str
    creator: str  # the GitHub login that started it
    run_url: str  # the workflow run, for people
    callback_url: str  # where the answer goes
    via: str = "webhook"  # webhook | sweep


@dataclass(frozen=True)
class HeldDeployment:
    """A stored deployment not yet answered."""

    deployment: Deployment
    request_id: int | None
    progress: str  # the last progress reported to GitHub
    reports: int
    attempts: int


def answer_for(
    req: ChangeRequest, name: Callable[[str | None], str], approvers: list[str], plan_sha: tuple[str, ...] = ()
) -> tuple[Answer, str] | None:
    """The answer GitHub gets when ``req`` has ended, with a comment in words; None while pending."""
    if req.status is Status.PENDING:
        return None
    words = outcome_words(req, name, approvers)
    if req.status is Status.APPROVED:
        plan = f"; plan sha256 {', '.join(s[:12] for s in plan_sha)}" if plan_sha else ""
        return Answer.APPROVED, _clip(f"signoff {req.ref}: {words}{plan}.")
    if req.status is Status.NOT_REQUIRED:
        return Answer.APPROVED, _clip(f"signoff {req.ref}: no senior sign-off needed ({req.policy_reason}).")
    if req.status is Status.EXPIRED and req.final_reason is FinalReason.POLICY_ENDED:
        return Answer.APPROVED, _clip(f"signoff {req.ref}: the senior sign-off policy is over; nothing to hold.")
    return Answer.REJECTED, _clip(f"signoff {req.ref}: {words}.")


def progress_for(req: ChangeRequest) -> str:
    """How a pending request stands, for GitHub's run page ("waiting for 2 senior approvals")."""
    if req.approvals_needed > 1:
        return f"signoff {req.ref}: {req.approvals} of {req.approvals_needed} senior approvals so far."
    return f"signoff {req.ref}: waiting for a senior's approval in Slack."


def _clip(text: str) -> str:
    return text if len(text) <= COMMENT_MAX else text[: COMMENT_MAX - 1] + "…"
