//! Errors at the HTTP edge: RFC 9457 problem+json with a stable machine code.
//!
//! The UI and scripts branch on `code`, never on the English text. Server-side failures (5xx) are
//! logged with their cause and answered with a generic body, so internals never reach a client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

/// Everything a request can fail with, each mapped to one status and one stable code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Username or password (or both) is wrong, the account is locked, or it does not exist. One
    /// answer for all of them so the response never reveals which accounts exist.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The second factor (TOTP or backup code) was wrong, expired or already used.
    #[error("invalid second factor")]
    InvalidSecondFactor,
    /// The MFA challenge token is missing, malformed or expired: start the sign-in again.
    #[error("sign-in challenge expired")]
    ChallengeExpired,
    /// The client's address is blocked after repeated failures or by an administrator.
    #[error("address blocked")]
    IpBlocked {
        /// Time until the block lifts, for `Retry-After`.
        retry_after: Duration,
    },
    /// No bearer token, or one that does not verify.
    #[error("not authenticated")]
    Unauthenticated,
    /// The access token has expired: refresh it.
    #[error("access token expired")]
    TokenExpired,
    /// The token's session was ended (logout, forced logout, refresh reuse).
    #[error("session ended")]
    SessionEnded,
    /// The refresh token is unknown, expired or belongs to an ended session.
    #[error("refresh token invalid")]
    RefreshInvalid,
    /// An already-used refresh token was presented; the whole session was revoked.
    #[error("refresh token reused")]
    RefreshReused,
    /// The caller lacks the permission this route needs.
    #[error("missing permission {0}")]
    MissingPermission(schild_core::rbac::Permission),
    /// An access-control rule refused the change (separation of duties, self-approval, a grant
    /// too long, a decision already taken…); nothing changed. See [`Refusal`].
    #[error("refused: {}", .0.code)]
    Refused(Refusal),
    /// No such resource.
    #[error("not found")]
    NotFound,
    /// The route exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is not JSON, or not valid UTF-8.
    #[error("malformed JSON")]
    MalformedJson,
    /// The body is JSON but does not match the expected shape (unknown field, wrong type…).
    #[error("invalid request body")]
    InvalidBody {
        /// Which part failed, in serde's words (never echoes values).
        detail: String,
    },
    /// The request must be sent as `application/json`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The body exceeds the size limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// A field failed validation.
    #[error("invalid field {field}")]
    Validation {
        /// The field's name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The new password is too weak or too common.
    #[error("weak password")]
    WeakPassword {
        /// What the strength check said.
        reason: String,
        /// How to pick a better one.
        suggestions: Vec<String>,
    },
    /// The username is taken.
    #[error("username taken")]
    UsernameTaken,
    /// Setup was already completed: an administrator exists.
    #[error("setup already done")]
    SetupDone,
    /// The setup token is wrong, used or expired.
    #[error("setup token invalid")]
    SetupTokenInvalid,
    /// TOTP is already active for this account.
    #[error("TOTP already enabled")]
    TotpAlreadyEnabled,
    /// No TOTP enrollment to confirm or disable.
    #[error("TOTP not enrolled")]
    TotpNotEnrolled,
    /// The service is not ready (database unreachable).
    #[error("not ready")]
    Unavailable,
    /// A server-side failure; the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// Wraps any server-side failure as an opaque 500.
    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(cause))
    }

    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidCredentials
            | Self::InvalidSecondFactor
            | Self::ChallengeExpired
            | Self::Unauthenticated
            | Self::TokenExpired
            | Self::SessionEnded
            | Self::RefreshInvalid
            | Self::RefreshReused
            | Self::SetupTokenInvalid => StatusCode::UNAUTHORIZED,
            Self::IpBlocked { .. } | Self::MissingPermission(_) => StatusCode::FORBIDDEN,
            Self::Refused(refusal) => refusal.status,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::MalformedJson => StatusCode::BAD_REQUEST,
            Self::InvalidBody { .. } | Self::Validation { .. } | Self::WeakPassword { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UsernameTaken
            | Self::SetupDone
            | Self::TotpAlreadyEnabled
            | Self::TotpNotEnrolled => StatusCode::CONFLICT,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidSecondFactor => "invalid_second_factor",
            Self::ChallengeExpired => "challenge_expired",
            Self::IpBlocked { .. } => "ip_blocked",
            Self::Unauthenticated => "unauthenticated",
            Self::TokenExpired => "token_expired",
            Self::SessionEnded => "session_ended",
            Self::RefreshInvalid => "refresh_invalid",
            Self::RefreshReused => "refresh_reused",
            Self::MissingPermission(_) => "forbidden",
            Self::Refused(refusal) => refusal.code,
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::MalformedJson => "malformed_json",
            Self::InvalidBody { .. } => "invalid_body",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Validation { .. } => "validation_failed",
            Self::WeakPassword { .. } => "weak_password",
            Self::UsernameTaken => "username_taken",
            Self::SetupDone => "setup_done",
            Self::SetupTokenInvalid => "setup_token_invalid",
            Self::TotpAlreadyEnabled => "totp_already_enabled",
            Self::TotpNotEnrolled => "totp_not_enrolled",
            Self::Unavailable => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// A one-line human title and a recommendation: what to do next.
    fn texts(&self) -> (&'static str, &'static str) {
        match self {
            Self::InvalidCredentials => (
                "The username or password is wrong, or the account is temporarily locked.",
                "Check the username and password. After several failed attempts the account locks for a while; wait, or ask an administrator to unlock it.",
            ),
            Self::InvalidSecondFactor => (
                "The code is wrong, expired or already used.",
                "Type the current code from your authenticator app, or one unused backup code.",
            ),
            Self::ChallengeExpired => (
                "The sign-in step expired.",
                "Start signing in again with your username and password.",
            ),
            Self::IpBlocked { .. } => (
                "Sign-in from this network address is blocked.",
                "Too many failed sign-ins came from this address. Wait until the block lifts or contact your security team.",
            ),
            Self::Unauthenticated => (
                "You are not signed in.",
                "Sign in and send the access token as a Bearer token.",
            ),
            Self::TokenExpired => (
                "The access token has expired.",
                "Use your refresh token to get a new access token.",
            ),
            Self::SessionEnded => ("This session has ended.", "Sign in again."),
            Self::RefreshInvalid => (
                "The refresh token is not valid.",
                "Sign in again; refresh tokens expire after 7 days and work once each.",
            ),
            Self::RefreshReused => (
                "This refresh token was already used, so the session was ended for safety.",
                "Sign in again. If you did not use this token twice, someone else may have it: tell your security team.",
            ),
            Self::MissingPermission(_) => (
                "You do not have permission for this.",
                "Ask an administrator for a role with the permission named in the detail, or request it just in time.",
            ),
            Self::Refused(refusal) => (refusal.title, refusal.recommendation),
            Self::NotFound => ("Not found.", "Check the address and the identifier."),
            Self::MethodNotAllowed => (
                "This method is not allowed here.",
                "See the API document at /api/v1/openapi.json.",
            ),
            Self::MalformedJson => (
                "The request body is not valid JSON.",
                "Send a UTF-8 JSON object.",
            ),
            Self::InvalidBody { .. } => (
                "The request body does not have the expected fields.",
                "See the API document at /api/v1/openapi.json for this route's schema.",
            ),
            Self::UnsupportedMediaType => (
                "The request body must be JSON.",
                "Send the header Content-Type: application/json.",
            ),
            Self::PayloadTooLarge => ("The request body is too large.", "Send a smaller request."),
            Self::Validation { .. } => (
                "A field is not valid.",
                "Correct the field named in the detail and try again.",
            ),
            Self::WeakPassword { .. } => (
                "The password is too weak.",
                "Use a longer passphrase of several unrelated words; avoid names, dates and common passwords.",
            ),
            Self::UsernameTaken => ("This username is taken.", "Choose another username."),
            Self::SetupDone => (
                "Setup is already complete.",
                "Sign in with the administrator account.",
            ),
            Self::SetupTokenInvalid => (
                "The setup token is wrong, used or expired.",
                "Restart the server to print a fresh one-time setup token.",
            ),
            Self::TotpAlreadyEnabled => (
                "An authenticator app is already set up.",
                "Disable it first if you want to enroll a new one.",
            ),
            Self::TotpNotEnrolled => (
                "No authenticator app is set up.",
                "Start TOTP enrollment first.",
            ),
            Self::Unavailable => ("The service is not ready.", "Try again shortly."),
            Self::Internal(_) => (
                "Something went wrong on the server.",
                "Try again. If it persists, give the administrator the time of the error.",
            ),
        }
    }
}

