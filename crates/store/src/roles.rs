//! Roles and who holds them: `roles(name, description, permissions, builtin, max_jit_ms,
//! approvals_required, sensitive, created_at, updated_at)` and `role_assignments(user_id, role,
//! granted_by, granted_at, reason)`.
//!
//! The built-in roles are defined in `schild_core::rbac::role` and upserted by
//! [`seed_builtin`] whenever a [`Store`](crate::Store) connects, so the code's catalogue always
//! wins over what an older release wrote. Reading a built-in row back takes the definition from
//! the code, too; the copy in the table is there for SQL-side reporting and the foreign keys.

use crate::error::{is_foreign_key_violation, is_unique_violation};
use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use schild_core::ids::UserId;
use schild_core::rbac::role::{RoleDraft, builtin_roles};
use schild_core::rbac::{Permission, Reason, RoleAssignment, RoleCatalog, RoleDefinition};
use sqlx::Connection as _;
use sqlx::any::AnyRow;
use std::collections::BTreeSet;
use time::{Duration, OffsetDateTime};

/// A duration as stored: whole milliseconds.
pub(crate) fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.whole_milliseconds()).unwrap_or(i64::MAX)
}

/// The permissions as the JSON array stored in `roles.permissions`, built from
/// `serde_json::Value` whose `Display` cannot fail.
fn permissions_json(permissions: &BTreeSet<Permission>) -> String {
    serde_json::Value::Array(
        permissions
            .iter()
            .map(|p| serde_json::Value::String(p.as_str().to_owned()))
            .collect(),
    )
    .to_string()
}

/// `SELECT … FROM roles ` followed by the rest of the statement, as one `&'static str`.
macro_rules! select_roles {
    ($tail:literal) => {
        concat!(
            "SELECT name, description, permissions, builtin, max_jit_ms, approvals_required, \
             sensitive FROM roles ",
            $tail
        )
    };
}

fn role_from_row(row: &AnyRow) -> Result<RoleDefinition, StoreError> {
    let c = Cols::new(row, "roles");
    let name = c.text("name")?;
    if c.bool("builtin")? {
        return RoleDefinition::builtin(&name).ok_or_else(|| c.corrupt("builtin"));
    }
    let draft = RoleDraft {
        name: name.parse().map_err(|_| c.corrupt("name"))?,
        description: c.text("description")?,
        permissions: c.json("permissions")?,
        max_jit_duration: c.opt_int("max_jit_ms")?.map(Duration::milliseconds),
        approvals_required: u8::try_from(c.int("approvals_required")?)
            .map_err(|_| c.corrupt("approvals_required"))?,
        sensitive: c.bool("sensitive")?,
    };
    RoleDefinition::custom(draft).map_err(|_| c.corrupt("definition"))
}

/// Binds a role's columns as `$1`…`$8` in the order both INSERTs name them: name, description,
/// permissions, builtin, max_jit_ms, approvals_required, sensitive, and `now` for the timestamps.
fn bind_role<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    role: &'q RoleDefinition,
    now: OffsetDateTime,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(role.name().as_str())
        .bind(role.description())
        .bind(permissions_json(role.permissions()))
        .bind(role.is_builtin())
        .bind(role.max_jit_duration().map(duration_ms))
        .bind(i64::from(role.approvals_required()))
        .bind(role.is_sensitive())
        .bind(millis(now))
}

