"""The systemd unit shipped for running replicas is valid and stops the way signoff drains."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "systemd" / "signoff@.service"


def service() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser["Service"]


def test_the_unit_runs_serve_on_its_port_and_drains_on_sigterm() -> None:
    s = service()
    assert s["ExecStart"].endswith("/signoff serve")
    assert s["Environment"] == "PORT=%i"
    assert s["KillSignal"] == "SIGTERM"
    assert int(s["TimeoutStopSec"]) >= 30  # the outbox drains for at most 10 s, requests finish first
    assert s["RestartPreventExitStatus"] == "3"  # a configuration error is not retried in a loop
    assert int(s["LimitNOFILE"]) >= 16_384


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (apt install systemd)")
    text = UNIT.read_text().replace("/opt/signoff/.venv/bin/signoff", str(Path(sys.executable).with_name("signoff")))
    text = "\n".join(
        line
        for line in text.splitlines()
        if not line.startswith(("User=", "Group=", "WorkingDirectory=", "EnvironmentFile="))
    )
    (tmp_path / "signoff@.service").write_text(text)
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "signoff@3001.service")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr
