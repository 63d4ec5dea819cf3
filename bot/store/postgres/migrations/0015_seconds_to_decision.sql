-- How long a request waited for its decision, in whole seconds, stored when it is decided: the
-- report's median and 90th percentile are then one sort in the database, however many requests
-- the period holds, instead of every request's timestamps read into the bot.
ALTER TABLE requests ADD COLUMN seconds_to_decision INTEGER;
UPDATE requests SET seconds_to_decision = ROUND(EXTRACT(EPOCH FROM (decided_at::timestamptz - created_at::timestamptz)))::integer
WHERE decided_at IS NOT NULL;
