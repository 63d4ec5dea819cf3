-- How long a request waited for its decision, in whole seconds, stored when it is decided: the
-- report's median and 90th percentile are then one sort in the database, however many requests
-- the period holds, instead of every request's timestamps read into the bot.
ALTER TABLE requests ADD COLUMN seconds_to_decision INTEGER;
UPDATE requests SET seconds_to_decision = CAST(ROUND((julianday(decided_at) - julianday(created_at)) * 86400) AS INTEGER)
WHERE decided_at IS NOT NULL;
