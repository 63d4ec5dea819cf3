"""The `signoff` command line run as a real process against a running bot, with the
environment a CI job would give it."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.harness import CI_TOKEN, Harness


@dataclass
class Run:
    code: int
    out: str
    err: str


async def start(
    h: Harness, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> asyncio.subprocess.Process:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNOFF_", "GITHUB_", "CI_", "CLAUDECODE"))}
    full_env.update({"SIGNOFF_URL": h.url, "SIGNOFF_TOKEN": CI_TOKEN, **(env or {})})
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=full_env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(proc: asyncio.subprocess.Process) -> Run:
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    except TimeoutError:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        raise AssertionError("the command did not finish within 120 s") from None
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


async def run(h: Harness, *args: str, **kw: object) -> Run:
    return await finish(await start(h, *args, **kw))  # type: ignore[arg-type]


ASK = (
    "request", "--title", "Deploy api", "--url", "https://git.example.com/mr/9", "--requester", "U0JUNIOR1",
    "--not-destructive",
)  # fmt: skip
