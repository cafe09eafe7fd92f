//! Lockout and IP blocking around sign-in: count failures in a sliding window, lock accounts with
//! exponential backoff, and block addresses that fail across many accounts.

use super::Origin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::{AuditEvent, BlockReason, LoginFailure, Unlock};
use schild_core::ids::UserId;
use schild_store::{audit, lockout};
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

/// Whether the account is locked right now. A lock whose time has run out is lifted here (and
/// audited), so an expired lock never lingers.
pub async fn is_locked(
    state: &AppState,
    user: UserId,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<bool> {
    let mut conn = state.store().acquire().await?;
    let Some(until) = lockout::lock_state(&mut conn, user)
        .await?
        .and_then(|lock| lock.locked_until)
    else {
        return Ok(false);
    };
    drop(conn);
    if until > now {
        return Ok(true);
    }
    let mut tx = state.store().begin().await?;
    if lockout::clear_lock(&mut tx, user).await? {
        audit::append(
            &mut tx,
            &origin.record(
                now,
                AuditEvent::AccountUnlocked {
                    user,
                    unlock: Unlock::Expired,
                },
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(false)
}

/// Records one failed attempt, and in the same transaction locks the account and blocks the
/// address when the policy says so.
pub async fn record_failure(
    state: &AppState,
    user: Option<UserId>,
    username: &str,
    reason: LoginFailure,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<()> {
    let policy = state.lockout();
    let since = policy.window_start(now);
    let mut tx = state.store().begin().await?;
    lockout::record_failure(&mut tx, user, username, origin.ip, now).await?;
    audit::append(
        &mut tx,
        &origin.record(
            now,
            AuditEvent::LoginFailed {
                user,
                username: username.to_owned(),
                reason,
            },
        ),
    )
    .await?;

    if let Some(user) = user {
        let state_now = lockout::lock_state(&mut tx, user).await?;
        let already_locked = state_now
            .as_ref()
            .and_then(|lock| lock.locked_until)
            .is_some_and(|until| until > now);
        if !already_locked {
            let failures = lockout::failures_for_user_since(&mut tx, user, since).await?;
            let previous = state_now.map(|lock| lock.lock_count).unwrap_or(0);
            if let Some(until) = policy.account_lock(failures, previous, now) {
                lockout::lock(&mut tx, user, until, now).await?;
                audit::append(
                    &mut tx,
                    &origin.record(
                        now,
                        AuditEvent::AccountLocked {
                            user,
                            until,
                            failures,
                        },
                    ),
                )
                .await?;
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
            audit::append(
                &mut tx,
                &origin.record(now, AuditEvent::IpBlocked { ip, until, reason }),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
