"""Benchmarks: scripts that measure signoff and print tables. Not tests; see README, "Performance"."""
