//! Sign-in sessions and their refresh tokens: `sessions(id, user_id, created_at, expires_at,
//! last_seen_at, revoked_at, revoke_reason, ip, user_agent, method)` and `refresh_tokens(hash,
//! session_id, issued_at, used_at)`.
//!
//! A session is one sign-in and one refresh-token family: every rotation adds a token to the same
//! session, and presenting a used token revokes the whole session (RFC 6819 §5.2.2.3, OAuth 2.0
//! Security BCP §4.14 refresh-token rotation). Only SHA-256 hashes of tokens are stored.

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use schild_core::audit::LoginMethod;
use schild_core::ids::{SessionId, UserId};
use sqlx::Connection as _;
use sqlx::any::AnyRow;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use time::OffsetDateTime;

/// Why a session ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevokeReason {
    /// The account holder signed out of this session.
    Logout,
    /// The account holder signed out everywhere.
    LogoutEverywhere,
    /// An administrator ended it (a forced logout).
    ForcedLogout,
    /// An already-used refresh token of this session was presented (likely theft).
    RefreshReuse,
    /// The password changed, which ends every other session.
    PasswordChanged,
    /// The account was disabled.
    AccountDisabled,
}

impl RevokeReason {
    /// The stable text stored in `sessions.revoke_reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::LogoutEverywhere => "logout_everywhere",
            Self::ForcedLogout => "forced_logout",
            Self::RefreshReuse => "refresh_reuse",
            Self::PasswordChanged => "password_changed",
            Self::AccountDisabled => "account_disabled",
        }
    }
}

