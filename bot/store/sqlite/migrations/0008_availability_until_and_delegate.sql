-- Away with an end (the person comes back by themselves), a delegate for their new reviews,
-- and people Slack reports as deactivated: none of them is asked to review.
ALTER TABLE availability ADD COLUMN away_until TEXT;
ALTER TABLE availability ADD COLUMN delegate TEXT;
ALTER TABLE availability ADD COLUMN deactivated INTEGER NOT NULL DEFAULT 0 CHECK (deactivated IN (0, 1));
