-- Assignments close when their request reaches a final status, so an active row is an
-- open review; these indexes answer "how loaded" and "when last assigned" per reviewer.
UPDATE assignments SET active = 0
WHERE active = 1 AND request_id IN (SELECT id FROM requests WHERE status != 'pending');
CREATE INDEX assignments_reviewer_assigned ON assignments (reviewer, assigned_at);
