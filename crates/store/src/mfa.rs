//! Second factors: `totp(user_id, secret, confirmed, last_used_step, created_at, confirmed_at)` and
//! `backup_codes(user_id, code_hash, created_at)`.
//!
//! The server stores the TOTP secret sealed in a vault envelope (`schild_server::auth::secrets`);
//! this module keeps whatever text it is given.

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use schild_core::ids::UserId;
use sqlx::Connection as _;
use sqlx::any::AnyRow;
use std::fmt;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// A user's TOTP enrollment, pending or confirmed.
pub struct TotpRow {
    /// The account.
    pub user_id: UserId,
    /// The shared secret in base32 (RFC 4648, as in the `otpauth://` URI). Wiped from memory on
    /// drop and redacted in `Debug`; `&row.secret` coerces to `&str`.
    pub secret: Zeroizing<String>,
    /// Whether enrollment was confirmed with a valid code; only a confirmed TOTP is required at
    /// sign-in.
    pub confirmed: bool,
    /// The last accepted time step (RFC 6238 §4: `T = floor(unix / 30)`), to refuse replays.
    pub last_used_step: Option<u64>,
    /// When the secret was issued.
    pub created_at: OffsetDateTime,
    /// When enrollment was confirmed.
    pub confirmed_at: Option<OffsetDateTime>,
}

impl fmt::Debug for TotpRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpRow")
            .field("user_id", &self.user_id)
            .field("secret", &"<redacted>")
            .field("confirmed", &self.confirmed)
            .field("last_used_step", &self.last_used_step)
            .field("created_at", &self.created_at)
            .field("confirmed_at", &self.confirmed_at)
            .finish()
    }
}

fn totp_from_row(row: &AnyRow) -> Result<TotpRow, StoreError> {
    let c = Cols::new(row, "totp");
    Ok(TotpRow {
        user_id: c.parse("user_id")?,
        secret: Zeroizing::new(c.text("secret")?),
        confirmed: c.bool("confirmed")?,
        last_used_step: c.opt_u64("last_used_step")?,
        created_at: c.time("created_at")?,
        confirmed_at: c.opt_time("confirmed_at")?,
    })
}

/// A time step as stored (`BIGINT`). Steps are around 5.9e7 today; anything beyond `i64` is not
/// a real step and is clamped, which only ever makes a comparison refuse.
fn step_value(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

/// Stores a new, unconfirmed TOTP secret for `user`, replacing any earlier unconfirmed one.
///
/// Returns `false`, changing nothing, when the user already has a *confirmed* TOTP: switching
/// secrets needs [`delete_totp`] first, so a stolen session cannot silently re-enroll. One
/// statement, so it cannot race with a concurrent confirmation.
pub async fn put_pending_totp(
    conn: &mut AnyConnection,
    user: UserId,
    secret_base32: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO totp (user_id, secret, confirmed, last_used_step, created_at, confirmed_at) \
         VALUES ($1, $2, FALSE, NULL, $3, NULL) \
         ON CONFLICT (user_id) DO UPDATE \
         SET secret = excluded.secret, last_used_step = NULL, created_at = excluded.created_at \
         WHERE totp.confirmed = FALSE",
    )
    .bind(user.to_string())
    .bind(secret_base32)
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The user's TOTP row, pending or confirmed.
pub async fn totp_for(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Option<TotpRow>, StoreError> {
    sqlx::query(
        "SELECT user_id, secret, confirmed, last_used_step, created_at, confirmed_at \
         FROM totp WHERE user_id = $1",
    )
    .bind(user.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(totp_from_row)
    .transpose()
}

/// Every stored TOTP secret, as stored (for re-encrypting them).
pub async fn all_totp_secrets(
    conn: &mut AnyConnection,
) -> Result<Vec<(UserId, Zeroizing<String>)>, StoreError> {
    let rows = sqlx::query("SELECT user_id, secret FROM totp ORDER BY user_id")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            let c = Cols::new(row, "totp");
            Ok((c.parse("user_id")?, Zeroizing::new(c.text("secret")?)))
        })
        .collect()
}

/// Replaces a stored secret with another form of the same secret (encrypted, or re-wrapped); a
/// compare-and-set on the old form, so a concurrent change to the row wins. Returns whether it
/// was replaced.
pub async fn replace_totp_secret(
    conn: &mut AnyConnection,
    user: UserId,
    old: &str,
    new: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE totp SET secret = $3 WHERE user_id = $1 AND secret = $2")
        .bind(user.to_string())
        .bind(old)
        .bind(new)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Confirms a pending enrollment after the user proved it with a code for time step
/// `accepted_step`, which is recorded as used so the same code cannot also sign in.
///
/// Returns `false` when there is no pending enrollment (none at all, or already confirmed).
pub async fn confirm_totp(
    conn: &mut AnyConnection,
    user: UserId,
    accepted_step: u64,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE totp SET confirmed = TRUE, confirmed_at = $2, last_used_step = $3 \
         WHERE user_id = $1 AND confirmed = FALSE",
    )
    .bind(user.to_string())
    .bind(millis(now))
    .bind(step_value(accepted_step))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the user's TOTP (pending or confirmed). Returns whether there was one. Backup codes
/// stay: delete them too with [`delete_backup_codes`] when the whole second factor goes.
pub async fn delete_totp(conn: &mut AnyConnection, user: UserId) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM totp WHERE user_id = $1")
        .bind(user.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records `step` as the last accepted TOTP step, only if it is later than the stored one
/// (compare-and-set in one statement). Returns `false` when the step was already used or an
/// earlier-or-equal step is stored: two concurrent sign-ins with the same code cannot both win.
pub async fn set_last_used_step(
    conn: &mut AnyConnection,
    user: UserId,
    step: u64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE totp SET last_used_step = $2 \
         WHERE user_id = $1 AND (last_used_step IS NULL OR last_used_step < $2)",
    )
    .bind(user.to_string())
    .bind(step_value(step))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces the user's whole set of backup-code hashes (SHA-256 of the normalised codes) with
/// `hashes`, atomically: inside a [`Tx`](crate::Tx) as a savepoint, otherwise in its own
/// transaction. Duplicate hashes in `hashes` are a caller bug and fail with a database error.
pub async fn replace_backup_codes(
    conn: &mut AnyConnection,
    user: UserId,
    hashes: &[[u8; 32]],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    sqlx::query("DELETE FROM backup_codes WHERE user_id = $1")
        .bind(user.to_string())
        .execute(&mut *tx)
        .await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO backup_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(user.to_string())
        .bind(&hash[..])
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The user's remaining backup-code hashes (in no particular order).
pub async fn backup_codes(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Vec<[u8; 32]>, StoreError> {
    sqlx::query("SELECT code_hash FROM backup_codes WHERE user_id = $1 ORDER BY code_hash")
        .bind(user.to_string())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Cols::new(row, "backup_codes").hash("code_hash"))
        .collect()
}

/// Spends one backup code: deletes the row with this hash (compare-and-set). Returns `false`
/// when it is not (or no longer) there, so a code works once even under concurrent sign-ins.
/// Call it after matching the typed code against [`backup_codes`], with the matched hash.
pub async fn take_backup_code(
    conn: &mut AnyConnection,
    user: UserId,
    hash: &[u8; 32],
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM backup_codes WHERE user_id = $1 AND code_hash = $2")
        .bind(user.to_string())
        .bind(&hash[..])
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes all of the user's backup codes; returns how many there were.
pub async fn delete_backup_codes(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM backup_codes WHERE user_id = $1")
        .bind(user.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
