-- Who answered whether a change destroys: the requester (''), a line of the agent hook's
-- patterns file, or signoff reading the command. The reviewer's card says which.
ALTER TABLE requests ADD COLUMN destructive_by TEXT NOT NULL DEFAULT '';
-- App Home lists what a reviewer decided lately: their decisions, newest first.
CREATE INDEX decisions_by_reviewer ON decisions (reviewer, at);
