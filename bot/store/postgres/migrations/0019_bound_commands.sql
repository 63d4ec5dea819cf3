-- What an approval binds besides the plan: the exact command `signoff guard` or the agent hook
-- runs once approved, and the directory it runs in. Another command or directory asks again.
ALTER TABLE requests ADD COLUMN command TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN workdir TEXT NOT NULL DEFAULT '';
-- A request asked again after an earlier one ended without an approval that can be used
-- (expired, given up, cancelled, denied, used up): the earlier one's id, as CR-41.
ALTER TABLE requests ADD COLUMN asked_again_after TEXT NOT NULL DEFAULT '';
