-- Vaults of envelope-encrypted secrets (issue 5), SQLite flavour. Kept in step with
-- ../postgres/0005_vault.sql: same tables, same columns, same constraint names.
--
-- The key hierarchy: an unlock method (or, on a server, the configured provider) wraps the
-- vault's root key; the root wraps the KEK versions; each KEK version wraps items' data keys.

CREATE TABLE vaults (
    id              TEXT    NOT NULL PRIMARY KEY,
    name            TEXT    NOT NULL,
    current_version INTEGER NOT NULL CHECK (current_version > 0),  -- the KEK version that seals
    rotation_days   INTEGER NOT NULL CHECK (rotation_days > 0),
    auto_lock_secs  INTEGER NOT NULL CHECK (auto_lock_secs > 0),
    created_at      BIGINT  NOT NULL
);

-- KEK versions, wrapped by the vault's root key. A version below the current one is being
-- retired: its row goes when no envelope uses it any more.
CREATE TABLE vault_keys (
    vault_id    TEXT    NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL CHECK (version > 0),
    root_key_id TEXT    NOT NULL,            -- the key that wrapped it
    wrapped     BLOB    NOT NULL,
    wraps       BIGINT  NOT NULL DEFAULT 0,  -- data keys wrapped by it (NIST SP 800-38D bound)
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (vault_id, version)
);

-- Ways to unlock a desktop vault: each wraps the same root (master) key.
CREATE TABLE vault_unlock_methods (
    vault_id     TEXT    NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    id           TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('passphrase', 'keyring', 'security-key', 'session', 'hsm')),
    label        TEXT    NOT NULL,
    params       TEXT    NOT NULL,  -- JSON: salt and Argon2 cost, keyring entry, credential, PKCS#11 key
    wrapped_by   TEXT    NOT NULL,  -- id of the method's key
    wrapped      BLOB    NOT NULL,  -- the root key, wrapped by it
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT  NULL,
    PRIMARY KEY (vault_id, id)
);

-- Items: one envelope each (its own data key). Deleting the row destroys the data key with the
-- ciphertext (crypto-shredding); SQLite runs with secure_delete on.
CREATE TABLE vault_items (
    vault_id    TEXT    NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    id          TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    purpose     TEXT    NOT NULL,
    key_version INTEGER NOT NULL,   -- the KEK version that wraps its data key
    envelope    BLOB    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (vault_id, id),
    CONSTRAINT vault_items_name UNIQUE (vault_id, name)
);
CREATE INDEX vault_items_version ON vault_items (vault_id, key_version);
