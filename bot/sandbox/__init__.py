"""A local stand-in for Slack and a page to try signoff without a workspace (`signoff sandbox`).

The tests use the same stand-in, Block Kit rules and signed-request driver.
"""
