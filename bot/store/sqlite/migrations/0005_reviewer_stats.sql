-- Open reviews and the last assignment per reviewer, kept by triggers in the same
-- transaction as the assignment change, so routing reads one row per candidate.
CREATE TABLE reviewer_stats (
    reviewer         TEXT PRIMARY KEY,
    open             INTEGER NOT NULL DEFAULT 0,
    last_assigned_at TEXT
);
INSERT INTO reviewer_stats (reviewer, open, last_assigned_at)
SELECT reviewer, SUM(active), MAX(assigned_at) FROM assignments GROUP BY reviewer;

CREATE TRIGGER reviewer_stats_insert AFTER INSERT ON assignments
BEGIN
    INSERT INTO reviewer_stats (reviewer, open, last_assigned_at) VALUES (NEW.reviewer, NEW.active, NEW.assigned_at)
    ON CONFLICT (reviewer) DO UPDATE SET
        open = open + NEW.active,
        last_assigned_at = MAX(COALESCE(last_assigned_at, ''), NEW.assigned_at);
END;

CREATE TRIGGER reviewer_stats_update AFTER UPDATE OF active, assigned_at ON assignments
BEGIN
    UPDATE reviewer_stats SET
        open = open - OLD.active + NEW.active,
        last_assigned_at = MAX(COALESCE(last_assigned_at, ''), NEW.assigned_at)
    WHERE reviewer = NEW.reviewer;
END;
