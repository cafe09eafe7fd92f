//! Request and response bodies: the wire format, converted to domain types at the edge.

use crate::auth::session::IssuedTokens;
use crate::error::{ApiError, ApiResult};
use schild_core::backup_codes::BackupCode;
use schild_store::sessions::SessionRow;
use schild_store::users::UserRow;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// Refuses a field longer than `max` characters before any work is done with it.
pub fn bounded(field: &'static str, value: &str, max: usize) -> ApiResult<()> {
    if value.chars().count() > max {
        return Err(ApiError::Validation {
            field,
            reason: format!("must be at most {max} characters"),
        });
    }
    Ok(())
}

/// Refuses a field longer than `max` bytes; for passwords, whose limit the hasher counts in bytes.
pub fn bounded_bytes(field: &'static str, value: &str, max: usize) -> ApiResult<()> {
    if value.len() > max {
        return Err(ApiError::Validation {
            field,
            reason: format!("must be at most {max} bytes"),
        });
    }
    Ok(())
}

/// Longest username field accepted on the wire (names themselves are at most 64).
pub const USERNAME_FIELD_MAX: usize = 256;
/// Longest password accepted on the wire, in bytes (the password policy's own maximum).
pub const PASSWORD_FIELD_MAX: usize = schild_core::password::PasswordPolicy::MAX_LEN;
/// Longest code field (TOTP or backup code) accepted on the wire.
pub const CODE_FIELD_MAX: usize = 32;
/// Longest token field accepted on the wire.
pub const TOKEN_FIELD_MAX: usize = 4096;

/// A new token pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Signed JWT (EdDSA) for the `Authorization: Bearer` header; valid 15 minutes.
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque refresh token; works once, and the session ends at `refresh_expires_at`.
    pub refresh_token: String,
    /// End of the session (7 days after sign-in), whatever the refreshes.
    #[serde(with = "time::serde::rfc3339")]
    pub refresh_expires_at: OffsetDateTime,
    /// The session these tokens belong to.
    pub session_id: Uuid,
}

impl TokenPair {
    /// Converts issued tokens for the response, the one moment the refresh token is revealed.
    pub fn from_issued(tokens: IssuedTokens, now: OffsetDateTime) -> Self {
        Self {
            token_type: "Bearer",
            expires_in: (tokens.access_expires_at.unix_timestamp() - now.unix_timestamp()).max(0),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token.expose().to_owned(),
            refresh_expires_at: tokens.refresh_expires_at,
            session_id: tokens.session.0,
        }
    }
}

/// A freshly issued set of backup codes, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackupCodeSet {
    /// Ten single-use codes, `xxxx-xxxx-xxxx`. Any earlier set is void.
    pub codes: Vec<String>,
}

impl BackupCodeSet {
    /// Reveals the codes for the response.
    pub fn reveal(codes: &[BackupCode]) -> Self {
        Self {
            codes: codes
                .iter()
                .map(|code| code.expose_grouped().to_owned())
                .collect(),
        }
    }
}

/// An account as administrators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Account id.
    pub id: Uuid,
    /// Sign-in name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Roles.
    pub roles: Vec<String>,
    /// Whether sign-in is refused.
    pub disabled: bool,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<UserRow> for UserView {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id.0,
            username: row.username.to_string(),
            display_name: row.display_name,
            roles: row.roles,
            disabled: row.disabled,
            created_at: row.created_at,
        }
    }
}

/// One session (sign-in) of an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Session id (the `sid` claim).
    pub id: Uuid,
    /// When it began.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last refresh.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    /// When it ends at the latest.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was ended early, if it was.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was ended early (`logout`, `forced_logout`, `refresh_reuse`…).
    pub revoke_reason: Option<String>,
    /// Client address at sign-in.
    pub ip: Option<String>,
    /// Client software at sign-in.
    pub user_agent: Option<String>,
    /// Factors used (`password`, `password_totp`, `password_backup_code`).
    pub method: String,
}

impl From<SessionRow> for SessionView {
    fn from(row: SessionRow) -> Self {
        Self {
            id: row.id.0,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            revoke_reason: row.revoke_reason.map(|reason| reason.as_str().to_owned()),
            ip: row.ip.map(|ip| ip.to_string()),
            user_agent: row.user_agent,
            method: row.method.as_str().to_owned(),
        }
    }
}
