//! Token-signing keys: `signing_keys(kid, private_pkcs8, created_at, retired_at)`.
//!
//! The server stores the private key sealed in a vault envelope (`schild_server::auth::secrets`);
//! this module keeps whatever bytes it is given (older rows hold plain PKCS#8 DER until sealed).

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use sqlx::any::AnyRow;
use std::fmt;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// A stored signing key.
pub struct SigningKeyRow {
    /// The key id (the JWT header's `kid`).
    pub kid: String,
    /// The Ed25519 private key as PKCS#8 DER; wiped from memory on drop, redacted in `Debug`.
    pub private_pkcs8: Zeroizing<Vec<u8>>,
    /// When it was generated.
    pub created_at: OffsetDateTime,
    /// When it stopped signing; it keeps verifying for the lifetime of the tokens it signed.
    pub retired_at: Option<OffsetDateTime>,
}

impl fmt::Debug for SigningKeyRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyRow")
            .field("kid", &self.kid)
            .field("private_pkcs8", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

fn from_row(row: &AnyRow) -> Result<SigningKeyRow, StoreError> {
    let c = Cols::new(row, "signing_keys");
    Ok(SigningKeyRow {
        kid: c.text("kid")?,
        private_pkcs8: Zeroizing::new(c.blob("private_pkcs8")?),
        created_at: c.time("created_at")?,
        retired_at: c.opt_time("retired_at")?,
    })
}

/// Stores a new, active key. A `kid` that already exists is a database error (kids are digests
/// of the public key, so it means the same key twice).
pub async fn insert(
    conn: &mut AnyConnection,
    kid: &str,
    private_pkcs8: &[u8],
    created_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, private_pkcs8, created_at, retired_at) VALUES ($1, $2, $3, NULL)",
    )
    .bind(kid)
    .bind(private_pkcs8)
    .bind(millis(created_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every stored key's id and private-key material, as stored (for sealing them at rest).
pub async fn all_private(conn: &mut AnyConnection) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let rows = sqlx::query("SELECT kid, private_pkcs8 FROM signing_keys ORDER BY kid")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            let c = Cols::new(row, "signing_keys");
            Ok((c.text("kid")?, c.blob("private_pkcs8")?))
        })
        .collect()
}

/// Replaces a key's stored private-key material with another form of the same key (sealed); a
/// compare-and-set on the old form. Returns whether it was replaced.
pub async fn replace_private(
    conn: &mut AnyConnection,
    kid: &str,
    old: &[u8],
    new: &[u8],
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE signing_keys SET private_pkcs8 = $3 WHERE kid = $1 AND private_pkcs8 = $2",
    )
    .bind(kid)
    .bind(old)
    .bind(new)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The key that signs now: the newest one not retired.
pub async fn active(conn: &mut AnyConnection) -> Result<Option<SigningKeyRow>, StoreError> {
    sqlx::query(
        "SELECT kid, private_pkcs8, created_at, retired_at FROM signing_keys \
         WHERE retired_at IS NULL ORDER BY created_at DESC, kid DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Every key that may still verify tokens: not retired, or retired at or after `since`
/// (`now - ACCESS_TTL - skew`). Newest first.
pub async fn all_since(
    conn: &mut AnyConnection,
    since: OffsetDateTime,
) -> Result<Vec<SigningKeyRow>, StoreError> {
    sqlx::query(
        "SELECT kid, private_pkcs8, created_at, retired_at FROM signing_keys \
         WHERE retired_at IS NULL OR retired_at >= $1 ORDER BY created_at DESC, kid DESC",
    )
    .bind(millis(since))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Retires a key at `at`. Returns `false` when it is unknown or already retired (the first
/// retirement time is kept).
pub async fn retire(
    conn: &mut AnyConnection,
    kid: &str,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE signing_keys SET retired_at = $2 WHERE kid = $1 AND retired_at IS NULL",
    )
    .bind(kid)
    .bind(millis(at))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Retires every active key except `keep` (rotation: call it before inserting the new key, or
/// after, naming it). Returns how many were retired.
pub async fn retire_all_except(
    conn: &mut AnyConnection,
    keep: &str,
    at: OffsetDateTime,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE signing_keys SET retired_at = $2 WHERE kid <> $1 AND retired_at IS NULL",
    )
    .bind(keep)
    .bind(millis(at))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes keys retired before `before` (no token they signed can still be valid).
pub async fn purge_retired_before(
    conn: &mut AnyConnection,
    before: OffsetDateTime,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM signing_keys WHERE retired_at < $1")
        .bind(millis(before))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
