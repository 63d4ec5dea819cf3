-- Key/value facts the bot remembers (policy start, ...).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE requests (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    requester         TEXT NOT NULL,
    title             TEXT NOT NULL,
    url               TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    service           TEXT NOT NULL DEFAULT '',
    environment       TEXT NOT NULL DEFAULT 'production',
    ai_assisted       INTEGER NOT NULL CHECK (ai_assisted IN (0, 1)),
    ai_tool           TEXT NOT NULL DEFAULT '',
    authors           TEXT NOT NULL DEFAULT '[]',
    commit_sha        TEXT NOT NULL DEFAULT '',
    source            TEXT NOT NULL DEFAULT 'slack',
    pipeline          TEXT,
    status            TEXT NOT NULL CHECK (status IN
                        ('pending', 'approved', 'denied', 'cancelled', 'not_required', 'expired')),
    sign_off_required INTEGER NOT NULL CHECK (sign_off_required IN (0, 1)),
    policy_reason     TEXT NOT NULL,
    approvals_needed  INTEGER NOT NULL DEFAULT 1 CHECK (approvals_needed >= 1),
    reviewer          TEXT,
    assigned_at       TEXT,
    decided_by        TEXT,
    decided_at        TEXT,
    reason            TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    idempotency_key   TEXT UNIQUE,
    idempotency_hash  TEXT
);
CREATE INDEX requests_status_created ON requests (status, created_at);
CREATE INDEX requests_requester_status ON requests (requester, status);
CREATE INDEX requests_reviewer_status ON requests (reviewer, status);

-- Every person who was ever asked to review a request; active = may decide now.
CREATE TABLE assignments (
    request_id  INTEGER NOT NULL REFERENCES requests (id),
    reviewer    TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    how         TEXT NOT NULL,             -- routed | claimed | escalated
    active      INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (request_id, reviewer)
);
CREATE INDEX assignments_reviewer ON assignments (reviewer, active);

-- One row per person per request: approvals are counted per distinct person.
CREATE TABLE decisions (
    request_id INTEGER NOT NULL REFERENCES requests (id),
    reviewer   TEXT NOT NULL,
    decision   TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),
    reason     TEXT,
    at         TEXT NOT NULL,
    PRIMARY KEY (request_id, reviewer)
);

CREATE TABLE availability (
    user       TEXT PRIMARY KEY,
    away       INTEGER NOT NULL CHECK (away IN (0, 1)),
    updated_at TEXT NOT NULL
);

-- Append-only and hash-chained: hash = sha256(prev_hash || canonical row).
CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    request_id INTEGER,
    reason     TEXT,
    details    TEXT NOT NULL DEFAULT '{}',
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_request ON audit (request_id);
CREATE INDEX audit_at ON audit (at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;

-- Messages to send to Slack, written in the same transaction as the state change.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    request_id      INTEGER,
    recipient       TEXT,
    data            TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- Where a message we posted lives, so it can be updated in place.
CREATE TABLE slack_messages (
    key     TEXT PRIMARY KEY,              -- e.g. review:42:U0SENIOR1, claim:42
    channel TEXT NOT NULL,
    ts      TEXT NOT NULL
);

-- Slack deliveries already handled: retries and replays are acknowledged and dropped.
CREATE TABLE deliveries (
    key     TEXT PRIMARY KEY,
    seen_at TEXT NOT NULL
);
CREATE INDEX deliveries_seen ON deliveries (seen_at);
