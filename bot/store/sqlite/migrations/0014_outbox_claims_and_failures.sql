-- Who holds an outbox row's delivery claim, until when, and the class of its last failure had
-- lived as text prefixes of last_error ("in flight by host:pid:worker", "ambiguous: ...",
-- "slack down: ..."); they get columns of their own, and last_error keeps only what went wrong.
-- failure: slack_down (a 5xx or transient error: retried early once Slack answers), ambiguous
-- (no answer: the message may have gone out), rate_limited, permanent (tried once), crashed
-- (rendering failed: a bug).
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claim_expires_at TEXT;
ALTER TABLE outbox ADD COLUMN failure TEXT
    CHECK (failure IN ('slack_down', 'ambiguous', 'rate_limited', 'permanent', 'crashed'));
UPDATE outbox SET claimed_by = substr(last_error, 14), claim_expires_at = next_attempt_at, last_error = NULL
WHERE status = 'pending' AND last_error LIKE 'in flight by %';
UPDATE outbox SET failure = 'ambiguous' WHERE last_error LIKE 'ambiguous:%';
UPDATE outbox SET failure = 'slack_down' WHERE last_error LIKE 'slack down:%';
UPDATE outbox SET failure = 'rate_limited' WHERE failure IS NULL AND last_error LIKE '%: rate limited';
UPDATE outbox SET failure = 'permanent' WHERE failure IS NULL AND status = 'failed';
-- The consistency check asks whether a request's Claim post was ever queued.
CREATE INDEX outbox_request_kind ON outbox (request_id, kind);
