//! Administration: accounts, their sessions, locks, IP blocks, the audit trail and signing keys.

use super::dto::{
    PASSWORD_FIELD_MAX, SessionView, USERNAME_FIELD_MAX, UserView, bounded, bounded_bytes,
};
use crate::auth::admin::{self, NewAccount};
use crate::auth::{Origin, signing_keys};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authorized};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use schild_core::ids::{SessionId, UserId};
use schild_core::rbac::need;
use schild_store::{audit, lockout, sessions, users};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(user_sessions))
        .routes(routes!(unlock_user))
        .routes(routes!(force_logout))
        .routes(routes!(list_ip_blocks, block_ip))
        .routes(routes!(unblock_ip))
        .routes(routes!(audit_events))
        .routes(routes!(rotate_signing_key))
}

/// An account with its lock state.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUserView {
    /// The account.
    #[serde(flatten)]
    user: UserView,
    /// Until when it is locked, if it is.
    #[serde(with = "time::serde::rfc3339::option")]
    locked_until: Option<OffsetDateTime>,
}

/// Every account, with lock state.
#[utoipa::path(get, path = "/admin/users", tag = "admin", security(("bearer" = ["user:read"])),
    responses((status = 200, body = Vec<AdminUserView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_users(
    State(state): State<AppState>,
    _: Authorized<need::UserRead>,
) -> ApiResult<Json<Vec<AdminUserView>>> {
    let now = state.now();
    let mut conn = state.store().acquire().await?;
    let rows = users::list(&mut conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let locked_until = lockout::lock_state(&mut conn, row.id)
            .await?
            .and_then(|lock| lock.locked_until)
            .filter(|until| *until > now);
        out.push(AdminUserView {
            user: UserView::from(row),
            locked_until,
        });
    }
    Ok(Json(out))
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Sign-in name: 3–64 of letters, digits and `. _ - @`.
    username: String,
    /// Display name.
    display_name: String,
    /// Initial password (checked for strength).
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// Roles (`admin`, `user`); `user` when empty.
    #[serde(default)]
    roles: Vec<String>,
}

/// Creates an account.
#[utoipa::path(post, path = "/admin/users", tag = "admin", security(("bearer" = ["user:create"])), request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "Username taken", body = Problem), (status = 422, body = Problem)))]
async fn create_user(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::UserCreate>,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    bounded("username", &body.username, USERNAME_FIELD_MAX)?;
    bounded("display_name", &body.display_name, USERNAME_FIELD_MAX)?;
    bounded_bytes(
        "password",
        body.password.expose_secret(),
        PASSWORD_FIELD_MAX,
    )?;
    if body.roles.len() > 16 {
        return Err(ApiError::Validation {
            field: "roles",
            reason: "at most 16 roles".into(),
        });
    }
    let account = NewAccount {
        username: body.username,
        display_name: body.display_name,
        password: body.password,
        roles: body.roles,
    };
    let user = admin::create_user(&state, account, &origin.acting(caller.user())).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(user))))
}

/// Which sessions to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SessionFilter {
    /// Include ended (revoked or expired) sessions.
    #[serde(default)]
    include_ended: bool,
}

