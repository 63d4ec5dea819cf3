-- The reminder sweep reads open reviews not yet reminded, oldest first. This index holds only
-- those, so the sweep reads just them, in order, instead of walking every open review (10,000
-- at a year's scale) each time. Partial, so no other lookup of open reviews is drawn to it.
CREATE INDEX assignments_unreminded ON assignments (active, assigned_at) WHERE active = 1 AND reminded_at IS NULL;
