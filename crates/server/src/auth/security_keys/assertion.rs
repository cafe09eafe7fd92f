//! Signing in with a security key: as the second factor after the password, or alone with a
//! discoverable credential and user verification (passwordless).
//!
//! Every answer is checked against the stored credential: it must belong to the account, be
//! active, and its signature counter must have moved on. A counter that did not (WebAuthn L2
//! §7.2 step 21) is recorded and, by policy, blocks the credential: its key may have been cloned.

use super::{Ceremony, ceremony_state, credential_id_text, errors, open_ceremony};
use crate::auth::Origin;
use crate::auth::guard::{self, Tally};
use crate::auth::session::{self, IssuedTokens};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::{AuditEvent, LoginFailure, LoginMethod};
use schild_core::authenticator::CounterRegression;
use schild_core::ids::UserId;
use schild_store::security_keys::{self, CeremonyPurpose, CredentialRow, CredentialState};
use schild_store::users::UserRow;
use schild_store::{audit, users};
use time::OffsetDateTime;
use uuid::Uuid;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AuthenticationState, Credential, PublicKeyCredential, RequestChallengeResponse,
    UserVerificationPolicy,
};

/// Starts the security-key second factor for the account named by an MFA challenge.
pub async fn begin_second_factor(
    state: &AppState,
    challenge: &str,
    origin: &Origin,
) -> ApiResult<Ceremony<RequestChallengeResponse>> {
    let now = state.now();
    let user = crate::auth::login::challenged_account(state, challenge, origin, now).await?;
    let mut conn = state.store().acquire().await?;
    let credentials: Vec<Credential> = security_keys::credentials_of(&mut conn, user.id)
        .await?
        .iter()
        .filter(|row| row.state == CredentialState::Active)
        .map(stored_credential)
        .collect::<ApiResult<_>>()?;
    if credentials.is_empty() {
        return Err(errors::no_security_key());
    }
    let policy = if super::registration::uv_required(state, &user) {
        UserVerificationPolicy::Required
    } else {
        UserVerificationPolicy::Preferred
    };
    let rp = state.security_keys();
    let builder = rp
        .core()
        .new_challenge_authenticate_builder(credentials, Some(policy))
        .map_err(ApiError::internal)?;
    let (options, ceremony) = rp
        .core()
        .generate_challenge_authenticate(builder)
        .map_err(ApiError::internal)?;
    open_ceremony(
        &mut conn,
        Some(user.id),
        CeremonyPurpose::SecondFactor,
        &ceremony,
        options,
        now,
    )
    .await
}

