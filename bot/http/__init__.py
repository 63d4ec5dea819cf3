"""The bot's one aiohttp server: Slack's endpoint, health, and (later) the pipeline API."""
