-- The members of the roster's Slack user groups, shared by every replica: a change one replica
-- reads (from an event or a refresh) is in force on every replica. One row per group the roster
-- names; a group whose last read failed keeps its last good members and says why.
CREATE TABLE group_members (
    usergroup    TEXT PRIMARY KEY,
    members      TEXT NOT NULL DEFAULT '[]',
    refreshed_at TEXT,
    problem      TEXT,
    told_admins  INTEGER NOT NULL DEFAULT 0 CHECK (told_admins IN (0, 1))
);
-- Every running replica, its heartbeat and the digest of the roster file it reads, so replicas
-- whose files differ are found and said.
CREATE TABLE replicas (
    id            TEXT PRIMARY KEY,
    host          TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    seen_at       TEXT NOT NULL,
    roster_digest TEXT NOT NULL
);
