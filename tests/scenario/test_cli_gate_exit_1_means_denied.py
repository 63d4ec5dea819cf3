"""For a pipeline, exit 1 means "denied" and nothing else: a malformed server URL, a server that
answers with something other than signoff's JSON (an SSO page), and bad flags all exit 3 with
one line and no traceback; field errors are printed once."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from aiohttp import web

from tests.cli import run
from tests.harness import CI_TOKEN, Harness

REQUEST = ["request", "--title", "T", "--url", "https://x.example/1", "--requester", "U0JUNIOR1", "--ai-assisted"]


def one_line_exit_3(result: object) -> str:
    code, err = result.code, result.err  # type: ignore[attr-defined]
    assert code == 3, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("usage:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("server", ["http://exa mple.com", "http://[::1", "http://host:abc", "ftp://host", "http://"])
async def test_a_malformed_server_url_exits_3(h: Harness, server: str) -> None:
    line = one_line_exit_3(await run(h, *REQUEST, "--server", server))
    assert "not a usable URL" in line


async def test_a_server_answering_html_exits_3(h: Harness) -> None:
    async def sso(_: web.Request) -> web.Response:
        return web.Response(text="<html><body>Sign in with SSO</body></html>", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", sso)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        for args in (REQUEST, ["status", "CR-1"]):
            line = one_line_exit_3(await run(h, *args, "--server", f"http://127.0.0.1:{port}"))
            assert "did not answer like signoff" in line
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("value", ["-1", "x", "²", "100"])
async def test_bad_retries_exit_3(h: Harness, value: str) -> None:
    result = await run(h, *REQUEST, "--retries", value)
    assert result.code == 3 and "--retries" in result.err and "Traceback" not in result.err


async def test_field_errors_are_printed_once(h: Harness) -> None:
    result = await run(h, "request", "--title", "T", "--url", "not-a-url", "--requester", "U0JUNIOR1", "--ai-assisted")
    line = one_line_exit_3(result)
    assert line.count("url") == 1, line


async def test_the_gate_runs_with_the_standard_library_alone(h: Harness) -> None:
    """A CI runner may install with --no-deps: `python -S` hides every installed package."""
    root = Path(__file__).parents[2]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-S",
        "-m",
        "bot",
        *REQUEST,
        "--server",
        h.url,
        "--token",
        CI_TOKEN,
        cwd=root,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 2, err.decode()  # pending, not approved: the gate worked
    assert out.decode().startswith("CR-1: waiting for 2 more of 2 senior approvals")
