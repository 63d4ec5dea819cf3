"""The command line tells a person what to do: `signoff` alone lists the commands, `serve --help`
names the settings it needs, `request --help` says what leaving out --destructive means, and
the sandbox on a busy port names its own option, --port."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path


def signoff(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd or Path.cwd())}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=60, env=env, cwd=cwd
    )


def test_signoff_alone_lists_the_commands() -> None:
    result = signoff()
    assert result.returncode == 3
    for command in ("serve", "request", "guard", "status", "verify", "hook", "sandbox"):
        assert command in result.stderr
    assert "the following arguments are required" not in result.stderr


def test_serve_help_names_the_settings() -> None:
    result = signoff("serve", "--help")
    assert result.returncode == 0
    for setting in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "ROSTER_FILE", "SUMMARY_CHANNEL", ".env"):
        assert setting in result.stdout


def test_request_help_says_what_leaving_out_destructive_means() -> None:
    result = signoff("request", "--help")
    text = " ".join(result.stdout.split())
    assert "with neither (and no --plan) it is not known, which counts as destructive" in text


def test_the_sandbox_on_a_busy_port_names_its_port_option(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = signoff("sandbox", "--port", str(port), "--dir", str(tmp_path / "sb"), cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and "--port" in result.stderr, result.stderr
    assert "PORT" not in result.stderr.replace("--port", "")
