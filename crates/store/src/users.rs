//! Accounts: `users(id, username UNIQUE, display_name, password_hash, disabled, created_at)`.
//!
//! An account's roles live in `role_assignments` (see [`crate::roles`]), with who granted each,
//! when and why; [`UserRow::roles`] and [`NewUser::roles`] are the plain list of names the
//! server puts in access tokens, read from and written to that table.

use crate::error::{is_foreign_key_violation, is_unique_violation};
use crate::row::{Cols, from_millis, millis};
use crate::{AnyConnection, StoreError};
use schild_core::ids::{UserId, Username};
use sqlx::Connection as _;
use sqlx::any::AnyRow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use time::OffsetDateTime;

/// An account to create.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The new id (UUIDv7, so rows sort by creation).
    pub id: UserId,
    /// The sign-in name; must be free.
    pub username: Username,
    /// What the UI shows.
    pub display_name: String,
    /// The Argon2id PHC string.
    pub password_hash: String,
    /// Role names, for example `["admin"]`; each must exist in `roles`. Recorded as assignments
    /// granted at `created_at` by nobody in particular (setup or the console); the caller
    /// audits the creation.
    pub roles: Vec<String>,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

/// A stored account.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Its id.
    pub id: UserId,
    /// Its sign-in name (lower case).
    pub username: Username,
    /// What the UI shows.
    pub display_name: String,
    /// The password hash as a PHC string.
    pub password_hash: String,
    /// Names of the roles assigned to it, sorted (from `role_assignments`).
    pub roles: Vec<String>,
    /// A disabled account cannot sign in.
    pub disabled: bool,
    /// When it was created (millisecond precision).
    pub created_at: OffsetDateTime,
}

// The hash is not a secret in the strict sense, but it has no business in a log line either.
impl fmt::Debug for UserRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("password_hash", &"<redacted>")
            .field("roles", &self.roles)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("password_hash", &"<redacted>")
            .field("roles", &self.roles)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// `SELECT … FROM users ` followed by the rest of the statement, as one `&'static str`.
macro_rules! select_users {
    ($tail:literal) => {
        concat!(
            "SELECT id, username, display_name, password_hash, disabled, created_at \
             FROM users ",
            $tail
        )
    };
}

/// Why an assignment made through [`insert`] or [`set_roles`] exists.
const ACCOUNT_ROLES_REASON: &str = "set with the account's role list";

/// A user row without its roles (filled in from `role_assignments` by the caller).
fn from_row(row: &AnyRow) -> Result<UserRow, StoreError> {
    let c = Cols::new(row, "users");
    let username = c.text("username")?;
    Ok(UserRow {
        id: c.parse("id")?,
        username: Username::parse(&username).map_err(|_| c.corrupt("username"))?,
        display_name: c.text("display_name")?,
        password_hash: c.text("password_hash")?,
        roles: Vec::new(),
        disabled: c.bool("disabled")?,
        created_at: c.time("created_at")?,
    })
}

/// Creates an account (enabled) with its role assignments, atomically, and returns it as stored
/// (`created_at` cut to milliseconds, roles sorted and deduplicated). Fails with
/// [`StoreError::UsernameTaken`] when the name exists, detected from the database's
/// unique-constraint error, so two concurrent sign-ups cannot both win; with
/// [`StoreError::UnknownRole`] when a role does not exist.
pub async fn insert(conn: &mut AnyConnection, user: &NewUser) -> Result<UserRow, StoreError> {
    let created_at = millis(user.created_at);
    let mut tx = conn.begin().await?;
    sqlx::query(
        "INSERT INTO users (id, username, display_name, password_hash, disabled, created_at) \
         VALUES ($1, $2, $3, $4, FALSE, $5)",
    )
    .bind(user.id.to_string())
    .bind(user.username.as_str())
    .bind(user.display_name.as_str())
    .bind(user.password_hash.as_str())
    .bind(created_at)
    .execute(&mut *tx)
    .await
    .map_err(|err| {
        if is_unique_violation(&err, "users_username_key", "users.username") {
            StoreError::UsernameTaken
        } else {
            StoreError::Database(err)
        }
    })?;
    let roles: BTreeSet<&str> = user.roles.iter().map(String::as_str).collect();
    for role in &roles {
        add_role(&mut tx, user.id, role, created_at).await?;
    }
    tx.commit().await?;
    Ok(UserRow {
        id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        password_hash: user.password_hash.clone(),
        roles: roles.into_iter().map(str::to_owned).collect(),
        disabled: false,
        created_at: from_millis(created_at)
            .ok_or_else(|| StoreError::corrupt("users", "created_at"))?,
    })
}

