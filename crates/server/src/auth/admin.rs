//! Account administration shared by the admin API and the `schild admin` console commands.

use super::Origin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::{AuditEvent, BlockReason, Unlock};
use schild_core::ids::{SessionId, UserId, Username};
use schild_core::password::PasswordError;
use schild_core::rbac::RoleName;
use schild_store::sessions::RevokeReason;
use schild_store::users::{NewUser, UserRow};
use schild_store::{AnyConnection, audit, lockout, sessions, users};
use secrecy::SecretString;
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};

/// The longest display name accepted.
pub const DISPLAY_NAME_MAX: usize = 128;
/// The longest note accepted on a manual IP block.
pub const NOTE_MAX: usize = 500;
/// The longest manual IP block.
pub const MAX_BLOCK: Duration = Duration::days(365);

/// A request to create an account, before any check.
#[derive(Debug)]
pub struct NewAccount {
    /// Sign-in name as typed.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Initial password.
    pub password: SecretString,
    /// Initial roles.
    pub roles: Vec<String>,
}

/// A checked account request with its password already hashed.
#[derive(Debug)]
pub struct PreparedAccount {
    username: Username,
    display_name: String,
    password_hash: String,
    roles: Vec<String>,
}

impl NewAccount {
    /// Validates every field and hashes the password; nothing is written.
    pub async fn prepare(self, state: &AppState) -> ApiResult<PreparedAccount> {
        let username = Username::parse(&self.username).map_err(|error| ApiError::Validation {
            field: "username",
            reason: error.to_string(),
        })?;
        let display_name = self.display_name.trim().to_owned();
        if display_name.is_empty() || display_name.chars().count() > DISPLAY_NAME_MAX {
            return Err(ApiError::Validation {
                field: "display_name",
                reason: format!("must be 1 to {DISPLAY_NAME_MAX} characters"),
            });
        }
        let roles = checked_roles(state, self.roles).await?;
        state
            .passwords()
            .check_strength(&self.password, &[username.as_str(), &display_name])
            .map_err(password_error)?;
        let password_hash = state
            .hash_password(self.password)
            .await?
            .as_str()
            .to_owned();
        Ok(PreparedAccount {
            username,
            display_name,
            password_hash,
            roles,
        })
    }
}

/// Parses and checks initial roles against the current catalogue and the separation-of-duty
/// rules; `user` when none are given.
async fn checked_roles(state: &AppState, raw: Vec<String>) -> ApiResult<Vec<String>> {
    let catalog = state.authz().catalog(state.store()).await?;
    let mut roles: Vec<RoleName> = Vec::with_capacity(raw.len());
    for name in &raw {
        let role = catalog
            .require(name)
            .map_err(|error| ApiError::Validation {
                field: "roles",
                reason: error.to_string(),
            })?
            .name()
            .clone();
        if !roles.contains(&role) {
            state.authz().policy().sod.check_addition(&roles, &role)?;
            roles.push(role);
        }
    }
    if roles.is_empty() {
        return Ok(vec![schild_core::ids::roles::USER.to_owned()]);
    }
    let mut names: Vec<String> = roles.iter().map(|role| role.as_str().to_owned()).collect();
    names.sort();
    Ok(names)
}

fn password_error(error: PasswordError) -> ApiError {
    match error {
        PasswordError::TooWeak {
            warning,
            suggestions,
        } => ApiError::WeakPassword {
            reason: warning.unwrap_or_else(|| "This password is easy to guess.".to_owned()),
            suggestions,
        },
        PasswordError::TooShort { min } => ApiError::Validation {
            field: "password",
            reason: format!("must be at least {min} characters"),
        },
        PasswordError::TooLong { max } => ApiError::Validation {
            field: "password",
            reason: format!("must be at most {max} bytes"),
        },
        other => ApiError::internal(other),
    }
}

