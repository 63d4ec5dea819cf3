-- People's display names as Slack gives them (users.info), so answers read by people (the CLI,
-- the API) name them instead of showing Slack IDs. Refreshed when older than a day.
CREATE TABLE people_names (
    "user"     TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    fetched_at TEXT NOT NULL
);
