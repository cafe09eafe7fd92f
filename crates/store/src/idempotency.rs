//! Idempotency keys of writes: `idempotency_keys(account_id, key, fingerprint, status,
//! created_at)`. A client that may send a write twice (the desktop's outbox, resending after an
//! answer it never got) names it with a key; the first request claims the key, later ones with
//! the same key get the first answer's status and change nothing.
//!
//! Claiming is one insert, so concurrent repeats cannot both run. A claim whose request died
//! (process killed mid-request) is taken over after [`RUNNING_LIMIT`], by compare-and-set.

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use time::{Duration, OffsetDateTime};

/// How long a first request may run before a repeat may assume it died and take its place.
pub const RUNNING_LIMIT: Duration = Duration::minutes(1);

/// What claiming a key found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or its first request died): run the request, then
    /// [`complete`] or [`release`].
    Fresh,
    /// The same request already ran and was answered with this status.
    Done {
        /// The first answer's HTTP status.
        status: u16,
    },
    /// The same request is running now.
    Running,
    /// The key was used for a different request.
    Mismatch,
}

/// Claims `key` for `account`'s request with `fingerprint` (SHA-256 of what it asks).
pub async fn claim(
    conn: &mut AnyConnection,
    account: &str,
    key: &str,
    fingerprint: &[u8; 32],
    now: OffsetDateTime,
) -> Result<Claim, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (account_id, key, fingerprint, status, created_at) \
         VALUES ($1, $2, $3, NULL, $4) ON CONFLICT DO NOTHING",
    )
    .bind(account)
    .bind(key)
    .bind(&fingerprint[..])
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Fresh);
    }
    let row = sqlx::query(
        "SELECT fingerprint, status, created_at FROM idempotency_keys \
         WHERE account_id = $1 AND key = $2",
    )
    .bind(account)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    // Purged between the insert and the read: it is new again.
    let Some(row) = row else {
        return Box::pin(claim(conn, account, key, fingerprint, now)).await;
    };
    let c = Cols::new(&row, "idempotency_keys");
    if c.hash("fingerprint")? != *fingerprint {
        return Ok(Claim::Mismatch);
    }
    match c.opt_int("status")? {
        Some(status) => Ok(Claim::Done {
            status: u16::try_from(status).map_err(|_| c.corrupt("status"))?,
        }),
        None => {
            let started = c.int("created_at")?;
            if started > millis(now - RUNNING_LIMIT) {
                return Ok(Claim::Running);
            }
            let taken = sqlx::query(
                "UPDATE idempotency_keys SET created_at = $1 \
                 WHERE account_id = $2 AND key = $3 AND status IS NULL AND created_at = $4",
            )
            .bind(millis(now))
            .bind(account)
            .bind(key)
            .bind(started)
            .execute(&mut *conn)
            .await?;
            Ok(if taken.rows_affected() == 1 {
                Claim::Fresh
            } else {
                Claim::Running
            })
        }
    }
}

/// Records the answer of a claimed request.
pub async fn complete(
    conn: &mut AnyConnection,
    account: &str,
    key: &str,
    status: u16,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = $1 \
         WHERE account_id = $2 AND key = $3 AND status IS NULL",
    )
    .bind(i64::from(status))
    .bind(account)
    .bind(key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Gives a claimed key back (the request failed on the server's side and may be tried again).
pub async fn release(conn: &mut AnyConnection, account: &str, key: &str) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE account_id = $1 AND key = $2 AND status IS NULL",
    )
    .bind(account)
    .bind(key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets keys claimed before `before`. Returns how many went.
pub async fn purge_before(
    conn: &mut AnyConnection,
    before: OffsetDateTime,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(millis(before))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
