//! Accounts: `users(id, username UNIQUE, display_name, password_hash, roles, disabled, created_at)`.

use crate::error::is_unique_violation;
use crate::row::{Cols, from_millis, millis};
use crate::{AnyConnection, StoreError};
use schild_core::ids::{UserId, Username};
use sqlx::any::AnyRow;
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
    /// Role names, for example `["admin"]`.
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
    /// Role names.
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
            "SELECT id, username, display_name, password_hash, roles, disabled, created_at \
             FROM users ",
            $tail
        )
    };
}

/// The roles as the JSON array stored in `users.roles`. Built by hand from `serde_json::Value`,
/// whose `Display` cannot fail, so there is no error path for a list of strings.
fn roles_json(roles: &[String]) -> String {
    serde_json::Value::Array(
        roles
            .iter()
            .cloned()
            .map(serde_json::Value::String)
            .collect(),
    )
    .to_string()
}

fn from_row(row: &AnyRow) -> Result<UserRow, StoreError> {
    let c = Cols::new(row, "users");
    let username = c.text("username")?;
    Ok(UserRow {
        id: c.parse("id")?,
        username: Username::parse(&username).map_err(|_| c.corrupt("username"))?,
        display_name: c.text("display_name")?,
        password_hash: c.text("password_hash")?,
        roles: c.json("roles")?,
        disabled: c.bool("disabled")?,
        created_at: c.time("created_at")?,
    })
}

/// Creates an account (enabled) and returns it as stored (`created_at` cut to milliseconds).
/// Fails with [`StoreError::UsernameTaken`] when the name exists, detected from the database's
/// unique-constraint error, so two concurrent sign-ups cannot both win.
pub async fn insert(conn: &mut AnyConnection, user: &NewUser) -> Result<UserRow, StoreError> {
    let created_at = millis(user.created_at);
    sqlx::query(
        "INSERT INTO users (id, username, display_name, password_hash, roles, disabled, created_at) \
         VALUES ($1, $2, $3, $4, $5, FALSE, $6)",
    )
    .bind(user.id.to_string())
    .bind(user.username.as_str())
    .bind(user.display_name.as_str())
    .bind(user.password_hash.as_str())
    .bind(roles_json(&user.roles))
    .bind(created_at)
    .execute(&mut *conn)
    .await
    .map_err(|err| {
        if is_unique_violation(&err, "users_username_key", "users.username") {
            StoreError::UsernameTaken
        } else {
            StoreError::Database(err)
        }
    })?;
    Ok(UserRow {
        id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        password_hash: user.password_hash.clone(),
        roles: user.roles.clone(),
        disabled: false,
        created_at: from_millis(created_at)
            .ok_or_else(|| StoreError::corrupt("users", "created_at"))?,
    })
}

/// The account with this id.
pub async fn by_id(conn: &mut AnyConnection, id: UserId) -> Result<Option<UserRow>, StoreError> {
    sqlx::query(select_users!("WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The account with this sign-in name.
pub async fn by_username(
    conn: &mut AnyConnection,
    username: &Username,
) -> Result<Option<UserRow>, StoreError> {
    sqlx::query(select_users!("WHERE username = $1"))
        .bind(username.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Every account, by username.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<UserRow>, StoreError> {
    sqlx::query(select_users!("ORDER BY username"))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
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

/// Replaces the role list. [`StoreError::NotFound`] for an unknown id.
pub async fn set_roles(
    conn: &mut AnyConnection,
    id: UserId,
    roles: &[String],
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE users SET roles = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(roles_json(roles))
        .execute(&mut *conn)
        .await?;
    found(done.rows_affected())
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
