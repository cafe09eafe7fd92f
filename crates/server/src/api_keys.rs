//! API keys for machine clients, shared by the `/api-keys` routes and `schild apikey …`, so both
//! apply exactly the same rules (`schild_core::api_key` holds them).
//!
//! A person issues keys for themselves only, scoped to permissions they hold at that moment;
//! they may list and revoke their own keys, and whoever holds `apikey:read` / `apikey:revoke`
//! may list / revoke anyone's. Every change is one transaction with its audit event. A key's
//! secret is returned once, by [`issue`], and exists nowhere afterwards.
//!
//! No request is authenticated with an API key yet: [`authenticate`] is the one call the coming
//! API-security middleware makes (parse, look up, verify, record the use).

use crate::access::errors::{changed_concurrently, refused};
use crate::access::permissions_with;
use crate::auth::Origin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::http::StatusCode;
use schild_core::api_key::{
    self, ApiKey, ApiKeyFormatError, ApiKeyIssueError, ApiKeyPrefix, ApiKeyRevokeError,
    ApiKeyStatus, IssuedApiKey, NewApiKey, PresentedApiKey,
};
use schild_core::ids::UserId;
use schild_core::rbac::{Permission, PermissionSet};
use schild_store::{StoreError, api_keys, audit, roles, users};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

/// The most keys one listing returns.
pub const LIST_MAX: u32 = 500;

/// How often issuing draws a new key after an id collision before giving up (a 60-bit id makes
/// even a second draw astronomically rare).
const ISSUE_ATTEMPTS: usize = 3;

/// Whose keys an operation may see or touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only this person's own.
    Own(UserId),
    /// Everyone's (`apikey:read` to list, `apikey:revoke` to revoke).
    Everyone,
}

/// A key as listings show it: never its secret, nor even its digest.
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    /// The stored key.
    pub key: ApiKey,
    /// Its owner's sign-in name.
    pub owner_name: String,
    /// Whether it is usable now.
    pub status: ApiKeyStatus,
}

/// A key as its owner asks for it.
#[derive(Debug, Clone)]
pub struct KeyRequest {
    /// What it is for.
    pub label: String,
    /// Permission names, `resource:action`.
    pub scopes: Vec<String>,
    /// Lifetime in days; `None` for the default of 90.
    pub lifetime_days: Option<u32>,
}

impl KeyRequest {
    fn scopes(&self) -> ApiResult<PermissionSet> {
        if self.scopes.len() > Permission::all().len() {
            return Err(ApiError::Validation {
                field: "scopes",
                reason: format!("at most {} scopes", Permission::all().len()),
            });
        }
        self.scopes
            .iter()
            .map(|name| Permission::parse(name))
            .collect::<Result<PermissionSet, _>>()
            .map_err(|error| ApiError::Validation {
                field: "scopes",
                reason: error.to_string(),
            })
    }
}

/// Parses a key's public id as a client typed it.
pub fn parse_prefix(raw: &str) -> ApiResult<ApiKeyPrefix> {
    Ok(ApiKeyPrefix::parse(raw)?)
}

/// Issues a key to `owner`, scoped to at most what `owner` holds now. Returns the stored key
/// and the key itself, to show once.
pub async fn issue(
    state: &AppState,
    owner: UserId,
    request: &KeyRequest,
    origin: &Origin,
) -> ApiResult<(ApiKeyRecord, IssuedApiKey)> {
    let scopes = request.scopes()?;
    let lifetime = request
        .lifetime_days
        .map(|days| Duration::days(i64::from(days)));
    for _ in 0..ISSUE_ATTEMPTS {
        let now = state.now();
        let mut tx = state.store().begin().await?;
        let user = users::by_id(&mut tx, owner)
            .await?
            .ok_or(ApiError::NotFound)?;
        let catalog = roles::catalog(&mut tx).await?;
        let held = permissions_with(&catalog, &mut tx, owner, now).await?;
        let (key, issued, event) = ApiKey::issue(
            NewApiKey {
                owner,
                label: &request.label,
                scopes,
                lifetime,
            },
            held,
            now,
            &mut rand::rng(),
        )?;
        match api_keys::insert(&mut tx, &key).await {
            // A failed statement ends a PostgreSQL transaction: start over with a fresh draw.
            Err(StoreError::ApiKeyPrefixTaken) => continue,
            other => other?,
        }
        audit::append(&mut tx, &origin.record(now, event)).await?;
        tx.commit().await?;
        let record = ApiKeyRecord {
            status: key.status(now),
            owner_name: user.username.to_string(),
            key,
        };
        return Ok((record, issued));
    }
    Err(ApiError::internal(StoreError::ApiKeyPrefixTaken))
}

