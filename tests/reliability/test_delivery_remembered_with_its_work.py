"""A Slack delivery is remembered only in the transaction that does its work.

When the work fails at any step (a storage error injected with a real SQLite trigger), the
person gets a clear error, nothing is half-stored, and sending the same delivery again does
the work: it is never mistaken for a duplicate and answered with an empty 200 that would
close the modal as if it had worked. A form with field errors sent again unchanged gets the
same field errors again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.slack import ids
from tests.fakes.driver import form_values, reason_values
from tests.harness import Harness

CREATE_STEPS = [
    ("INSERT", "requests"),
    ("INSERT", "assignments"),
    ("INSERT", "audit"),
    ("INSERT", "outbox"),
    ("INSERT", "deliveries"),
]
DENY_STEPS = [
    ("INSERT", "decisions"),
    ("UPDATE", "requests"),
    ("UPDATE", "assignments"),
    ("INSERT", "audit"),
    ("INSERT", "outbox"),
    ("INSERT", "deliveries"),
]


def inject(db: Path, op: str, table: str) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute(
            f"CREATE TRIGGER injected_failure BEFORE {op} ON {table} BEGIN SELECT RAISE(ABORT, 'injected'); END"
        )
        conn.commit()
    finally:
        conn.close()


def heal(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute("DROP TRIGGER injected_failure")
        conn.commit()
    finally:
        conn.close()


def count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize(("op", "table"), CREATE_STEPS)
async def test_a_create_that_fails_at_any_step_is_done_by_the_retry(h: Harness, op: str, table: str) -> None:
    db = h.tmp / "signoff.db"
    payload = h.driver.view_payload("U0JUNIOR1", ids.REQUEST_FORM, form_values(title="Retry me"))
    inject(db, op, table)
    first = await h.driver.payload(payload)
    assert first.status == 200, first.text
    body = first.json()
    assert body["response_action"] == "errors", body  # the modal stays open with a message
    assert "try again" in body["errors"]["title"].lower()
    assert count(db, "SELECT COUNT(*) FROM requests") == 0
    heal(db)
    again = await h.driver.payload(payload)  # the person presses Submit again
    assert again.status == 200
    assert again.json()["response_action"] == "update", again.text
    await h.settle()
    assert count(db, "SELECT COUNT(*) FROM requests WHERE title = 'Retry me'") == 1
    assert len(h.review_dm("U0SENIOR1", "CR-1").text) > 0


@pytest.mark.parametrize(("op", "table"), DENY_STEPS)
async def test_a_denial_that_fails_at_any_step_is_done_by_the_retry(h: Harness, op: str, table: str) -> None:
    db = h.tmp / "signoff.db"
    ref = await h.ask()
    payload = h.driver.view_payload("U0SENIOR1", ids.DENY_FORM, reason_values("Too risky"), private_metadata="1")
    inject(db, op, table)
    first = await h.driver.payload(payload)
    assert first.status == 200
    assert first.json()["response_action"] == "errors", first.text
    assert (await h.get(ref)).status.value == "pending"
    heal(db)
    again = await h.driver.payload(payload)
    assert again.status == 200
    assert again.text == "", again.text  # an empty ack closes the modal: the denial is stored
    assert (await h.get(ref)).status.value == "denied"
    await h.settle()
    assert len([m for m in h.slack.dms("U0JUNIOR1") if "was denied" in m.text]) == 1


async def test_an_approval_that_failed_is_done_when_clicked_again(h: Harness) -> None:
    db = h.tmp / "signoff.db"
    ref = await h.ask()
    payload = h.driver.action_payload("U0SENIOR1", ids.APPROVE, "1")
    inject(db, "INSERT", "decisions")
    assert (await h.driver.payload(payload)).status == 200
    await h.settle()
    refusals = h.slack.ephemeral_texts()
    assert any("try again" in r.lower() for r in refusals), refusals
    heal(db)
    assert (await h.driver.payload(payload)).status == 200  # Slack's retry of the same click
    assert (await h.get(ref)).status.value == "approved"


async def test_a_form_with_field_errors_sent_again_gets_the_same_errors(h: Harness) -> None:
    payload = h.driver.view_payload("U0JUNIOR1", ids.REQUEST_FORM, form_values(url="not a link"))
    for _ in range(2):
        reply = await h.driver.payload(payload)
        assert reply.status == 200
        body = reply.json()
        assert body is not None, "an empty ack would close the form as if it had worked"
        assert body["response_action"] == "errors"
        assert "url" in body["errors"]
    assert count(h.tmp / "signoff.db", "SELECT COUNT(*) FROM requests") == 0


async def test_a_repeat_of_a_delivery_that_worked_does_nothing_twice(h: Harness) -> None:
    payload = h.driver.view_payload("U0SENIOR1", ids.DENY_FORM, reason_values("No"), private_metadata="1")
    await h.ask()
    assert (await h.driver.payload(payload)).text == ""
    assert (await h.driver.payload(payload)).text == ""  # replayed: acknowledged, nothing more
    await h.settle()
    assert await h.audit_actions("decided") == 1
    assert len([m for m in h.slack.dms("U0JUNIOR1") if "was denied" in m.text]) == 1