impl fmt::Display for RevokeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text in `sessions.revoke_reason` was not one of [`RevokeReason::as_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown session revoke reason")]
pub struct UnknownRevokeReason;

impl FromStr for RevokeReason {
    type Err = UnknownRevokeReason;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Logout,
            Self::LogoutEverywhere,
            Self::ForcedLogout,
            Self::RefreshReuse,
            Self::PasswordChanged,
            Self::AccountDisabled,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == s)
        .ok_or(UnknownRevokeReason)
    }
}

/// A session to create at sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Its id (the `sid` claim).
    pub id: SessionId,
    /// Who signed in.
    pub user_id: UserId,
    /// When (also the first `last_seen_at` and the first refresh token's `issued_at`).
    pub created_at: OffsetDateTime,
    /// The absolute end of the refresh family (sign-in + refresh lifetime).
    pub expires_at: OffsetDateTime,
    /// The client address.
    pub ip: Option<IpAddr>,
    /// The client's `User-Agent`, already length-limited by the caller.
    pub user_agent: Option<String>,
    /// Which factors completed the sign-in.
    pub method: LoginMethod,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// Its id.
    pub id: SessionId,
    /// Whose it is.
    pub user_id: UserId,
    /// When it began.
    pub created_at: OffsetDateTime,
    /// When it ends regardless of activity.
    pub expires_at: OffsetDateTime,
    /// The last refresh (or sign-in).
    pub last_seen_at: OffsetDateTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was revoked.
    pub revoke_reason: Option<RevokeReason>,
    /// The client address at sign-in.
    pub ip: Option<IpAddr>,
    /// The client's `User-Agent` at sign-in.
    pub user_agent: Option<String>,
    /// Which factors completed the sign-in.
    pub method: LoginMethod,
}

impl SessionRow {
    /// Neither revoked nor expired at `now`.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// A stored refresh token (its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRow {
    /// SHA-256 of the token.
    pub hash: [u8; 32],
    /// The session (family) it belongs to.
    pub session_id: SessionId,
    /// When it was handed out.
    pub issued_at: OffsetDateTime,
    /// When it was exchanged for a new one; a second use is reuse.
    pub used_at: Option<OffsetDateTime>,
}

fn method_from_text(c: &Cols<'_>, col: &str) -> Result<LoginMethod, StoreError> {
    LoginMethod::from_name(&c.text(col)?).ok_or_else(|| c.corrupt(col))
}

/// The session columns, each `<prefix>col AS col`, so a join reads them under their plain names.
macro_rules! session_columns {
    ($p:literal) => {
        concat!(
            $p,
            "id AS id, ",
            $p,
            "user_id AS user_id, ",
            $p,
            "created_at AS created_at, ",
            $p,
            "expires_at AS expires_at, ",
            $p,
            "last_seen_at AS last_seen_at, ",
            $p,
            "revoked_at AS revoked_at, ",
            $p,
            "revoke_reason AS revoke_reason, ",
            $p,
            "ip AS ip, ",
            $p,
            "user_agent AS user_agent, ",
            $p,
            "method AS method"
        )
    };
}

fn session_from_row(row: &AnyRow) -> Result<SessionRow, StoreError> {
    let c = Cols::new(row, "sessions");
    Ok(SessionRow {
        id: c.parse("id")?,
        user_id: c.parse("user_id")?,
        created_at: c.time("created_at")?,
        expires_at: c.time("expires_at")?,
        last_seen_at: c.time("last_seen_at")?,
        revoked_at: c.opt_time("revoked_at")?,
        revoke_reason: c.opt_parse("revoke_reason")?,
        ip: c.opt_parse("ip")?,
        user_agent: c.opt_text("user_agent")?,
        method: method_from_text(&c, "method")?,
    })
}

/// Starts a session together with its first refresh token (hash), atomically.
pub async fn create(
    conn: &mut AnyConnection,
    session: &NewSession,
    first_refresh: &[u8; 32],
) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, expires_at, last_seen_at, revoked_at, \
         revoke_reason, ip, user_agent, method) \
         VALUES ($1, $2, $3, $4, $3, NULL, NULL, $5, $6, $7)",
    )
    .bind(session.id.to_string())
    .bind(session.user_id.to_string())
    .bind(millis(session.created_at))
    .bind(millis(session.expires_at))
    .bind(session.ip.map(|ip| ip.to_canonical().to_string()))
    .bind(session.user_agent.as_deref())
    .bind(session.method.as_str())
    .execute(&mut *tx)
    .await?;
    insert_refresh(&mut tx, session.id, first_refresh, session.created_at).await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_refresh(
    conn: &mut AnyConnection,
    session: SessionId,
    hash: &[u8; 32],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (hash, session_id, issued_at, used_at) VALUES ($1, $2, $3, NULL)",
    )
    .bind(&hash[..])
    .bind(session.to_string())
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The session with this id.
pub async fn by_id(
    conn: &mut AnyConnection,
    id: SessionId,
) -> Result<Option<SessionRow>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        session_columns!(""),
        " FROM sessions WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(session_from_row)
    .transpose()
}

/// The refresh token with this hash and its session, used or not, so the caller can tell
/// unknown, reused and expired tokens apart (`schild_core::refresh::decide_refresh`).
pub async fn find_refresh(
    conn: &mut AnyConnection,
    hash: &[u8; 32],
) -> Result<Option<(RefreshRow, SessionRow)>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT r.hash AS r_hash, r.session_id AS r_session_id, r.issued_at AS r_issued_at, \
         r.used_at AS r_used_at, ",
        session_columns!("s."),
        " FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = $1"
    ))
    .bind(&hash[..])
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let c = Cols::new(&row, "refresh_tokens");
    let refresh = RefreshRow {
        hash: c.hash("r_hash")?,
        session_id: c.parse("r_session_id")?,
        issued_at: c.time("r_issued_at")?,
        used_at: c.opt_time("r_used_at")?,
    };
    Ok(Some((refresh, session_from_row(&row)?)))
}

/// Marks a refresh token as exchanged — compare-and-set on `used_at IS NULL` in one statement.
/// Returns `false` when it was already used (or does not exist): of two concurrent refreshes
/// with the same token exactly one gets `true`; the loser must treat it as reuse.
pub async fn mark_used(
    conn: &mut AnyConnection,
    hash: &[u8; 32],
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL")
            .bind(&hash[..])
            .bind(millis(now))
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Adds the next refresh token (hash) of a rotation to `session`.
pub async fn add_refresh(
    conn: &mut AnyConnection,
    session: SessionId,
    hash: &[u8; 32],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    insert_refresh(conn, session, hash, now).await
}

/// Records activity on a live session (`last_seen_at = now`). Returns `false` when the session
/// is unknown or revoked.
pub async fn touch(
    conn: &mut AnyConnection,
    session: SessionId,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(session.to_string())
            .bind(millis(now))
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether the session exists, is not revoked and has not expired at `now`: the per-request
/// check of an access token's `sid`. (It does not look at the account; disabling an account
/// should revoke its sessions.)
pub async fn is_active(
    conn: &mut AnyConnection,
    session: SessionId,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(session.to_string())
    .bind(millis(now))
    .fetch_one(&mut *conn)
    .await?;
    Ok(Cols::new(&row, "sessions").u64("n")? > 0)
}

/// Revokes one session. Returns `false` when it is unknown or was already revoked (the first
/// reason and time are kept).
pub async fn revoke(
    conn: &mut AnyConnection,
    session: SessionId,
    reason: RevokeReason,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $2, revoke_reason = $3 WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(session.to_string())
    .bind(millis(now))
    .bind(reason.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every live (unrevoked, unexpired) session of `user`; returns how many it ended.
pub async fn revoke_all_for_user(
    conn: &mut AnyConnection,
    user: UserId,
    reason: RevokeReason,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $2, revoke_reason = $3 \
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(user.to_string())
    .bind(millis(now))
    .bind(reason.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// The user's sessions, newest first; with `include_ended == false` only those active at `now`.
pub async fn list_for_user(
    conn: &mut AnyConnection,
    user: UserId,
    include_ended: bool,
    now: OffsetDateTime,
) -> Result<Vec<SessionRow>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        session_columns!(""),
        " FROM sessions WHERE user_id = $1 \
         AND ($2 OR (revoked_at IS NULL AND expires_at > $3)) \
         ORDER BY created_at DESC, id DESC"
    ))
    .bind(user.to_string())
    .bind(include_ended)
    .bind(millis(now))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(session_from_row)
    .collect()
}

/// Deletes sessions (and, by cascade, their refresh tokens) that ended before `before`: expired
/// or revoked then. For a periodic clean-up; returns how many went.
pub async fn purge_ended_before(
    conn: &mut AnyConnection,
    before: OffsetDateTime,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1")
        .bind(millis(before))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
