"""Runs `python -m bot serve` as a real process, for crash and restart tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bot.sandbox.slack_standin import SlackStandIn
from tests.harness import ROSTER, settings_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _PortTaken(Exception):
    """The port picked for a bot was taken before it could listen."""


class BotProcess:
    def __init__(self, tmp: Path, slack: SlackStandIn, **overrides: Any) -> None:
        self.tmp = tmp
        self.port = free_port()
        roster = tmp / "roster.yml"
        if not roster.exists():
            roster.write_text(ROSTER)
        env = settings_env(tmp, slack, PORT=self.port, **overrides)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        self.env.update({k: str(v) for k, v in env.items() if v is not None})
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tmp / "bot.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 30.0) -> None:
        for _attempt in range(5):
            try:
                return await self._start(timeout)
            except _PortTaken:  # another test's socket took the port picked for it: pick another
                self.port = free_port()
                self.env["PORT"] = str(self.port)
        raise RuntimeError("no free port for the bot in 5 tries")

    async def _start(self, timeout: float) -> None:
        logged = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: ASYNC220 - a short, non-blocking spawn
                [sys.executable, "-m", "bot", "serve"], cwd=self.tmp, env=self.env, stdout=out, stderr=out
            )
        async with aiohttp.ClientSession() as session:
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                if self.proc.poll() is not None:
                    said = self.log.read_bytes()[logged:].decode(errors="replace")
                    if self.proc.returncode == 3 and "the port is already in use" in said:
                        raise _PortTaken(said)
                    raise RuntimeError(f"bot exited early: {self.log.read_text()}")
                try:
                    async with session.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(self.log.read_text())
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=15)
        return int(self.proc.returncode)
