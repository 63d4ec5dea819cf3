"""Each plan format from `signoff request --plan` through to the reviewer's DM, and an approval
bound to the plan: `signoff verify` exits 0 for the approved file, 1 for a changed one
(printing both digests) and 2 before approval, and every verify is audited."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from bot.slack import ids
from tests.cli import finish, run, start
from tests.harness import Harness

PLANS = Path(__file__).parents[1] / "plans"
ASK = ("request", "--title", "Upgrade the database", "--url", "https://git.example.com/mr/7", "--ai-assisted")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("plan", "headline", "addresses"),
    [
        ("terraform_destroys.json", "Deletes 1, replaces 2", ["aws_db_instance.main", "module.edge.aws_lb.front[0]"]),
        ("pulumi_preview.json", "Deletes 1, replaces 1", ["urn:pulumi:prod::shop::aws:rds/instance:Instance::db"]),
        ("cloudformation_change_set.json", "Deletes 1, replaces 2", ["Database (AWS::RDS::DBInstance)"]),
    ],
)
async def test_each_plan_format_reaches_the_reviewer_leading_the_dm(
    h: Harness, plan: str, headline: str, addresses: list[str]
) -> None:
    path = PLANS / plan
    result = await run(h, *ASK, "--requester", "U0SENIOR1", "--plan", str(path))
    assert result.code == 2, result.err  # pending: not approved yet
    assert f"plan: {headline}" in result.err
    await h.settle()
    req = await h.get("CR-1")
    assert req.approvals_needed == 2 and req.draft.plan is not None
    assert req.draft.plan.sha256 == (sha(path),)
    dm = h.review_dm("U0SENIOR2", "CR-1")
    assert dm.text.startswith(f"CR-1 needs your sign-off. {headline}.")
    lead = dm.blocks[1]["text"]["text"]  # right after the title
    assert f"*{headline}*" in lead
    for address in addresses:
        assert f"`{address}`" in lead


async def test_a_plan_that_only_forgets_is_not_destructive(h: Harness) -> None:
    result = await run(h, *ASK, "--requester", "U0JUNIOR1", "--plan", str(PLANS / "opentofu_forget.json"))
    assert "plan: Deletes nothing, replaces nothing" in result.err
    req = await h.get("CR-1")
    assert (req.approvals_needed, req.draft.destroys) == (1, False)


async def test_a_plan_overrides_a_claim_that_nothing_is_destroyed(h: Harness) -> None:
    plan = str(PLANS / "terraform_destroys.json")
    await run(h, *ASK, "--requester", "U0JUNIOR1", "--plan", plan, "--not-destructive")
    req = await h.get("CR-1")
    assert (req.approvals_needed, req.draft.destroys) == (2, True)


async def test_saying_nothing_counts_as_destructive_for_ai(h: Harness) -> None:
    await run(h, *ASK, "--requester", "U0SENIOR1")
    assert (await h.get("CR-1")).approvals_needed == 2
    await h.settle()
    lead = h.review_dm("U0SENIOR2", "CR-1").blocks[1]["text"]["text"]
    assert lead.endswith(
        "Not said whether it deletes or replaces existing resources*, so it needs 2 seniors as if it did"
    )
    await run(h, *ASK, "--requester", "U0SENIOR1", "--not-destructive", "--idempotency-key", "second")
    assert (await h.get("CR-2")).status.value == "not_required"


@pytest.mark.parametrize("plan", ["not_a_plan.json", "terraform_truncated.json", "missing.json"])
async def test_a_plan_that_cannot_be_read_is_refused_before_asking(h: Harness, plan: str) -> None:
    result = await run(h, *ASK, "--requester", "U0JUNIOR1", "--plan", str(PLANS / plan))
    assert result.code == 3
    assert result.err.startswith("signoff: --plan ")
    assert await h.fetchone("SELECT id FROM requests") is None


async def test_verify_binds_the_approval_to_the_plan(h: Harness, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    shutil.copy(PLANS / "terraform_destroys.json", plan)
    approved = sha(plan)
    assert (await run(h, *ASK, "--requester", "U0JUNIOR1", "--plan", str(plan))).code == 2

    early = await run(h, "verify", "CR-1", "--plan", str(plan))
    assert early.code == 2 and "CR-1 is pending, not approved" in early.out

    for reviewer in ("U0SENIOR1", "U0SENIOR2"):
        await h.driver.click(reviewer, ids.APPROVE, "1")
    await h.settle()
    ok = await run(h, "verify", "CR-1", "--plan", str(plan))
    assert ok.code == 0, ok.out + ok.err
    assert approved in ok.out

    doc = json.loads(plan.read_text())
    doc["resource_changes"][0]["change"]["actions"] = ["delete"]  # the pipeline re-planned
    plan.write_text(json.dumps(doc))
    changed = await run(h, "verify", "CR-1", "--plan", str(plan))
    assert changed.code == 1
    assert f"sha256 {sha(plan)} (NOT APPROVED)" in changed.out
    assert f"approved: sha256 {approved}" in changed.out

    rows = await h.fetchall("SELECT actor, details FROM audit WHERE action = 'plan_verified' ORDER BY id")
    assert [json.loads(r[1])["result"] for r in rows] == ["not_approved", "match", "mismatch"]
    assert {r[0] for r in rows} == {"api:ci"}


async def test_verify_without_a_plan_on_the_request_is_a_mismatch(h: Harness) -> None:
    await run(h, *ASK, "--requester", "U0JUNIOR1", "--not-destructive")
    await h.driver.click("U0SENIOR1", ids.APPROVE, "1")
    await h.settle()
    result = await run(h, "verify", "CR-1", "--plan", str(PLANS / "terraform_destroys.json"))
    assert result.code == 1
    assert "CR-1 was approved without a plan, so no plan is approved: ask again with --plan" in result.out
    assert "approved: sha256" not in result.out  # no digest list that reads as if one were approved


async def test_verify_api_refuses_bad_input_with_json(h: Harness) -> None:
    await run(h, *ASK, "--requester", "U0JUNIOR1", "--not-destructive")
    cases = [
        ("CR-1", {"sha256": ["xyz"]}, 422, "sha256"),
        ("CR-1", {"sha256": []}, 422, "sha256"),
        ("CR-1", {"digest": "a" * 64, "sha256": ["a" * 64]}, 422, "digest"),
        ("CR-x", {"sha256": ["a" * 64]}, 422, "id"),
        ("CR-99", {"sha256": ["a" * 64]}, 404, None),
    ]
    for ref, body, status, field in cases:
        got, answer = await h.api("POST", f"/api/v1/requests/{ref}/verify", body)
        assert got == status, (ref, body, answer)
        assert "message" in answer
        if field:
            assert field in answer["fields"]
    got, _ = await h.api("POST", "/api/v1/requests/CR-1/verify", {"sha256": ["a" * 64]}, token="wrong" * 6)
    assert got == 401


async def test_the_api_refuses_a_malformed_plan_summary(h: Harness) -> None:
    base = {"requester": "U0JUNIOR1", "title": "x", "url": "https://e.com/1", "ai_assisted": True}
    bad = [
        {"sha256": "abc"},
        {"sha256": ["A" * 64]},
        {"sha256": ["a" * 64], "deletes": -1},
        {"sha256": ["a" * 64], "deletes": 1, "resources": [{"address": "x", "action": "explode"}]},
        {"sha256": ["a" * 64], "resources": [{"address": "x", "action": "delete"}]},  # more listed than counted
        {"sha256": ["a" * 64], "surprise": 1},
        "everything",
    ]
    for plan in bad:
        status, body = await h.api("POST", "/api/v1/requests", {**base, "plan": plan})
        assert status == 422, (plan, body)
        assert "plan" in body["fields"]
    status, body = await h.api("POST", "/api/v1/requests", {**base, "destructive": "maybe"})
    assert status == 422 and "destructive" in body["fields"]
    assert await h.fetchone("SELECT id FROM requests") is None


async def test_the_cli_waits_for_both_approvals(h: Harness) -> None:
    proc = await start(h, *ASK, "--requester", "U0JUNIOR1", "--destructive", "--wait", "--timeout", "2m")
    await h.slack.wait_for(lambda: len(h.slack.dms("U0SENIOR2")) == 1, timeout=60)
    await h.driver.click("U0SENIOR1", ids.APPROVE, "1")
    await h.settle()
    assert (await h.get("CR-1")).status.value == "pending"
    await h.driver.click("U0SENIOR2", ids.APPROVE, "1")
    result = await finish(proc)
    assert result.code == 0, result.err
    assert "waiting for 2 more of 2 senior approvals (0 so far; asked: Sara Senior, Sean Senior)" in result.err
    assert "CR-1 approved by Sara Senior and Sean Senior" in result.out
