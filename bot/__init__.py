"""signoff: senior sign-off on AI-assisted production changes, in Slack."""

__version__ = "0.1.0"
