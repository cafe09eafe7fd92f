//! Data retention over HTTP (`crate::retention` holds the rules; these handlers only translate).
//!
//! Reading policies and holds needs `retention:read`; changing a policy, placing or releasing a
//! hold, and running the purge (or its dry run) need `retention:manage`.

use crate::auth::Origin;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authorized};
use crate::retention::{self, purge};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use schild_core::ids::UserId;
use schild_core::rbac::need;
use schild_core::retention::{ClassOutcome, HoldId, LegalHold, RetentionPeriod, RetentionPolicies};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_policies, set_policies))
        .routes(routes!(list_holds, place_hold))
        .routes(routes!(release_hold))
        .routes(routes!(run_purge))
}

/// Longest class-name field accepted on the wire.
const CLASS_FIELD_MAX: usize = 64;
/// Longest reason field accepted on the wire; the reason itself has at most 500 characters.
const REASON_FIELD_MAX: usize = 2000;

/// One data class's retention period.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    /// The class: `audit_events`, `sessions`, `api_keys`, `vault_items`, `incidents`,
    /// `training_records`.
    class: &'static str,
    /// What it holds and from when its period counts.
    description: &'static str,
    /// Days a record is kept after it ends.
    keep_days: u32,
    /// The default period.
    default_days: u32,
    /// The shortest period allowed for the class.
    min_days: u32,
    /// The longest period allowed.
    max_days: u32,
}

fn policy_views(policies: &RetentionPolicies) -> Vec<PolicyView> {
    policies
        .iter()
        .map(|(class, period)| PolicyView {
            class: class.as_str(),
            description: class.description(),
            keep_days: period.days(),
            default_days: class.default_period().days(),
            min_days: class.minimum_days(),
            max_days: RetentionPeriod::MAX_DAYS,
        })
        .collect()
}

/// New periods for some classes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoliciesBody {
    /// Days to keep, by class name. Classes not named keep their period.
    keep_days: BTreeMap<String, u32>,
}

/// A legal hold.
#[derive(Debug, Serialize, ToSchema)]
pub struct HoldView {
    /// Its id.
    id: Uuid,
    /// The class it keeps.
    class: &'static str,
    /// The account whose records it keeps; absent: the whole class.
    subject: Option<Uuid>,
    /// Why it was placed.
    reason: String,
    /// Who placed it (absent for the console).
    placed_by: Option<Uuid>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    placed_at: OffsetDateTime,
    /// When it was released; absent while in force.
    #[serde(with = "time::serde::rfc3339::option")]
    released_at: Option<OffsetDateTime>,
    /// Who released it.
    released_by: Option<Uuid>,
    /// Why.
    release_reason: Option<String>,
}

impl From<LegalHold> for HoldView {
    fn from(hold: LegalHold) -> Self {
        let release = hold.release;
        Self {
            id: hold.id.0,
            class: hold.class.as_str(),
            subject: hold.subject.map(|id| id.0),
            reason: hold.reason.to_string(),
            placed_by: hold.placed_by.map(|id| id.0),
            placed_at: hold.placed_at,
            released_at: release.as_ref().map(|release| release.at),
            released_by: release
                .as_ref()
                .and_then(|release| release.by.map(|id| id.0)),
            release_reason: release.map(|release| release.reason.to_string()),
        }
    }
}

/// Which holds to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HoldFilter {
    /// Include released holds.
    #[serde(default)]
    include_released: bool,
}

/// A hold to place.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// The class to keep.
    class: String,
    /// Keep only the records about this account (audit events about it, its sessions, its API
    /// keys); absent: the whole class.
    #[serde(default)]
    subject: Option<Uuid>,
    /// Why (a case or matter reference), 1 to 500 characters.
    reason: String,
}

/// Why a hold is released.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    /// Why, 1 to 500 characters.
    reason: String,
}

/// Run the purge, or only report what it would delete.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurgeBody {
    /// `true`: report per class what would go, and change nothing.
    dry_run: bool,
}

/// The record that ended first among those that go.
#[derive(Debug, Serialize, ToSchema)]
pub struct OldestView {
    /// Its id: a session id, an API key's public id, an audit event's number.
    id: String,
    /// When it ended.
    #[serde(with = "time::serde::rfc3339")]
    ended_at: OffsetDateTime,
}

/// One class in a purge report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassReportView {
    /// The class.
    class: &'static str,
    /// Its period in days.
    keep_days: u32,
    /// Records that ended before this instant go.
    #[serde(with = "time::serde::rfc3339")]
    cutoff: OffsetDateTime,
    /// `purged`, `held` (a hold keeps the whole class), `not_recorded` (Schild keeps no such
    /// records yet) or `failed`.
    #[schema(value_type = String)]
    outcome: ClassOutcome,
    /// Records deleted, or in a dry run that would be.
    count: u64,
    /// In a dry run: the record that ended first among those that would go.
    oldest: Option<OldestView>,
    /// Why nothing was purged, when nothing could be.
    note: Option<&'static str>,
}

/// What a purge did, or would do.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurgeReportView {
    /// The moment the cutoffs count back from.
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    /// Whether this was only a report.
    dry_run: bool,
    /// Every class.
    classes: Vec<ClassReportView>,
    /// The audit trail's purge floor after the run, when audit events went: the highest event
    /// number that may be missing.
    audit_floor: Option<i64>,
}

