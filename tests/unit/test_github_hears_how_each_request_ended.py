"""GitHub's answer for a held deployment follows how its request ended, in words a person reads:
approved (by whom, with the plan), not required (why), the policy over: approved; denied (by
whom, and why), cancelled, nobody decided, the pipeline gave up: rejected. Pending: no answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.domain.deployments import Answer, answer_for, progress_for
from bot.domain.models import ChangeRequest, Draft, FinalReason, Status

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PENDING = ChangeRequest(
    id=12, requester="U0JUNE", draft=Draft(title="Deploy acme/shop to production", url="https://x", ai_assisted=True),
    status=Status.PENDING, sign_off_required=True, policy_reason="AI-assisted change by a junior engineer",
    approvals_needed=2, created_at=NOW, updated_at=NOW,
)  # fmt: skip
NAMES = {"U0SARA": "Sara Senior", "U0SEAN": "Sean Senior"}


def name(user: str | None) -> str:
    return NAMES.get(user or "", "a senior reviewer")


@pytest.mark.parametrize(
    ("status", "final", "extra", "answer", "words"),
    [
        (Status.APPROVED, FinalReason.APPROVED, {"decided_by": "U0SEAN"}, Answer.APPROVED,
         "signoff CR-12: approved by Sara Senior and Sean Senior."),
        (Status.NOT_REQUIRED, FinalReason.NOT_REQUIRED, {"policy_reason": "a senior's own change"}, Answer.APPROVED,
         "no senior sign-off needed (a senior's own change)"),
        (Status.EXPIRED, FinalReason.POLICY_ENDED, {}, Answer.APPROVED, "the senior sign-off policy is over"),
        (Status.DENIED, FinalReason.DENIED, {"decided_by": "U0SARA", "reason": "Not during the freeze"},
         Answer.REJECTED, "denied by Sara Senior: Not during the freeze"),
        (Status.CANCELLED, FinalReason.CANCELLED, {}, Answer.REJECTED, "signoff CR-12:"),
        (Status.EXPIRED, FinalReason.NO_DECISION, {}, Answer.REJECTED, "signoff CR-12:"),
        (Status.EXPIRED, FinalReason.PIPELINE_GAVE_UP, {}, Answer.REJECTED, "signoff CR-12:"),
    ],
)  # fmt: skip
def test_each_end_answers_github_once_in_words(
    status: Status, final: FinalReason, extra: dict[str, str], answer: Answer, words: str
) -> None:
    req = replace(PENDING, status=status, final_reason=final, **extra)
    found = answer_for(req, name, ["U0SARA", "U0SEAN"])
    assert found is not None
    assert found[0] is answer and words in found[1], found
    assert "U0" not in found[1] and "_" not in found[1].replace("CR-12", "")


def test_a_pending_request_gets_no_answer_but_progress() -> None:
    assert answer_for(PENDING, name, []) is None
    assert progress_for(replace(PENDING, approvals=1)) == "signoff CR-12: 1 of 2 senior approvals so far."


def test_the_approved_plan_is_named() -> None:
    req = replace(PENDING, status=Status.APPROVED, final_reason=FinalReason.APPROVED, decided_by="U0SARA")
    found = answer_for(req, name, ["U0SARA"], ("ab" * 32,))
    assert found is not None and "plan sha256 abababababab" in found[1]
