-- Schild schema, SQLite flavour. Kept in step with ../postgres/0001_initial.sql: same tables, same
-- columns, same constraint names. Timestamps are BIGINT Unix milliseconds (UTC); ids are UUID
-- text; flags are INTEGER 0/1 (sqlx's Any driver cannot read columns declared BOOLEAN here).

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    username      TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    roles         TEXT    NOT NULL DEFAULT '[]',  -- JSON array of role names
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    BIGINT  NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username)
);

-- NOTE: secret is plaintext base32 until the vault issue encrypts it.
CREATE TABLE totp (
    user_id        TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret         TEXT    NOT NULL,
    confirmed      INTEGER NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1)),
    last_used_step BIGINT  NULL,
    created_at     BIGINT  NOT NULL,
    confirmed_at   BIGINT  NULL
);

CREATE TABLE backup_codes (
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  BLOB   NOT NULL CHECK (length(code_hash) = 32),  -- SHA-256 of the normalised code
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    id            TEXT   NOT NULL PRIMARY KEY,
    user_id       TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    revoked_at    BIGINT NULL,
    revoke_reason TEXT   NULL,
    ip            TEXT   NULL,
    user_agent    TEXT   NULL,
    method        TEXT   NOT NULL
);
CREATE INDEX sessions_user_created ON sessions (user_id, created_at);

CREATE TABLE refresh_tokens (
    hash       BLOB   NOT NULL PRIMARY KEY CHECK (length(hash) = 32),  -- SHA-256 of the token
    session_id TEXT   NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  BIGINT NOT NULL,
    used_at    BIGINT NULL
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE login_failures (
    id       INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    user_id  TEXT    NULL REFERENCES users (id) ON DELETE SET NULL,
    username TEXT    NOT NULL,
    ip       TEXT    NULL,
    at       BIGINT  NOT NULL
);
CREATE INDEX login_failures_user_at ON login_failures (user_id, at);
CREATE INDEX login_failures_ip_at ON login_failures (ip, at);

CREATE TABLE account_locks (
    user_id      TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    locked_until BIGINT  NULL,
    lock_count   INTEGER NOT NULL DEFAULT 0,
    locked_at    BIGINT  NULL
);

CREATE TABLE ip_blocks (
    ip         TEXT   NOT NULL PRIMARY KEY,
    until      BIGINT NOT NULL,
    reason     TEXT   NOT NULL,  -- JSON, the audit event's BlockReason
    created_at BIGINT NOT NULL,
    created_by TEXT   NULL REFERENCES users (id) ON DELETE SET NULL
);

-- Append-only: no foreign keys (the trail outlives the accounts it names), and triggers refuse
-- UPDATE and DELETE.
CREATE TABLE audit_events (
    id        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at        BIGINT  NOT NULL,
    kind      TEXT    NOT NULL,
    actor     TEXT    NULL,
    subject   TEXT    NULL,
    source_ip TEXT    NULL,
    data      TEXT    NOT NULL  -- the AuditEvent as JSON
);
CREATE INDEX audit_events_subject ON audit_events (subject, id);
CREATE INDEX audit_events_kind ON audit_events (kind, id);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

-- NOTE: private_pkcs8 is plaintext until the vault issue encrypts it.
CREATE TABLE signing_keys (
    kid           TEXT   NOT NULL PRIMARY KEY,
    private_pkcs8 BLOB   NOT NULL,
    created_at    BIGINT NOT NULL,
    retired_at    BIGINT NULL
);

CREATE TABLE setup_tokens (
    hash       BLOB   NOT NULL PRIMARY KEY CHECK (length(hash) = 32),  -- SHA-256 of the token
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
