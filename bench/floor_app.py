"""The floor: the cheapest Bolt app that answers the same traffic. Every handler only acks, and
Bolt runs as signoff does (process_before_response=True), so the comparison is like for like.

python bench/floor_app.py --port P --api-url URL   (SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN from the environment)
"""

from __future__ import annotations

import argparse
import os
import re

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build(api_url: str) -> AsyncApp:
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=api_url)
    # process_before_response=True, as signoff runs: Bolt answers when the listener returns
    # instead of polling for ack() every 10 ms, the fastest any Bolt app can answer.
    app = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client, process_before_response=True)

    @app.command("/signoff")
    async def command(ack: AsyncAck) -> None:
        await ack()

    @app.action(re.compile(".*"))
    async def action(ack: AsyncAck) -> None:
        await ack()

    @app.view(re.compile(".*"))
    async def view(ack: AsyncAck) -> None:
        await ack()

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True)
    args = parser.parse_args()
    build(args.api_url).start(port=args.port, path="/slack/events")
