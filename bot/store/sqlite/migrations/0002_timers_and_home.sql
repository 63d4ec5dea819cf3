-- When the current reviewer was reminded; NULL until then. One reminder per assignment.
ALTER TABLE assignments ADD COLUMN reminded_at TEXT;
CREATE INDEX assignments_active_assigned ON assignments (active, assigned_at);

-- People who opened the App Home, so only their views are republished.
CREATE TABLE home_viewers (
    user      TEXT PRIMARY KEY,
    opened_at TEXT NOT NULL
);
