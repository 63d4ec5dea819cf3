"""Everything that speaks Slack: listeners, Block Kit builders, the client, and delivery."""
