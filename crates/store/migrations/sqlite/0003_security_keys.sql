-- Security keys and passkeys (issue 4), SQLite flavour. Kept in step with
-- ../postgres/0003_security_keys.sql: same tables, same columns, same constraint names.

-- The hardware-key inventory: physical keys issued to people, whether or not a credential on
-- them is still registered. Marking a key lost or revoked revokes its credentials.
CREATE TABLE hardware_keys (
    id               TEXT    NOT NULL PRIMARY KEY,
    user_id          TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    aaguid           TEXT    NOT NULL,
    model            TEXT    NOT NULL,
    serial           TEXT    NULL,        -- where the key discloses one
    station          TEXT    NULL,        -- the enrollment station that issued it
    enrolled_by      TEXT    NULL,        -- no foreign key: history outlives accounts
    enrolled_at      BIGINT  NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('active', 'lost', 'revoked')),
    state_changed_at BIGINT  NULL,
    state_changed_by TEXT    NULL,
    state_reason     TEXT    NULL
);
CREATE INDEX hardware_keys_user ON hardware_keys (user_id);

-- Registered WebAuthn credentials. `credential` is webauthn-rs's credential record (public key,
-- counter, flags, attestation) as JSON; the columns beside it are what lists and policy read.
CREATE TABLE webauthn_credentials (
    id                 TEXT    NOT NULL PRIMARY KEY,
    user_id            TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id      TEXT    NOT NULL,  -- base64url, as the authenticator names it
    hardware_key_id    TEXT    NULL REFERENCES hardware_keys (id) ON DELETE SET NULL,
    name               TEXT    NOT NULL,
    aaguid             TEXT    NOT NULL,
    attestation_format TEXT    NOT NULL,
    transports         TEXT    NOT NULL DEFAULT '[]',  -- JSON array
    discoverable       INTEGER NOT NULL CHECK (discoverable IN (0, 1)),
    user_verified      INTEGER NOT NULL CHECK (user_verified IN (0, 1)),
    credential         TEXT    NOT NULL,
    sign_count         BIGINT  NOT NULL,
    state              TEXT    NOT NULL CHECK (state IN ('active', 'blocked', 'revoked')),
    created_at         BIGINT  NOT NULL,
    last_used_at       BIGINT  NULL,
    state_changed_at   BIGINT  NULL,
    state_reason       TEXT    NULL,
    CONSTRAINT webauthn_credentials_credential_id_key UNIQUE (credential_id)
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id);

-- A registration or authentication in progress: webauthn-rs's ceremony state (the challenge)
-- as JSON. Taken exactly once (DELETE … RETURNING), so a challenge cannot be answered twice.
CREATE TABLE webauthn_ceremonies (
    id         TEXT   NOT NULL PRIMARY KEY,
    user_id    TEXT   NULL REFERENCES users (id) ON DELETE CASCADE,  -- NULL: passwordless, not yet known
    purpose    TEXT   NOT NULL CHECK (purpose IN ('register', 'second_factor', 'passwordless')),
    state      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);
