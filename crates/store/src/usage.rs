//! When each account last exercised each permission:
//! `permission_last_used(user_id, permission, last_used_at)`, for access reviews' "unused for N
//! days" flagging.
//!
//! Writing on every request would put a write on the hot path; the server should record a use
//! at most once per (account, permission) per few minutes (a day's precision is all reviews
//! need). Writes only ever move the time forward, so out-of-order or concurrent writes from
//! several instances are harmless.

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use schild_core::ids::UserId;
use schild_core::rbac::Permission;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Records that `user` exercised `permission` at `at` (kept if later than what is stored).
pub async fn record_use(
    conn: &mut AnyConnection,
    user: UserId,
    permission: Permission,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO permission_last_used (user_id, permission, last_used_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, permission) DO UPDATE SET last_used_at = excluded.last_used_at \
         WHERE permission_last_used.last_used_at < excluded.last_used_at",
    )
    .bind(user.to_string())
    .bind(permission.as_str())
    .bind(millis(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn parse_row(row: &sqlx::any::AnyRow) -> Result<(UserId, Permission, OffsetDateTime), StoreError> {
    let c = Cols::new(row, "permission_last_used");
    Ok((
        c.parse("user_id")?,
        c.parse("permission")?,
        c.time("last_used_at")?,
    ))
}

/// The account's last use of each permission it ever exercised.
pub async fn last_used(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<BTreeMap<Permission, OffsetDateTime>, StoreError> {
    sqlx::query(
        "SELECT user_id, permission, last_used_at FROM permission_last_used WHERE user_id = $1",
    )
    .bind(user.to_string())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| parse_row(row).map(|(_, permission, at)| (permission, at)))
    .collect()
}

/// Every account's last use of every permission.
pub async fn all(
    conn: &mut AnyConnection,
) -> Result<BTreeMap<UserId, BTreeMap<Permission, OffsetDateTime>>, StoreError> {
    let mut all: BTreeMap<UserId, BTreeMap<Permission, OffsetDateTime>> = BTreeMap::new();
    for row in sqlx::query("SELECT user_id, permission, last_used_at FROM permission_last_used")
        .fetch_all(&mut *conn)
        .await?
    {
        let (user, permission, at) = parse_row(&row)?;
        all.entry(user).or_default().insert(permission, at);
    }
    Ok(all)
}
