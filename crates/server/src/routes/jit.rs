//! Just-in-time access over HTTP: requests, decisions and grants (`crate::access::jit` holds the
//! rules; these handlers only translate).
//!
//! Every operation needs exactly one permission. What a requester does for themselves needs
//! `access:request` and only ever touches their own requests:
//!
//! - `POST /access/requests` asks for a role or a permission;
//! - `GET /access/my-requests` and `GET /access/my-requests/{id}` show them;
//! - `POST /access/my-requests/{id}/end` ends one's own grant early.
//!
//! What others do to anyone's requests needs its own permission: reading them (`GET
//! /access/requests`, `GET /access/requests/{id}`, `GET /access/grants`) `access:read`, deciding
//! them (`…/approve`, `…/deny`) `access:approve`, ending a grant early (`…/revoke`)
//! `access:revoke`.

use crate::access::jit::{self, GrantRecord, JitRecord, LIST_MAX, Scope};
use crate::auth::Origin;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authorized};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use schild_core::ids::UserId;
use schild_core::rbac::{JitRequestId, JitState, JitStatus, JitTarget, PermissionSet, need};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_request, list_requests))
        .routes(routes!(request_by_id))
        .routes(routes!(approve))
        .routes(routes!(deny))
        .routes(routes!(revoke))
        .routes(routes!(my_requests))
        .routes(routes!(my_request))
        .routes(routes!(end_my_grant))
        .routes(routes!(list_grants))
}

/// Longest role or permission name accepted on the wire (names themselves are shorter).
const NAME_FIELD_MAX: usize = 64;
/// Longest reason field accepted on the wire; the reason itself has at most 500 characters
/// after trimming.
const REASON_FIELD_MAX: usize = 2000;

/// An account, as a request or grant names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonView {
    /// Account id.
    id: Uuid,
    /// Sign-in name.
    username: String,
}

impl PersonView {
    fn of(record: &JitRecord, user: UserId) -> Self {
        Self {
            id: user.0,
            username: record.username(user).to_owned(),
        }
    }
}

/// What is asked for or granted: exactly one of `role` and `permission`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetView {
    /// A role's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    /// A permission, `resource:action`.
    #[serde(skip_serializing_if = "Option::is_none")]
    permission: Option<String>,
}

