"""Use cases. Each module is one thing a person or a pipeline can do; none knows Slack or HTTP."""