/// A refusal by an access-control rule: its own status, stable code and texts, and a detail
/// naming what conflicted. Built by the conversions in [`crate::access::errors`].
#[derive(Debug)]
pub struct Refusal {
    /// 403 for who-may-not (self-approval, self-review), 409 for state conflicts.
    pub status: StatusCode,
    /// Stable machine code.
    pub code: &'static str,
    /// One-line human summary.
    pub title: &'static str,
    /// What to do next.
    pub recommendation: &'static str,
    /// This occurrence, in the rule's own words (never secrets: role and permission names).
    pub detail: String,
}

/// The RFC 9457 problem document every error is answered with.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`urn:schild:problem:<code>`).
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short human summary.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// Details for this occurrence, when there are safe ones to give.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine code; branch on this.
    pub code: &'static str,
    /// What to do next.
    pub recommendation: &'static str,
    /// For weak passwords: how to choose a better one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(cause) = &self {
            tracing::error!(error = %cause, "request failed");
        }
        let (title, recommendation) = self.texts();
        let (detail, suggestions) = match &self {
            Self::InvalidBody { detail } => (Some(detail.clone()), Vec::new()),
            Self::Validation { field, reason } => (Some(format!("{field}: {reason}")), Vec::new()),
            Self::MissingPermission(permission) => (
                Some(format!("this needs the permission {permission}")),
                Vec::new(),
            ),
            Self::Refused(refusal) => (Some(refusal.detail.clone()), Vec::new()),
            Self::WeakPassword {
                reason,
                suggestions,
            } => (Some(reason.clone()), suggestions.clone()),
            _ => (None, Vec::new()),
        };
        let problem = Problem {
            problem_type: format!("urn:schild:problem:{}", self.code()),
            title,
            status: status.as_u16(),
            detail,
            code: self.code(),
            recommendation,
            suggestions,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Self::IpBlocked { retry_after } = &self
            && let Ok(value) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<schild_store::StoreError> for ApiError {
    fn from(error: schild_store::StoreError) -> Self {
        match error {
            schild_store::StoreError::UsernameTaken => Self::UsernameTaken,
            schild_store::StoreError::NotFound => Self::NotFound,
            schild_store::StoreError::RoleNameTaken => {
                crate::access::errors::role_name_taken("a role with this name already exists")
            }
            schild_store::StoreError::RoleInUse => {
                crate::access::errors::role_in_use("the role is still assigned")
            }
            schild_store::StoreError::AlreadyAssigned => {
                crate::access::errors::already_assigned("the account already holds this role")
            }
            schild_store::StoreError::UnknownRole => Self::Validation {
                field: "role",
                reason: "no such role".into(),
            },
            other => Self::internal(other),
        }
    }
}

/// Result type of every handler.
pub type ApiResult<T> = Result<T, ApiError>;
