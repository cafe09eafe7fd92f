//! TOTP enrollment for the signed-in account: start (secret + QR), confirm with one code (which
//! activates it and issues the first backup codes), disable, and regenerate backup codes.

use super::Origin;
use super::login::{replace_backup_codes, verify_totp};
use super::reauth::{load_user, reauthenticate};
use super::secrets::{open_totp_secret, seal_totp_secret};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::{AuditEvent, Regeneration};
use schild_core::backup_codes::BackupCode;
use schild_core::ids::UserId;
use schild_core::totp::{self, TotpSecret};
use schild_store::{audit, mfa};
use secrecy::SecretString;
use zeroize::Zeroizing;

/// What the account holder needs to add Schild to an authenticator app.
#[derive(Debug)]
pub struct Enrollment {
    /// The `otpauth://` URI (RFC 6238 key URI format).
    pub otpauth_uri: SecretString,
    /// The secret in base32, for typing by hand.
    pub secret_base32: SecretString,
    /// The URI as a QR code, SVG.
    pub qr_svg: Zeroizing<String>,
    /// The URI as a QR code, PNG bytes.
    pub qr_png: Zeroizing<Vec<u8>>,
}

/// Issues a fresh secret, replacing any unconfirmed one. Active only once confirmed.
pub async fn start(
    state: &AppState,
    user: UserId,
    password: SecretString,
    origin: &Origin,
) -> ApiResult<Enrollment> {
    let now = state.now();
    let user = load_user(state, user).await?;
    // The password first: a stolen access token alone must not bind the attacker's authenticator.
    let confirmed = reauthenticate(state, &user, password, origin, now).await?;
    let mut tx = state.store().begin().await?;
    confirmed.done(&mut tx).await?;
    if mfa::totp_for(&mut tx, user.id)
        .await?
        .is_some_and(|row| row.confirmed)
    {
        tx.commit().await?; // keeps the refund: the password was right
        return Err(ApiError::TotpAlreadyEnabled);
    }
    let secret = TotpSecret::generate(&mut rand::rng());
    let base32 = secret.to_base32();
    let uri = totp::otpauth_uri(&secret, &state.identity().issuer, user.username.as_str())
        .map_err(ApiError::internal)?;
    let qr_svg = totp::qr_svg(&uri).map_err(ApiError::internal)?;
    let qr_png = totp::qr_png(&uri).map_err(ApiError::internal)?;
    let sealed = seal_totp_secret(state, user.id, &base32)?;
    mfa::put_pending_totp(&mut tx, user.id, &sealed, now).await?;
    audit::append(
        &mut tx,
        &origin.record(now, AuditEvent::TotpEnrollmentStarted { user: user.id }),
    )
    .await?;
    tx.commit().await?;
    Ok(Enrollment {
        otpauth_uri: SecretString::from(uri.as_str()),
        secret_base32: SecretString::from(base32.to_string()),
        qr_svg,
        qr_png,
    })
}

/// Confirms enrollment with a current code; returns the first set of backup codes.
pub async fn confirm(
    state: &AppState,
    user: UserId,
    code: &str,
    origin: &Origin,
) -> ApiResult<Vec<BackupCode>> {
    let now = state.now();
    let user = load_user(state, user).await?;
    let mut tx = state.store().begin().await?;
    let pending = match mfa::totp_for(&mut tx, user.id).await? {
        Some(row) if row.confirmed => return Err(ApiError::TotpAlreadyEnabled),
        Some(row) => row,
        None => return Err(ApiError::TotpNotEnrolled),
    };
    let secret = open_totp_secret(state, user.id, &pending.secret)?;
    let Some(step) = verify_totp(&secret, code, None, now)? else {
        return Err(ApiError::InvalidSecondFactor);
    };
    mfa::confirm_totp(&mut tx, user.id, step, now).await?;
    audit::append(
        &mut tx,
        &origin.record(now, AuditEvent::TotpEnrolled { user: user.id }),
    )
    .await?;
    let codes = replace_backup_codes(&mut tx, &user, Regeneration::Enrollment, origin, now).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Switches TOTP off (and voids the backup codes). Needs the password and a current code, so a
/// stolen access token alone cannot remove the second factor.
pub async fn disable(
    state: &AppState,
    user: UserId,
    password: SecretString,
    code: &str,
    origin: &Origin,
) -> ApiResult<()> {
    let now = state.now();
    let user = load_user(state, user).await?;
    let confirmed = reauthenticate(state, &user, password, origin, now).await?;
    let mut tx = state.store().begin().await?;
    let row = mfa::totp_for(&mut tx, user.id)
        .await?
        .filter(|row| row.confirmed)
        .ok_or(ApiError::TotpNotEnrolled)?;
    let secret = open_totp_secret(state, user.id, &row.secret)?;
    let accepted = match verify_totp(&secret, code, row.last_used_step, now)? {
        Some(step) => mfa::set_last_used_step(&mut tx, user.id, step).await?,
        None => false,
    };
    if !accepted {
        drop(tx);
        return Err(confirmed.wrong_code(state, origin, now).await?);
    }
    confirmed.done(&mut tx).await?;
    mfa::delete_totp(&mut tx, user.id).await?;
    mfa::delete_backup_codes(&mut tx, user.id).await?;
    audit::append(
        &mut tx,
        &origin.record(now, AuditEvent::TotpDisabled { user: user.id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces the backup codes on request (after the password is confirmed).
pub async fn regenerate_backup_codes(
    state: &AppState,
    user: UserId,
    password: SecretString,
    origin: &Origin,
) -> ApiResult<Vec<BackupCode>> {
    let now = state.now();
    let user = load_user(state, user).await?;
    let confirmed = reauthenticate(state, &user, password, origin, now).await?;
    let mut tx = state.store().begin().await?;
    if !mfa::totp_for(&mut tx, user.id)
        .await?
        .is_some_and(|row| row.confirmed)
    {
        return Err(ApiError::TotpNotEnrolled);
    }
    confirmed.done(&mut tx).await?;
    let codes = replace_backup_codes(&mut tx, &user, Regeneration::OnRequest, origin, now).await?;
    tx.commit().await?;
    Ok(codes)
}
