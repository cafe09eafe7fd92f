//! Brute-force defences: `login_failures(id, user_id, username, ip, at)`, `account_locks(user_id,
//! locked_until, lock_count, locked_at)` and `ip_blocks(ip, until, reason, created_at,
//! created_by)`. The policy (thresholds, backoff) is `schild_core::lockout`; this module only
//! counts and records.
//!
//! IP addresses are stored in canonical text form (`IpAddr::to_canonical`), so an IPv4 client
//! seen through an IPv4-mapped IPv6 socket (`::ffff:192.0.2.7`) counts as `192.0.2.7`.

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use schild_core::audit::BlockReason;
use schild_core::ids::UserId;
use sqlx::any::AnyRow;
use std::net::IpAddr;
use time::OffsetDateTime;

fn ip_text(ip: IpAddr) -> String {
    ip.to_canonical().to_string()
}

/// Records one failed sign-in. `user` is `None` when the username matched no account; the
/// username is kept as typed (already parsed and length-limited) so stuffing across many names
/// from one address can be counted.
pub async fn record_failure(
    conn: &mut AnyConnection,
    user: Option<UserId>,
    username: &str,
    ip: Option<IpAddr>,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO login_failures (user_id, username, ip, at) VALUES ($1, $2, $3, $4)")
        .bind(user.map(|id| id.to_string()))
        .bind(username)
        .bind(ip.map(ip_text))
        .bind(millis(at))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Failed sign-ins against `user` at or after `since` (the policy window's start).
pub async fn failures_for_user_since(
    conn: &mut AnyConnection,
    user: UserId,
    since: OffsetDateTime,
) -> Result<u32, StoreError> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM login_failures WHERE user_id = $1 AND at >= $2")
            .bind(user.to_string())
            .bind(millis(since))
            .fetch_one(&mut *conn)
            .await?;
    Cols::new(&row, "login_failures").u32("n")
}

/// Failed sign-ins from `ip` at or after `since`: `(failures, distinct usernames tried)`.
pub async fn failures_for_ip_since(
    conn: &mut AnyConnection,
    ip: IpAddr,
    since: OffsetDateTime,
) -> Result<(u32, u32), StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT username) AS accounts \
         FROM login_failures WHERE ip = $1 AND at >= $2",
    )
    .bind(ip_text(ip))
    .bind(millis(since))
    .fetch_one(&mut *conn)
    .await?;
    let c = Cols::new(&row, "login_failures");
    Ok((c.u32("n")?, c.u32("accounts")?))
}