/// Writes a prepared account and its audit event inside the caller's transaction.
pub async fn create_account(
    tx: &mut AnyConnection,
    account: PreparedAccount,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<UserRow> {
    let id = UserId::new_v7(now, &mut rand::rng());
    let row = users::insert(
        tx,
        &NewUser {
            id,
            username: account.username,
            display_name: account.display_name,
            password_hash: account.password_hash,
            roles: account.roles,
            created_at: now,
        },
    )
    .await?;
    audit::append(
        tx,
        &origin.record(
            now,
            AuditEvent::UserCreated {
                user: row.id,
                username: row.username.to_string(),
                roles: row.roles.clone(),
            },
        ),
    )
    .await?;
    Ok(row)
}

/// Creates an account (admin action).
pub async fn create_user(
    state: &AppState,
    account: NewAccount,
    origin: &Origin,
) -> ApiResult<UserRow> {
    let prepared = account.prepare(state).await?;
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let user = create_account(&mut tx, prepared, origin, now).await?;
    tx.commit().await?;
    Ok(user)
}

/// Finds an account by its sign-in name.
pub async fn find_user(state: &AppState, username: &str) -> ApiResult<UserRow> {
    let name = Username::parse(username).map_err(|_| ApiError::NotFound)?;
    let mut conn = state.store().acquire().await?;
    users::by_username(&mut conn, &name)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Lifts a lock and clears the failure count. Returns whether the account was locked.
pub async fn unlock(state: &AppState, user: UserId, origin: &Origin) -> ApiResult<bool> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    users::by_id(&mut tx, user)
        .await?
        .ok_or(ApiError::NotFound)?;
    let was_locked = lockout::lock_state(&mut tx, user)
        .await?
        .and_then(|lock| lock.locked_until)
        .is_some_and(|until| until > now);
    lockout::clear_lock(&mut tx, user).await?;
    lockout::reset_lock_count(&mut tx, user).await?;
    lockout::clear_failures(&mut tx, user).await?;
    if was_locked {
        let unlock = Unlock::Manual { by: origin.actor };
        audit::append(
            &mut tx,
            &origin.record(now, AuditEvent::AccountUnlocked { user, unlock }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(was_locked)
}

/// Ends one session of any account (admin action).
pub async fn force_logout(state: &AppState, session: SessionId, origin: &Origin) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let row = sessions::by_id(&mut tx, session)
        .await?
        .ok_or(ApiError::NotFound)?;
    if sessions::revoke(&mut tx, session, RevokeReason::ForcedLogout, now).await? {
        audit::append(
            &mut tx,
            &origin.record(
                now,
                AuditEvent::ForcedLogout {
                    user: row.user_id,
                    session,
                },
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Blocks an address for a while (admin action).
pub async fn block_ip(
    state: &AppState,
    ip: IpAddr,
    duration: Duration,
    note: String,
    origin: &Origin,
) -> ApiResult<OffsetDateTime> {
    if duration <= Duration::ZERO || duration > MAX_BLOCK {
        return Err(ApiError::Validation {
            field: "minutes",
            reason: "must be between 1 minute and 365 days".into(),
        });
    }
    if note.chars().count() > NOTE_MAX {
        return Err(ApiError::Validation {
            field: "note",
            reason: format!("must be at most {NOTE_MAX} characters"),
        });
    }
    let now = state.now();
    let until = now + duration;
    let reason = BlockReason::Manual {
        by: origin.actor,
        note,
    };
    let mut tx = state.store().begin().await?;
    lockout::block_ip(&mut tx, ip, until, &reason, origin.actor, now).await?;
    audit::append(
        &mut tx,
        &origin.record(now, AuditEvent::IpBlocked { ip, until, reason }),
    )
    .await?;
    tx.commit().await?;
    Ok(until)
}

/// Lifts a block. Returns whether there was one.
pub async fn unblock_ip(state: &AppState, ip: IpAddr, origin: &Origin) -> ApiResult<bool> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let lifted = lockout::unblock_ip(&mut tx, ip).await?;
    if lifted {
        audit::append(&mut tx, &origin.record(now, AuditEvent::IpUnblocked { ip })).await?;
    }
    tx.commit().await?;
    Ok(lifted)
}
