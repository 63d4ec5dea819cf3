"""Runs the Slack Web API stand-in as its own process: python bench/standin.py --port P [--delay 0.5]."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from typing import Any

from bot.sandbox.slack_standin import SlackStandIn


class QuietSlack(SlackStandIn):
    """Keeps no call log, so a long run does not grow the stand-in's memory; counts calls by
    method (the method ``bench.counts``) for benchmarks that wait for something to be delivered."""

    def _m_bench_counts(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "counts": self.__dict__.get("counts", {})}

    async def _notify(self) -> None:
        counts = self.__dict__.setdefault("counts", {})
        for call in self.calls[self.__dict__.get("_counted", 0) :]:
            counts[call.method] = counts.get(call.method, 0) + 1
        self.__dict__["_counted"] = len(self.calls)
        if len(self.calls) > 1000:
            del self.calls[:-100]
            self.__dict__["_counted"] = len(self.calls)
        if len(self.messages) > 50_000:
            for key in list(self.messages)[:25_000]:
                del self.messages[key]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every Web API answer")
    parser.add_argument("--users", default="")
    parser.add_argument("--channels", default="")
    args = parser.parse_args()
    slack = QuietSlack(
        users=[u for u in args.users.split(",") if u], channels=[c for c in args.channels.split(",") if c]
    )
    slack.delay_seconds = args.delay
    await slack.start(port=args.port)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