impl From<&JitTarget> for TargetView {
    fn from(target: &JitTarget) -> Self {
        match target {
            JitTarget::Role(role) => Self {
                role: Some(role.to_string()),
                permission: None,
            },
            JitTarget::Permission(permission) => Self {
                role: None,
                permission: Some(permission.to_string()),
            },
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StateView {
    /// Waiting for (more) approvals.
    Pending,
    /// Never decided, and now too old to approve.
    Lapsed,
    /// Refused.
    Denied,
    /// In force.
    Active,
    /// Its window has passed.
    Expired,
    /// Ended early.
    Revoked,
}

impl From<StateView> for JitStatus {
    fn from(state: StateView) -> Self {
        match state {
            StateView::Pending => Self::Pending,
            StateView::Lapsed => Self::Lapsed,
            StateView::Denied => Self::Denied,
            StateView::Active => Self::Active,
            StateView::Expired => Self::Expired,
            StateView::Revoked => Self::Revoked,
        }
    }
}

/// One approval.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalView {
    /// Who approved.
    approver: PersonView,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

/// A denial or an early end.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    /// Who decided; absent for the local console or an automatic policy.
    by: Option<PersonView>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    /// Why.
    reason: String,
}

/// A just-in-time request and, once approved, its grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    /// Request id.
    id: Uuid,
    /// Who asked (and holds the grant).
    requester: PersonView,
    /// What for.
    target: TargetView,
    /// How long the grant lasts from its approval, in minutes.
    duration_minutes: i64,
    /// Why it was asked for.
    reason: String,
    /// Where it stands now.
    #[schema(value_type = StateView)]
    state: &'static str,
    /// When it was asked for.
    #[serde(with = "time::serde::rfc3339")]
    requested_at: OffsetDateTime,
    /// Distinct approvers needed (1 or 2).
    approvals_required: u8,
    /// Approvals so far, in order.
    approvals: Vec<ApprovalView>,
    /// When the grant started (the deciding approval).
    #[serde(with = "time::serde::rfc3339::option")]
    starts_at: Option<OffsetDateTime>,
    /// When the grant ends (or ended), exclusive.
    #[serde(with = "time::serde::rfc3339::option")]
    ends_at: Option<OffsetDateTime>,
    /// The refusal, when denied.
    denied: Option<DecisionView>,
    /// The early end, when revoked.
    revoked: Option<DecisionView>,
}

impl From<JitRecord> for RequestView {
    fn from(record: JitRecord) -> Self {
        let request = &record.request;
        let person = |user: UserId| PersonView::of(&record, user);
        let (denied, revoked) = match &request.state {
            JitState::Denied { by, at, reason } => (
                Some(DecisionView {
                    by: Some(person(*by)),
                    at: *at,
                    reason: reason.to_string(),
                }),
                None,
            ),
            JitState::Revoked { by, at, reason, .. } => (
                None,
                Some(DecisionView {
                    by: by.map(person),
                    at: *at,
                    reason: reason.to_string(),
                }),
            ),
            _ => (None, None),
        };
        let grant = request.grant();
        Self {
            id: request.id.0,
            requester: person(request.requester),
            target: TargetView::from(&request.target),
            duration_minutes: request.duration.whole_minutes(),
            reason: request.reason.to_string(),
            state: record.status.as_str(),
            requested_at: request.requested_at,
            approvals_required: request.approvals_required,
            approvals: request
                .approvals
                .iter()
                .map(|approval| ApprovalView {
                    approver: person(approval.approver),
                    at: approval.at,
                })
                .collect(),
            starts_at: grant.as_ref().map(|grant| grant.starts_at),
            ends_at: grant.as_ref().map(|grant| grant.ends_at),
            denied,
            revoked,
        }
    }
}

/// A grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    /// The request it came from.
    request_id: Uuid,
    /// Who holds it.
    user: PersonView,
    /// What it grants.
    target: TargetView,
    /// First instant it counts.
    #[serde(with = "time::serde::rfc3339")]
    starts_at: OffsetDateTime,
    /// First instant it no longer counts.
    #[serde(with = "time::serde::rfc3339")]
    ends_at: OffsetDateTime,
    /// When it was ended early, if it was.
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
    /// Whether it counts now.
    active: bool,
}

impl From<GrantRecord> for GrantView {
    fn from(record: GrantRecord) -> Self {
        let grant = record.grant;
        Self {
            request_id: grant.request.0,
            user: PersonView {
                id: grant.user.0,
                username: record.username,
            },
            target: TargetView::from(&grant.target),
            starts_at: grant.starts_at,
            ends_at: grant.ends_at,
            revoked_at: grant.revoked_at,
            active: record.active,
        }
    }
}

/// A request for just-in-time access, for the signed-in account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequestBody {
    /// The role to hold for a while (give this or `permission`).
    #[serde(default)]
    role: Option<String>,
    /// The single permission to hold for a while, `resource:action` (give this or `role`).
    #[serde(default)]
    permission: Option<String>,
    /// How long, from approval, in minutes: more than zero and at most the role's maximum (a
    /// single permission: 60).
    duration_minutes: u32,
    /// Why, 1 to 500 characters.
    reason: String,
}

/// A reason for a denial or an early end.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why, 1 to 500 characters.
    reason: String,
}

/// Which requests to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestFilter {
    /// Only requests in this state now.
    state: Option<StateView>,
    /// Only this account's requests (for `GET /access/requests`).
    requester: Option<Uuid>,
    /// At most this many, newest first (default 100, at most 500).
    limit: Option<u32>,
}

/// Which of one's own requests to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MyRequestFilter {
    /// Only requests in this state now.
    state: Option<StateView>,
    /// At most this many, newest first (default 100, at most 500).
    limit: Option<u32>,
}

/// Which grants to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GrantFilter {
    /// Include expired and revoked grants.
    #[serde(default)]
    include_ended: bool,
    /// Only this account's grants.
    user: Option<Uuid>,
    /// At most this many, newest first (default 100, at most 500).
    limit: Option<u32>,
}

fn limit(limit: Option<u32>) -> ApiResult<u32> {
    match limit.unwrap_or(100) {
        0 => Err(ApiError::Validation {
            field: "limit",
            reason: format!("must be 1 to {LIST_MAX}"),
        }),
        n if n > LIST_MAX => Err(ApiError::Validation {
            field: "limit",
            reason: format!("must be 1 to {LIST_MAX}"),
        }),
        n => Ok(n),
    }
}

