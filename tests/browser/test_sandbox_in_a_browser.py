"""The sandbox as a person uses it, in a real browser: the junior asks (a field error first),
the senior denies with a reason from the DM, the junior sees the outcome, and the time control
takes the policy to its end, announced in the channel. Screenshots of each step are kept in
test-artifacts/sandbox/."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.process import free_port

ROOT = Path(__file__).parents[2]


class PortTaken(Exception):
    """The port picked for the sandbox was taken before it could listen (another test's socket)."""


async def wait_until_up(url: str, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if proc.returncode is not None:
                said = (await proc.stdout.read()).decode() if proc.stdout is not None else ""
                if proc.returncode == 3 and "already in use" in said:
                    raise PortTaken(said)
                raise AssertionError(f"the sandbox exited with {proc.returncode}: {said}")
            try:
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the sandbox never answered")


async def start_sandbox(cwd: Path, port: int, *extra: str) -> tuple[asyncio.subprocess.Process, int]:
    """The sandbox on ``port``, or (taken meanwhile by another test's socket) on another free one."""
    for _attempt in range(5):
        try:
            return await _start_sandbox_on(cwd, port, *extra), port
        except PortTaken:
            port = free_port()
    raise AssertionError("no free port for the sandbox in 5 tries")


async def _start_sandbox_on(cwd: Path, port: int, *extra: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "ROSTER_", "SUMMARY_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        "--port",
        str(port),
        *extra,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    await wait_until_up(f"http://127.0.0.1:{port}/", proc)
    return proc


async def stop(proc: asyncio.subprocess.Process) -> bytes:
    if proc.returncode is None:
        proc.terminate()
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return out


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[str]:
    proc, port = await start_sandbox(ROOT, free_port(), "--dir", str(tmp_path / "sandbox"))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        out = await stop(proc)
        assert proc.returncode == 0, out.decode()
        assert b"Traceback" not in out, out.decode()


async def be(page: Any, user: str) -> None:
    await page.select_option("#who", user)
    await page.wait_for_function(f"document.getElementById('who').value === '{user}'")


async def open_page(browser: Any, sandbox: str, user: str, width: int = 1280) -> tuple[Any, list[str]]:
    """The sandbox page as ``user``, and the script errors it raises from then on."""
    page = await browser.new_page(viewport={"width": width, "height": 860 if width > 800 else 700})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(sandbox + "/")
    await be(page, user)
    return page, errors


async def test_ask_deny_and_the_end_in_a_browser(browser: Any, sandbox: str, screenshots: Path) -> None:
    page, errors = await open_page(browser, sandbox, "U0JUNE")

    # The junior opens the form and forgets the link and the AI answer.
    await page.fill("#command", "/signoff")
    await page.click("#composer button[type=submit]")
    await page.wait_for_selector("#modal-backdrop:not([hidden])")
    await page.fill("#f-title", "Recreate the staging database")
    await page.click("#modal-submit")
    await page.wait_for_selector(".input-block.has-error .error")
    assert "required" in (await page.inner_text("[data-block=url] .error")).lower()
    assert await page.input_value("#f-title") == "Recreate the staging database"  # kept while fixing
    await page.screenshot(path=str(screenshots / "01-field-errors.png"))

    await page.fill("#f-url", "https://github.com/acme/infra/pull/7")
    await page.check("[data-block=ai_assisted] input[value=yes]")
    await page.check("[data-block=destructive] input[value=yes]")  # it recreates: two seniors are asked
    await page.click("#modal-submit")
    await page.wait_for_selector("#modal-form >> text=CR-1")
    await page.screenshot(path=str(screenshots / "02-submitted.png"))
    await page.click("#modal-close")
    await page.wait_for_selector("#modal-backdrop", state="hidden")

    # The senior in the same team has the DM, and denies with a reason.
    await be(page, "U0SARA")
    await page.wait_for_selector(".message >> text=CR-1: Recreate the staging database")
    await page.screenshot(path=str(screenshots / "03-reviewer-dm.png"))
    await page.click(".message >> button:has-text('Deny')")
    await page.wait_for_selector("#modal-backdrop:not([hidden])")
    await page.fill("#modal-form textarea, #modal-form input[type=text]", "Take a snapshot first, then recreate.")
    await page.click("#modal-submit")
    await page.wait_for_selector("#modal-backdrop", state="hidden")
    await page.wait_for_selector(".message >> text=Denied by @Sara")
    assert await page.locator(".message >> button:has-text('Deny')").count() == 0  # the buttons are gone
    await page.screenshot(path=str(screenshots / "04-denied.png"))

    # The junior hears the outcome and the reason.
    await be(page, "U0JUNE")
    await page.wait_for_selector(".message >> text=was denied")
    assert "Take a snapshot first" in await page.inner_text("#messages")
    await page.screenshot(path=str(screenshots / "05-requester-told.png"))

    # Time moves to the policy's end; the channel announces it.
    await page.click("#to-end")
    await page.click("#conv-channel")
    await page.wait_for_selector(".message >> text=has ended")
    await page.screenshot(path=str(screenshots / "06-policy-ended.png"))
    assert errors == []


async def test_break_glass_and_its_review_in_a_browser(browser: Any, sandbox: str, screenshots: Path) -> None:
    page, errors = await open_page(browser, sandbox, "U0JUNE")
    await page.fill("#command", "/signoff breakglass")
    await page.click("#composer button[type=submit]")
    await page.wait_for_selector("#modal-backdrop:not([hidden])")
    await page.fill("#f-break_glass", "Checkout is down; this reverts the bad migration")
    await page.fill("#f-title", "Revert the orders migration")
    await page.fill("#f-url", "https://github.com/acme/shop/pull/99")
    await page.check("[data-block=ai_assisted] input[value=yes]")
    await page.check("[data-block=destructive] input[value=no]")
    await page.click("#modal-submit")
    await page.wait_for_selector("#modal-form >> text=approved by break-glass")
    await page.click("#modal-close")
    await page.wait_for_selector("#modal-backdrop", state="hidden")
    await page.click("#conv-channel")
    await page.wait_for_selector(".message >> text=Break-glass")
    await page.screenshot(path=str(screenshots / "07-break-glass-announced.png"))

    await be(page, "U0SARA")  # the senior in June's team reviews it after the fact
    await page.click("#conv-dm")
    await page.wait_for_selector(".message >> button:has-text('Not justified')")
    await page.click(".message >> button:has-text('Not justified')")
    await page.wait_for_selector("#modal-backdrop:not([hidden])")
    await page.fill("#modal-form textarea, #modal-form input[type=text]", "A rollback would have done it")
    await page.click("#modal-submit")
    await page.wait_for_selector("#modal-backdrop", state="hidden")
    await page.wait_for_selector(".message >> text=not justified")
    await page.screenshot(path=str(screenshots / "08-reviewed-after-the-fact.png"))
    assert errors == []


async def test_github_holds_a_deploy_until_seniors_approve_in_a_browser(
    browser: Any, sandbox: str, screenshots: Path
) -> None:
    """signoff as GitHub's protection rule: the junior's deploy is held, two seniors approve in
    their DMs, and GitHub releases the job; the run says who approved."""
    page, errors = await open_page(browser, sandbox, "U0JUNE")
    await page.click("#deploy")
    await page.wait_for_selector(".deployments >> text=Held by signoff")
    await page.wait_for_selector(".deployments >> text=0 of 2 senior approvals so far")
    await page.screenshot(path=str(screenshots / "09-deploy-held.png"))
    for senior in ("U0SARA", "U0SEAN"):
        await be(page, senior)
        await page.click("#conv-dm")
        await page.wait_for_selector(".message >> text=Deploy acme/shop to production")
        await page.click(".message:has-text('Deploy acme/shop to production') >> button:has-text('Approve')")
        await page.wait_for_selector(".message >> text=You approved it", timeout=10_000) if senior == "U0SARA" else None
    await page.wait_for_selector(".deployments >> text=Released: deploying")
    said = await page.inner_text(".deployments li")
    assert "approved by" in said and "Sara" in said and "Sean" in said and "U0" not in said
    await page.screenshot(path=str(screenshots / "10-deploy-released.png"))
    assert errors == []


async def test_a_new_user_starts_the_sandbox_from_a_fresh_clone(tmp_path: Path) -> None:
    """No .env, no settings: `python -m bot sandbox` in a fresh clone answers with the page."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)  # noqa: ASYNC221
    assert not (clone / ".env").exists()
    proc, port = await start_sandbox(clone, free_port())
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/") as resp:
                assert resp.status == 200 and "signoff sandbox" in await resp.text()
            async with session.post(
                f"http://127.0.0.1:{port}/sandbox/command", json={"user": "U0JUNE", "text": "/signoff help"}
            ) as resp:
                answer = (await resp.json())["answer"]
                assert "/signoff status" in answer["text"]
    finally:
        out = await stop(proc)
    assert b"signoff sandbox: open http://localhost:" in out
    assert (clone / "signoff-sandbox" / "signoff.db").exists()


async def ask_by_form(page: Any, title: str, url: str, destructive: bool) -> None:
    """The first request of a sandbox, AI-assisted, through the form (it becomes CR-1)."""
    await send(page, "/signoff")
    await page.wait_for_selector("#modal-backdrop:not([hidden])")
    await page.fill("#f-title", title)
    await page.fill("#f-url", url)
    await page.check("[data-block=ai_assisted] input[value=yes]")
    await page.check(f"[data-block=destructive] input[value={'yes' if destructive else 'no'}]")
    await page.click("#modal-submit")
    await page.wait_for_selector("#modal-form >> text=CR-1")
    await page.click("#modal-close")


async def send(page: Any, text: str) -> None:
    await page.fill("#command", text)
    await page.click("#composer button[type=submit]")


async def test_answers_stay_where_they_were_asked_until_dismissed(
    browser: Any, sandbox: str, screenshots: Path
) -> None:
    page, errors = await open_page(browser, sandbox, "U0JUNE")
    await send(page, "/signoff help")
    answer = page.locator(".message.ephemeral", has_text="/signoff status")
    await answer.wait_for()
    await page.evaluate("document.querySelector('.message.ephemeral').dataset.probe = 'same node'")
    # Select the answer's text, as a person copying a command would.
    await page.evaluate(
        "(() => { const r = document.createRange(); r.selectNodeContents(document.querySelector('.message.ephemeral'));"
        " getSelection().removeAllRanges(); getSelection().addRange(r); })()"
    )
    await asyncio.sleep(3)  # three refreshes later
    assert await answer.count() == 1
    assert await page.evaluate("document.querySelector('.message.ephemeral').dataset.probe") == "same node"
    assert "/signoff status" in await page.evaluate("getSelection().toString()")
    await page.screenshot(path=str(screenshots / "01-answer-stays.png"))

    await page.click("#conv-channel")  # asked in the DM: not shown in the channel
    await page.wait_for_selector("#pane-title >> text=signoff-summary")
    assert await page.locator(".message.ephemeral").count() == 0
    await page.click("#conv-dm")
    await answer.wait_for()

    await be(page, "U0SARA")  # only the person who asked sees it
    await page.wait_for_selector("#messages .empty, #messages .message")
    assert await page.locator(".message.ephemeral").count() == 0
    await be(page, "U0JUNE")
    await answer.wait_for()
    await answer.locator("button.dismiss").click()
    await answer.wait_for(state="detached")
    await page.reload()
    await be(page, "U0JUNE")
    await page.wait_for_selector("#messages .empty, #messages .message")
    await asyncio.sleep(1.5)
    assert await answer.count() == 0  # dismissed stays dismissed
    assert errors == []


async def test_a_form_belongs_to_the_tab_that_opened_it(browser: Any, sandbox: str, screenshots: Path) -> None:
    first, errors = await open_page(browser, sandbox, "U0JUNE")
    second, more_errors = await open_page(browser, sandbox, "U0JUNE")
    await send(first, "/signoff")
    await first.wait_for_selector("#modal-backdrop:not([hidden])")
    await asyncio.sleep(2.5)  # the other tab refreshed twice meanwhile
    assert await second.is_hidden("#modal-backdrop")
    await second.screenshot(path=str(screenshots / "01-other-tab-no-form.png"))
    await first.reload()  # a reload is a new client: the form does not come back
    await be(first, "U0JUNE")
    await first.wait_for_selector("#messages .empty, #messages .message")
    await asyncio.sleep(1.5)
    assert await first.is_hidden("#modal-backdrop")
    assert errors == [] and more_errors == []


async def test_the_page_works_at_800_pixels_and_shows_emoji_and_the_report_chart(
    browser: Any, sandbox: str, screenshots: Path
) -> None:
    page, errors = await open_page(browser, sandbox, "U0JUNE", width=800)
    send_box = await page.locator("#composer button[type=submit]").bounding_box()
    field = await page.locator("#command").bounding_box()
    assert send_box is not None and field is not None
    assert send_box["x"] + send_box["width"] <= 800 and field["width"] >= 200  # nothing cut off

    # A destructive request by the form: the reviewer's DM shows its emoji, not ":boom:".
    await ask_by_form(page, "Drop the old sessions table", "https://github.com/acme/infra/pull/8", destructive=True)
    await be(page, "U0SARA")
    await page.wait_for_selector(".message >> text=Drop the old sessions table")
    shown = await page.inner_text("#messages")
    assert "\U0001f4a5" in shown and not re.search(r":[a-z_]+:", shown), shown
    await page.screenshot(path=str(screenshots / "01-reviewer-dm-800px.png"))

    # A day into the policy, the report says there is no trend yet; a week later it carries the
    # chart, served from the stand-in's uploaded file, and the conversation shows its end.
    await be(page, "U0STEL")
    await send(page, "/signoff report")
    await page.wait_for_selector(".message.ephemeral >> text=Not enough weeks for a trend yet")
    await page.click("[data-advance='7d']")
    await send(page, "/signoff report")
    chart = page.locator(".message.ephemeral img.picture")
    await chart.wait_for(timeout=30_000)
    await page.wait_for_function("document.querySelector('img.picture').naturalWidth > 100")
    await send(page, "/signoff help")  # the newest message, under the chart
    await page.wait_for_selector(".message.ephemeral >> text=shows the report for the policy period")

    # Opened afresh (nothing cached), the conversation lands on the newest message, though the
    # picture above it loads after the page has scrolled.
    fresh = await (await browser.new_context(viewport={"width": 800, "height": 700})).new_page()
    fresh.on("pageerror", lambda exc: errors.append(str(exc)))
    await fresh.goto(sandbox + "/")
    await be(fresh, "U0STEL")
    await fresh.wait_for_selector(".message.ephemeral img.picture")
    await fresh.wait_for_function("[...document.images].every((i) => i.complete && i.naturalWidth > 100)")
    await fresh.wait_for_function(AT_THE_NEWEST, timeout=5_000)
    await fresh.screenshot(path=str(screenshots / "02-report-chart-800px.png"))
    assert errors == []


AT_THE_NEWEST = (
    "(() => { const b = document.getElementById('messages');"
    " return b.scrollHeight - b.scrollTop - b.clientHeight < 5; })()"
)
FITS = "(() => { const p = document.getElementById('pipeline'); return p.scrollWidth <= p.clientWidth + 1; })()"


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
    )  # fmt: skip


async def test_the_page_says_what_happened_without_getting_in_the_way(
    browser: Any, sandbox: str, screenshots: Path
) -> None:
    page, errors = await open_page(browser, sandbox, "U0JUNE", width=800)

    # An empty conversation says how to start.
    assert "Type /signoff below" in await page.inner_text("#messages .empty")

    # Moving the clock is told without covering the composer: the command goes out at once.
    await page.click("[data-advance='1d']")
    toast = page.locator("#toast")
    await toast.wait_for(state="visible")
    told = await toast.bounding_box()
    assert told is not None
    for control in ("#composer button[type=submit]", "#command", "#conv-dm", "[data-advance='1h']", "#copy-pipeline"):
        box = await page.locator(control).bounding_box()
        assert box is not None and not overlaps(told, box), control
    await page.fill("#command", "/signoff help")
    await page.click("#composer button[type=submit]", timeout=2_000)
    await page.wait_for_selector(".message.ephemeral")
    await page.screenshot(path=str(screenshots / "07-told-without-covering.png"))

    # Each message says when it came, on the bot's clock (a day ahead of this machine's now).
    clock = await page.inner_text("#clock")  # "Bot clock: 2026-12-09 14:05 UTC"
    day = int(clock.split()[2].split("-")[2])
    shown = await page.inner_text(".message.ephemeral .time")
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d\d:\d\d", shown), shown
    assert int(shown.split()[0]) == day, (shown, clock)

    # Copy says it copied (or selected the text to copy); the command is never cut at the edge.
    await page.click("#copy-pipeline")
    await page.wait_for_function("document.getElementById('copy-pipeline').textContent !== 'Copy'")
    assert await page.evaluate(
        "(() => { const p = document.getElementById('pipeline'); return p.scrollWidth <= p.clientWidth + 1; })()"
    )
    await page.screenshot(path=str(screenshots / "08-copied-800px.png"))

    # A senior who approves from App Home sees what they did there, not an item that vanished.
    await ask_by_form(page, "Add an index to orders", "https://github.com/acme/shop/pull/9", destructive=False)
    await be(page, "U0SARA")
    await page.click("#conv-home")
    await page.click("#messages >> button:has-text('Approve')")
    await page.wait_for_selector("#messages >> text=You approved")
    assert "Add an index to orders" in await page.inner_text("#messages")
    await page.screenshot(path=str(screenshots / "09-approved-from-app-home.png"))
    assert errors == []


async def test_each_run_starts_fresh_unless_kept(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    body = {"requester": "june@demo.example", "title": "t", "url": "https://x.example/1", "ai_assisted": True}

    async def run_once(*extra: str) -> tuple[int, bytes]:
        proc, port = await start_sandbox(ROOT, free_port(), "--dir", str(folder), *extra)
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/sandbox/state?user=U0JUNE") as resp:
                    token = (await resp.json())["pipeline"].rpartition("--token ")[2].strip()
                headers = {"Authorization": f"Bearer {token}"}
                async with session.post(f"http://127.0.0.1:{port}/api/v1/requests", json=body, headers=headers) as r:
                    assert r.status == 201, await r.text()
                    number = int((await r.json())["id"].removeprefix("CR-"))
        finally:
            out = await stop(proc)
        return number, out

    first, out = await run_once()
    assert first == 1 and f"state: {folder / 'signoff.db'} (fresh".encode() in out
    again, _ = await run_once()
    assert again == 1  # a fresh start forgot the first run's request
    kept, out = await run_once("--keep")
    assert kept == 2 and b"kept from the last run" in out