/// Checks the security-key answer of a second-factor step for `user`, whose attempt the caller
/// has admitted. `Ok(Some(row))` when it verified (the use is recorded); `Ok(None)` for any
/// wrong, replayed or foreign answer, which the caller counts as a failed attempt.
pub(crate) async fn verify_second_factor(
    state: &AppState,
    user: &UserRow,
    ceremony: Uuid,
    response: &PublicKeyCredential,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<Option<CredentialRow>> {
    let mut conn = state.store().acquire().await?;
    let Some(row) =
        security_keys::take_ceremony(&mut conn, ceremony, CeremonyPurpose::SecondFactor, now)
            .await?
            .filter(|row| row.user_id == Some(user.id))
    else {
        return Ok(None);
    };
    drop(conn);
    let ceremony: AuthenticationState = ceremony_state(&row)?;
    check_assertion(state, user.id, &ceremony, response, origin, now).await
}

/// Starts a passwordless sign-in: any discoverable credential may answer, with user
/// verification.
pub async fn begin_passwordless(
    state: &AppState,
    origin: &Origin,
) -> ApiResult<Ceremony<RequestChallengeResponse>> {
    let now = state.now();
    guard::ensure_ip_allowed(state, origin.ip, now).await?;
    let rp = state.security_keys();
    let builder = rp
        .core()
        .new_challenge_authenticate_builder(Vec::new(), Some(UserVerificationPolicy::Required))
        .map_err(ApiError::internal)?;
    let (options, ceremony) = rp
        .core()
        .generate_challenge_authenticate(builder)
        .map_err(ApiError::internal)?;
    let mut conn = state.store().acquire().await?;
    open_ceremony(
        &mut conn,
        None,
        CeremonyPurpose::Passwordless,
        &ceremony,
        options,
        now,
    )
    .await
}

/// The name recorded for a passwordless attempt whose key names no known account.
const UNKNOWN_KEY: &str = "(unknown security key)";

/// Completes a passwordless sign-in. Every failure answers [`ApiError::InvalidCredentials`],
/// counted against the address and, once the key names an account, against that account.
pub async fn finish_passwordless(
    state: &AppState,
    ceremony: Uuid,
    response: &PublicKeyCredential,
    origin: &Origin,
) -> ApiResult<IssuedTokens> {
    let now = state.now();
    guard::ensure_ip_allowed(state, origin.ip, now).await?;
    let mut conn = state.store().acquire().await?;
    let stored =
        security_keys::take_ceremony(&mut conn, ceremony, CeremonyPurpose::Passwordless, now)
            .await?;
    let credential_id = credential_id_text(response.get_credential_id());
    let credential = security_keys::credential_by_credential_id(&mut conn, &credential_id).await?;
    // The account is the credential's owner. A user handle, when the client passes one on
    // (WebAuthn L2 §7.2 step 6), must name that same account; some CTAP clients drop it, and the
    // credential id alone names exactly one stored credential.
    let handle = response
        .get_user_unique_id()
        .map(|handle| Uuid::from_slice(handle).ok().map(UserId));
    let holder = match &credential {
        Some(credential) => users::by_id(&mut conn, credential.user_id).await?,
        None => None,
    };
    drop(conn);
    let (Some(stored), Some(user), Some(credential)) = (stored, holder, credential) else {
        return refuse(state, None, UNKNOWN_KEY, Tally::AddressOnly, origin, now).await;
    };
    let name = user.username.to_string();
    let handle_matches = handle.is_none_or(|handle| handle == Some(user.id));
    if !handle_matches || !credential.discoverable {
        return refuse(state, Some(user.id), &name, Tally::AddressOnly, origin, now).await;
    }
    if !guard::admit(state, user.id, &name, origin, now).await? {
        return refuse(state, Some(user.id), &name, Tally::AddressOnly, origin, now).await;
    }
    if user.disabled {
        return refuse(state, Some(user.id), &name, Tally::Admitted, origin, now).await;
    }
    let ceremony: AuthenticationState = ceremony_state(&stored)?;
    if check_assertion(state, user.id, &ceremony, response, origin, now)
        .await?
        .is_none()
    {
        return refuse(state, Some(user.id), &name, Tally::Admitted, origin, now).await;
    }
    let mut tx = state.store().begin().await?;
    let tokens =
        session::begin(state, &mut tx, &user, LoginMethod::SecurityKey, origin, now).await?;
    tx.commit().await?;
    Ok(tokens)
}

async fn refuse<T>(
    state: &AppState,
    user: Option<UserId>,
    name: &str,
    tally: Tally,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<T> {
    let reason = LoginFailure::WrongSecurityKey;
    guard::record_failure(state, user, name, reason, tally, origin, now).await?;
    Err(ApiError::InvalidCredentials)
}

/// Verifies an assertion against the stored credential it names, and records the use.
async fn check_assertion(
    state: &AppState,
    user: UserId,
    ceremony: &AuthenticationState,
    response: &PublicKeyCredential,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<Option<CredentialRow>> {
    let credential_id = credential_id_text(response.get_credential_id());
    let mut conn = state.store().acquire().await?;
    let Some(row) = security_keys::credential_by_credential_id(&mut conn, &credential_id)
        .await?
        .filter(|row| row.user_id == user && row.state == CredentialState::Active)
    else {
        return Ok(None);
    };
    let mut credential = stored_credential(&row)?;
    let rp = state.security_keys();
    let result = match rp
        .core()
        .authenticate_single_credential(response, ceremony, &credential)
    {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            drop(conn);
            counter_regressed(state, &row, origin, now).await?;
            return Ok(None);
        }
        Err(error) => {
            tracing::info!(%error, credential = %row.id, "security-key assertion refused");
            return Ok(None);
        }
    };
    let new_count = u64::from(result.counter()).max(row.sign_count);
    credential.counter = credential.counter.max(result.counter());
    credential.backup_state = result.backup_state();
    credential.backup_eligible |= result.backup_eligible();
    let json = serde_json::to_string(&credential).map_err(ApiError::internal)?;
    // Compare-and-set on the counter read above: a concurrent use of the same credential with
    // the same counter loses.
    if !security_keys::record_use(&mut conn, row.id, row.sign_count, new_count, &json, now).await? {
        return Ok(None);
    }
    Ok(Some(row))
}

/// Records a counter regression and, by policy, blocks the credential.
async fn counter_regressed(
    state: &AppState,
    row: &CredentialRow,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<()> {
    let block = state.security_keys().policy().on_counter_regression == CounterRegression::Block;
    let mut tx = state.store().begin().await?;
    let blocked = block
        && security_keys::set_credential_state(
            &mut tx,
            row.id,
            CredentialState::Active,
            CredentialState::Blocked,
            "signature counter went backwards: the key may have been cloned",
            now,
        )
        .await?;
    let event = AuditEvent::SecurityKeyCounterRegressed {
        user: row.user_id,
        credential: row.id,
        stored: row.sign_count,
        blocked,
    };
    audit::append(&mut tx, &origin.record(now, event)).await?;
    tx.commit().await?;
    tracing::warn!(credential = %row.id, blocked, "security-key signature counter regressed");
    Ok(())
}

/// A stored credential record, as webauthn-rs reads it.
fn stored_credential(row: &CredentialRow) -> ApiResult<Credential> {
    serde_json::from_str(&row.credential).map_err(ApiError::internal)
}
