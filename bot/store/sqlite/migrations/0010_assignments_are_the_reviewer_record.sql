-- Who reviews a request lives only in assignments (several reviewers per request need it).
-- moved = 1: the review was handed to someone else (escalated, away, off the roster); a
-- request's reviewer is its latest assignment that was not moved.
ALTER TABLE assignments ADD COLUMN moved INTEGER NOT NULL DEFAULT 0 CHECK (moved IN (0, 1));
UPDATE assignments SET moved = 1
WHERE active = 0 AND reviewer IS NOT (SELECT r.reviewer FROM requests r WHERE r.id = assignments.request_id);
DROP INDEX requests_reviewer_status;
ALTER TABLE requests DROP COLUMN reviewer;
ALTER TABLE requests DROP COLUMN assigned_at;
CREATE INDEX assignments_request_latest ON assignments (request_id, moved, assigned_at);
