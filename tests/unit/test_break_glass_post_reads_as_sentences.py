"""The channel's break-glass post names the change on a line of its own and says what happened
in a sentence of its own: the title never runs into the sentence."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.domain.models import BreakGlass, ChangeRequest, Draft, FinalReason, Status
from bot.domain.outbox import Event
from bot.slack.break_glass_messages import break_glass_note

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
REQ = ChangeRequest(
    id=3, requester="U0JUNE",
    draft=Draft(title="Revert the orders migration", url="https://github.com/acme/shop/pull/99", ai_assisted=True,
                destructive=False),
    status=Status.APPROVED, sign_off_required=True, policy_reason="AI-assisted change by a junior engineer",
    approvals_needed=1, created_at=NOW, updated_at=NOW, decided_by="U0JUNE",
    break_glass=BreakGlass("Checkout is down"), final_reason=FinalReason.BREAK_GLASS,
)  # fmt: skip


def test_the_title_and_the_sentence_stand_apart() -> None:
    _, blocks = break_glass_note(REQ, Event.BREAK_GLASS, ZoneInfo("UTC"))
    texts = [b["text"]["text"] for b in blocks if "text" in b]
    sentence = next(t for t in texts if "themselves" in t)
    assert "Revert the orders migration" not in sentence
    assert sentence.startswith("<@U0JUNE> approved it themselves")
    assert any(t.startswith("*CR-3*") and "Revert the orders migration" in t for t in texts)