async fn upsert(
    conn: &mut AnyConnection,
    role: &RoleDefinition,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    // The WHERE keeps `updated_at` still when nothing changed, so seeding at every start is a
    // no-op on an up-to-date database.
    bind_role(
        sqlx::query(
            "INSERT INTO roles (name, description, permissions, builtin, max_jit_ms, \
         approvals_required, sensitive, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (name) DO UPDATE SET description = excluded.description, \
         permissions = excluded.permissions, builtin = excluded.builtin, \
         max_jit_ms = excluded.max_jit_ms, approvals_required = excluded.approvals_required, \
         sensitive = excluded.sensitive, updated_at = excluded.updated_at \
         WHERE roles.description <> excluded.description \
         OR roles.permissions <> excluded.permissions OR roles.builtin <> excluded.builtin \
         OR COALESCE(roles.max_jit_ms, -1) <> COALESCE(excluded.max_jit_ms, -1) \
         OR roles.approvals_required <> excluded.approvals_required \
         OR roles.sensitive <> excluded.sensitive",
        ),
        role,
        now,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes the built-in roles from the core catalogue, replacing older definitions (and any
/// placeholder the migration made for `admin` and `user`). Idempotent; runs on every connect.
pub async fn seed_builtin(conn: &mut AnyConnection, now: OffsetDateTime) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    for role in builtin_roles() {
        upsert(&mut tx, &role, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Every role: the current definitions that permission checks resolve against.
pub async fn catalog(conn: &mut AnyConnection) -> Result<RoleCatalog, StoreError> {
    let roles = sqlx::query(select_roles!("ORDER BY name"))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(role_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RoleCatalog::from_definitions(roles))
}

/// The role with this name.
pub async fn by_name(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<Option<RoleDefinition>, StoreError> {
    sqlx::query(select_roles!("WHERE name = $1"))
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(role_from_row)
        .transpose()
}

/// Stores a new custom role. [`StoreError::RoleNameTaken`] when the name exists, detected from
/// the primary key, so two concurrent creations cannot both win.
pub async fn insert(
    conn: &mut AnyConnection,
    role: &RoleDefinition,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    bind_role(
        sqlx::query(
            "INSERT INTO roles (name, description, permissions, builtin, max_jit_ms, \
             approvals_required, sensitive, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        ),
        role,
        now,
    )
    .execute(&mut *conn)
    .await
    .map_err(|err| {
        if is_unique_violation(&err, "roles_pkey", "roles.name") {
            StoreError::RoleNameTaken
        } else {
            StoreError::Database(err)
        }
    })?;
    Ok(())
}

/// Replaces a custom role's definition. [`StoreError::NotFound`] when there is no custom role
/// of that name (built-in rows are never updated here).
pub async fn update(
    conn: &mut AnyConnection,
    role: &RoleDefinition,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE roles SET description = $2, permissions = $3, max_jit_ms = $4, \
         approvals_required = $5, sensitive = $6, updated_at = $7 \
         WHERE name = $1 AND builtin = FALSE",
    )
    .bind(role.name().as_str())
    .bind(role.description())
    .bind(permissions_json(role.permissions()))
    .bind(role.max_jit_duration().map(duration_ms))
    .bind(i64::from(role.approvals_required()))
    .bind(role.is_sensitive())
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    found(done.rows_affected())
}

/// Deletes a custom role. [`StoreError::RoleInUse`] while anyone holds it,
/// [`StoreError::NotFound`] when there is no custom role of that name.
pub async fn delete(conn: &mut AnyConnection, name: &str) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM roles WHERE name = $1 AND builtin = FALSE")
        .bind(name)
        .execute(&mut *conn)
        .await
        .map_err(|err| {
            if is_foreign_key_violation(&err) {
                StoreError::RoleInUse
            } else {
                StoreError::Database(err)
            }
        })?;
    found(done.rows_affected())
}

fn assignment_from_row(row: &AnyRow) -> Result<RoleAssignment, StoreError> {
    let c = Cols::new(row, "role_assignments");
    Ok(RoleAssignment {
        user: c.parse("user_id")?,
        role: c.parse("role")?,
        granted_by: c.opt_parse("granted_by")?,
        granted_at: c.time("granted_at")?,
        reason: Reason::parse(&c.text("reason")?).map_err(|_| c.corrupt("reason"))?,
    })
}

/// Records an assignment. [`StoreError::AlreadyAssigned`] when the account holds the role
/// already (the primary key decides, so racing assignments cannot both win);
/// [`StoreError::UnknownRole`] when the role does not exist; [`StoreError::NotFound`] when the
/// account does not.
pub async fn assign(
    conn: &mut AnyConnection,
    assignment: &RoleAssignment,
) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    let role_exists = sqlx::query("SELECT COUNT(*) AS n FROM roles WHERE name = $1")
        .bind(assignment.role.as_str())
        .fetch_one(&mut *tx)
        .await?;
    if Cols::new(&role_exists, "roles").u64("n")? == 0 {
        return Err(StoreError::UnknownRole);
    }
    sqlx::query(
        "INSERT INTO role_assignments (user_id, role, granted_by, granted_at, reason) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(assignment.user.to_string())
    .bind(assignment.role.as_str())
    .bind(assignment.granted_by.map(|id| id.to_string()))
    .bind(millis(assignment.granted_at))
    .bind(assignment.reason.as_str())
    .execute(&mut *tx)
    .await
    .map_err(|err| {
        if is_unique_violation(&err, "role_assignments_pkey", "role_assignments.user_id") {
            StoreError::AlreadyAssigned
        } else if is_foreign_key_violation(&err) {
            StoreError::NotFound
        } else {
            StoreError::Database(err)
        }
    })?;
    tx.commit().await?;
    Ok(())
}

/// Removes an assignment. Returns `false` when the account did not hold the role (so of two
/// racing removals exactly one reports `true` and writes the audit event).
pub async fn unassign(
    conn: &mut AnyConnection,
    user: UserId,
    role: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM role_assignments WHERE user_id = $1 AND role = $2")
        .bind(user.to_string())
        .bind(role)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// `SELECT … FROM role_assignments ` followed by the rest of the statement.
macro_rules! select_assignments {
    ($tail:literal) => {
        concat!(
            "SELECT user_id, role, granted_by, granted_at, reason FROM role_assignments ",
            $tail
        )
    };
}

/// The account's assignments, by role name.
pub async fn assignments_for(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Vec<RoleAssignment>, StoreError> {
    sqlx::query(select_assignments!("WHERE user_id = $1 ORDER BY role"))
        .bind(user.to_string())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(assignment_from_row)
        .collect()
}

/// Everyone holding the role, in the order they got it.
pub async fn holders(
    conn: &mut AnyConnection,
    role: &str,
) -> Result<Vec<RoleAssignment>, StoreError> {
    sqlx::query(select_assignments!(
        "WHERE role = $1 ORDER BY granted_at, user_id"
    ))
    .bind(role)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(assignment_from_row)
    .collect()
}

/// Every assignment, by account and role.
pub async fn all_assignments(conn: &mut AnyConnection) -> Result<Vec<RoleAssignment>, StoreError> {
    sqlx::query(select_assignments!("ORDER BY user_id, role"))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(assignment_from_row)
        .collect()
}

fn found(rows: u64) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
