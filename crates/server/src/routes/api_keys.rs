//! API keys for machine clients over HTTP (`crate::api_keys` holds the rules; these handlers only
//! translate).
//!
//! What a person does with their own keys needs `apikey:issue`: `POST /api-keys` issues one (the
//! answer is the only time the key is ever shown), `GET /api-keys/mine` lists them, and
//! `POST /api-keys/mine/{prefix}/revoke` revokes one. Everyone's keys: `GET /api-keys` needs
//! `apikey:read`, `POST /api-keys/{prefix}/revoke` needs `apikey:revoke`. No listing ever shows a
//! secret.

use crate::api_keys::{self, ApiKeyRecord, KeyRequest, Scope};
use crate::auth::Origin;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, Authorized};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use schild_core::api_key::ApiKeyStatus;
use schild_core::rbac::{Permission, need};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue, list_all))
        .routes(routes!(list_mine))
        .routes(routes!(revoke_mine))
        .routes(routes!(revoke_any))
}

/// Longest label field accepted on the wire (labels themselves have at most 100 characters).
const LABEL_FIELD_MAX: usize = 400;
/// Longest reason field accepted on the wire; the reason itself has at most 500 characters.
const REASON_FIELD_MAX: usize = 2000;
/// Longest public-id field accepted on the wire (ids have 12 characters).
const PREFIX_FIELD_MAX: usize = 64;

/// An API key as listings show it: its public id and metadata, never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    /// The public id (the `<prefix>` of `schild_<prefix>_<secret>`), shown in logs and audit.
    prefix: String,
    /// What it is for.
    label: String,
    /// Its owner's account id.
    owner_id: Uuid,
    /// Its owner's sign-in name.
    owner: String,
    /// What it may do, `resource:action`.
    #[schema(value_type = Vec<String>)]
    scopes: Vec<Permission>,
    /// `active`, `expired` or `revoked`, now.
    #[schema(value_type = String)]
    status: ApiKeyStatus,
    /// When it was issued.
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// When it stops working.
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    /// When it last authenticated a request.
    #[serde(with = "time::serde::rfc3339::option")]
    last_used_at: Option<OffsetDateTime>,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
    /// Who revoked it (absent for the console).
    revoked_by: Option<Uuid>,
    /// Why.
    revoke_reason: Option<String>,
}

impl From<ApiKeyRecord> for ApiKeyView {
    fn from(record: ApiKeyRecord) -> Self {
        let key = record.key;
        Self {
            prefix: key.prefix.to_string(),
            label: key.label,
            owner_id: key.owner.0,
            owner: record.owner_name,
            scopes: key.scopes.iter().collect(),
            status: record.status,
            created_at: key.created_at,
            expires_at: key.expires_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
            revoked_by: key.revoked_by.map(|id| id.0),
            revoke_reason: key.revoke_reason.map(|reason| reason.to_string()),
        }
    }
}

/// A key to issue for oneself.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    /// What it is for, 1 to 100 characters (`nightly export`, `ci deploy`).
    label: String,
    /// What it may do: `resource:action` names, each one the caller holds now.
    scopes: Vec<String>,
    /// Days until it expires: 1 to 365, default 90.
    #[serde(default)]
    expires_in_days: Option<u32>,
}

/// A freshly issued key.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedView {
    /// The whole key, `schild_<prefix>_<secret>`. Shown this once; store it now.
    key: String,
    /// The key's record, as listings will show it.
    api_key: ApiKeyView,
}

/// Why a key is revoked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// Why, 1 to 500 characters.
    reason: String,
}

/// Issues an API key for the caller, scoped to permissions the caller holds. The answer holds
/// the key itself, which is never shown again.
#[utoipa::path(post, path = "/api-keys", tag = "api-keys", security(("bearer" = ["apikey:issue"])),
    request_body = IssueBody,
    responses((status = 201, body = IssuedView), (status = 401, body = Problem),
        (status = 403, description = "Missing permission, or a scope the caller does not hold (`scope_not_held`)", body = Problem),
        (status = 422, description = "Bad label (`label`), no or unknown scopes (`scopes`), lifetime out of range (`expires_in_days`)", body = Problem)))]
