//! Managing registered credentials (list, rename, revoke, unblock) and the physical-key
//! inventory (list, mark lost or revoked, which revokes the key's credentials).

use super::errors;
use crate::auth::Origin;
use crate::auth::reauth::{load_user, reauthenticate};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::AuditEvent;
use schild_core::ids::UserId;
use schild_store::audit;
use schild_store::hardware_keys::{self, HardwareKeyRow, KeyState};
use schild_store::security_keys::{self, CredentialRow, CredentialState};
use secrecy::SecretString;
use uuid::Uuid;

/// An account's credentials, in any state, oldest first.
pub async fn list(state: &AppState, user: UserId) -> ApiResult<Vec<CredentialRow>> {
    let mut conn = state.store().acquire().await?;
    Ok(security_keys::credentials_of(&mut conn, user).await?)
}

/// Renames one of `user`'s credentials.
pub async fn rename(
    state: &AppState,
    user: UserId,
    credential: Uuid,
    name: &str,
    origin: &Origin,
) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    if !security_keys::rename_credential(&mut tx, user, credential, name).await? {
        return Err(ApiError::NotFound);
    }
    let event = AuditEvent::SecurityKeyRenamed { user, credential };
    audit::append(&mut tx, &origin.record(now, event)).await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes one of `user`'s credentials, active or blocked. Final.
pub async fn revoke(
    state: &AppState,
    user: UserId,
    credential: Uuid,
    reason: &str,
    origin: &Origin,
) -> ApiResult<()> {
    let event = AuditEvent::SecurityKeyRevoked {
        user,
        credential,
        reason: reason.to_owned(),
    };
    let refusal = "the credential is already revoked";
    transition(
        state,
        user,
        credential,
        None,
        CredentialState::Revoked,
        reason,
        origin,
        event,
        refusal,
    )
    .await
}

/// Revokes one of the signed-in holder's own keys, after they type their password again (so a
/// stolen access token alone cannot remove a factor).
pub async fn revoke_own(
    state: &AppState,
    holder: UserId,
    credential: Uuid,
    password: SecretString,
    origin: &Origin,
) -> ApiResult<()> {
    let user = load_user(state, holder).await?;
    let confirmed = reauthenticate(state, &user, password, origin, state.now()).await?;
    revoke(state, user.id, credential, "revoked by its holder", origin).await?;
    let mut conn = state.store().acquire().await?;
    confirmed.done(&mut conn).await?;
    Ok(())
}

/// Makes a credential blocked after a counter regression usable again.
pub async fn unblock(
    state: &AppState,
    user: UserId,
    credential: Uuid,
    reason: &str,
    origin: &Origin,
) -> ApiResult<()> {
    let event = AuditEvent::SecurityKeyUnblocked {
        user,
        credential,
        reason: reason.to_owned(),
    };
    let refusal = "only a blocked credential can be unblocked";
    let from = Some(CredentialState::Blocked);
    transition(
        state,
        user,
        credential,
        from,
        CredentialState::Active,
        reason,
        origin,
        event,
        refusal,
    )
    .await
}

/// Moves one of `user`'s credentials to `to` (from `from`, or from whatever state it is in) and
/// audits `event`, in one transaction; `refusal` when it is not in a state that allows it.
#[allow(clippy::too_many_arguments)]
async fn transition(
    state: &AppState,
    user: UserId,
    credential: Uuid,
    from: Option<CredentialState>,
    to: CredentialState,
    reason: &str,
    origin: &Origin,
    event: AuditEvent,
    refusal: &'static str,
) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let row = owned(&mut tx, user, credential).await?;
    let from = from.unwrap_or(row.state);
    if !security_keys::set_credential_state(&mut tx, row.id, from, to, reason, now).await? {
        return Err(errors::wrong_state(refusal));
    }
    audit::append(&mut tx, &origin.record(now, event)).await?;
    tx.commit().await?;
    Ok(())
}

async fn owned(
    conn: &mut schild_store::AnyConnection,
    user: UserId,
    credential: Uuid,
) -> ApiResult<CredentialRow> {
    security_keys::credential(conn, credential)
        .await?
        .filter(|row| row.user_id == user)
        .ok_or(ApiError::NotFound)
}

/// The inventory: everyone's keys, or one holder's, newest first.
pub async fn list_inventory(
    state: &AppState,
    holder: Option<UserId>,
) -> ApiResult<Vec<HardwareKeyRow>> {
    let mut conn = state.store().acquire().await?;
    Ok(hardware_keys::list(&mut conn, holder).await?)
}

/// Marks an issued key lost or revoked and revokes every credential on it, in one transaction.
/// Returns the updated entry and how many credentials were revoked.
pub async fn withdraw_hardware_key(
    state: &AppState,
    key: Uuid,
    to: KeyState,
    reason: &str,
    origin: &Origin,
) -> ApiResult<(HardwareKeyRow, u32)> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let row = hardware_keys::by_id(&mut tx, key)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !hardware_keys::withdraw(&mut tx, key, to, origin.actor, reason, now).await? {
        return Err(errors::wrong_state("the key is no longer active"));
    }
    let revoked = security_keys::revoke_credentials_on_key(&mut tx, key, reason, now).await?;
    for credential in &revoked {
        let event = AuditEvent::SecurityKeyRevoked {
            user: row.user_id,
            credential: *credential,
            reason: reason.to_owned(),
        };
        audit::append(&mut tx, &origin.record(now, event)).await?;
    }
    let count = u32::try_from(revoked.len()).unwrap_or(u32::MAX);
    let event = AuditEvent::HardwareKeyWithdrawn {
        user: row.user_id,
        key,
        state: to.as_str().to_owned(),
        credentials_revoked: count,
    };
    audit::append(&mut tx, &origin.record(now, event)).await?;
    let updated = hardware_keys::by_id(&mut tx, key)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok((updated, count))
}