/// Keys in `scope`, newest first, at most [`LIST_MAX`].
pub async fn list(state: &AppState, scope: Scope) -> ApiResult<Vec<ApiKeyRecord>> {
    let now = state.now();
    let mut conn = state.store().acquire().await?;
    let owner = match scope {
        Scope::Own(user) => Some(user),
        Scope::Everyone => None,
    };
    let keys = api_keys::list(&mut conn, owner, LIST_MAX).await?;
    let mut names: BTreeMap<UserId, String> = BTreeMap::new();
    let mut records = Vec::with_capacity(keys.len());
    for key in keys {
        let owner_name = match names.get(&key.owner) {
            Some(name) => name.clone(),
            None => {
                let name = users::by_id(&mut conn, key.owner)
                    .await?
                    .map(|user| user.username.to_string())
                    .ok_or_else(|| ApiError::internal(StoreError::NotFound))?;
                names.insert(key.owner, name.clone());
                name
            }
        };
        records.push(ApiKeyRecord {
            status: key.status(now),
            owner_name,
            key,
        });
    }
    Ok(records)
}

/// Revokes the key `prefix`. With [`Scope::Own`], someone else's key is [`ApiError::NotFound`].
pub async fn revoke(
    state: &AppState,
    prefix: &ApiKeyPrefix,
    scope: Scope,
    reason: &str,
    origin: &Origin,
) -> ApiResult<ApiKeyRecord> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let key = api_keys::by_prefix(&mut tx, prefix)
        .await?
        .filter(|key| scope == Scope::Everyone || scope == Scope::Own(key.owner))
        .ok_or(ApiError::NotFound)?;
    let (revoked, event) = key.revoke(origin.actor, reason, now)?;
    if !api_keys::revoke(&mut tx, &revoked).await? {
        return Err(changed_concurrently());
    }
    audit::append(&mut tx, &origin.record(now, event)).await?;
    let owner_name = users::by_id(&mut tx, revoked.owner)
        .await?
        .map(|user| user.username.to_string())
        .ok_or_else(|| ApiError::internal(StoreError::NotFound))?;
    tx.commit().await?;
    Ok(ApiKeyRecord {
        status: revoked.status(now),
        owner_name,
        key: revoked,
    })
}

/// A request authenticated by an API key: whose key, and what the request may do.
#[derive(Debug, Clone)]
pub struct KeyCaller {
    /// The key.
    pub key: ApiKey,
    /// The key's scopes narrowed to what its owner holds *now*, so a role taken away since the
    /// key was issued is taken from the key too.
    pub permissions: PermissionSet,
}

/// Authenticates a request by the key it presents, at `now`, and records the use. Every failure
/// (malformed, unknown, wrong secret, revoked, expired) is the same
/// [`ApiError::Unauthenticated`]; the reason is logged at debug level with the key's public id.
pub async fn authenticate(
    state: &AppState,
    presented: &str,
    now: OffsetDateTime,
) -> ApiResult<KeyCaller> {
    let presented = PresentedApiKey::parse(presented).map_err(|_| ApiError::Unauthenticated)?;
    let mut conn = state.store().acquire().await?;
    let Some(key) = api_keys::by_prefix(&mut conn, presented.prefix()).await? else {
        tracing::debug!(key = %presented.prefix(), "unknown API key");
        return Err(ApiError::Unauthenticated);
    };
    let scopes = api_key::verify(&presented, &key, now).map_err(|rejection| {
        tracing::debug!(key = %key.prefix, %rejection, "API key refused");
        ApiError::Unauthenticated
    })?;
    api_keys::record_use(&mut conn, &key.prefix, now).await?;
    drop(conn);
    let held = state
        .authz()
        .permissions_of(state.store(), key.owner, now)
        .await?;
    Ok(KeyCaller {
        permissions: scopes.intersection(held),
        key,
    })
}

impl From<ApiKeyIssueError> for ApiError {
    fn from(error: ApiKeyIssueError) -> Self {
        let field = match error {
            ApiKeyIssueError::LabelEmpty | ApiKeyIssueError::LabelInvalid => "label",
            ApiKeyIssueError::NoScopes => "scopes",
            ApiKeyIssueError::ScopeNotHeld { .. } => {
                return refused(
                    StatusCode::FORBIDDEN,
                    "scope_not_held",
                    "A key cannot have a permission you do not hold.",
                    "Leave that scope out, or get the permission first.",
                    error,
                );
            }
            ApiKeyIssueError::LifetimeNotPositive | ApiKeyIssueError::LifetimeTooLong => {
                "expires_in_days"
            }
            _ => return ApiError::internal(error),
        };
        ApiError::Validation {
            field,
            reason: error.to_string(),
        }
    }
}

impl From<ApiKeyRevokeError> for ApiError {
    fn from(error: ApiKeyRevokeError) -> Self {
        match error {
            ApiKeyRevokeError::AlreadyRevoked => refused(
                StatusCode::CONFLICT,
                "already_revoked",
                "This API key is already revoked.",
                "Nothing to do.",
                error,
            ),
            ApiKeyRevokeError::Reason(reason) => ApiError::Validation {
                field: "reason",
                reason: reason.to_string(),
            },
            _ => ApiError::internal(error),
        }
    }
}

impl From<ApiKeyFormatError> for ApiError {
    fn from(error: ApiKeyFormatError) -> Self {
        ApiError::Validation {
            field: "prefix",
            reason: error.to_string(),
        }
    }
}