impl From<purge::PurgeReport> for PurgeReportView {
    fn from(report: purge::PurgeReport) -> Self {
        Self {
            at: report.at,
            dry_run: report.dry_run,
            classes: report
                .classes
                .into_iter()
                .map(|class| ClassReportView {
                    class: class.class.as_str(),
                    keep_days: class.keep.days(),
                    cutoff: class.cutoff,
                    outcome: class.outcome,
                    count: class.count,
                    oldest: class.oldest.map(|oldest| OldestView {
                        id: oldest.id,
                        ended_at: oldest.ended_at,
                    }),
                    note: class.note,
                })
                .collect(),
            audit_floor: report.audit_floor,
        }
    }
}

/// Every data class's retention period.
#[utoipa::path(get, path = "/retention/policies", tag = "retention", security(("bearer" = ["retention:read"])),
    responses((status = 200, body = Vec<PolicyView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_policies(
    State(state): State<AppState>,
    _: Authorized<need::RetentionRead>,
) -> ApiResult<Json<Vec<PolicyView>>> {
    Ok(Json(policy_views(&retention::policies(&state).await?)))
}

/// Changes the periods of the classes named; the others keep theirs. All are checked before any
/// is written; each change is audited.
#[utoipa::path(put, path = "/retention/policies", tag = "retention", security(("bearer" = ["retention:manage"])),
    request_body = PoliciesBody,
    responses((status = 200, body = Vec<PolicyView>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, description = "Unknown class (`class`), or a period out of the class's bounds (`keep_days`)", body = Problem)))]
async fn set_policies(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::RetentionManage>,
    ApiJson(body): ApiJson<PoliciesBody>,
) -> ApiResult<Json<Vec<PolicyView>>> {
    for class in body.keep_days.keys() {
        super::dto::bounded("class", class, CLASS_FIELD_MAX)?;
    }
    let policies =
        retention::set_policies(&state, &body.keep_days, &origin.acting(caller.user())).await?;
    Ok(Json(policy_views(&policies)))
}

/// Legal holds in force (and released ones on request), newest first.
#[utoipa::path(get, path = "/retention/holds", tag = "retention", security(("bearer" = ["retention:read"])),
    params(HoldFilter),
    responses((status = 200, body = Vec<HoldView>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn list_holds(
    State(state): State<AppState>,
    _: Authorized<need::RetentionRead>,
    ApiQuery(filter): ApiQuery<HoldFilter>,
) -> ApiResult<Json<Vec<HoldView>>> {
    let holds = retention::holds(&state, filter.include_released).await?;
    Ok(Json(holds.into_iter().map(HoldView::from).collect()))
}

/// Places a legal hold: what it covers is not purged, however old, until it is released.
#[utoipa::path(post, path = "/retention/holds", tag = "retention", security(("bearer" = ["retention:manage"])),
    request_body = HoldBody,
    responses((status = 201, body = HoldView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, description = "Unknown class (`class`), missing or overlong reason (`reason`)", body = Problem)))]
async fn place_hold(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::RetentionManage>,
    ApiJson(body): ApiJson<HoldBody>,
) -> ApiResult<(StatusCode, Json<HoldView>)> {
    super::dto::bounded("class", &body.class, CLASS_FIELD_MAX)?;
    super::dto::bounded("reason", &body.reason, REASON_FIELD_MAX)?;
    let class = retention::parse_class(&body.class)?;
    let hold = retention::place_hold(
        &state,
        class,
        body.subject.map(UserId),
        &body.reason,
        &origin.acting(caller.user()),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(hold.into())))
}

/// Releases a legal hold; what it kept is purged by its class's period again.
#[utoipa::path(post, path = "/retention/holds/{id}/release", tag = "retention", security(("bearer" = ["retention:manage"])),
    params(("id" = Uuid, Path, description = "Hold id")), request_body = ReleaseBody,
    responses((status = 200, body = HoldView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already released (`hold_released`)", body = Problem),
        (status = 422, body = Problem)))]
async fn release_hold(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::RetentionManage>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReleaseBody>,
) -> ApiResult<Json<HoldView>> {
    super::dto::bounded("reason", &body.reason, REASON_FIELD_MAX)?;
    let hold = retention::release_hold(
        &state,
        HoldId(id),
        &body.reason,
        &origin.acting(caller.user()),
    )
    .await?;
    Ok(Json(hold.into()))
}

/// Runs the retention purge now: per class, deletes the records that ended before their period
/// and no hold keeps, and records the run in the audit trail. With `dry_run`, only reports what
/// would go (counts, and the oldest record per class) and changes nothing.
#[utoipa::path(post, path = "/retention/purge", tag = "retention", security(("bearer" = ["retention:manage"])),
    request_body = PurgeBody,
    responses((status = 200, body = PurgeReportView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn run_purge(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::RetentionManage>,
    ApiJson(body): ApiJson<PurgeBody>,
) -> ApiResult<Json<PurgeReportView>> {
    let report = purge::run(&state, body.dry_run, &origin.acting(caller.user())).await?;
    Ok(Json(report.into()))
}
