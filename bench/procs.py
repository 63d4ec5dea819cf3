"""Starting and stopping the processes a benchmark needs: the stand-in, the bot, the floor."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "bench-signing-secret-1f3a5c7e"
BOT_TOKEN = "xoxb-test-0000000000-bot-token-value"
API_TOKEN = "bench-api-token-0123456789abcdef"
SUMMARY = "C0SIGNOFF"
JUNIORS = [f"U0JUN{i:03d}" for i in range(40)]
SENIORS = [f"U0SEN{i:03d}" for i in range(12)]
USERS = JUNIORS + SENIORS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def roster_yaml() -> str:
    lines = ["admins: [U0ADMIN1]", "engineers:"]
    teams = ["payments", "platform", "search", "web"]
    lines += [f"  - {{user: {u}, level: junior, team: {teams[i % 4]}}}" for i, u in enumerate(JUNIORS)]
    lines += [f"  - {{user: {u}, level: senior, team: {teams[i % 4]}}}" for i, u in enumerate(SENIORS)]
    return "\n".join(lines) + "\n"


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError as exc:
            if getattr(exc, "code", None):  # any HTTP answer means it is up
                return
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not come up: {log.read_text()[-2000:]}")


@dataclass
class Proc:
    name: str
    args: list[str]
    env: dict[str, str]
    cwd: Path
    port: int
    health: str
    proc: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.cwd / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Proc:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, cwd=self.cwd, env=self.env, stdout=out, stderr=out)
        wait_http(self.url + self.health, self.proc, self.log)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SIGNOFF_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def standin(work: Path, delay: float = 0.0) -> Proc:
    port = free_port()
    args = [
        sys.executable,
        str(ROOT / "bench" / "standin.py"),
        "--port",
        str(port),
        "--delay",
        str(delay),
        "--users",
        ",".join([*USERS, "U0ADMIN1"]),
        "--channels",
        SUMMARY,
    ]
    return Proc("standin", args, _env(), work, port, "/api/auth.test").start()


def bot(work: Path, api_url: str, db: str, **settings: str) -> Proc:
    """A bot process on ``db`` (a DATABASE_URL)."""
    port = free_port()
    roster = work / "roster.yml"
    if not roster.exists():
        roster.write_text(roster_yaml())
    env = _env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api_url,
        HOST="127.0.0.1",
        PORT=str(port),
        DATABASE_URL=db,
        ROSTER_FILE=str(roster),
        SUMMARY_CHANNEL=SUMMARY,
        API_TOKENS=f"bench:{API_TOKEN}",
        LOG_LEVEL="WARNING",
        **settings,
    )
    return Proc("bot", [sys.executable, "-m", "bot", "serve"], env, work, port, "/healthz")


def floor(work: Path, api_url: str) -> Proc:
    port = free_port()
    env = _env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET)
    args = [sys.executable, str(ROOT / "bench" / "floor_app.py"), "--port", str(port), "--api-url", api_url]
    return Proc("floor", args, env, work, port, "/slack/events")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
