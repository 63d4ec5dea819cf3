"""Test doubles at the process edge: a Slack Web API stand-in and a signed-request driver."""
