-- Open reviews and the last assignment per reviewer were counters that triggers updated in
-- every transaction that assigned or closed a review: on PostgreSQL two requests given the
-- same two seniors in different orders deadlocked on those rows, and every review of one senior
-- waited on the others'. Changes now append to a ledger (appends never wait on each other), and
-- a fold moves the ledger into reviewer_stats a few rows at a time. Load = stats + ledger.
CREATE TABLE reviewer_load (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    reviewer    TEXT NOT NULL,
    open_delta  INTEGER NOT NULL,
    assigned_at TEXT NOT NULL
);
CREATE INDEX reviewer_load_reviewer ON reviewer_load (reviewer);
DROP TRIGGER reviewer_stats_insert;
DROP TRIGGER reviewer_stats_update;
CREATE TRIGGER reviewer_load_insert AFTER INSERT ON assignments
BEGIN
    INSERT INTO reviewer_load (reviewer, open_delta, assigned_at) VALUES (NEW.reviewer, NEW.active, NEW.assigned_at);
END;
CREATE TRIGGER reviewer_load_update AFTER UPDATE OF active, assigned_at ON assignments
WHEN OLD.active IS NOT NEW.active OR OLD.assigned_at IS NOT NEW.assigned_at
BEGIN
    INSERT INTO reviewer_load (reviewer, open_delta, assigned_at)
    VALUES (NEW.reviewer, NEW.active - OLD.active, NEW.assigned_at);
END;
-- The period a report covers is found by when requests were made (PostgreSQL had this index).
CREATE INDEX requests_created ON requests (created_at);