/// The account with this id.
pub async fn by_id(conn: &mut AnyConnection, id: UserId) -> Result<Option<UserRow>, StoreError> {
    let row = sqlx::query(select_users!("WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    with_roles(conn, row).await
}

async fn with_roles(
    conn: &mut AnyConnection,
    row: Option<AnyRow>,
) -> Result<Option<UserRow>, StoreError> {
    let Some(row) = row else { return Ok(None) };
    let mut user = from_row(&row)?;
    user.roles = role_names(conn, user.id).await?;
    Ok(Some(user))
}

/// The names of the roles assigned to `user`, sorted.
pub async fn role_names(conn: &mut AnyConnection, user: UserId) -> Result<Vec<String>, StoreError> {
    sqlx::query("SELECT role FROM role_assignments WHERE user_id = $1 ORDER BY role")
        .bind(user.to_string())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Cols::new(row, "role_assignments").text("role"))
        .collect()
}

/// The account with this sign-in name.
pub async fn by_username(
    conn: &mut AnyConnection,
    username: &Username,
) -> Result<Option<UserRow>, StoreError> {
    let row = sqlx::query(select_users!("WHERE username = $1"))
        .bind(username.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    with_roles(conn, row).await
}

/// Every account, by username.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<UserRow>, StoreError> {
    let mut users = sqlx::query(select_users!("ORDER BY username"))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let mut roles: BTreeMap<UserId, Vec<String>> = BTreeMap::new();
    for row in sqlx::query("SELECT user_id, role FROM role_assignments ORDER BY user_id, role")
        .fetch_all(&mut *conn)
        .await?
    {
        let c = Cols::new(&row, "role_assignments");
        roles
            .entry(c.parse("user_id")?)
            .or_default()
            .push(c.text("role")?);
    }
    for user in &mut users {
        user.roles = roles.remove(&user.id).unwrap_or_default();
    }
    Ok(users)
}

/// How many accounts exist (zero means setup has not happened).
pub async fn count(conn: &mut AnyConnection) -> Result<u64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(&mut *conn)
        .await?;
    Cols::new(&row, "users").u64("n")
}

/// Replaces the password hash (password change, or a rehash at sign-in).
/// [`StoreError::NotFound`] for an unknown id.
pub async fn set_password_hash(
    conn: &mut AnyConnection,
    id: UserId,
    password_hash: &str,
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(password_hash)
        .execute(&mut *conn)
        .await?;
    found(done.rows_affected())
}

/// Replaces the role list in one transaction: assignments not in `roles` are removed, new ones
/// are recorded as granted at `now` by nobody in particular. Assignments kept keep their
/// history. Prefer [`roles::assign`](crate::roles::assign) and
/// [`roles::unassign`](crate::roles::unassign), which record who and why.
/// [`StoreError::NotFound`] for an unknown id, [`StoreError::UnknownRole`] for an unknown role.
pub async fn set_roles(
    conn: &mut AnyConnection,
    id: UserId,
    roles: &[String],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    let exists = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE id = $1")
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
    found(Cols::new(&exists, "users").u64("n")?)?;
    let wanted: BTreeSet<&str> = roles.iter().map(String::as_str).collect();
    let held = role_names(&mut tx, id).await?;
    for role in held.iter().filter(|role| !wanted.contains(role.as_str())) {
        sqlx::query("DELETE FROM role_assignments WHERE user_id = $1 AND role = $2")
            .bind(id.to_string())
            .bind(role.as_str())
            .execute(&mut *tx)
            .await?;
    }
    for role in wanted
        .iter()
        .filter(|role| !held.iter().any(|h| h == *role))
    {
        add_role(&mut tx, id, role, millis(now)).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn add_role(
    conn: &mut AnyConnection,
    user: UserId,
    role: &str,
    at_millis: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO role_assignments (user_id, role, granted_by, granted_at, reason) \
         VALUES ($1, $2, NULL, $3, $4)",
    )
    .bind(user.to_string())
    .bind(role)
    .bind(at_millis)
    .bind(ACCOUNT_ROLES_REASON)
    .execute(&mut *conn)
    .await
    .map_err(|err| {
        if is_foreign_key_violation(&err) {
            StoreError::UnknownRole
        } else {
            StoreError::Database(err)
        }
    })?;
    Ok(())
}

/// Disables or re-enables an account. [`StoreError::NotFound`] for an unknown id. Disabling does
/// not end sessions by itself: revoke them in the same transaction
/// ([`sessions::revoke_all_for_user`](crate::sessions::revoke_all_for_user)).
pub async fn set_disabled(
    conn: &mut AnyConnection,
    id: UserId,
    disabled: bool,
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(disabled)
        .execute(&mut *conn)
        .await?;
    found(done.rows_affected())
}

fn found(rows: u64) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
