"""A failed start is an exit, not a hang: code 3 and one line naming the cause and the fix,
never a traceback. SIGINT and SIGTERM stop the process promptly at any moment, including
during start and during Socket Mode reconnects. /readyz answers 503 until the bot can serve."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sandbox.slack_standin import SlackStandIn
from tests.harness import ROSTER, settings_env
from tests.process import free_port

HANG = 60  # seconds: only to turn a hang into a failure, never a speed target


def env_for(tmp: Path, slack: SlackStandIn | None, **overrides: Any) -> dict[str, str]:
    (tmp / "roster.yml").write_text(ROSTER)
    overrides.setdefault("PORT", free_port())
    base = settings_env(tmp, slack, **overrides) if slack else {}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "POLICY_"))}
    env.update({k: str(v) for k, v in base.items() if v is not None})
    return env


def serve(tmp: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve"], cwd=tmp, env=env, capture_output=True, text=True, timeout=HANG
    )


def assert_one_line_exit_3(done: subprocess.CompletedProcess[str], *words: str) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in lines if line.startswith("signoff:")]
    assert len(errors) == 1, done.stderr
    for word in words:
        assert word.lower() in errors[0].lower(), errors[0]
    return errors[0]


@contextlib.contextmanager
def tmpfs(target: Path, options: str) -> Iterator[Path]:
    """A real filesystem of our own (read-only, or tiny), mounted for one test."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root and mount(8) for a filesystem of its own")
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=False)


@pytest.fixture
def ro_dir(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "ro", "ro,size=1m") as target:
        yield target


def not_sqlite(tmp: Path) -> str:
    (tmp / "junk.db").write_bytes(os.urandom(8192))
    return f"sqlite:///{tmp / 'junk.db'}"


def other_app(tmp: Path) -> str:
    conn = sqlite3.connect(tmp / "other.db")
    conn.execute("CREATE TABLE requests (id TEXT PRIMARY KEY, body BLOB)")
    conn.execute("INSERT INTO requests VALUES ('x', 'y')")
    conn.commit()
    conn.close()
    return f"sqlite:///{tmp / 'other.db'}"


def a_directory(tmp: Path) -> str:
    (tmp / "dir.db").mkdir()
    return f"sqlite:///{tmp / 'dir.db'}"


@pytest.mark.parametrize(
    ("make_url", "words"),
    [
        (not_sqlite, ["DATABASE_URL", "not a SQLite database"]),
        (other_app, ["DATABASE_URL", "another application"]),
        (a_directory, ["DATABASE_URL", "directory"]),
    ],
)
async def test_a_database_it_cannot_use_stops_the_start(
    tmp_path: Path, slack: SlackStandIn, make_url: Any, words: list[str]
) -> None:
    env = env_for(tmp_path, slack, DATABASE_URL=make_url(tmp_path))
    done = await asyncio.to_thread(serve, tmp_path, env)
    assert_one_line_exit_3(done, *words)


async def test_a_database_on_a_read_only_filesystem_stops_the_start(
    tmp_path: Path, slack: SlackStandIn, ro_dir: Path
) -> None:
    env = env_for(tmp_path, slack, DATABASE_URL=f"sqlite:///{ro_dir / 'signoff.db'}")
    done = await asyncio.to_thread(serve, tmp_path, env)
    assert_one_line_exit_3(done, "DATABASE_URL", "read-only")


@pytest.mark.parametrize("start", ["9999-12-01", "0001-01-01"])
async def test_a_policy_start_out_of_range_stops_the_start(tmp_path: Path, slack: SlackStandIn, start: str) -> None:
    env = env_for(tmp_path, slack, POLICY_START=start)
    done = await asyncio.to_thread(serve, tmp_path, env)
    assert_one_line_exit_3(done, "POLICY_START")


async def test_a_busy_port_stops_the_start(tmp_path: Path, slack: SlackStandIn) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        env = env_for(tmp_path, slack, PORT=held.getsockname()[1])
        done = await asyncio.to_thread(serve, tmp_path, env)
    assert_one_line_exit_3(done, "PORT", "in use")


async def test_a_token_slack_refuses_stops_the_start(tmp_path: Path, slack: SlackStandIn) -> None:
    env = env_for(tmp_path, slack, SLACK_BOT_TOKEN="xoxb-revoked-token-000")
    done = await asyncio.to_thread(serve, tmp_path, env)
    assert_one_line_exit_3(done, "SLACK_BOT_TOKEN", "invalid_auth")


