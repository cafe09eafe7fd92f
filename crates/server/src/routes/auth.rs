//! Sign-in, second factor, refresh and logout.

use super::dto::{
    BackupCodeSet, CODE_FIELD_MAX, PASSWORD_FIELD_MAX, TOKEN_FIELD_MAX, TokenPair,
    USERNAME_FIELD_MAX, bounded, bounded_bytes,
};
use crate::auth::Origin;
use crate::auth::login::{self, LoginOutcome, SecondFactor};
use crate::auth::session;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(second_factor))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(logout_everywhere))
}

/// Username and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Sign-in name.
    username: String,
    /// Password.
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// The result of the password step.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LoginResponse {
    /// Signed in: here are the tokens.
    SignedIn(TokenPair),
    /// A second factor is needed: send it with `mfa_token` to `/api/v1/auth/mfa`.
    MfaRequired {
        /// Challenge for the second step, valid 5 minutes.
        mfa_token: String,
        /// Accepted factors.
        methods: Vec<&'static str>,
        /// When the challenge expires.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
}

/// Password step of sign-in.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Wrong credentials, unknown or locked account (one answer for all)", body = Problem),
        (status = 403, description = "The client address is blocked", body = Problem),
        (status = 422, body = Problem),
    ))]
async fn login(
    State(state): State<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    bounded("username", &body.username, USERNAME_FIELD_MAX)?;
    bounded_bytes(
        "password",
        body.password.expose_secret(),
        PASSWORD_FIELD_MAX,
    )?;
    Ok(Json(
        match login::password_step(&state, &body.username, body.password, &origin).await? {
            LoginOutcome::SignedIn(tokens) => {
                LoginResponse::SignedIn(TokenPair::from_issued(tokens, state.now()))
            }
            LoginOutcome::SecondFactorRequired {
                challenge,
                expires_at,
                methods,
            } => LoginResponse::MfaRequired {
                mfa_token: challenge,
                methods,
                expires_at,
            },
        },
    ))
}

/// The second factor: exactly one of `totp_code`, `backup_code` and `security_key`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorRequest {
    /// The challenge from the password step.
    mfa_token: String,
    /// A 6-digit code from the authenticator app.
    #[serde(default)]
    totp_code: Option<String>,
    /// A single-use backup code (`xxxx-xxxx-xxxx`).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    backup_code: Option<SecretString>,
    /// A security key's answer to the ceremony from `/auth/mfa/security-key`.
    #[serde(default)]
    security_key: Option<super::security_keys::AssertionAnswer>,
}

/// Signed in after the second factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecondFactorResponse {
    /// The new session's tokens.
    #[serde(flatten)]
    tokens: TokenPair,
    /// Present when a backup code was used: the complete new set, shown once. The old set is void.
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_codes: Option<BackupCodeSet>,
}

/// Second-factor step of sign-in.
#[utoipa::path(post, path = "/auth/mfa", tag = "auth", request_body = SecondFactorRequest,
    responses(
        (status = 200, body = SecondFactorResponse),
        (status = 401, description = "Wrong, used or expired code, or expired challenge", body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    ))]
async fn second_factor(
    State(state): State<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<SecondFactorRequest>,
) -> ApiResult<Json<SecondFactorResponse>> {
    bounded("mfa_token", &body.mfa_token, TOKEN_FIELD_MAX)?;
    let factor = match (body.totp_code, body.backup_code, body.security_key) {
        (Some(code), None, None) => {
            bounded("totp_code", &code, CODE_FIELD_MAX)?;
            SecondFactor::Totp(code)
        }
        (None, Some(code), None) => {
            bounded("backup_code", code.expose_secret(), CODE_FIELD_MAX)?;
            SecondFactor::BackupCode(code)
        }
        (None, None, Some(answer)) => {
            let (ceremony, credential) = answer.into_parts();
            SecondFactor::SecurityKey {
                ceremony,
                credential,
            }
        }
        _ => {
            return Err(ApiError::Validation {
                field: "totp_code",
                reason: "send exactly one of totp_code, backup_code and security_key".into(),
            });
        }
    };
    let outcome = login::second_factor_step(&state, &body.mfa_token, factor, &origin).await?;
    Ok(Json(SecondFactorResponse {
        tokens: TokenPair::from_issued(outcome.tokens, state.now()),
        backup_codes: outcome
            .new_backup_codes
            .as_deref()
            .map(BackupCodeSet::reveal),
    }))
}

/// A refresh token to exchange.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The current refresh token; it is void after this call.
    #[schema(value_type = String, format = Password)]
    refresh_token: SecretString,
}

/// Exchanges a refresh token for a new pair (rotation). Reusing a spent token ends the session.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "Unknown, expired or reused refresh token", body = Problem),
        (status = 422, body = Problem),
    ))]
async fn refresh(
    State(state): State<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    bounded(
        "refresh_token",
        body.refresh_token.expose_secret(),
        TOKEN_FIELD_MAX,
    )?;
    let tokens = session::refresh(&state, body.refresh_token.expose_secret(), &origin).await?;
    Ok(Json(TokenPair::from_issued(tokens, state.now())))
}

/// Ends the current session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = Problem)))]
async fn logout(
    State(state): State<AppState>,
    origin: Origin,
    caller: Caller,
) -> ApiResult<StatusCode> {
    let origin = origin.acting(caller.user());
    session::logout(&state, caller.user(), caller.session(), &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many sessions ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogoutEverywhereResponse {
    /// Sessions ended, including the current one.
    sessions_ended: u32,
}

/// Ends every session of the signed-in account.
#[utoipa::path(post, path = "/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = LogoutEverywhereResponse), (status = 401, body = Problem)))]
async fn logout_everywhere(
    State(state): State<AppState>,
    origin: Origin,
    caller: Caller,
) -> ApiResult<Json<LogoutEverywhereResponse>> {
    let origin = origin.acting(caller.user());
    let sessions_ended = session::logout_everywhere(&state, caller.user(), &origin).await?;
    Ok(Json(LogoutEverywhereResponse { sessions_ended }))
}