/// An account's sessions.
#[utoipa::path(get, path = "/admin/users/{id}/sessions", tag = "admin", security(("bearer" = ["session:read"])),
    params(("id" = Uuid, Path, description = "Account id"), SessionFilter),
    responses((status = 200, body = Vec<SessionView>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn user_sessions(
    State(state): State<AppState>,
    _: Authorized<need::SessionRead>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(filter): ApiQuery<SessionFilter>,
) -> ApiResult<Json<Vec<SessionView>>> {
    let mut conn = state.store().acquire().await?;
    let user = users::by_id(&mut conn, UserId(id))
        .await?
        .ok_or(ApiError::NotFound)?;
    let rows =
        sessions::list_for_user(&mut conn, user.id, filter.include_ended, state.now()).await?;
    Ok(Json(rows.into_iter().map(SessionView::from).collect()))
}

/// Whether the account was locked.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnlockResponse {
    /// `true` when a lock was lifted; `false` when the account was not locked (failures are cleared either way).
    was_locked: bool,
}

/// Lifts an account's lock and clears its failure count.
#[utoipa::path(post, path = "/admin/users/{id}/unlock", tag = "admin", security(("bearer" = ["user:unlock"])),
    params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200, body = UnlockResponse), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn unlock_user(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::UserUnlock>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<UnlockResponse>> {
    let was_locked = admin::unlock(&state, UserId(id), &origin.acting(caller.user())).await?;
    Ok(Json(UnlockResponse { was_locked }))
}

/// Ends a session at once (its access tokens stop working on their next request).
#[utoipa::path(delete, path = "/admin/sessions/{id}", tag = "admin", security(("bearer" = ["session:revoke"])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 204, description = "Session ended"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn force_logout(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::SessionRevoke>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    admin::force_logout(&state, SessionId(id), &origin.acting(caller.user())).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A blocked address.
#[derive(Debug, Serialize, ToSchema)]
pub struct IpBlockView {
    /// The address.
    ip: String,
    /// When the block lifts.
    #[serde(with = "time::serde::rfc3339")]
    until: OffsetDateTime,
    /// Why (automatic credential-stuffing detection, or an administrator's note).
    #[schema(value_type = Object)]
    reason: serde_json::Value,
    /// When it was blocked.
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

/// Addresses blocked right now.
#[utoipa::path(get, path = "/admin/ip-blocks", tag = "admin", security(("bearer" = ["ipblock:read"])),
    responses((status = 200, body = Vec<IpBlockView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_ip_blocks(
    State(state): State<AppState>,
    _: Authorized<need::IpblockRead>,
) -> ApiResult<Json<Vec<IpBlockView>>> {
    let mut conn = state.store().acquire().await?;
    let blocks = lockout::list_blocks(&mut conn, state.now()).await?;
    Ok(Json(
        blocks
            .into_iter()
            .map(|block| IpBlockView {
                ip: block.ip.to_string(),
                until: block.until,
                reason: serde_json::to_value(&block.reason).unwrap_or_default(),
                created_at: block.created_at,
            })
            .collect(),
    ))
}

/// An address to block.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockIpRequest {
    /// IPv4 or IPv6 address.
    ip: String,
    /// How long, in minutes (1 to 525 600).
    minutes: u32,
    /// Why (at most 500 characters).
    #[serde(default)]
    note: String,
}

/// Blocks an address from signing in.
#[utoipa::path(post, path = "/admin/ip-blocks", tag = "admin", security(("bearer" = ["ipblock:manage"])), request_body = BlockIpRequest,
    responses((status = 201, body = IpBlockView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn block_ip(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::IpblockManage>,
    ApiJson(body): ApiJson<BlockIpRequest>,
) -> ApiResult<(StatusCode, Json<IpBlockView>)> {
    bounded("ip", &body.ip, 64)?;
    let ip: IpAddr = body.ip.parse().map_err(|_| ApiError::Validation {
        field: "ip",
        reason: "not an IPv4 or IPv6 address".into(),
    })?;
    let origin = origin.acting(caller.user());
    let now = state.now();
    let duration = time::Duration::minutes(i64::from(body.minutes));
    let note = body.note;
    let until = admin::block_ip(&state, ip, duration, note.clone(), &origin).await?;
    let reason = schild_core::audit::BlockReason::Manual {
        by: origin.actor,
        note,
    };
    Ok((
        StatusCode::CREATED,
        Json(IpBlockView {
            ip: ip.to_string(),
            until,
            reason: serde_json::to_value(&reason).unwrap_or_default(),
            created_at: now,
        }),
    ))
}

/// Lifts a block.
#[utoipa::path(delete, path = "/admin/ip-blocks/{ip}", tag = "admin", security(("bearer" = ["ipblock:manage"])),
    params(("ip" = String, Path, description = "The blocked address")),
    responses((status = 204, description = "Block lifted"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "No block for this address", body = Problem), (status = 422, body = Problem)))]
async fn unblock_ip(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::IpblockManage>,
    ApiPath(ip): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let ip: IpAddr = ip.parse().map_err(|_| ApiError::Validation {
        field: "ip",
        reason: "not an IPv4 or IPv6 address".into(),
    })?;
    if admin::unblock_ip(&state, ip, &origin.acting(caller.user())).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Which audit events to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only this kind, e.g. `auth.login.failed`.
    kind: Option<String>,
    /// Only events about this account.
    subject: Option<Uuid>,
    /// At most this many (1–1000, default 100), newest first.
    limit: Option<u32>,
    /// Only events older than this sequence number (for paging).
    before: Option<i64>,
}

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Sequence number.
    id: i64,
    /// The record (time, actor, source address and the typed event).
    #[schema(value_type = Object)]
    #[serde(flatten)]
    record: serde_json::Value,
}

/// The audit trail, newest first.
#[utoipa::path(get, path = "/admin/audit", tag = "admin", security(("bearer" = ["audit:read"])), params(AuditFilter),
    responses((status = 200, body = Vec<AuditEntry>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn audit_events(
    State(state): State<AppState>,
    _: Authorized<need::AuditRead>,
    ApiQuery(filter): ApiQuery<AuditFilter>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let limit = filter.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::Validation {
            field: "limit",
            reason: "must be between 1 and 1000".into(),
        });
    }
    if let Some(kind) = &filter.kind {
        bounded("kind", kind, 64)?;
    }
    let mut conn = state.store().acquire().await?;
    let entries = audit::list(
        &mut conn,
        &audit::AuditFilter {
            kind: filter.kind,
            subject: filter.subject.map(UserId),
            before_id: filter.before,
            limit,
        },
    )
    .await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|entry| AuditEntry {
                id: entry.id,
                record: serde_json::to_value(&entry.record).unwrap_or_default(),
            })
            .collect(),
    ))
}

/// The new signing key.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedKey {
    /// Key id (`kid`) of the new signing key.
    kid: String,
}

/// Starts signing tokens with a new key; the old key keeps verifying until its tokens expire.
#[utoipa::path(post, path = "/admin/signing-keys/rotate", tag = "admin", security(("bearer" = ["signingkey:rotate"])),
    responses((status = 200, body = RotatedKey), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn rotate_signing_key(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::SigningkeyRotate>,
) -> ApiResult<Json<RotatedKey>> {
    let kid = signing_keys::rotate(&state, &origin.acting(caller.user())).await?;
    Ok(Json(RotatedKey { kid }))
}
