-- API keys and data retention, SQLite flavour. Kept in step with
-- ../postgres/0004_data_protection.sql: same tables, same columns, same constraint names.

-- API keys of machine clients. `prefix` is the key's public id (the `<prefix>` of
-- `schild_<prefix>_<secret>`); only the SHA-256 of the secret is stored.
CREATE TABLE api_keys (
    prefix        TEXT   NOT NULL PRIMARY KEY,
    owner_id      TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label         TEXT   NOT NULL,
    scopes        TEXT   NOT NULL,  -- JSON array of "resource:action" names
    secret_hash   BLOB   NOT NULL CHECK (length(secret_hash) = 32),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    last_used_at  BIGINT NULL,
    revoked_at    BIGINT NULL,
    revoked_by    TEXT   NULL,  -- no foreign key: history outlives accounts
    revoke_reason TEXT   NULL,
    CONSTRAINT api_keys_expiry CHECK (expires_at > created_at)
);
CREATE INDEX api_keys_owner ON api_keys (owner_id, created_at);

-- Retention periods an administrator changed; a class without a row keeps the default that
-- schild-core defines.
CREATE TABLE retention_policies (
    class      TEXT   NOT NULL PRIMARY KEY,
    keep_days  BIGINT NOT NULL CHECK (keep_days > 0),
    updated_at BIGINT NOT NULL,
    updated_by TEXT   NULL
);

-- Legal holds. `subject` NULL: the whole class. A hold is released, never deleted, and a
-- released hold stays released.
CREATE TABLE legal_holds (
    id             TEXT   NOT NULL PRIMARY KEY,
    class          TEXT   NOT NULL,
    subject        TEXT   NULL,
    reason         TEXT   NOT NULL,
    placed_by      TEXT   NULL,
    placed_at      BIGINT NOT NULL,
    released_at    BIGINT NULL,
    released_by    TEXT   NULL,
    release_reason TEXT   NULL
);
CREATE INDEX legal_holds_class ON legal_holds (class, subject);

CREATE TRIGGER legal_holds_no_delete BEFORE DELETE ON legal_holds
BEGIN
    SELECT RAISE(ABORT, 'legal holds are released, never deleted');
END;

CREATE TRIGGER legal_holds_release_once BEFORE UPDATE ON legal_holds
WHEN OLD.released_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a released legal hold stays released');
END;

-- When the scheduled purge last started; instances claim a run with a compare-and-set on it.
CREATE TABLE retention_schedule (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last_run_at BIGINT  NOT NULL
);
INSERT INTO retention_schedule (id, last_run_at) VALUES (1, 0);

-- The audit trail's purge floor: an event may be deleted only when its id is at most `max_id`
-- AND it happened before `before_at` AND no legal hold in force keeps it. Both bounds only ever
-- rise, the row cannot be deleted, and the purge raises them in the same transaction as it
-- deletes and records the run in the trail; any other DELETE on audit_events is still refused.
CREATE TABLE audit_purge_floor (
    id        INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    max_id    BIGINT  NOT NULL,
    before_at BIGINT  NOT NULL,
    raised_at BIGINT  NULL
);
INSERT INTO audit_purge_floor (id, max_id, before_at, raised_at) VALUES (1, 0, 0, NULL);

CREATE TRIGGER audit_purge_floor_only_rises BEFORE UPDATE ON audit_purge_floor
WHEN NEW.id <> OLD.id OR NEW.max_id < OLD.max_id OR NEW.before_at < OLD.before_at
BEGIN
    SELECT RAISE(ABORT, 'the audit purge floor only rises');
END;

CREATE TRIGGER audit_purge_floor_no_delete BEFORE DELETE ON audit_purge_floor
BEGIN
    SELECT RAISE(ABORT, 'the audit purge floor only rises');
END;

DROP TRIGGER audit_events_no_delete;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (
    SELECT 1 FROM audit_purge_floor f WHERE OLD.id <= f.max_id AND OLD.at < f.before_at
) OR EXISTS (
    SELECT 1 FROM legal_holds h WHERE h.class = 'audit_events' AND h.released_at IS NULL
        AND (h.subject IS NULL OR h.subject = OLD.subject)
)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
