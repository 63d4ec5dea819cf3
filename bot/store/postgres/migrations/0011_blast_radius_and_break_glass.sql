-- What a change destroys (as said, and as its plan summary shows, with each plan's SHA-256),
-- and break-glass: approved at once in an emergency, reviewed by a senior afterwards.
-- destructive NULL: nobody said (requests made before this, or a pipeline that did not say).
ALTER TABLE requests ADD COLUMN destructive SMALLINT CHECK (destructive IN (0, 1));
ALTER TABLE requests ADD COLUMN plan_summary TEXT;
ALTER TABLE requests ADD COLUMN break_glass_reason TEXT;
ALTER TABLE requests ADD COLUMN break_glass_verdict TEXT
    CHECK (break_glass_verdict IN ('pending', 'justified', 'not_justified'));
ALTER TABLE requests ADD COLUMN break_glass_reviewed_by TEXT;
ALTER TABLE requests ADD COLUMN break_glass_note TEXT;
ALTER TABLE requests ADD COLUMN break_glass_reviewed_at TEXT COLLATE "C";
CREATE INDEX requests_break_glass_verdict ON requests (break_glass_verdict, created_at);
