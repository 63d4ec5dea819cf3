"""The benchmark scripts still run end to end (a few seconds of each). Their numbers are not
asserted here: speed is measured by bench/run.py, not by tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_bench_smoke_run_prints_every_table_and_writes_json() -> None:
    proc = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--soak"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    titles = ("Ack latency", "Slow Slack", "Pipeline API", "Memory against data size", "At scale", "Soak targets")
    for title in (*titles, "Overload", "Loop budget"):
        assert f"## {title}" in proc.stdout
    results = json.loads((ROOT / "bench" / "results" / "smoke.json").read_text())
    assert results["smoke"] is True
    assert {"ack", "slow_slack", "api", "memory_flat", "summary", "soak", "overload", "loop"} <= set(results)
    assert results["soak"]["audit_verify"] is True