fn reason(body: &ReasonBody) -> ApiResult<&str> {
    super::dto::bounded("reason", &body.reason, REASON_FIELD_MAX)?;
    Ok(&body.reason)
}

/// Asks for a role or a single permission for a limited time. A different person holding
/// `access:approve` decides; roles marked so need two.
#[utoipa::path(post, path = "/access/requests", tag = "access", security(("bearer" = ["access:request"])),
    request_body = NewRequestBody,
    responses((status = 201, body = RequestView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "Already held (`already_held`), or a separation-of-duties conflict (`separation_of_duties`)", body = Problem),
        (status = 422, description = "Unknown or not requestable role (`role`), unknown permission (`permission`), duration out of range (`duration_minutes`), missing or overlong reason (`reason`)", body = Problem)))]
async fn create_request(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::AccessRequest>,
    ApiJson(body): ApiJson<NewRequestBody>,
) -> ApiResult<(StatusCode, Json<RequestView>)> {
    if let Some(role) = &body.role {
        super::dto::bounded("role", role, NAME_FIELD_MAX)?;
    }
    if let Some(permission) = &body.permission {
        super::dto::bounded("permission", permission, NAME_FIELD_MAX)?;
    }
    super::dto::bounded("reason", &body.reason, REASON_FIELD_MAX)?;
    let target = jit::parse_target(body.role.as_deref(), body.permission.as_deref())?;
    let record = jit::request(
        &state,
        caller.user(),
        target,
        Duration::minutes(i64::from(body.duration_minutes)),
        &body.reason,
        &origin.acting(caller.user()),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// Everyone's requests, newest first.
#[utoipa::path(get, path = "/access/requests", tag = "access", security(("bearer" = ["access:read"])),
    params(RequestFilter),
    responses((status = 200, body = Vec<RequestView>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn list_requests(
    State(state): State<AppState>,
    _: Authorized<need::AccessRead>,
    ApiQuery(filter): ApiQuery<RequestFilter>,
) -> ApiResult<Json<Vec<RequestView>>> {
    let scope = filter
        .requester
        .map_or(Scope::Everyone, |user| Scope::Own(UserId(user)));
    let records = jit::list(
        &state,
        scope,
        filter.state.map(JitStatus::from),
        limit(filter.limit)?,
    )
    .await?;
    Ok(Json(records.into_iter().map(RequestView::from).collect()))
}

/// Anyone's request.
#[utoipa::path(get, path = "/access/requests/{id}", tag = "access", security(("bearer" = ["access:read"])),
    params(("id" = Uuid, Path, description = "Request id")),
    responses((status = 200, body = RequestView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn request_by_id(
    State(state): State<AppState>,
    _: Authorized<need::AccessRead>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<RequestView>> {
    let record = jit::get(&state, JitRequestId(id), Scope::Everyone).await?;
    Ok(Json(record.into()))
}

/// Approves someone else's pending request. The deciding approval starts the grant at once;
/// a request that needs two approvals needs two different approvers.
#[utoipa::path(post, path = "/access/requests/{id}/approve", tag = "access", security(("bearer" = ["access:approve"])),
    params(("id" = Uuid, Path, description = "Request id")),
    responses((status = 200, body = RequestView), (status = 401, body = Problem),
        (status = 403, description = "Missing permission, or one's own request (`self_approval`)", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Already approved by this approver (`already_approved`), already decided (`already_decided`), lapsed (`expired`), or decided by someone else at the same moment (`changed_concurrently`)", body = Problem),
        (status = 422, description = "The role is gone or its maximum shrank since the request (`role`, `duration_minutes`)", body = Problem)))]
async fn approve(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::AccessApprove>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<RequestView>> {
    let record = jit::approve(
        &state,
        JitRequestId(id),
        caller.user(),
        &origin.acting(caller.user()),
    )
    .await?;
    Ok(Json(record.into()))
}

/// Refuses someone else's pending request, with a reason.
#[utoipa::path(post, path = "/access/requests/{id}/deny", tag = "access", security(("bearer" = ["access:approve"])),
    params(("id" = Uuid, Path, description = "Request id")), request_body = ReasonBody,
    responses((status = 200, body = RequestView), (status = 401, body = Problem),
        (status = 403, description = "Missing permission, or one's own request (`self_approval`)", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Already decided (`already_decided`), lapsed (`expired`), or changed at the same moment (`changed_concurrently`)", body = Problem),
        (status = 422, description = "Missing or overlong reason", body = Problem)))]
async fn deny(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::AccessApprove>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult<Json<RequestView>> {
    let record = jit::deny(
        &state,
        JitRequestId(id),
        caller.user(),
        reason(&body)?,
        &origin.acting(caller.user()),
    )
    .await?;
    Ok(Json(record.into()))
}

/// Ends anyone's active grant before its window is over, with a reason.
#[utoipa::path(post, path = "/access/requests/{id}/revoke", tag = "access", security(("bearer" = ["access:revoke"])),
    params(("id" = Uuid, Path, description = "Request id")), request_body = ReasonBody,
    responses((status = 200, body = RequestView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "No active grant (`not_active`), already over (`expired`), or changed at the same moment (`changed_concurrently`)", body = Problem),
        (status = 422, description = "Missing or overlong reason", body = Problem)))]
async fn revoke(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::AccessRevoke>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult<Json<RequestView>> {
    let record = jit::revoke(
        &state,
        JitRequestId(id),
        caller.user(),
        caller.permissions,
        reason(&body)?,
        &origin.acting(caller.user()),
    )
    .await?;
    Ok(Json(record.into()))
}

/// The signed-in account's own requests, newest first.
#[utoipa::path(get, path = "/access/my-requests", tag = "access", security(("bearer" = ["access:request"])),
    params(MyRequestFilter),
    responses((status = 200, body = Vec<RequestView>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn my_requests(
    State(state): State<AppState>,
    caller: Authorized<need::AccessRequest>,
    ApiQuery(filter): ApiQuery<MyRequestFilter>,
) -> ApiResult<Json<Vec<RequestView>>> {
    let records = jit::list(
        &state,
        Scope::Own(caller.user()),
        filter.state.map(JitStatus::from),
        limit(filter.limit)?,
    )
    .await?;
    Ok(Json(records.into_iter().map(RequestView::from).collect()))
}

/// One of the signed-in account's own requests (someone else's is not found).
#[utoipa::path(get, path = "/access/my-requests/{id}", tag = "access", security(("bearer" = ["access:request"])),
    params(("id" = Uuid, Path, description = "Request id")),
    responses((status = 200, body = RequestView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn my_request(
    State(state): State<AppState>,
    caller: Authorized<need::AccessRequest>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<RequestView>> {
    let record = jit::get(&state, JitRequestId(id), Scope::Own(caller.user())).await?;
    Ok(Json(record.into()))
}

/// Ends the signed-in account's own active grant early, with a reason. Ending someone else's
/// grant is `POST /access/requests/{id}/revoke`, which needs `access:revoke`.
#[utoipa::path(post, path = "/access/my-requests/{id}/end", tag = "access", security(("bearer" = ["access:request"])),
    params(("id" = Uuid, Path, description = "Request id")), request_body = ReasonBody,
    responses((status = 200, body = RequestView), (status = 401, body = Problem),
        (status = 403, description = "Missing permission, or not one's own grant", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "No active grant (`not_active`), already over (`expired`), or changed at the same moment (`changed_concurrently`)", body = Problem),
        (status = 422, description = "Missing or overlong reason", body = Problem)))]
async fn end_my_grant(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::AccessRequest>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult<Json<RequestView>> {
    // No permissions passed on: this route ends the caller's own grant and nobody else's.
    let record = jit::revoke(
        &state,
        JitRequestId(id),
        caller.user(),
        PermissionSet::EMPTY,
        reason(&body)?,
        &origin.acting(caller.user()),
    )
    .await?;
    Ok(Json(record.into()))
}

/// Grants, newest first: those in force now, or with `include_ended` also expired and revoked
/// ones.
#[utoipa::path(get, path = "/access/grants", tag = "access", security(("bearer" = ["access:read"])),
    params(GrantFilter),
    responses((status = 200, body = Vec<GrantView>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn list_grants(
    State(state): State<AppState>,
    _: Authorized<need::AccessRead>,
    ApiQuery(filter): ApiQuery<GrantFilter>,
) -> ApiResult<Json<Vec<GrantView>>> {
    let grants = jit::grants(
        &state,
        filter.user.map(UserId),
        filter.include_ended,
        limit(filter.limit)?,
    )
    .await?;
    Ok(Json(grants.into_iter().map(GrantView::from).collect()))
}
