//! The signed-in account: profile, own sessions, TOTP enrollment and backup codes.

use super::dto::{
    BackupCodeSet, CODE_FIELD_MAX, PASSWORD_FIELD_MAX, SessionView, bounded, bounded_bytes,
};
use crate::auth::{Origin, totp};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, Authorized};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use schild_core::rbac::{PermissionSet, need};
use schild_store::{mfa, sessions, users};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(profile))
        .routes(routes!(my_sessions))
        .routes(routes!(totp_enroll))
        .routes(routes!(totp_confirm))
        .routes(routes!(totp_disable))
        .routes(routes!(backup_codes_regenerate))
}

/// The signed-in account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    /// Account id.
    id: Uuid,
    /// Sign-in name.
    username: String,
    /// Display name.
    display_name: String,
    /// Roles.
    roles: Vec<String>,
    /// Whether TOTP is active (required at sign-in).
    totp_enabled: bool,
    /// Unused backup codes left.
    backup_codes_left: usize,
    /// The session of this access token.
    session_id: Uuid,
    /// What the account may do right now: its roles' permissions plus active just-in-time
    /// grants, as `resource:action` names.
    #[schema(value_type = Vec<String>)]
    permissions: PermissionSet,
}

/// The signed-in account's profile and factor status.
#[utoipa::path(get, path = "/me", tag = "me", security(("bearer" = ["profile:read"])),
    responses((status = 200, body = Profile), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn profile(
    State(state): State<AppState>,
    caller: Authorized<need::ProfileRead>,
) -> ApiResult<Json<Profile>> {
    let mut conn = state.store().acquire().await?;
    let user = users::by_id(&mut conn, caller.user())
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let totp_enabled = mfa::totp_for(&mut conn, user.id)
        .await?
        .is_some_and(|row| row.confirmed);
    let backup_codes_left = mfa::backup_codes(&mut conn, user.id).await?.len();
    Ok(Json(Profile {
        id: user.id.0,
        username: user.username.to_string(),
        display_name: user.display_name,
        roles: user.roles,
        totp_enabled,
        backup_codes_left,
        session_id: caller.session().0,
        permissions: caller.permissions,
    }))
}

/// The signed-in account's active sessions.
#[utoipa::path(get, path = "/me/sessions", tag = "me", security(("bearer" = ["profile:read"])),
    responses((status = 200, body = Vec<SessionView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn my_sessions(
    State(state): State<AppState>,
    caller: Authorized<need::ProfileRead>,
) -> ApiResult<Json<Vec<SessionView>>> {
    let mut conn = state.store().acquire().await?;
    let rows = sessions::list_for_user(&mut conn, caller.user(), false, state.now()).await?;
    Ok(Json(rows.into_iter().map(SessionView::from).collect()))
}

/// A new, not yet active TOTP secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrollment {
    /// `otpauth://totp/…` key URI for authenticator apps.
    otpauth_uri: String,
    /// The secret in base32, for typing by hand.
    secret: String,
    /// QR code of the URI, as an SVG document.
    qr_svg: String,
    /// QR code of the URI, as a base64 PNG.
    qr_png_base64: String,
}

/// Starts TOTP enrollment (the password is asked again); confirm with a code to activate it.
#[utoipa::path(post, path = "/me/totp/enroll", tag = "me", security(("bearer" = ["profile:manage"])),
    request_body = PasswordConfirmation,
    responses((status = 200, body = TotpEnrollment), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "TOTP is already active", body = Problem), (status = 422, body = Problem)))]
async fn totp_enroll(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::ProfileManage>,
    ApiJson(body): ApiJson<PasswordConfirmation>,
) -> ApiResult<Json<TotpEnrollment>> {
    bounded_bytes(
        "password",
        body.password.expose_secret(),
        PASSWORD_FIELD_MAX,
    )?;
    let origin = origin.acting(caller.user());
    let enrollment = totp::start(&state, caller.user(), body.password, &origin).await?;
    Ok(Json(TotpEnrollment {
        otpauth_uri: enrollment.otpauth_uri.expose_secret().to_owned(),
        secret: enrollment.secret_base32.expose_secret().to_owned(),
        qr_svg: enrollment.qr_svg.to_string(),
        qr_png_base64: base64::engine::general_purpose::STANDARD.encode(&enrollment.qr_png),
    }))
}

/// A current TOTP code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    /// Six digits from the authenticator app.
    code: String,
}

/// Activates TOTP with one valid code; returns the first backup codes, shown once.
#[utoipa::path(post, path = "/me/totp/confirm", tag = "me", security(("bearer" = ["profile:manage"])), request_body = TotpCode,
    responses((status = 200, body = BackupCodeSet), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn totp_confirm(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::ProfileManage>,
    ApiJson(body): ApiJson<TotpCode>,
) -> ApiResult<Json<BackupCodeSet>> {
    bounded("code", &body.code, CODE_FIELD_MAX)?;
    let origin = origin.acting(caller.user());
    let codes = totp::confirm(&state, caller.user(), &body.code, &origin).await?;
    Ok(Json(BackupCodeSet::reveal(&codes)))
}

/// Password and a current code, to switch TOTP off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpDisableRequest {
    /// The account's password.
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// A current TOTP code.
    code: String,
}

/// Switches TOTP off and voids the backup codes.
#[utoipa::path(post, path = "/me/totp/disable", tag = "me", security(("bearer" = ["profile:manage"])), request_body = TotpDisableRequest,
    responses((status = 204, description = "TOTP disabled"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn totp_disable(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::ProfileManage>,
    ApiJson(body): ApiJson<TotpDisableRequest>,
) -> ApiResult<StatusCode> {
    bounded_bytes(
        "password",
        body.password.expose_secret(),
        PASSWORD_FIELD_MAX,
    )?;
    bounded("code", &body.code, CODE_FIELD_MAX)?;
    let origin = origin.acting(caller.user());
    totp::disable(&state, caller.user(), body.password, &body.code, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The password, to confirm a sensitive change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordConfirmation {
    /// The account's password.
    #[schema(value_type = String, format = Password)]
    pub(super) password: SecretString,
}

/// Replaces the backup codes with a fresh set, shown once.
#[utoipa::path(post, path = "/me/backup-codes/regenerate", tag = "me", security(("bearer" = ["profile:manage"])),
    request_body = PasswordConfirmation,
    responses((status = 200, body = BackupCodeSet), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn backup_codes_regenerate(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::ProfileManage>,
    ApiJson(body): ApiJson<PasswordConfirmation>,
) -> ApiResult<Json<BackupCodeSet>> {
    bounded_bytes(
        "password",
        body.password.expose_secret(),
        PASSWORD_FIELD_MAX,
    )?;
    let origin = origin.acting(caller.user());
    let codes =
        totp::regenerate_backup_codes(&state, caller.user(), body.password, &origin).await?;
    Ok(Json(BackupCodeSet::reveal(&codes)))
}
