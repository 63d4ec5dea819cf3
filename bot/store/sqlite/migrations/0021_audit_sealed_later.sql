-- The audit trail is chained after the commit, not inside it. A write transaction inserts its
-- audit rows unsealed (no seq, no chain hash; row_hash covers the row's own content); one
-- sequencer at a time seals committed rows in order: seq, prev_hash and hash, set once. A
-- sealed row never changes again. (SQLite cannot change a primary key: the table is rebuilt,
-- each row keeping its seq as its id.)
CREATE TABLE audit_sealed_later (  -- columns in PostgreSQL's order, where id and row_hash came last
    seq        INTEGER,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    request_id INTEGER,
    reason     TEXT,
    details    TEXT NOT NULL DEFAULT '{}',
    prev_hash  TEXT,
    hash       TEXT,
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    row_hash   TEXT,
    CONSTRAINT audit_sealed_or_hashed CHECK (
        (seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL) AND (seq IS NOT NULL OR row_hash IS NOT NULL)
    )
);
INSERT INTO audit_sealed_later (id, seq, at, actor, action, request_id, reason, details, prev_hash, hash)
    SELECT seq, seq, at, actor, action, request_id, reason, details, prev_hash, hash FROM audit ORDER BY seq;
DROP TABLE audit;
ALTER TABLE audit_sealed_later RENAME TO audit;
CREATE INDEX audit_request ON audit (request_id);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_commands ON audit (at) WHERE action = 'command_ran';
CREATE UNIQUE INDEX audit_seq ON audit (seq);
CREATE INDEX audit_unsealed ON audit (id) WHERE seq IS NULL;
-- Append-only: no DELETE; an UPDATE only seals an unsealed row, unchanged, as the next link of
-- the chain; an INSERT never takes an existing row's id (INSERT OR REPLACE deletes without
-- firing DELETE triggers) and is unsealed, or (a copy) a sealed row extending the chain.
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TRIGGER audit_seal_only BEFORE UPDATE ON audit
WHEN OLD.seq IS NOT NULL OR NEW.seq IS NULL
    OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.actor IS NOT OLD.actor OR NEW.action IS NOT OLD.action
    OR NEW.request_id IS NOT OLD.request_id OR NEW.reason IS NOT OLD.reason OR NEW.details IS NOT OLD.details
    OR NEW.row_hash IS NOT OLD.row_hash
    OR NEW.seq IS NOT COALESCE((SELECT MAX(seq) FROM audit), 0) + 1
    OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM audit WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1),
                                     '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: only an unsealed row may be sealed, unchanged, as the next link'); END;
CREATE TRIGGER audit_append_only BEFORE INSERT ON audit
WHEN (NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM audit WHERE id = NEW.id))
  OR (NEW.seq IS NULL AND (NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL))
  OR (NEW.seq IS NOT NULL AND (
      NEW.seq IS NOT COALESCE((SELECT MAX(seq) FROM audit), 0) + 1
      OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM audit WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1),
                                       '0000000000000000000000000000000000000000000000000000000000000000')))
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: a new row must be unsealed or extend the chain'); END;
