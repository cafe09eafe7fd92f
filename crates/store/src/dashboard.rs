//! Read-only figures for the administrators' dashboard: failed sign-ins per day, lockouts and
//! blocks, active sessions, registered security keys per model and their age.
//!
//! Every figure is counted in SQL (`COUNT(*)` with `GROUP BY`), so the cost does not grow with
//! what is sent back. Sign-in failures and lockouts are counted from the audit trail, which keeps
//! them after `login_failures` is cleared by a successful sign-in or purged after the window.

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use time::{Duration, OffsetDateTime};

/// Length of one bucket of [`failures_per_day`]: a day of 86 400 000 ms.
const DAY_MS: i64 = 86_400_000;

/// Failed sign-ins (audit kind `auth.login.failed`) in `days` consecutive days starting at
/// `since`: one count per day, zero-filled, oldest first.
pub async fn failures_per_day(
    conn: &mut AnyConnection,
    since: OffsetDateTime,
    days: u32,
) -> Result<Vec<u64>, StoreError> {
    let start = millis(since);
    let end = start.saturating_add(i64::from(days).saturating_mul(DAY_MS));
    let rows = sqlx::query(
        "SELECT (at - $1) / 86400000 AS day, COUNT(*) AS n FROM audit_events \
         WHERE kind = 'auth.login.failed' AND at >= $1 AND at < $2 GROUP BY 1",
    )
    .bind(start)
    .bind(end)
    .fetch_all(&mut *conn)
    .await?;
    let mut per_day = vec![0; days as usize];
    for row in &rows {
        let cols = Cols::new(row, "audit_events");
        let day = usize::try_from(cols.int("day")?).map_err(|_| cols.corrupt("day"))?;
        let slot = per_day.get_mut(day).ok_or_else(|| cols.corrupt("day"))?;
        *slot = cols.u64("n")?;
    }
    Ok(per_day)
}

/// Audit events of one `kind` at or after `since` (such as `auth.account.locked`).
pub async fn events_since(
    conn: &mut AnyConnection,
    kind: &str,
    since: OffsetDateTime,
) -> Result<u64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_events WHERE kind = $1 AND at >= $2")
        .bind(kind)
        .bind(millis(since))
        .fetch_one(&mut *conn)
        .await?;
    Cols::new(&row, "audit_events").u64("n")
}

/// What is in force at one moment: locked accounts, blocked addresses, live sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InForce {
    /// Accounts whose lockout has not yet lifted.
    pub locked_accounts: u64,
    /// Addresses whose block has not yet lifted.
    pub blocked_ips: u64,
    /// Sessions neither ended nor expired.
    pub active_sessions: u64,
}

/// Locks, blocks and sessions in force at `now`.
pub async fn in_force(
    conn: &mut AnyConnection,
    now: OffsetDateTime,
) -> Result<InForce, StoreError> {
    let now = millis(now);
    let row = sqlx::query(
        "SELECT \
           (SELECT COUNT(*) FROM account_locks WHERE locked_until > $1) AS locked, \
           (SELECT COUNT(*) FROM ip_blocks WHERE until > $1) AS blocked, \
           (SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1) AS live",
    )
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let cols = Cols::new(&row, "sessions");
    Ok(InForce {
        locked_accounts: cols.u64("locked")?,
        blocked_ips: cols.u64("blocked")?,
        active_sessions: cols.u64("live")?,
    })
}

/// Registered security keys (WebAuthn credentials) of one model in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysOfModel {
    /// The model's AAGUID as stored (UUID text; all zeroes when the key does not disclose it).
    pub aaguid: String,
    /// `active`, `blocked` or `revoked`.
    pub state: String,
    /// How many.
    pub count: u64,
}

/// Registered security keys per AAGUID and state, most numerous first.
pub async fn keys_per_model(conn: &mut AnyConnection) -> Result<Vec<KeysOfModel>, StoreError> {
    sqlx::query(
        "SELECT aaguid, state, COUNT(*) AS n FROM webauthn_credentials \
         GROUP BY aaguid, state ORDER BY n DESC, aaguid, state",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        let cols = Cols::new(row, "webauthn_credentials");
        Ok(KeysOfModel {
            aaguid: cols.text("aaguid")?,
            state: cols.text("state")?,
            count: cols.u64("n")?,
        })
    })
    .collect()
}

/// Upper bounds (exclusive, in days) of the key-age buckets; the last bucket is open-ended.
pub const KEY_AGE_BOUNDS_DAYS: [i64; 4] = [30, 90, 180, 365];

/// Active security keys by age at `now`: younger than 30 days, 30–89, 90–179, 180–364, and 365
/// days or older (five counts, youngest first).
pub async fn active_key_ages(
    conn: &mut AnyConnection,
    now: OffsetDateTime,
) -> Result<[u64; 5], StoreError> {
    let [a, b, c, d] = KEY_AGE_BOUNDS_DAYS.map(|days| millis(now - Duration::days(days)));
    let row = sqlx::query(
        "SELECT \
           COALESCE(SUM(CASE WHEN created_at > $1 THEN 1 ELSE 0 END), 0) AS b0, \
           COALESCE(SUM(CASE WHEN created_at <= $1 AND created_at > $2 THEN 1 ELSE 0 END), 0) AS b1, \
           COALESCE(SUM(CASE WHEN created_at <= $2 AND created_at > $3 THEN 1 ELSE 0 END), 0) AS b2, \
           COALESCE(SUM(CASE WHEN created_at <= $3 AND created_at > $4 THEN 1 ELSE 0 END), 0) AS b3, \
           COALESCE(SUM(CASE WHEN created_at <= $4 THEN 1 ELSE 0 END), 0) AS b4 \
         FROM webauthn_credentials WHERE state = 'active'",
    )
    .bind(a)
    .bind(b)
    .bind(c)
    .bind(d)
    .fetch_one(&mut *conn)
    .await?;
    let cols = Cols::new(&row, "webauthn_credentials");
    Ok([
        cols.u64("b0")?,
        cols.u64("b1")?,
        cols.u64("b2")?,
        cols.u64("b3")?,
        cols.u64("b4")?,
    ])
}

/// The key-encryption key a vault seals with now, and since when: its rotation age.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentKek {
    /// The vault's id (`schild-server` for the backend's own).
    pub vault_id: String,
    /// The vault's display name.
    pub name: String,
    /// The current KEK version.
    pub version: u32,
    /// Days between scheduled rotations.
    pub rotation_days: u32,
    /// When the current version began (its creation).
    pub since: OffsetDateTime,
}

/// The current KEK version of every vault in this database, by vault id.
pub async fn current_keks(conn: &mut AnyConnection) -> Result<Vec<CurrentKek>, StoreError> {
    sqlx::query(
        "SELECT v.id, v.name, v.current_version, v.rotation_days, k.created_at \
         FROM vaults v JOIN vault_keys k ON k.vault_id = v.id AND k.version = v.current_version \
         ORDER BY v.id",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        let cols = Cols::new(row, "vaults");
        Ok(CurrentKek {
            vault_id: cols.text("id")?,
            name: cols.text("name")?,
            version: cols.u32("current_version")?,
            rotation_days: cols.u32("rotation_days")?,
            since: cols.time("created_at")?,
        })
    })
    .collect()
}