/// Takes back the newest failure row of the user: an attempt counted on admission that turned out
/// to be a correct password. Returns whether a row went.
pub async fn refund_latest(conn: &mut AnyConnection, user: UserId) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM login_failures WHERE id = \
         (SELECT MAX(id) FROM login_failures WHERE user_id = $1)",
    )
    .bind(user.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes the user's failure rows (after a successful sign-in, or when an admin unlocks).
/// Returns how many went.
pub async fn clear_failures(conn: &mut AnyConnection, user: UserId) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM login_failures WHERE user_id = $1")
        .bind(user.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes every failure row older than `before` (outside any window the policy looks at).
pub async fn purge_failures_before(
    conn: &mut AnyConnection,
    before: OffsetDateTime,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(millis(before))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// An account's lock record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockState {
    /// Locked until then; `None` once cleared. A time in the past means the lock has run out.
    pub locked_until: Option<OffsetDateTime>,
    /// How many times the account was locked since the last successful sign-in; drives the
    /// exponential backoff.
    pub lock_count: u32,
    /// When the latest lock began.
    pub locked_at: Option<OffsetDateTime>,
}

impl LockState {
    /// Whether the account is locked at `now`.
    pub fn is_locked(&self, now: OffsetDateTime) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

/// Locks `user` until `until` and counts the lock; returns the new `lock_count`. One upsert, so
/// concurrent lockers each count.
pub async fn lock(
    conn: &mut AnyConnection,
    user: UserId,
    until: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<u32, StoreError> {
    let row = sqlx::query(
        "INSERT INTO account_locks (user_id, locked_until, lock_count, locked_at) \
         VALUES ($1, $2, 1, $3) \
         ON CONFLICT (user_id) DO UPDATE \
         SET locked_until = excluded.locked_until, lock_count = account_locks.lock_count + 1, \
             locked_at = excluded.locked_at \
         RETURNING lock_count",
    )
    .bind(user.to_string())
    .bind(millis(until))
    .bind(millis(now))
    .fetch_one(&mut *conn)
    .await?;
    Cols::new(&row, "account_locks").u32("lock_count")
}

/// Serialises sign-in attempts on one account for the rest of the transaction: an upsert that
/// changes nothing but takes the row's lock (PostgreSQL) or the write lock (SQLite), so two
/// concurrent attempts cannot both count the failures before either has recorded its own.
pub async fn serialize_attempts(conn: &mut AnyConnection, user: UserId) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO account_locks (user_id, locked_until, lock_count, locked_at) \
         VALUES ($1, NULL, 0, NULL) \
         ON CONFLICT (user_id) DO UPDATE SET lock_count = account_locks.lock_count",
    )
    .bind(user.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The user's lock record, if it was ever locked.
pub async fn lock_state(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Option<LockState>, StoreError> {
    let row = sqlx::query(
        "SELECT locked_until, lock_count, locked_at FROM account_locks WHERE user_id = $1",
    )
    .bind(user.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let c = Cols::new(&row, "account_locks");
    Ok(Some(LockState {
        locked_until: c.opt_time("locked_until")?,
        lock_count: c.u32("lock_count")?,
        locked_at: c.opt_time("locked_at")?,
    }))
}

/// Lifts a lock (admin unlock, or noticing it ran out), keeping `lock_count` so the next lock
/// still backs off further. Returns whether a lock was set.
pub async fn clear_lock(conn: &mut AnyConnection, user: UserId) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE account_locks SET locked_until = NULL WHERE user_id = $1 AND locked_until IS NOT NULL",
    )
    .bind(user.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets past locks after a successful sign-in (`lock_count = 0`).
pub async fn reset_lock_count(conn: &mut AnyConnection, user: UserId) -> Result<(), StoreError> {
    sqlx::query("UPDATE account_locks SET lock_count = 0 WHERE user_id = $1")
        .bind(user.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A stored block on sign-ins from one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpBlock {
    /// The blocked address.
    pub ip: IpAddr,
    /// When the block lifts by itself.
    pub until: OffsetDateTime,
    /// Why (stored as the same JSON the audit event carries).
    pub reason: BlockReason,
    /// When it was (last) set.
    pub created_at: OffsetDateTime,
    /// The administrator who set it; `None` for automatic blocks.
    pub created_by: Option<UserId>,
}

fn block_from_row(row: &AnyRow) -> Result<IpBlock, StoreError> {
    let c = Cols::new(row, "ip_blocks");
    Ok(IpBlock {
        ip: c.parse("ip")?,
        until: c.time("until")?,
        reason: c.json("reason")?,
        created_at: c.time("created_at")?,
        created_by: c.opt_parse("created_by")?,
    })
}

/// Blocks `ip` until `until`, replacing any earlier block of the same address. `created_by` is
/// the administrator for a manual block, `None` for an automatic one.
pub async fn block_ip(
    conn: &mut AnyConnection,
    ip: IpAddr,
    until: OffsetDateTime,
    reason: &BlockReason,
    created_by: Option<UserId>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let reason = serde_json::to_string(reason).map_err(|_| StoreError::Encode {
        what: "IP block reason",
    })?;
    sqlx::query(
        "INSERT INTO ip_blocks (ip, until, reason, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (ip) DO UPDATE \
         SET until = excluded.until, reason = excluded.reason, created_at = excluded.created_at, \
             created_by = excluded.created_by",
    )
    .bind(ip_text(ip))
    .bind(millis(until))
    .bind(reason)
    .bind(millis(now))
    .bind(created_by.map(|id| id.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Lifts the block on `ip`. Returns whether there was one (expired or not).
pub async fn unblock_ip(conn: &mut AnyConnection, ip: IpAddr) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM ip_blocks WHERE ip = $1")
        .bind(ip_text(ip))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The block on `ip` that is in force at `now`, if any.
pub async fn active_block(
    conn: &mut AnyConnection,
    ip: IpAddr,
    now: OffsetDateTime,
) -> Result<Option<IpBlock>, StoreError> {
    sqlx::query(
        "SELECT ip, until, reason, created_at, created_by FROM ip_blocks WHERE ip = $1 AND until > $2",
    )
    .bind(ip_text(ip))
    .bind(millis(now))
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(block_from_row)
    .transpose()
}

/// Every block in force at `now`, soonest-lifting last (newest `until` first).
pub async fn list_blocks(
    conn: &mut AnyConnection,
    now: OffsetDateTime,
) -> Result<Vec<IpBlock>, StoreError> {
    sqlx::query(
        "SELECT ip, until, reason, created_at, created_by FROM ip_blocks WHERE until > $1 \
         ORDER BY until DESC, ip",
    )
    .bind(millis(now))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(block_from_row)
    .collect()
}

/// Deletes blocks that lifted before `before`; returns how many went.
pub async fn purge_blocks_before(
    conn: &mut AnyConnection,
    before: OffsetDateTime,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM ip_blocks WHERE until < $1")
        .bind(millis(before))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
