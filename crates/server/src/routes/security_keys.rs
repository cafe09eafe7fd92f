//! Security keys and passkeys over HTTP (`crate::auth::security_keys` holds the rules; these
//! handlers only translate).
//!
//! - Sign-in: `POST /auth/mfa/security-key` opens the second-factor ceremony (answer it at
//!   `POST /auth/mfa`); `POST /auth/passwordless/options` and `POST /auth/passwordless` sign in
//!   with a discoverable credential alone.
//! - The holder (`profile:read` / `profile:manage`): `/me/security-keys…` lists, registers
//!   (password asked again), renames and revokes their own keys.
//! - Enrollment stations and administrators: `/users/{id}/security-keys…` register (`key:enroll`),
//!   list (`key:read`), revoke and unblock (`key:revoke`) anyone's keys; `/hardware-keys…` is the
//!   inventory of issued keys, which can be marked lost or revoked (`key:revoke`).

use super::dto::{PASSWORD_FIELD_MAX, TOKEN_FIELD_MAX, TokenPair, bounded, bounded_bytes};
use super::me::PasswordConfirmation;
use crate::auth::Origin;
use crate::auth::reauth::load_user;
use crate::auth::security_keys::{self as keys, Ceremony, Issue, Registration};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authorized};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use schild_core::authenticator::Aaguid;
use schild_core::ids::UserId;
use schild_core::rbac::need;
use schild_store::hardware_keys::{HardwareKeyRow, KeyState};
use schild_store::security_keys::{CredentialRow, CredentialState};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use webauthn_rs_core::proto::{PublicKeyCredential, RegisterPublicKeyCredential};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(second_factor_options))
        .routes(routes!(passwordless_options))
        .routes(routes!(passwordless))
        .routes(routes!(my_keys, register_mine))
        .routes(routes!(my_registration_options))
        .routes(routes!(rename_mine))
        .routes(routes!(revoke_mine))
        .routes(routes!(keys_of, register_for))
        .routes(routes!(registration_options_for))
        .routes(routes!(revoke_for))
        .routes(routes!(unblock_for))
        .routes(routes!(inventory))
        .routes(routes!(mark_lost))
        .routes(routes!(mark_revoked))
}

/// Longest key name.
const NAME_MAX: usize = 64;
/// Longest reason.
const REASON_MAX: usize = 500;
/// Longest serial number or station name.
const LABEL_MAX: usize = 128;

fn name_field(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::Validation {
            field: "name",
            reason: "give the key a name".into(),
        });
    }
    bounded("name", name, NAME_MAX)?;
    if name.chars().any(char::is_control) {
        return Err(ApiError::Validation {
            field: "name",
            reason: "no control characters".into(),
        });
    }
    Ok(name.to_owned())
}

fn reason_field(reason: &str) -> ApiResult<String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::Validation {
            field: "reason",
            reason: "say why".into(),
        });
    }
    bounded("reason", reason, REASON_MAX)?;
    Ok(reason.to_owned())
}

fn label_field(field: &'static str, value: Option<String>) -> ApiResult<Option<String>> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => {
            bounded(field, value, LABEL_MAX)?;
            Ok(Some(value.to_owned()))
        }
    }
}

/// A WebAuthn ceremony for the client to answer: pass `options` to `navigator.credentials`
/// (`create` for registration, `get` for sign-in) or to a CTAP2 client, then send the answer
/// back with `ceremony_id` within five minutes.
#[derive(Debug, Serialize, ToSchema)]
pub struct CeremonyView {
    /// Send this back with the answer.
    ceremony_id: Uuid,
    /// When the ceremony expires.
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    /// The WebAuthn options (`{"publicKey": {…}}`).
    #[schema(value_type = Object)]
    options: serde_json::Value,
}

impl CeremonyView {
    fn of<T: Serialize>(ceremony: Ceremony<T>) -> ApiResult<Self> {
        Ok(Self {
            ceremony_id: ceremony.id,
            expires_at: ceremony.expires_at,
            options: serde_json::to_value(ceremony.options).map_err(ApiError::internal)?,
        })
    }
}

