"""The pipeline gate: the `signoff request` and `signoff status` commands. Standard library only."""