async fn issue(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::ApikeyIssue>,
    ApiJson(body): ApiJson<IssueBody>,
) -> ApiResult<(StatusCode, Json<IssuedView>)> {
    super::dto::bounded("label", &body.label, LABEL_FIELD_MAX)?;
    let request = KeyRequest {
        label: body.label,
        scopes: body.scopes,
        lifetime_days: body.expires_in_days,
    };
    let (record, issued) = api_keys::issue(
        &state,
        caller.user(),
        &request,
        &origin.acting(caller.user()),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedView {
            key: issued.expose().to_owned(),
            api_key: record.into(),
        }),
    ))
}

/// The caller's own keys, newest first.
#[utoipa::path(get, path = "/api-keys/mine", tag = "api-keys", security(("bearer" = ["apikey:issue"])),
    responses((status = 200, body = Vec<ApiKeyView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_mine(
    State(state): State<AppState>,
    caller: Authorized<need::ApikeyIssue>,
) -> ApiResult<Json<Vec<ApiKeyView>>> {
    let records = api_keys::list(&state, Scope::Own(caller.user())).await?;
    Ok(Json(records.into_iter().map(ApiKeyView::from).collect()))
}

/// Everyone's keys, newest first (at most 500).
#[utoipa::path(get, path = "/api-keys", tag = "api-keys", security(("bearer" = ["apikey:read"])),
    responses((status = 200, body = Vec<ApiKeyView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_all(
    State(state): State<AppState>,
    _: Authorized<need::ApikeyRead>,
) -> ApiResult<Json<Vec<ApiKeyView>>> {
    let records = api_keys::list(&state, Scope::Everyone).await?;
    Ok(Json(records.into_iter().map(ApiKeyView::from).collect()))
}

/// Revokes one of the caller's own keys; someone else's is not found.
#[utoipa::path(post, path = "/api-keys/mine/{prefix}/revoke", tag = "api-keys", security(("bearer" = ["apikey:issue"])),
    params(("prefix" = String, Path, description = "The key's public id")), request_body = RevokeBody,
    responses((status = 200, body = ApiKeyView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already revoked (`already_revoked`)", body = Problem),
        (status = 422, body = Problem)))]
async fn revoke_mine(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::ApikeyIssue>,
    ApiPath(prefix): ApiPath<String>,
    ApiJson(body): ApiJson<RevokeBody>,
) -> ApiResult<Json<ApiKeyView>> {
    let scope = Scope::Own(caller.user());
    revoke(&state, origin.acting(caller.user()), scope, &prefix, &body).await
}

/// Revokes anyone's key.
#[utoipa::path(post, path = "/api-keys/{prefix}/revoke", tag = "api-keys", security(("bearer" = ["apikey:revoke"])),
    params(("prefix" = String, Path, description = "The key's public id")), request_body = RevokeBody,
    responses((status = 200, body = ApiKeyView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already revoked (`already_revoked`)", body = Problem),
        (status = 422, body = Problem)))]
async fn revoke_any(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::ApikeyRevoke>,
    ApiPath(prefix): ApiPath<String>,
    ApiJson(body): ApiJson<RevokeBody>,
) -> ApiResult<Json<ApiKeyView>> {
    revoke(
        &state,
        origin.acting(caller.user()),
        Scope::Everyone,
        &prefix,
        &body,
    )
    .await
}

async fn revoke(
    state: &AppState,
    origin: Origin,
    scope: Scope,
    prefix: &str,
    body: &RevokeBody,
) -> ApiResult<Json<ApiKeyView>> {
    super::dto::bounded("prefix", prefix, PREFIX_FIELD_MAX)?;
    super::dto::bounded("reason", &body.reason, REASON_FIELD_MAX)?;
    let prefix = api_keys::parse_prefix(prefix)?;
    let record = api_keys::revoke(state, &prefix, scope, &body.reason, &origin).await?;
    Ok(Json(record.into()))
}
