"""Every message and modal fits Slack's limits, whatever people type, and user text never pings."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.domain.models import BreakGlass, ChangeRequest, Draft, Status, Verdict
from bot.domain.plan_summary import MAX_RESOURCES, Destroyed, PlanSummary
from bot.sandbox import block_rules
from bot.services.queries import Listing, Pending
from bot.slack import blocks, break_glass_messages, modals, review_messages, scheduled_messages

HOSTILE = "<!channel> <!here> <@U0SENIOR1> *bold* _it_ ~s~ `code` & <https://evil.example|click> "
NOW = datetime(2026, 11, 27, 14, 2, tzinfo=UTC)
UTC_TZ = ZoneInfo("UTC")


HUGE_PLAN = PlanSummary(
    tuple(f"{i:064x}" for i in range(20)),
    ("terraform", "pulumi", "cloudformation"),
    deletes=5000,
    replaces=5000,
    resources=tuple(Destroyed((HOSTILE * 10)[:500], "replace", (HOSTILE * 5)[:300]) for _ in range(MAX_RESOURCES)),
)


def request(
    status: Status = Status.PENDING, text: str = HOSTILE * 200, plan: PlanSummary | None = HUGE_PLAN, **kw: object
) -> ChangeRequest:
    draft = Draft(
        plan=plan,
        title=text[:150],
        url="https://example.com/pr/1?a=b|c>d",
        ai_assisted=True,
        description=text[:10_000],
        service=text[:80],
        environment=text[:80],
        ai_tool=text[:80],
    )
    fields: dict[str, object] = dict(
        id=42,
        requester="U0JUNIOR1",
        draft=draft,
        status=status,
        sign_off_required=True,
        policy_reason="a junior engineer wrote it with AI",
        approvals_needed=1,
        created_at=NOW,
        updated_at=NOW,
        reviewer="U0SENIOR1",
        decided_by="U0SENIOR1" if status is not Status.PENDING else None,
        decided_at=NOW if status is not Status.PENDING else None,
        reason=text[:1000] if status is Status.DENIED else None,
    )
    fields.update(kw)
    return ChangeRequest(**fields)  # type: ignore[arg-type]


def no_pings(message: blocks.Message) -> None:
    text, body = message
    for parsed in [text, *block_rules.parsed_texts(body)]:
        for ping in ("<!channel>", "<!here>", "<https://evil", "<@U0SENIOR1> *bold*"):
            assert ping not in parsed


def test_review_message_fits_and_escapes_for_every_status() -> None:
    for status in Status:
        for can_decide in (True, False):
            approvals = [("U0SENIOR2", NOW), ("U0STAFF1", NOW)]
            message = review_messages.review_message(
                request(status, approvals_needed=5, approvals=2), "U0SENIOR1", can_decide, UTC_TZ, approvals
            )
            assert block_rules.check_message({"text": message[0], "blocks": message[1]}) is None
            no_pings(message)


def test_buttons_only_while_pending_and_assigned() -> None:
    def has_buttons(status: Status, can_decide: bool) -> bool:
        _, body = review_messages.review_message(request(status, "t"), "U0SENIOR1", can_decide, UTC_TZ)
        return any(b["type"] == "actions" for b in body)

    assert has_buttons(Status.PENDING, True)
    assert not has_buttons(Status.PENDING, False)
    assert not has_buttons(Status.APPROVED, True)


def test_the_outcome_line_names_who_and_when() -> None:
    _, body = review_messages.review_message(request(Status.APPROVED, "t"), "U0SENIOR1", True, UTC_TZ)
    assert body[-1]["elements"][0]["text"].endswith("Approved by <@U0SENIOR1> at 14:02 UTC")


def test_claim_requester_and_status_messages_fit() -> None:
    for status in Status:
        req = request(status)
        for message in (
            review_messages.claim_message(req, UTC_TZ, 1),
            review_messages.claim_message(req, UTC_TZ, 0, ["U0SENIOR1"]),
            blocks.status_message(req, ["U0SENIOR1"], UTC_TZ),
            *(blocks.requester_message(req, ev, "C0X", UTC_TZ) for ev in ("waiting", "unassigned", "decided")),
        ):
            assert block_rules.check_message({"text": message[0], "blocks": message[1]}) is None
            no_pings(message)


def test_pending_listing_cuts_with_and_n_more() -> None:
    items = [request(text="x" * 150, id=i) for i in range(1, 21)]
    listing = Listing(items=items, total=500)
    text, body = blocks.pending_message(Pending(mine=listing, reviews=Listing([], 0)), UTC_TZ)
    assert block_rules.check_message({"text": text, "blocks": body}) is None
    mine = body[0]["text"]["text"]
    assert mine.startswith("*Your open requests (500):*")
    shown = mine.count("• ")
    assert mine.rstrip().endswith(f"…and {500 - shown} more")


def test_modals_fit() -> None:
    assert block_rules.check_view(modals.request_form()) is None
    assert block_rules.check_view(modals.break_glass_form()) is None
    assert block_rules.check_view(modals.after_the_fact_form(request(), "not_justified")) is None
    assert block_rules.check_view(modals.deny_form(request())) is None
    assert block_rules.check_view(modals.submitted(request(), "x" * 2000)) is None


def test_the_dm_leads_with_what_is_destroyed_and_cuts_a_long_list() -> None:
    _, body = review_messages.review_message(request(text="t"), "U0SENIOR1", True, UTC_TZ)
    lead = body[1]["text"]["text"]
    assert lead.startswith(":boom: *Deletes 5000, replaces 5000*")
    assert "…and " in lead and "The plan summary lists 300 of the 10000 destroyed or replaced" in lead


def test_break_glass_messages_fit_and_escape() -> None:
    for verdict in Verdict:
        glass = BreakGlass(HOSTILE * 20, verdict, "U0SENIOR1" if verdict is not Verdict.PENDING else None,
                           HOSTILE * 20 if verdict is not Verdict.PENDING else None, NOW)  # fmt: skip
        req = request(Status.APPROVED, break_glass=glass, decided_by="U0JUNIOR1")
        for can_review in (True, False):
            message = review_messages.after_the_fact_message(req, can_review, UTC_TZ)
            assert block_rules.check_message({"text": message[0], "blocks": message[1]}) is None
            no_pings(message)
        if verdict is not Verdict.PENDING:
            note = break_glass_messages.break_glass_note(req, "hindsight", UTC_TZ)
        else:
            note = break_glass_messages.break_glass_note(req, "break_glass", UTC_TZ)
        assert block_rules.check_message({"text": note[0], "blocks": note[1]}) is None
        no_pings(note)


def test_a_reminder_that_moved_on_never_formats_a_denial_reason() -> None:
    """The reminder, updated after a denial, quotes the reason as text: no ping, no disguised link."""
    denied = request(Status.DENIED)
    text, body = scheduled_messages.reminder_moved_on(denied, [])
    no_pings((text, body))
    assert "&lt;!channel&gt;" in body[0]["text"]["text"]
