-- Access control (issue 3), SQLite flavour. Kept in step with ../postgres/0002_access_control.sql:
-- same tables, same columns, same constraint names.
--
-- Built-in role definitions are NOT written here: schild-core owns them and the store upserts
-- them at every start (schild_store::roles::seed_builtin). This migration only creates the
-- tables and moves the first release's `users.roles` JSON arrays into `role_assignments`.

CREATE TABLE roles (
    name               TEXT    NOT NULL PRIMARY KEY,
    description        TEXT    NOT NULL,
    permissions        TEXT    NOT NULL DEFAULT '[]',  -- JSON array of "resource:action" names
    builtin            INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),
    max_jit_ms         BIGINT  NULL,                   -- NULL: cannot be requested just in time
    approvals_required INTEGER NOT NULL DEFAULT 1 CHECK (approvals_required IN (1, 2)),
    sensitive          INTEGER NOT NULL DEFAULT 0 CHECK (sensitive IN (0, 1)),
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);

-- Deleting a role that is still assigned fails on the foreign key (the store reports RoleInUse).
CREATE TABLE role_assignments (
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT   NOT NULL REFERENCES roles (name),
    granted_by TEXT   NULL REFERENCES users (id) ON DELETE SET NULL,
    granted_at BIGINT NOT NULL,
    reason     TEXT   NOT NULL,
    CONSTRAINT role_assignments_pkey PRIMARY KEY (user_id, role)
);
CREATE INDEX role_assignments_role ON role_assignments (role);

-- Carry the first release's assignments over. Every role name found gets a placeholder row so
-- the foreign key holds; `admin` and `user` are replaced by their real definitions at start-up,
-- anything else stays a custom role without permissions for an administrator to review.
INSERT INTO roles (name, description, permissions, builtin, max_jit_ms, approvals_required,
                   sensitive, created_at, updated_at)
SELECT j.value, 'Carried over from users.roles.', '[]', 0, NULL, 1, 0, MIN(u.created_at),
       MIN(u.created_at)
FROM users u, json_each(u.roles) j
GROUP BY j.value;

INSERT INTO role_assignments (user_id, role, granted_by, granted_at, reason)
SELECT DISTINCT u.id, j.value, NULL, u.created_at, 'carried over from users.roles'
FROM users u, json_each(u.roles) j;

ALTER TABLE users DROP COLUMN roles;

-- Just-in-time requests. `approval_count` mirrors COUNT(jit_approvals) and, with `state`, is the
-- compare-and-set guard: of two racing approvals only one updates the row.
CREATE TABLE jit_requests (
    id                 TEXT    NOT NULL PRIMARY KEY,
    requester          TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_kind        TEXT    NOT NULL CHECK (target_kind IN ('role', 'permission')),
    target             TEXT    NOT NULL,
    duration_ms        BIGINT  NOT NULL CHECK (duration_ms > 0),
    reason             TEXT    NOT NULL,
    approvals_required INTEGER NOT NULL CHECK (approvals_required IN (1, 2)),
    requested_at       BIGINT  NOT NULL,
    state              TEXT    NOT NULL CHECK (state IN ('pending', 'denied', 'active', 'expired', 'revoked')),
    approval_count     INTEGER NOT NULL DEFAULT 0,
    decided_by         TEXT    NULL,  -- the denier; no foreign key: history outlives accounts
    decided_at         BIGINT  NULL,
    decision_reason    TEXT    NULL
);
CREATE INDEX jit_requests_requester ON jit_requests (requester, requested_at);
CREATE INDEX jit_requests_state ON jit_requests (state, requested_at);

CREATE TABLE jit_approvals (
    request_id  TEXT    NOT NULL REFERENCES jit_requests (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,  -- 0 for the first approval, 1 for the second
    approver    TEXT    NOT NULL,
    approved_at BIGINT  NOT NULL,
    CONSTRAINT jit_approvals_pkey PRIMARY KEY (request_id, approver)
);

-- One row per approved request: the window the effective permission set looks at.
CREATE TABLE jit_grants (
    request_id    TEXT   NOT NULL PRIMARY KEY REFERENCES jit_requests (id) ON DELETE CASCADE,
    user_id       TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_kind   TEXT   NOT NULL CHECK (target_kind IN ('role', 'permission')),
    target        TEXT   NOT NULL,
    starts_at     BIGINT NOT NULL,
    ends_at       BIGINT NOT NULL,
    revoked_at    BIGINT NULL,
    revoked_by    TEXT   NULL,
    revoke_reason TEXT   NULL
);
CREATE INDEX jit_grants_user_ends ON jit_grants (user_id, ends_at);

-- When each account last exercised each permission (for reviews' unused flagging).
CREATE TABLE permission_last_used (
    user_id      TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission   TEXT   NOT NULL,
    last_used_at BIGINT NOT NULL,
    CONSTRAINT permission_last_used_pkey PRIMARY KEY (user_id, permission)
);

CREATE TABLE review_campaigns (
    id                  TEXT    NOT NULL PRIMARY KEY,
    name                TEXT    NOT NULL,
    scope               TEXT    NOT NULL,  -- JSON, the core ReviewScope
    escalation_grace_ms BIGINT  NOT NULL,
    auto_revoke         INTEGER NOT NULL CHECK (auto_revoke IN (0, 1)),
    unused_after_ms     BIGINT  NOT NULL,
    escalate_to         TEXT    NULL,
    created_by          TEXT    NULL,
    started_at          BIGINT  NOT NULL,
    deadline            BIGINT  NOT NULL,
    completed_at        BIGINT  NULL
);
CREATE INDEX review_campaigns_open ON review_campaigns (completed_at, deadline);

-- Items keep the account's id and name as they were (no foreign key): a report outlives the
-- accounts it names. `resolved_at` is set once, by a decision or an automatic revocation, with
-- a compare-and-set, so the two can never both win.
CREATE TABLE review_items (
    id                   TEXT    NOT NULL PRIMARY KEY,
    campaign_id          TEXT    NOT NULL REFERENCES review_campaigns (id) ON DELETE CASCADE,
    position             INTEGER NOT NULL,
    user_id              TEXT    NOT NULL,
    username             TEXT    NOT NULL,
    role                 TEXT    NOT NULL,
    sensitive            INTEGER NOT NULL CHECK (sensitive IN (0, 1)),
    granted_by           TEXT    NULL,
    granted_at           BIGINT  NOT NULL,
    permission_last_used TEXT    NOT NULL DEFAULT '{}',  -- JSON object: permission -> unix ms
    last_used_at         BIGINT  NULL,
    flagged_unused       INTEGER NOT NULL CHECK (flagged_unused IN (0, 1)),
    escalated_at         BIGINT  NULL,
    auto_revoked_at      BIGINT  NULL,
    resolved_at          BIGINT  NULL
);
CREATE INDEX review_items_campaign ON review_items (campaign_id, position);

CREATE TABLE review_decisions (
    item_id    TEXT   NOT NULL PRIMARY KEY REFERENCES review_items (id) ON DELETE CASCADE,
    reviewer   TEXT   NOT NULL,
    verdict    TEXT   NOT NULL CHECK (verdict IN ('certify', 'revoke')),
    reason     TEXT   NULL,
    decided_at BIGINT NOT NULL
);
