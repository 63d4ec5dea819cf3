-- Deployments GitHub holds for signoff (signoff as an environment's deployment protection rule).
-- One row per GitHub deployment: what GitHub sent (by webhook, or found by the sweep), the
-- request made for it, and the one answer GitHub got. Work on a row is claimed with a lease, so
-- every replica may run the worker and each deployment is answered once.
CREATE TABLE github_deployments (
    deployment_id     INTEGER PRIMARY KEY,
    installation_id   INTEGER NOT NULL,
    repository        TEXT NOT NULL,
    environment       TEXT NOT NULL,
    sha               TEXT NOT NULL,
    ref               TEXT NOT NULL DEFAULT '',
    creator           TEXT NOT NULL,
    run_url           TEXT NOT NULL,
    callback_url      TEXT NOT NULL,
    received_at       TEXT NOT NULL,
    via               TEXT NOT NULL CHECK (via IN ('webhook', 'sweep')),
    request_id        INTEGER REFERENCES requests (id),
    progress          TEXT NOT NULL DEFAULT '',
    reports           INTEGER NOT NULL DEFAULT 0,
    answer            TEXT CHECK (answer IN ('approved', 'rejected')),
    answered_at       TEXT,
    failure           TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_try_at       TEXT NOT NULL,
    claimed_by        TEXT,
    claim_expires_at  TEXT
);
-- The worker reads only deployments not yet answered.
CREATE INDEX github_deployments_open ON github_deployments (next_try_at) WHERE answer IS NULL AND failure IS NULL;
CREATE INDEX github_deployments_request ON github_deployments (request_id);
