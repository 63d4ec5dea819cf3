-- Why a request ended, in words every place shows the same way: approved, break_glass, denied,
-- cancelled, not_required, no_decision (nobody decided within REQUEST_TTL), policy_ended, or
-- pipeline_gave_up (the pipeline that asked stopped waiting). Requests that ended before this
-- column were expired only by the policy's end.
ALTER TABLE requests ADD COLUMN final_reason TEXT CHECK (final_reason IN
    ('approved', 'break_glass', 'denied', 'cancelled', 'not_required', 'no_decision', 'policy_ended',
     'pipeline_gave_up'));
UPDATE requests SET final_reason = CASE
    WHEN status = 'approved' AND break_glass_reason IS NOT NULL THEN 'break_glass'
    WHEN status = 'expired' THEN 'policy_ended'
    ELSE status END
WHERE status <> 'pending';
-- An approval used up by one CI run (`signoff verify --once`): the run, and when.
ALTER TABLE requests ADD COLUMN used_by_run TEXT;
ALTER TABLE requests ADD COLUMN used_at TEXT;
-- The report counts the commands `signoff guard` ran without reading the rest of the audit.
CREATE INDEX audit_commands ON audit (at) WHERE action = 'command_ran';
-- BREAK_GLASS_LIMIT counts one person's recent break-glass uses among all their requests.
CREATE INDEX requests_break_glass_by ON requests (requester, created_at) WHERE break_glass_reason IS NOT NULL;