/// The MFA challenge from the password step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaChallenge {
    /// The `mfa_token` from `/auth/login`.
    mfa_token: String,
}

/// Opens the security-key second factor; answer it at `/auth/mfa` with `security_key`.
#[utoipa::path(post, path = "/auth/mfa/security-key", tag = "auth", request_body = MfaChallenge,
    responses((status = 200, body = CeremonyView), (status = 401, description = "Expired challenge", body = Problem),
        (status = 403, body = Problem), (status = 409, description = "No usable security key", body = Problem), (status = 422, body = Problem)))]
async fn second_factor_options(
    State(state): State<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<MfaChallenge>,
) -> ApiResult<Json<CeremonyView>> {
    bounded("mfa_token", &body.mfa_token, TOKEN_FIELD_MAX)?;
    let ceremony = keys::begin_second_factor(&state, &body.mfa_token, &origin).await?;
    Ok(Json(CeremonyView::of(ceremony)?))
}

/// Opens a passwordless sign-in: any registered discoverable credential may answer.
#[utoipa::path(post, path = "/auth/passwordless/options", tag = "auth",
    responses((status = 200, body = CeremonyView), (status = 403, body = Problem)))]
async fn passwordless_options(
    State(state): State<AppState>,
    origin: Origin,
) -> ApiResult<Json<CeremonyView>> {
    Ok(Json(CeremonyView::of(
        keys::begin_passwordless(&state, &origin).await?,
    )?))
}

/// An authenticator's answer to a sign-in ceremony.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssertionAnswer {
    /// The ceremony answered.
    ceremony_id: Uuid,
    /// The `PublicKeyCredential` from `navigator.credentials.get` (JSON form).
    #[schema(value_type = Object)]
    credential: Box<PublicKeyCredential>,
}

impl AssertionAnswer {
    /// The parts, for the second-factor step.
    pub(super) fn into_parts(self) -> (Uuid, Box<PublicKeyCredential>) {
        (self.ceremony_id, self.credential)
    }
}

/// Signs in with a discoverable credential and user verification, no password.
#[utoipa::path(post, path = "/auth/passwordless", tag = "auth", request_body = AssertionAnswer,
    responses((status = 200, body = TokenPair), (status = 401, description = "The key was not accepted (one answer for all reasons)", body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn passwordless(
    State(state): State<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<AssertionAnswer>,
) -> ApiResult<Json<TokenPair>> {
    let tokens =
        keys::finish_passwordless(&state, body.ceremony_id, &body.credential, &origin).await?;
    Ok(Json(TokenPair::from_issued(tokens, state.now())))
}

/// A registered security key or passkey.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityKeyView {
    /// Its id.
    id: Uuid,
    /// Its holder's name for it.
    name: String,
    /// The model, from the AAGUID ("unknown model" when not in the catalogue).
    model: &'static str,
    /// The AAGUID (all zeros when the key did not disclose it).
    aaguid: String,
    /// Transports it reported (`usb`, `nfc`, …).
    transports: Vec<String>,
    /// The attestation format at registration.
    attestation_format: String,
    /// Whether it can sign in without a password.
    discoverable: bool,
    /// Whether the user was verified (PIN or fingerprint) at registration.
    user_verified: bool,
    /// `active`, `blocked` (counter regression) or `revoked`.
    state: &'static str,
    /// The last signature counter seen.
    sign_count: u64,
    /// The inventory entry of its physical key, when issued at a station.
    hardware_key_id: Option<Uuid>,
    /// When it was registered.
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// When it last signed in.
    #[serde(with = "time::serde::rfc3339::option")]
    last_used_at: Option<OffsetDateTime>,
    /// When its state last changed.
    #[serde(with = "time::serde::rfc3339::option")]
    state_changed_at: Option<OffsetDateTime>,
    /// Why.
    state_reason: Option<String>,
}

fn state_name(state: CredentialState) -> &'static str {
    match state {
        CredentialState::Active => "active",
        CredentialState::Blocked => "blocked",
        CredentialState::Revoked => "revoked",
    }
}

