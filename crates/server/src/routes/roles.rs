//! The permission catalogue, roles, and who holds them.

use crate::access::roles::{self, RoleSpec};
use crate::auth::Origin;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, Authorized};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use schild_core::ids::UserId;
use schild_core::rbac::{Permission, RoleAssignment, RoleDefinition, need};
use schild_store::{roles as role_store, users};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_permissions))
        .routes(routes!(list_roles))
        .routes(routes!(role_detail, save_role, delete_role))
        .routes(routes!(user_roles, assign_role))
        .routes(routes!(unassign_role))
}

/// One permission of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionView {
    /// `resource:action`.
    name: &'static str,
    /// What holding it allows.
    description: &'static str,
    /// Whether a just-in-time request for it alone needs two approvers.
    sensitive: bool,
}

/// Every permission the backend knows, in catalogue order.
#[utoipa::path(get, path = "/permissions", tag = "roles", security(("bearer" = ["role:read"])),
    responses((status = 200, body = Vec<PermissionView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_permissions(_: Authorized<need::RoleRead>) -> Json<Vec<PermissionView>> {
    Json(
        Permission::all()
            .iter()
            .map(|&permission| PermissionView {
                name: permission.as_str(),
                description: permission.description(),
                sensitive: permission.is_sensitive(),
            })
            .collect(),
    )
}

/// A role and what it allows.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    /// Its name.
    name: String,
    /// What it is for.
    description: String,
    /// What it allows, `resource:action`.
    #[schema(value_type = Vec<String>)]
    permissions: Vec<Permission>,
    /// Defined by the software (cannot be changed or deleted).
    builtin: bool,
    /// Longest just-in-time grant in minutes; absent when it cannot be requested just in time.
    max_jit_minutes: Option<i64>,
    /// Approvers a just-in-time request needs.
    approvals_required: u8,
    /// Marked privileged.
    sensitive: bool,
    /// How many accounts hold it.
    holders: usize,
}

impl RoleView {
    fn new(role: &RoleDefinition, holders: usize) -> Self {
        Self {
            name: role.name().to_string(),
            description: role.description().to_owned(),
            permissions: role.permissions().iter().copied().collect(),
            builtin: role.is_builtin(),
            max_jit_minutes: role.max_jit_duration().map(|max| max.whole_minutes()),
            approvals_required: role.approvals_required(),
            sensitive: role.is_sensitive(),
            holders,
        }
    }
}

/// Every role, built-in first, with its holder count.
#[utoipa::path(get, path = "/roles", tag = "roles", security(("bearer" = ["role:read"])),
    responses((status = 200, body = Vec<RoleView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_roles(
    State(state): State<AppState>,
    _: Authorized<need::RoleRead>,
) -> ApiResult<Json<Vec<RoleView>>> {
    let catalog = state.authz().catalog(state.store()).await?;
    let mut conn = state.store().acquire().await?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for assignment in role_store::all_assignments(&mut conn).await? {
        *counts.entry(assignment.role.to_string()).or_default() += 1;
    }
    let mut views: Vec<RoleView> = catalog
        .iter()
        .map(|role| RoleView::new(role, counts.get(role.name().as_str()).copied().unwrap_or(0)))
        .collect();
    views.sort_by(|a, b| b.builtin.cmp(&a.builtin).then_with(|| a.name.cmp(&b.name)));
    Ok(Json(views))
}

/// One account holding one role: who granted it, when and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentView {
    /// The account.
    user_id: Uuid,
    /// Its sign-in name (absent if the account is gone).
    username: Option<String>,
    /// The role.
    role: String,
    /// Who granted it; absent for the console, setup or carried-over data.
    granted_by: Option<Uuid>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    granted_at: OffsetDateTime,
    /// Why.
    reason: String,
}

impl AssignmentView {
    fn new(assignment: RoleAssignment, username: Option<String>) -> Self {
        Self {
            user_id: assignment.user.0,
            username,
            role: assignment.role.to_string(),
            granted_by: assignment.granted_by.map(|id| id.0),
            granted_at: assignment.granted_at,
            reason: assignment.reason.to_string(),
        }
    }
}

/// A role with everyone who holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleDetail {
    /// The role.
    #[serde(flatten)]
    role: RoleView,
    /// Its holders, in the order they got it.
    assignments: Vec<AssignmentView>,
}

/// A role, its permissions and its holders.
#[utoipa::path(get, path = "/roles/{name}", tag = "roles", security(("bearer" = ["role:read"])),
    params(("name" = String, Path, description = "Role name")),
    responses((status = 200, body = RoleDetail), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn role_detail(
    State(state): State<AppState>,
    _: Authorized<need::RoleRead>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<RoleDetail>> {
    let catalog = state.authz().catalog(state.store()).await?;
    let role = catalog.get(&name).ok_or(ApiError::NotFound)?;
    let mut conn = state.store().acquire().await?;
    let holders = role_store::holders(&mut conn, &name).await?;
    let mut assignments = Vec::with_capacity(holders.len());
    for assignment in holders {
        let username = users::by_id(&mut conn, assignment.user)
            .await?
            .map(|user| user.username.to_string());
        assignments.push(AssignmentView::new(assignment, username));
    }
    Ok(Json(RoleDetail {
        role: RoleView::new(role, assignments.len()),
        assignments,
    }))
}

/// A custom role's definition.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    /// What it is for, 1 to 500 characters.
    description: String,
    /// What it allows, `resource:action` names from `GET /permissions`.
    permissions: Vec<String>,
    /// Longest just-in-time grant in minutes (at most 1440); absent: not requestable just in time.
    #[serde(default)]
    max_jit_minutes: Option<u32>,
    /// Approvers a just-in-time request needs: 1 (default) or 2.
    #[serde(default = "one")]
    approvals_required: u8,
    /// Marks the role privileged (reviews of it need reasons).
    #[serde(default)]
    sensitive: bool,
}

fn one() -> u8 {
    1
}

/// Creates a custom role, or replaces its definition (holders get the change on their next
/// request). Built-in roles cannot be changed.
#[utoipa::path(put, path = "/roles/{name}", tag = "roles", security(("bearer" = ["role:manage"])),
    params(("name" = String, Path, description = "Role name: 2–48 letters, digits, - and _, starting with a letter (stored lower-case)")), request_body = RoleBody,
    responses((status = 200, description = "Changed", body = RoleView), (status = 201, description = "Created", body = RoleView),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "A built-in role", body = Problem), (status = 422, body = Problem)))]
