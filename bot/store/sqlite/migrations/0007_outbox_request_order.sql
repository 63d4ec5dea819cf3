-- One request's messages go out in the order they were queued: a row is claimable only
-- while no earlier pending row of its request is waiting. This index answers that check.
CREATE INDEX outbox_request_order ON outbox (request_id, id) WHERE status = 'pending' AND request_id IS NOT NULL;
