//! The one-time setup token that creates the first administrator: `setup_tokens(hash, created_at,
//! expires_at)`. At most one row exists; only the SHA-256 of the token is stored.

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use sqlx::Connection as _;
use time::OffsetDateTime;

/// Makes `hash` the only valid setup token, valid until `expires_at` (any earlier token stops
/// working). Atomic: inside a [`Tx`](crate::Tx) as a savepoint, otherwise in its own transaction.
pub async fn replace(
    conn: &mut AnyConnection,
    hash: &[u8; 32],
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    sqlx::query("DELETE FROM setup_tokens")
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO setup_tokens (hash, created_at, expires_at) VALUES ($1, $2, $3)")
        .bind(&hash[..])
        .bind(millis(now))
        .bind(millis(expires_at))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Spends the token: deletes it if it matches and has not expired at `now`, in one statement.
/// Returns `true` exactly once per token, even for concurrent attempts. Run it in the same
/// [`Tx`](crate::Tx) that creates the administrator, so a failed creation puts the token back.
pub async fn take(
    conn: &mut AnyConnection,
    hash: &[u8; 32],
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM setup_tokens WHERE hash = $1 AND expires_at > $2")
        .bind(&hash[..])
        .bind(millis(now))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether an unexpired setup token exists at `now` (setup is still open).
pub async fn pending(conn: &mut AnyConnection, now: OffsetDateTime) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM setup_tokens WHERE expires_at > $1")
        .bind(millis(now))
        .fetch_one(&mut *conn)
        .await?;
    Ok(Cols::new(&row, "setup_tokens").u64("n")? > 0)
}

/// Removes any setup token (setup finished, or an operator closed it). Returns how many went.
pub async fn clear(conn: &mut AnyConnection) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM setup_tokens")
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
