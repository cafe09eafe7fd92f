//! Lockout and IP blocking around sign-in: count failures in a sliding window, lock accounts with
//! exponential backoff, and block addresses that fail across many accounts.
//!
//! An attempt on an account is *admitted* before its password or code is checked, and admission
//! counts it at once. So a burst of parallel requests cannot all pass the lock check before any of
//! them has been counted: at most `max_failures` attempts per window are ever checked.

use super::Origin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::{AuditEvent, BlockReason, LoginFailure, Unlock};
use schild_core::ids::UserId;
use schild_store::{AnyConnection, audit, lockout};
use std::net::IpAddr;
use time::OffsetDateTime;

/// Refuses the request when its address is blocked.
pub async fn ensure_ip_allowed(
    state: &AppState,
    ip: Option<IpAddr>,
    now: OffsetDateTime,
) -> ApiResult<()> {
    let Some(ip) = ip else { return Ok(()) };
    let mut conn = state.store().acquire().await?;
    match lockout::active_block(&mut conn, ip, now).await? {
        Some(block) => {
            let left = (block.until - now).max(time::Duration::ZERO);
            Err(ApiError::IpBlocked {
                retry_after: std::time::Duration::from_secs(left.whole_seconds().unsigned_abs()),
            })
        }
        None => Ok(()),
    }
}

/// Whether the account is locked at `now`, inside the caller's transaction.
pub async fn locked_in(
    conn: &mut AnyConnection,
    user: UserId,
    now: OffsetDateTime,
) -> ApiResult<bool> {
    Ok(lockout::lock_state(conn, user)
        .await?
        .and_then(|lock| lock.locked_until)
        .is_some_and(|until| until > now))
}

/// Admits one attempt on an account, counting it as a failure until it succeeds. Refused (false)
/// while the account is locked or while the window already holds `max_failures` attempts. A lock
/// whose time has run out is lifted here, and audited.
pub async fn admit(
    state: &AppState,
    user: UserId,
    username: &str,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<bool> {
    let policy = state.lockout();
    let mut tx = state.store().begin().await?;
    lockout::serialize_attempts(&mut tx, user).await?;
    let lock = lockout::lock_state(&mut tx, user).await?;
    let since = counting_from(state, lock.as_ref(), now);
    match lock.and_then(|lock| lock.locked_until) {
        Some(until) if until > now => return Ok(false),
        Some(_) => {
            lockout::clear_lock(&mut tx, user).await?;
            let event = AuditEvent::AccountUnlocked {
                user,
                unlock: Unlock::Expired,
            };
            audit::append(&mut tx, &origin.record(now, event)).await?;
        }
        None => {}
    }
    let counted = lockout::failures_for_user_since(&mut tx, user, since).await?;
    if counted >= policy.max_failures {
        tx.commit().await?;
        return Ok(false);
    }
    lockout::record_failure(&mut tx, Some(user), username, origin.ip, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Failures count from the start of the sliding window, or from the last lock if that is later:
/// once a lock has run out, the next lock needs `max_failures` new failures (and lasts twice as
/// long).
fn counting_from(
    state: &AppState,
    lock: Option<&lockout::LockState>,
    now: OffsetDateTime,
) -> OffsetDateTime {
    let window = state.lockout().window_start(now);
    // `+ 1 ms`: the failure that set the lock carries the lock's own timestamp.
    lock.and_then(|lock| lock.locked_at).map_or(window, |at| {
        (at + time::Duration::milliseconds(1)).max(window)
    })
}

/// How a failed attempt is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tally {
    /// Admitted by [`admit`]: it already counts toward the account; decide the lock now.
    Admitted,
    /// No such account, or not admitted: count toward the address only.
    AddressOnly,
}

/// Records a failed attempt and, in the same transaction, locks the account and blocks the
/// address when the policy says so.
pub async fn record_failure(
    state: &AppState,
    user: Option<UserId>,
    username: &str,
    reason: LoginFailure,
    tally: Tally,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<()> {
    let policy = state.lockout();
    let since = policy.window_start(now);
    let mut tx = state.store().begin().await?;
    if tally == Tally::AddressOnly {
        lockout::record_failure(&mut tx, None, username, origin.ip, now).await?;
    }
    let event = AuditEvent::LoginFailed {
        user,
        username: username.to_owned(),
        reason,
    };
    audit::append(&mut tx, &origin.record(now, event)).await?;

    if let (Some(user), Tally::Admitted) = (user, tally) {
        lockout::serialize_attempts(&mut tx, user).await?;
        let lock = lockout::lock_state(&mut tx, user).await?;
        let already_locked = lock
            .as_ref()
            .and_then(|lock| lock.locked_until)
            .is_some_and(|until| until > now);
        if !already_locked {
            let since = counting_from(state, lock.as_ref(), now);
            let failures = lockout::failures_for_user_since(&mut tx, user, since).await?;
            let previous = lock.map(|lock| lock.lock_count).unwrap_or(0);
            if let Some(until) = policy.account_lock(failures, previous, now) {
                lockout::lock(&mut tx, user, until, now).await?;
                let event = AuditEvent::AccountLocked {
                    user,
                    until,
                    failures,
                };
                audit::append(&mut tx, &origin.record(now, event)).await?;
            }
        }
    }

    if let Some(ip) = origin.ip
        && lockout::active_block(&mut tx, ip, now).await?.is_none()
    {
        let (failures, accounts) = lockout::failures_for_ip_since(&mut tx, ip, since).await?;
        if let Some(until) = policy.ip_block(failures, accounts, now) {
            let reason = BlockReason::CredentialStuffing { failures, accounts };
            lockout::block_ip(&mut tx, ip, until, &reason, None, now).await?;
            let event = AuditEvent::IpBlocked { ip, until, reason };
            audit::append(&mut tx, &origin.record(now, event)).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