async def test_an_app_token_slack_refuses_stops_the_start(tmp_path: Path, slack: SlackStandIn) -> None:
    env = env_for(tmp_path, slack, SLACK_APP_TOKEN="xapp-1-revoked-000")
    done = await asyncio.to_thread(serve, tmp_path, env)
    assert_one_line_exit_3(done, "SLACK_APP_TOKEN", "invalid_auth")


async def test_placeholders_and_missing_settings_are_all_named_in_one_run(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ROSTER_", "SUMMARY_"))}
    shutil.copy(Path(__file__).parents[2] / ".env.example", tmp_path / ".env")
    done = await asyncio.to_thread(serve, tmp_path, env)
    line = assert_one_line_exit_3(done, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SUMMARY_CHANNEL")
    assert "not set" in line
    assert "xoxb-your-bot-token" not in line  # a value is never echoed


async def _wait_listening(port: int, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(HANG * 20):
            assert proc.returncode is None
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz"):
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    raise AssertionError("never listened")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_socket_mode_while_it_cannot_connect(
    tmp_path: Path, slack: SlackStandIn, sig: signal.Signals
) -> None:
    """Slack's WebSocket never answers: the bot keeps trying, is not ready, and still stops on a signal."""
    from bot.sandbox.slack_standin import Failure

    slack.fail_always("apps.connections.open", Failure(status=503))
    port = free_port()
    env = env_for(tmp_path, slack, SLACK_APP_TOKEN=slack.app_token, PORT=port)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        await _wait_listening(port, proc)
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/readyz") as resp:
            assert resp.status == 503
            assert (await resp.json())["socket_mode"] != "connected"
        proc.send_signal(sig)
        code = await asyncio.wait_for(proc.wait(), HANG)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 0


async def test_a_signal_during_start_stops_the_process(tmp_path: Path, slack: SlackStandIn) -> None:
    """auth.test hangs (Slack slow at start): SIGTERM still ends the process."""
    slack.delay_seconds = 3600
    env = env_for(tmp_path, slack)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        await slack.wait_for(lambda: "auth.test" in slack.arrived, HANG)  # well into start: auth.test waits
        assert proc.returncode is None
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), HANG)
    finally:
        slack.delay_seconds = 0
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode in (0, 3)


async def test_readyz_says_ready_only_when_it_can_serve(tmp_path: Path, slack: SlackStandIn) -> None:
    from tests.process import BotProcess

    bot = BotProcess(tmp_path, slack)
    await bot.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{bot.url}/readyz") as resp:
                assert resp.status == 200
                assert (await resp.json())["database"] == "ok"
            async with session.get(f"{bot.url}/healthz") as resp:
                assert resp.status == 200
    finally:
        assert bot.stop() == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "small", "size=4m") as target:
        yield target


async def test_a_full_disk_refuses_clearly_loses_nothing_and_recovers(small_disk: Path, tmp_path: Path) -> None:
    """A real full disk: the person gets "try again" on the form, /readyz says why, and the same
    submission works once there is space again. Nothing is acknowledged that was not stored."""
    from bot.slack import ids
    from tests.fakes.driver import form_values
    from tests.harness import running

    async with running(tmp_path, DATABASE_URL=f"sqlite:///{small_disk / 'signoff.db'}") as h:
        await h.ask()  # works while there is space
        filler = small_disk / "filler"
        with filler.open("wb") as f, contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        payload = h.driver.view_payload("U0JUNIOR1", ids.REQUEST_FORM, form_values(title="On a full disk"))
        reply = await h.driver.payload(payload)
        body = reply.json()
        assert reply.status == 200 and body["response_action"] == "errors", reply.text
        assert "disk is full" in body["errors"]["title"] and "try again" in body["errors"]["title"]
        async with h.session.get(f"{h.url}/readyz") as resp:
            assert resp.status == 503 and "full" in (await resp.json())["database"]
        filler.unlink()
        again = await h.driver.payload(payload)
        assert again.json()["response_action"] == "update", again.text
        async with h.session.get(f"{h.url}/readyz") as resp:
            assert resp.status == 200
        row = await h.fetchone("SELECT COUNT(*) FROM requests WHERE title = 'On a full disk'")
        assert row is not None and row[0] == 1
