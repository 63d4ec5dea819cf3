"""`/signoff help|status|pending|cancel|away|back` answer the person privately and precisely."""

from __future__ import annotations

from bot.domain.models import Status
from bot.slack import ids
from tests.harness import Harness


async def test_help_lists_every_command(h: Harness) -> None:
    body = (await h.driver.command("U0JUNIOR1", "help")).json()
    for sub in ("status CR-42", "pending", "cancel CR-42", "away", "back"):
        assert f"/signoff {sub}" in body["text"]


async def test_status_shows_a_request_to_anyone(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1", title="Rotate keys")
    body = (await h.driver.command("U0NOBODY", f"status {ref.lower()}")).json()
    assert body["text"] == f"{ref}: Pending"
    assert body["blocks"][0]["text"]["text"] == f"{ref}: Rotate keys"
    assert "Waiting for <@U0SENIOR1>" in body["blocks"][-1]["text"]["text"]


async def test_status_of_an_unknown_id_says_so(h: Harness) -> None:
    assert (await h.driver.command("U0JUNIOR1", "status CR-999")).json()["text"] == (
        "There is no sign-off request CR-999. Check the id, e.g. CR-42."
    )
    assert "Usage: `/signoff status CR-42`" in (await h.driver.command("U0JUNIOR1", "status")).json()["text"]


async def test_the_word_payload_in_a_command_still_works(h: Harness) -> None:
    reply = await h.driver.command("U0JUNIOR1", "status payload")
    assert reply.status == 200
    assert "Usage: `/signoff status CR-42`" in reply.json()["text"]
    reply = await h.driver.command("U0JUNIOR1", "payload=1&payload")
    assert reply.status == 200 and "I don't know `payload=1&amp;payload`" in reply.json()["text"]


async def test_pending_lists_my_requests_and_my_reviews(h: Harness) -> None:
    mine = await h.ask("U0JUNIOR1", title="Mine")
    await h.ask("U0MID1", title="Also for senior1")
    body = (await h.driver.command("U0JUNIOR1", "pending")).json()
    assert body["blocks"][0]["text"]["text"].startswith("*Your open requests (1):*")
    assert f"*{mine}* Mine" in body["blocks"][0]["text"]["text"]
    assert body["blocks"][1]["text"]["text"] == "*Your reviews:* none"
    reviewer = (await h.driver.command("U0SENIOR1", "pending")).json()
    assert reviewer["blocks"][1]["text"]["text"].startswith("*Your reviews (1):*")


async def test_the_requester_can_cancel_and_the_reviewer_dm_says_so(h: Harness) -> None:
    ref = await h.ask("U0JUNIOR1")
    assert (await h.driver.command("U0SENIOR1", f"cancel {ref}")).json()["text"] == (
        f"Only <@U0JUNIOR1>, who asked for {ref}, can cancel it."
    )
    assert (await h.driver.command("U0JUNIOR1", f"cancel {ref}")).json()["text"].startswith(f"{ref} is cancelled")
    await h.settle()
    assert (await h.get(ref)).status is Status.CANCELLED
    dm = h.review_dm("U0SENIOR1", ref)
    assert "Cancelled by <@U0JUNIOR1>" in dm.blocks[-1]["elements"][0]["text"]
    assert not [b for b in dm.blocks if b["type"] == "actions"]
    assert (await h.driver.command("U0JUNIOR1", f"cancel {ref}")).json()[
        "text"
    ] == f"{ref} is already cancelled by <@U0JUNIOR1>."
    await h.driver.click("U0SENIOR1", ids.APPROVE, ref[3:])
    await h.settle()
    assert h.slack.ephemeral_texts() == [f"{ref} is already cancelled by <@U0JUNIOR1>."]


async def test_away_reviewers_get_no_new_requests_until_back(h: Harness) -> None:
    assert "marked away" in (await h.driver.command("U0SENIOR1", "away")).json()["text"]
    assert "already marked away" in (await h.driver.command("U0SENIOR1", "away")).json()["text"]
    first = await h.ask("U0JUNIOR1")
    assert (await h.get(first)).reviewer != "U0SENIOR1"
    assert "Welcome back" in (await h.driver.command("U0SENIOR1", "back")).json()["text"]
    second = await h.ask("U0JUNIOR1")
    assert (await h.get(second)).reviewer == "U0SENIOR1"


async def test_only_reviewers_can_mark_themselves_away(h: Harness) -> None:
    assert "Only reviewers" in (await h.driver.command("U0JUNIOR1", "away")).json()["text"]


async def test_an_unknown_subcommand_shows_help(h: Harness) -> None:
    text = (await h.driver.command("U0JUNIOR1", "aprove CR-1")).json()["text"]
    assert text.startswith("I don't know `aprove`.")
    assert "/signoff status CR-42" in text