async fn save_role(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::RoleManage>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<RoleBody>,
) -> ApiResult<(StatusCode, Json<RoleView>)> {
    let spec = RoleSpec {
        description: body.description,
        permissions: body.permissions,
        max_jit_minutes: body.max_jit_minutes,
        approvals_required: body.approvals_required,
        sensitive: body.sensitive,
    };
    let (role, created) = roles::save(&state, &name, spec, &origin.acting(caller.user())).await?;
    let mut conn = state.store().acquire().await?;
    let holders = role_store::holders(&mut conn, role.name().as_str())
        .await?
        .len();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(RoleView::new(&role, holders))))
}

/// Deletes a custom role that nobody holds.
#[utoipa::path(delete, path = "/roles/{name}", tag = "roles", security(("bearer" = ["role:manage"])),
    params(("name" = String, Path, description = "Role name")),
    responses((status = 204, description = "Deleted"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Built-in or still assigned", body = Problem)))]
async fn delete_role(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::RoleManage>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    roles::delete(&state, &name, &origin.acting(caller.user())).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An account's roles, with who granted each, when and why.
#[utoipa::path(get, path = "/admin/users/{id}/roles", tag = "roles", security(("bearer" = ["role:read"])),
    params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200, body = Vec<AssignmentView>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn user_roles(
    State(state): State<AppState>,
    _: Authorized<need::RoleRead>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Vec<AssignmentView>>> {
    let mut conn = state.store().acquire().await?;
    let user = users::by_id(&mut conn, UserId(id))
        .await?
        .ok_or(ApiError::NotFound)?;
    let assignments = role_store::assignments_for(&mut conn, user.id).await?;
    Ok(Json(
        assignments
            .into_iter()
            .map(|assignment| AssignmentView::new(assignment, Some(user.username.to_string())))
            .collect(),
    ))
}

/// A role to give an account, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRoleRequest {
    /// The role's name.
    role: String,
    /// Why, 1 to 500 characters; kept in the audit trail and shown in reviews.
    reason: String,
}

/// Gives an account a role. Refused for one's own account and for role pairs that separation of
/// duties forbids.
#[utoipa::path(post, path = "/admin/users/{id}/roles", tag = "roles", security(("bearer" = ["role:assign"])),
    params(("id" = Uuid, Path, description = "Account id")), request_body = AssignRoleRequest,
    responses((status = 201, body = AssignmentView), (status = 401, body = Problem),
        (status = 403, description = "Missing permission, or one's own account", body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Already held, or a separation-of-duties conflict", body = Problem),
        (status = 422, body = Problem)))]
async fn assign_role(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::RoleAssign>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<AssignRoleRequest>,
) -> ApiResult<(StatusCode, Json<AssignmentView>)> {
    let origin = origin.acting(caller.user());
    let assignment = roles::assign(&state, UserId(id), &body.role, &body.reason, &origin).await?;
    let mut conn = state.store().acquire().await?;
    let username = users::by_id(&mut conn, assignment.user)
        .await?
        .map(|user| user.username.to_string());
    Ok((
        StatusCode::CREATED,
        Json(AssignmentView::new(assignment, username)),
    ))
}

/// Why a role is taken away.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnassignRoleRequest {
    /// Why, 1 to 500 characters.
    reason: String,
}

/// Takes a role away from an account; it stops working on the account's next request.
#[utoipa::path(delete, path = "/admin/users/{id}/roles/{role}", tag = "roles", security(("bearer" = ["role:assign"])),
    params(("id" = Uuid, Path, description = "Account id"), ("role" = String, Path, description = "Role name")),
    request_body = UnassignRoleRequest,
    responses((status = 204, description = "Removed"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "The account does not hold the role", body = Problem),
        (status = 409, description = "The last administrator", body = Problem), (status = 422, body = Problem)))]
async fn unassign_role(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::RoleAssign>,
    ApiPath((id, role)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<UnassignRoleRequest>,
) -> ApiResult<StatusCode> {
    let origin = origin.acting(caller.user());
    roles::unassign(&state, UserId(id), &role, &body.reason, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}
