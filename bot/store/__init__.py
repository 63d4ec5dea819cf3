"""SQLite storage: one writer behind a lock, BEGIN IMMEDIATE for every state change."""