impl From<CredentialRow> for SecurityKeyView {
    fn from(row: CredentialRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            model: row
                .aaguid
                .parse::<Aaguid>()
                .map_or("unknown model", Aaguid::model_name),
            aaguid: row.aaguid,
            transports: row.transports,
            attestation_format: row.attestation_format,
            discoverable: row.discoverable,
            user_verified: row.user_verified,
            state: state_name(row.state),
            sign_count: row.sign_count,
            hardware_key_id: row.hardware_key_id,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            state_changed_at: row.state_changed_at,
            state_reason: row.state_reason,
        }
    }
}

/// An account's keys, and whether it still lacks a backup key.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityKeyList {
    /// Every key, in any state, oldest first.
    keys: Vec<SecurityKeyView>,
    /// How many active keys the policy asks for.
    minimum: usize,
    /// Whether there are fewer active keys than that: register a backup key.
    lacks_backup: bool,
}

fn key_list(state: &AppState, rows: Vec<CredentialRow>) -> SecurityKeyList {
    let active = rows
        .iter()
        .filter(|row| row.state == CredentialState::Active)
        .count();
    let policy = state.security_keys().policy();
    SecurityKeyList {
        keys: rows.into_iter().map(SecurityKeyView::from).collect(),
        minimum: policy.minimum_keys,
        lacks_backup: policy.lacks_backup(active),
    }
}

/// The signed-in account's security keys.
#[utoipa::path(get, path = "/me/security-keys", tag = "me", security(("bearer" = ["profile:read"])),
    responses((status = 200, body = SecurityKeyList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn my_keys(
    State(state): State<AppState>,
    caller: Authorized<need::ProfileRead>,
) -> ApiResult<Json<SecurityKeyList>> {
    let rows = keys::list(&state, caller.user()).await?;
    Ok(Json(key_list(&state, rows)))
}

/// The password, and whether the key should sign in without it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnRegistrationRequest {
    /// The account's password.
    #[schema(value_type = String, format = Password)]
    password: secrecy::SecretString,
    /// Ask for a discoverable credential with user verification (passwordless sign-in).
    #[serde(default)]
    passwordless: bool,
}

/// Opens the registration of a key for the signed-in account (the password is asked again).
#[utoipa::path(post, path = "/me/security-keys/options", tag = "me", security(("bearer" = ["profile:manage"])),
    request_body = OwnRegistrationRequest,
    responses((status = 200, body = CeremonyView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn my_registration_options(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::ProfileManage>,
    ApiJson(body): ApiJson<OwnRegistrationRequest>,
) -> ApiResult<Json<CeremonyView>> {
    bounded_bytes(
        "password",
        body.password.expose_secret(),
        PASSWORD_FIELD_MAX,
    )?;
    let origin = origin.acting(caller.user());
    let ceremony = keys::begin_own_registration(
        &state,
        caller.user(),
        body.password,
        body.passwordless,
        &origin,
    )
    .await?;
    Ok(Json(CeremonyView::of(ceremony)?))
}

/// An authenticator's answer to a registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationAnswer {
    /// The ceremony answered.
    ceremony_id: Uuid,
    /// A name for the key ("blue YubiKey").
    name: String,
    /// The `PublicKeyCredential` from `navigator.credentials.create` (JSON form).
    #[schema(value_type = Object)]
    credential: Box<RegisterPublicKeyCredential>,
}

/// A registered key, and whether the account still lacks a backup key.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredView {
    /// The new key.
    key: SecurityKeyView,
    /// Its inventory entry, when issued at a station.
    hardware_key: Option<HardwareKeyView>,
    /// Whether the account has fewer active keys than the policy asks: register a backup key.
    lacks_backup: bool,
}

impl From<keys::Registered> for RegisteredView {
    fn from(registered: keys::Registered) -> Self {
        Self {
            key: registered.credential.into(),
            hardware_key: registered.hardware_key.map(Into::into),
            lacks_backup: registered.lacks_backup,
        }
    }
}

/// Completes the registration of a key for the signed-in account.
#[utoipa::path(post, path = "/me/security-keys", tag = "me", security(("bearer" = ["profile:manage"])),
    request_body = RegistrationAnswer,
    responses((status = 201, body = RegisteredView), (status = 401, body = Problem),
        (status = 403, description = "Model not allowed, or user verification required", body = Problem),
        (status = 409, description = "Ceremony expired, or key already registered", body = Problem),
        (status = 422, description = "The answer did not verify", body = Problem)))]
