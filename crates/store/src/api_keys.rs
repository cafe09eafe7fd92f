//! API keys of machine clients: `api_keys(prefix, owner_id, label, scopes, secret_hash,
//! created_at, expires_at, last_used_at, revoked_at, revoked_by, revoke_reason)`.
//!
//! `prefix` is the key's public id and primary key; only the SHA-256 of the secret is stored
//! (`schild_core::api_key` says why that is enough), so a copy of the database holds no usable
//! key. Revocation and last use are compare-and-set updates, safe with several instances.
//! Purging expired and revoked keys lives with the other retention queries
//! ([`crate::retention::purge`]).

use crate::error::is_unique_violation;
use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use schild_core::api_key::{ApiKey, ApiKeyPrefix};
use schild_core::ids::UserId;
use schild_core::rbac::{Permission, PermissionSet, Reason};
use schild_core::refresh::TokenHash;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// The columns of `api_keys`, in the order inserts bind them.
macro_rules! key_columns {
    () => {
        "prefix, owner_id, label, scopes, secret_hash, created_at, expires_at, last_used_at, \
         revoked_at, revoked_by, revoke_reason"
    };
}

/// `SELECT <columns> FROM api_keys <rest>` as one static string.
macro_rules! select_keys {
    ($rest:literal) => {
        concat!("SELECT ", key_columns!(), " FROM api_keys ", $rest)
    };
}

fn from_row(row: &AnyRow) -> Result<ApiKey, StoreError> {
    let c = Cols::new(row, "api_keys");
    let revoke_reason = c
        .opt_text("revoke_reason")?
        .map(|reason| Reason::parse(&reason).map_err(|_| c.corrupt("revoke_reason")))
        .transpose()?;
    Ok(ApiKey {
        prefix: c.parse("prefix")?,
        owner: c.parse("owner_id")?,
        label: c.text("label")?,
        scopes: c.json::<PermissionSet>("scopes")?,
        hash: TokenHash::from(c.hash("secret_hash")?),
        created_at: c.time("created_at")?,
        expires_at: c.time("expires_at")?,
        last_used_at: c.opt_time("last_used_at")?,
        revoked_at: c.opt_time("revoked_at")?,
        revoked_by: c.opt_parse("revoked_by")?,
        revoke_reason,
    })
}

/// Stores a freshly issued key. Fails with [`StoreError::ApiKeyPrefixTaken`] when another key
/// already has its public id (draw a new key and try again), and with
/// [`StoreError::NotFound`] when the owner does not exist.
pub async fn insert(conn: &mut AnyConnection, key: &ApiKey) -> Result<(), StoreError> {
    let scopes: Vec<Permission> = key.scopes.iter().collect();
    let scopes = serde_json::to_string(&scopes).map_err(|_| StoreError::Encode {
        what: "API key scopes",
    })?;
    sqlx::query(concat!(
        "INSERT INTO api_keys (",
        key_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, NULL, NULL)"
    ))
    .bind(key.prefix.as_str())
    .bind(key.owner.to_string())
    .bind(key.label.as_str())
    .bind(scopes)
    .bind(&key.hash.as_bytes()[..])
    .bind(millis(key.created_at))
    .bind(millis(key.expires_at))
    .execute(&mut *conn)
    .await
    .map_err(|err| {
        if is_unique_violation(&err, "api_keys_pkey", "api_keys.prefix") {
            StoreError::ApiKeyPrefixTaken
        } else if crate::error::is_foreign_key_violation(&err) {
            StoreError::NotFound
        } else {
            StoreError::Database(err)
        }
    })?;
    Ok(())
}

/// The key with this public id.
pub async fn by_prefix(
    conn: &mut AnyConnection,
    prefix: &ApiKeyPrefix,
) -> Result<Option<ApiKey>, StoreError> {
    sqlx::query(select_keys!("WHERE prefix = $1"))
        .bind(prefix.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// `owner`'s keys (every key when `None`), newest first, at most `limit`.
pub async fn list(
    conn: &mut AnyConnection,
    owner: Option<UserId>,
    limit: u32,
) -> Result<Vec<ApiKey>, StoreError> {
    sqlx::query(select_keys!(
        "WHERE ($1 IS NULL OR owner_id = $1) ORDER BY created_at DESC, prefix LIMIT $2"
    ))
    .bind(owner.map(|id| id.to_string()))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Records a revocation — compare-and-set on `revoked_at IS NULL`, so of two concurrent
/// revocations exactly one wins and the first reason stands. Returns `false` when the key is
/// unknown or already revoked.
pub async fn revoke(conn: &mut AnyConnection, revoked: &ApiKey) -> Result<bool, StoreError> {
    let Some(at) = revoked.revoked_at else {
        return Ok(false);
    };
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = $2, revoked_by = $3, revoke_reason = $4 \
         WHERE prefix = $1 AND revoked_at IS NULL",
    )
    .bind(revoked.prefix.as_str())
    .bind(millis(at))
    .bind(revoked.revoked_by.map(|id| id.to_string()))
    .bind(revoked.revoke_reason.as_ref().map(Reason::as_str))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that the key authenticated a request at `at`. Only ever moves `last_used_at`
/// forward, so concurrent or out-of-order writes from several instances are harmless. Returns
/// `false` when the key is unknown or `at` is not later than what is stored.
pub async fn record_use(
    conn: &mut AnyConnection,
    prefix: &ApiKeyPrefix,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE api_keys SET last_used_at = $2 \
         WHERE prefix = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
    )
    .bind(prefix.as_str())
    .bind(millis(at))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
