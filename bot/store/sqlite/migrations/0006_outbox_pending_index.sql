-- Due rows are claimed oldest first; walking only the pending rows in id order keeps a
-- claim cheap however large a backlog grows (a sort of every due row otherwise).
CREATE INDEX outbox_pending ON outbox (id, next_attempt_at) WHERE status = 'pending';