async fn register_mine(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::ProfileManage>,
    ApiJson(body): ApiJson<RegistrationAnswer>,
) -> ApiResult<(StatusCode, Json<RegisteredView>)> {
    let registration = Registration {
        ceremony: body.ceremony_id,
        name: name_field(&body.name)?,
        credential: *body.credential,
        issue: None,
    };
    let user = load_user(&state, caller.user()).await?;
    let origin = origin.acting(caller.user());
    let registered = keys::finish_registration(&state, &user, registration, &origin).await?;
    Ok((StatusCode::CREATED, Json(registered.into())))
}

/// A key's id.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct KeyPath {
    /// The key.
    id: Uuid,
}

/// A new name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    /// The new name.
    name: String,
}

/// Renames one of the signed-in account's keys.
#[utoipa::path(patch, path = "/me/security-keys/{id}", tag = "me", security(("bearer" = ["profile:manage"])),
    params(KeyPath), request_body = RenameRequest,
    responses((status = 204, description = "Renamed"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn rename_mine(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::ProfileManage>,
    ApiPath(path): ApiPath<KeyPath>,
    ApiJson(body): ApiJson<RenameRequest>,
) -> ApiResult<StatusCode> {
    let name = name_field(&body.name)?;
    let origin = origin.acting(caller.user());
    keys::rename(&state, caller.user(), path.id, &name, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes one of the signed-in account's keys (the password is asked again).
#[utoipa::path(post, path = "/me/security-keys/{id}/revoke", tag = "me", operation_id = "revoke_my_security_key", security(("bearer" = ["profile:manage"])),
    params(KeyPath), request_body = PasswordConfirmation,
    responses((status = 204, description = "Revoked"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn revoke_mine(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::ProfileManage>,
    ApiPath(path): ApiPath<KeyPath>,
    ApiJson(body): ApiJson<PasswordConfirmation>,
) -> ApiResult<StatusCode> {
    bounded_bytes(
        "password",
        body.password.expose_secret(),
        PASSWORD_FIELD_MAX,
    )?;
    let origin = origin.acting(caller.user());
    keys::revoke_own(&state, caller.user(), path.id, body.password, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An account's id.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The account.
    id: Uuid,
}

/// An account's key.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserKeyPath {
    /// The account.
    id: Uuid,
    /// The key.
    credential: Uuid,
}

async fn account(state: &AppState, id: Uuid) -> ApiResult<schild_store::users::UserRow> {
    let mut conn = state.store().acquire().await?;
    schild_store::users::by_id(&mut conn, UserId(id))
        .await?
        .ok_or(ApiError::NotFound)
}

/// An account's security keys.
#[utoipa::path(get, path = "/users/{id}/security-keys", tag = "keys", security(("bearer" = ["key:read"])),
    params(UserPath),
    responses((status = 200, body = SecurityKeyList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn keys_of(
    State(state): State<AppState>,
    _: Authorized<need::KeyRead>,
    ApiPath(path): ApiPath<UserPath>,
) -> ApiResult<Json<SecurityKeyList>> {
    let user = account(&state, path.id).await?;
    let rows = keys::list(&state, user.id).await?;
    Ok(Json(key_list(&state, rows)))
}

/// Whether the key should sign in without a password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StationRegistrationRequest {
    /// Ask for a discoverable credential with user verification (passwordless sign-in).
    #[serde(default)]
    passwordless: bool,
}

/// Opens the registration of a key for an account, at an enrollment station.
#[utoipa::path(post, path = "/users/{id}/security-keys/options", tag = "keys", security(("bearer" = ["key:enroll"])),
    params(UserPath), request_body = StationRegistrationRequest,
    responses((status = 200, body = CeremonyView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn registration_options_for(
    State(state): State<AppState>,
    _: Authorized<need::KeyEnroll>,
    ApiPath(path): ApiPath<UserPath>,
    ApiJson(body): ApiJson<StationRegistrationRequest>,
) -> ApiResult<Json<CeremonyView>> {
    let user = account(&state, path.id).await?;
    let ceremony = keys::begin_registration(&state, &user, body.passwordless).await?;
    Ok(Json(CeremonyView::of(ceremony)?))
}

/// An authenticator's answer to a registration at an enrollment station, with what the
/// inventory records about the physical key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StationRegistrationAnswer {
    /// The ceremony answered.
    ceremony_id: Uuid,
    /// A name for the key.
    name: String,
    /// The `PublicKeyCredential` (JSON form).
    #[schema(value_type = Object)]
    credential: Box<RegisterPublicKeyCredential>,
    /// The key's serial number, where it discloses one.
    #[serde(default)]
    serial: Option<String>,
    /// The enrollment station's name.
    #[serde(default)]
    station: Option<String>,
}

/// Completes a registration at an enrollment station and records the key in the inventory.
#[utoipa::path(post, path = "/users/{id}/security-keys", tag = "keys", security(("bearer" = ["key:enroll"])),
    params(UserPath), request_body = StationRegistrationAnswer,
    responses((status = 201, body = RegisteredView), (status = 401, body = Problem),
        (status = 403, description = "Missing permission, model not allowed, or user verification required", body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn register_for(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::KeyEnroll>,
    ApiPath(path): ApiPath<UserPath>,
    ApiJson(body): ApiJson<StationRegistrationAnswer>,
) -> ApiResult<(StatusCode, Json<RegisteredView>)> {
    let registration = Registration {
        ceremony: body.ceremony_id,
        name: name_field(&body.name)?,
        credential: *body.credential,
        issue: Some(Issue {
            serial: label_field("serial", body.serial)?,
            station: label_field("station", body.station)?,
        }),
    };
    let user = account(&state, path.id).await?;
    let origin = origin.acting(caller.user());
    let registered = keys::finish_registration(&state, &user, registration, &origin).await?;
    Ok((StatusCode::CREATED, Json(registered.into())))
}

/// Why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// Why, for the audit trail.
    reason: String,
}

/// Revokes an account's key.
#[utoipa::path(post, path = "/users/{id}/security-keys/{credential}/revoke", tag = "keys", security(("bearer" = ["key:revoke"])),
    params(UserKeyPath), request_body = ReasonRequest,
    responses((status = 204, description = "Revoked"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn revoke_for(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::KeyRevoke>,
    ApiPath(path): ApiPath<UserKeyPath>,
    ApiJson(body): ApiJson<ReasonRequest>,
) -> ApiResult<StatusCode> {
    let reason = reason_field(&body.reason)?;
    let origin = origin.acting(caller.user());
    keys::revoke(&state, UserId(path.id), path.credential, &reason, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a key blocked after a counter regression usable again.
#[utoipa::path(post, path = "/users/{id}/security-keys/{credential}/unblock", tag = "keys", security(("bearer" = ["key:revoke"])),
    params(UserKeyPath), request_body = ReasonRequest,
    responses((status = 204, description = "Unblocked"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn unblock_for(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::KeyRevoke>,
    ApiPath(path): ApiPath<UserKeyPath>,
    ApiJson(body): ApiJson<ReasonRequest>,
) -> ApiResult<StatusCode> {
    let reason = reason_field(&body.reason)?;
    let origin = origin.acting(caller.user());
    keys::unblock(&state, UserId(path.id), path.credential, &reason, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A physical key in the inventory.
#[derive(Debug, Serialize, ToSchema)]
pub struct HardwareKeyView {
    /// Its inventory id.
    id: Uuid,
    /// Its holder.
    user_id: Uuid,
    /// Its model at enrollment.
    model: String,
    /// Its AAGUID.
    aaguid: String,
    /// Its serial number, where known.
    serial: Option<String>,
    /// The enrollment station that issued it.
    station: Option<String>,
    /// The operator who issued it.
    enrolled_by: Option<Uuid>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    enrolled_at: OffsetDateTime,
    /// `active`, `lost` or `revoked`.
    state: &'static str,
    /// When its state last changed.
    #[serde(with = "time::serde::rfc3339::option")]
    state_changed_at: Option<OffsetDateTime>,
    /// Who changed it.
    state_changed_by: Option<Uuid>,
    /// Why.
    state_reason: Option<String>,
}

impl From<HardwareKeyRow> for HardwareKeyView {
    fn from(row: HardwareKeyRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id.0,
            model: row.model,
            aaguid: row.aaguid,
            serial: row.serial,
            station: row.station,
            enrolled_by: row.enrolled_by.map(|user| user.0),
            enrolled_at: row.enrolled_at,
            state: row.state.as_str(),
            state_changed_at: row.state_changed_at,
            state_changed_by: row.state_changed_by.map(|user| user.0),
            state_reason: row.state_reason,
        }
    }
}

/// Filter for the inventory.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InventoryQuery {
    /// Only this holder's keys.
    user: Option<Uuid>,
}

/// The inventory of issued keys, newest first.
#[utoipa::path(get, path = "/hardware-keys", tag = "keys", security(("bearer" = ["key:read"])),
    params(InventoryQuery),
    responses((status = 200, body = Vec<HardwareKeyView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn inventory(
    State(state): State<AppState>,
    _: Authorized<need::KeyRead>,
    ApiQuery(query): ApiQuery<InventoryQuery>,
) -> ApiResult<Json<Vec<HardwareKeyView>>> {
    let rows = keys::list_inventory(&state, query.user.map(UserId)).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// The key and what it took with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawnView {
    /// The updated entry.
    key: HardwareKeyView,
    /// How many credentials on it were revoked.
    credentials_revoked: u32,
}

async fn withdraw(
    state: &AppState,
    origin: Origin,
    actor: UserId,
    key: Uuid,
    to: KeyState,
    reason: &str,
) -> ApiResult<Json<WithdrawnView>> {
    let reason = reason_field(reason)?;
    let origin = origin.acting(actor);
    let (row, count) = keys::withdraw_hardware_key(state, key, to, &reason, &origin).await?;
    Ok(Json(WithdrawnView {
        key: row.into(),
        credentials_revoked: count,
    }))
}

/// Marks an issued key lost: its credentials are revoked.
#[utoipa::path(post, path = "/hardware-keys/{id}/lost", tag = "keys", security(("bearer" = ["key:revoke"])),
    params(KeyPath), request_body = ReasonRequest,
    responses((status = 200, body = WithdrawnView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn mark_lost(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::KeyRevoke>,
    ApiPath(path): ApiPath<KeyPath>,
    ApiJson(body): ApiJson<ReasonRequest>,
) -> ApiResult<Json<WithdrawnView>> {
    withdraw(
        &state,
        origin,
        caller.user(),
        path.id,
        KeyState::Lost,
        &body.reason,
    )
    .await
}

/// Marks an issued key revoked (returned, broken, holder left): its credentials are revoked.
#[utoipa::path(post, path = "/hardware-keys/{id}/revoke", tag = "keys", security(("bearer" = ["key:revoke"])),
    params(KeyPath), request_body = ReasonRequest,
    responses((status = 200, body = WithdrawnView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn mark_revoked(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::KeyRevoke>,
    ApiPath(path): ApiPath<KeyPath>,
    ApiJson(body): ApiJson<ReasonRequest>,
) -> ApiResult<Json<WithdrawnView>> {
    withdraw(
        &state,
        origin,
        caller.user(),
        path.id,
        KeyState::Revoked,
        &body.reason,
    )
    .await
}
