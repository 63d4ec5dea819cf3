"""Who may decide, as a table: actor × state × action. Only the assigned reviewer of a pending
request can decide it; every other cell is refused with its reason and audited."""

from __future__ import annotations

import os
from pathlib import Path

from bot.domain.models import Status
from bot.slack import ids
from tests.fakes.driver import reason_values
from tests.harness import CI_TOKEN, Harness, running

ACTORS = {
    "requester": "U0JUNIOR1",
    "author": "U0STAFF1",
    "reviewer": "U0SENIOR1",
    "other senior": "U0SENIOR2",
    "not on roster": "U0NOBODY",
    "admin": "U0ADMIN1",
}
STATES = ["pending", "approved", "denied", "cancelled", "expired"]
ACTIONS = ["approve", "deny"]
REFUSED_WHEN_PENDING = {
    "requester": "self_review",
    "author": "self_review",
    "other senior": "not_reviewer",
    "not on roster": "not_reviewer",
    "admin": "not_reviewer",
}


def expected(actor: str, state: str) -> str:
    """'decided', or the audited reason code of the refusal."""
    if state != "pending":
        return "already_decided"
    return "decided" if actor == "reviewer" else REFUSED_WHEN_PENDING[actor]


async def create(h: Harness) -> str:
    body = {
        "requester": "U0JUNIOR1",
        "title": "Matrix",
        "url": "https://e.example/pr/1",
        "ai_assisted": True,
        "destructive": False,
        "authors": ["U0STAFF1"],
    }
    status, created = await h.api("POST", "/api/v1/requests", body, token=CI_TOKEN)
    assert status == 201 and created["reviewer"] == "U0SENIOR1", created
    return str(created["id"])


async def act(h: Harness, user: str, action: str, ref: str) -> None:
    if action == "approve":
        await h.driver.click(user, ids.APPROVE, ref[3:])
    else:
        await h.driver.submit(user, ids.DENY_FORM, reason_values("matrix"), private_metadata=ref[3:])
    await h.settle()


async def refusal_codes(h: Harness, ref: str) -> list[str]:
    rows = await h.fetchall(
        "SELECT reason FROM audit WHERE action = 'refused' AND request_id = ? ORDER BY id", (int(ref[3:]),)
    )
    return [str(r["reason"]) for r in rows]


async def test_the_whole_table(h: Harness) -> None:
    await h.driver.command("U0SENIOR2", "away")  # so every request routes to U0SENIOR1
    cells: dict[tuple[str, str], str] = {}  # (state, action) -> request
    for state in STATES:
        for action in ACTIONS:
            cells[(state, action)] = await create(h)
    for (state, _), ref in cells.items():  # bring each request to its state
        if state == "approved":
            await act(h, "U0SENIOR1", "approve", ref)
        elif state == "denied":
            await act(h, "U0SENIOR1", "deny", ref)
        elif state == "cancelled":
            await h.driver.command("U0JUNIOR1", f"cancel {ref}")
    # Pending cells run before the policy ends; the reviewer acts last, since that decides.
    order = [a for a in ACTORS if a != "reviewer"] + ["reviewer"]
    seen: dict[tuple[str, str, str], str] = {}
    for state in STATES:
        if state == "expired":
            assert (await h.driver.command("U0ADMIN1", "policy end")).json()["text"].startswith("The policy has ended")
            await h.settle()
        for action in ACTIONS:
            ref = cells[(state, action)]
            assert (await h.get(ref)).status.value == state
            for actor in order:
                before = await refusal_codes(h, ref)
                await act(h, ACTORS[actor], action, ref)
                after = await refusal_codes(h, ref)
                if after != before:
                    assert len(after) == len(before) + 1
                    seen[(actor, state, action)] = after[-1]
                else:
                    seen[(actor, state, action)] = "decided"
                    status = (await h.get(ref)).status
                    assert status is (Status.APPROVED if action == "approve" else Status.DENIED)
    table = {(a, s, x): expected(a, s) for a in ACTORS for s in STATES for x in ACTIONS}
    assert seen == table
    refused = sum(1 for v in table.values() if v != "decided")
    row = await h.fetchone("SELECT COUNT(*) FROM audit WHERE action = 'refused'")
    assert row is not None and row[0] == refused == 58  # 6 actors x 5 states x 2 actions, 2 cells decide
    await h.assert_reviewer_stats_consistent()


async def test_a_reviewer_removed_from_the_roster_is_refused_at_click_time(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    roster = h.tmp / "roster.yml"
    roster.write_text(roster.read_text().replace("  - {user: U0SENIOR1, level: senior, team: payments}\n", ""))
    os.utime(roster, ns=(1, 4 * 10**18))
    await h.driver.click("U0SENIOR1", ids.APPROVE, ref[3:])
    await h.settle()
    assert (await h.get(ref)).status is Status.PENDING
    assert "no longer on the roster as a senior" in h.slack.ephemeral_texts()[0]
    assert await refusal_codes(h, ref) == ["not_eligible"]


async def test_a_revoked_api_token_is_refused_after_restart(tmp_path: Path) -> None:
    old = "old-pipeline-token-0123456789abcdef"
    async with running(tmp_path, API_TOKENS=f"ci:{CI_TOKEN},old:{old}") as h:
        status, _ = await h.api(
            "POST",
            "/api/v1/requests",
            {
                "requester": "U0JUNIOR1",
                "title": "t",
                "url": "https://e.example/1",
                "ai_assisted": True,
                "destructive": False,
            },
            token=old,
        )
        assert status == 201
    async with running(tmp_path, API_TOKENS=f"ci:{CI_TOKEN}") as h:
        status, body = await h.api("GET", "/api/v1/requests/CR-1", token=old)
        assert status == 401 and "wrong or revoked" in body["message"]
        status, _ = await h.api("GET", "/api/v1/requests/CR-1")
        assert status == 200
