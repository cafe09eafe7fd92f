//! Access-review campaigns: start one, list them, see one with its items, decide an item, and
//! export the report. The rules live in [`crate::access::reviews`], shared with the console.

use super::dto::bounded;
use crate::access::reviews::{
    self, CampaignRequest, DEFAULT_DEADLINE, MAX_SCOPE_ENTRIES, PolicyOverrides,
};
use crate::auth::Origin;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authorized};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schild_core::ids::UserId;
use schild_core::rbac::review::{ReviewPolicy, ReviewScope};
use schild_core::rbac::{CampaignId, ReviewCampaign, ReviewItem, ReviewItemId, Verdict, need};
use schild_store::reviews::CampaignSummary;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, start_campaign))
        .routes(routes!(campaign))
        .routes(routes!(decide_item))
        .routes(routes!(campaign_report))
}

/// Longest campaign name accepted on the wire (the name itself has at most 200 characters).
const NAME_FIELD_MAX: usize = 400;
/// Longest reason accepted on the wire (the reason itself has at most 500 characters).
const REASON_FIELD_MAX: usize = 1000;
/// Longest role name accepted on the wire.
const ROLE_FIELD_MAX: usize = 64;

/// Which assignments a campaign reviews: `"all_roles"`, `"sensitive_roles"`,
/// `{"roles": ["auditor", …]}` or `{"users": ["<account id>", …]}`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeDto {
    /// Every assignment of every role.
    AllRoles,
    /// Assignments of roles marked sensitive.
    SensitiveRoles,
    /// Assignments of these roles (each must exist).
    Roles(Vec<String>),
    /// Every assignment of these accounts (each must exist).
    Users(Vec<Uuid>),
}

impl ScopeDto {
    fn into_domain(self) -> ApiResult<ReviewScope> {
        match self {
            Self::AllRoles => Ok(ReviewScope::AllRoles),
            Self::SensitiveRoles => Ok(ReviewScope::SensitiveRoles),
            Self::Roles(names) => {
                if names.is_empty() {
                    return Err(ApiError::Validation {
                        field: "scope",
                        reason: "name at least one role".into(),
                    });
                }
                for name in &names {
                    bounded("scope", name, ROLE_FIELD_MAX)?;
                }
                reviews::roles_scope(&names)
            }
            Self::Users(ids) => {
                if ids.len() > MAX_SCOPE_ENTRIES {
                    return Err(ApiError::Validation {
                        field: "scope",
                        reason: format!("at most {MAX_SCOPE_ENTRIES} accounts"),
                    });
                }
                Ok(ReviewScope::Users(ids.into_iter().map(UserId).collect()))
            }
        }
    }
}

impl From<&ReviewScope> for ScopeDto {
    fn from(scope: &ReviewScope) -> Self {
        match scope {
            ReviewScope::AllRoles => Self::AllRoles,
            ReviewScope::SensitiveRoles => Self::SensitiveRoles,
            ReviewScope::Roles(roles) => {
                Self::Roles(roles.iter().map(|role| role.as_str().to_owned()).collect())
            }
            ReviewScope::Users(users) => Self::Users(users.iter().map(|user| user.0).collect()),
        }
    }
}

/// A campaign to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartCampaignRequest {
    /// What reviewers see, for example "2027 Q1 access review" (1 to 200 characters).
    name: String,
    /// Which assignments to review; every role when absent.
    #[serde(default)]
    scope: Option<ScopeDto>,
    /// When decisions are due (RFC 3339, in the future, at most 366 days away). Give this or
    /// `deadline_days`, not both; 14 days from now when neither is given.
    #[serde(default, with = "time::serde::rfc3339::option")]
    deadline: Option<OffsetDateTime>,
    /// Days from now until decisions are due (1 to 366).
    #[serde(default)]
    deadline_days: Option<u16>,
    /// Days after the deadline before undecided items are revoked automatically (0 to 366);
    /// the configured policy (7) when absent.
    #[serde(default)]
    escalation_grace_days: Option<u16>,
    /// Whether undecided items are revoked automatically after the grace; the configured
    /// policy (yes) when absent.
    #[serde(default)]
    auto_revoke: Option<bool>,
    /// Days without use after which an assignment is flagged (1 to 3653); the configured
    /// policy (90) when absent.
    #[serde(default)]
    unused_after_days: Option<u16>,
}

/// A campaign in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignSummaryView {
    /// Campaign id.
    id: Uuid,
    /// Its name.
    name: String,
    /// Who started it; `null` for the scheduler or the console.
    created_by: Option<Uuid>,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
    /// When decisions are due.
    #[serde(with = "time::serde::rfc3339")]
    deadline: OffsetDateTime,
    /// When every item was resolved.
    #[serde(with = "time::serde::rfc3339::option")]
    completed_at: Option<OffsetDateTime>,
    /// How many assignments it covers.
    items: u64,
    /// How many of them are decided or revoked automatically.
    resolved: u64,
}

impl From<CampaignSummary> for CampaignSummaryView {
    fn from(summary: CampaignSummary) -> Self {
        Self {
            id: summary.id.0,
            name: summary.name,
            created_by: summary.created_by.map(|user| user.0),
            started_at: summary.started_at,
            deadline: summary.deadline,
            completed_at: summary.completed_at,
            items: summary.items,
            resolved: summary.resolved,
        }
    }
}

/// A campaign's escalation, revocation and unused rules.
#[derive(Debug, Serialize, ToSchema)]
// Named apart from the same-named views of the retention and JIT routes: the OpenAPI
// document keys schemas by name, so one would silently replace the other.
#[schema(as = ReviewPolicyView)]
pub struct PolicyView {
    /// Seconds after the deadline before undecided items are revoked automatically.
    escalation_grace_seconds: i64,
    /// Whether undecided items are revoked automatically after the grace.
    auto_revoke: bool,
    /// Seconds without use after which an assignment was flagged.
    unused_after_seconds: i64,
    /// Who escalations go to; `null`: every reviewer.
    escalate_to: Option<Uuid>,
}

impl From<ReviewPolicy> for PolicyView {
    fn from(policy: ReviewPolicy) -> Self {
        Self {
            escalation_grace_seconds: policy.escalation_grace.whole_seconds(),
            auto_revoke: policy.auto_revoke,
            unused_after_seconds: policy.unused_after.whole_seconds(),
            escalate_to: policy.escalate_to.map(|user| user.0),
        }
    }
}

/// A reviewer's decision.
#[derive(Debug, Serialize, ToSchema)]
// Named apart from the same-named views of the retention and JIT routes: the OpenAPI
// document keys schemas by name, so one would silently replace the other.
#[schema(as = ReviewDecisionView)]
pub struct DecisionView {
    /// Who decided.
    reviewer: Uuid,
    /// `certify` or `revoke`.
    verdict: VerdictDto,
    /// Why.
    reason: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    decided_at: OffsetDateTime,
}

/// One assignment under review.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    /// Item id, for decisions.
    id: Uuid,
    /// The account.
    user: Uuid,
    /// Its username when the campaign started.
    username: String,
    /// The role.
    role: String,
    /// Whether the role was sensitive when the campaign started (keeping it needs a reason).
    sensitive: bool,
    /// Who granted the assignment.
    granted_by: Option<Uuid>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    granted_at: OffsetDateTime,
    /// The last use of any permission this assignment alone provides; `null` when never used.
    #[serde(with = "time::serde::rfc3339::option")]
    last_used: Option<OffsetDateTime>,
    /// The last use of each such permission (RFC 3339 times by `resource:action`).
    permission_last_used: BTreeMap<String, String>,
    /// Unused longer than the campaign's threshold when it started: a candidate for removal
    /// (keeping it needs a reason).
    flagged_unused: bool,
    /// `pending`, `escalated`, `certified`, `revoked` or `auto_revoked`.
    status: String,
    /// When it was escalated (still undecided at the deadline).
    #[serde(with = "time::serde::rfc3339::option")]
    escalated_at: Option<OffsetDateTime>,
    /// When it was revoked automatically.
    #[serde(with = "time::serde::rfc3339::option")]
    auto_revoked_at: Option<OffsetDateTime>,
    /// The reviewer's decision.
    decision: Option<DecisionView>,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

impl From<ReviewItem> for ItemView {
    fn from(item: ReviewItem) -> Self {
        Self {
            id: item.id.0,
            user: item.user.0,
            status: item.status().as_str().to_owned(),
            username: item.username,
            role: item.role.as_str().to_owned(),
            sensitive: item.sensitive,
            granted_by: item.granted_by.map(|user| user.0),
            granted_at: item.granted_at,
            last_used: item.last_used,
            permission_last_used: item
                .permission_last_used
                .iter()
                .map(|(permission, at)| (permission.as_str().to_owned(), rfc3339(*at)))
                .collect(),
            flagged_unused: item.flagged_unused,
            escalated_at: item.escalated_at,
            auto_revoked_at: item.auto_revoked_at,
            decision: item.decision.map(|decision| DecisionView {
                reviewer: decision.reviewer.0,
                verdict: decision.verdict.into(),
                reason: decision.reason.map(|reason| reason.to_string()),
                decided_at: decision.at,
            }),
        }
    }
}

/// A campaign with every item.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    /// Campaign id.
    id: Uuid,
    /// Its name.
    name: String,
    /// Which assignments it covers.
    scope: ScopeDto,
    /// Its rules.
    policy: PolicyView,
    /// Who started it; `null` for the scheduler or the console.
    created_by: Option<Uuid>,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
    /// When decisions are due.
    #[serde(with = "time::serde::rfc3339")]
    deadline: OffsetDateTime,
    /// When every item was resolved.
    #[serde(with = "time::serde::rfc3339::option")]
    completed_at: Option<OffsetDateTime>,
    /// The ids of items flagged unused and still open: what to look at first.
    flagged_open: Vec<Uuid>,
    /// One item per assignment in scope at the start, by username then role.
    items: Vec<ItemView>,
}

impl From<ReviewCampaign> for CampaignView {
    fn from(campaign: ReviewCampaign) -> Self {
        Self {
            id: campaign.id.0,
            scope: ScopeDto::from(&campaign.scope),
            policy: campaign.policy.into(),
            created_by: campaign.created_by.map(|user| user.0),
            started_at: campaign.started_at,
            deadline: campaign.deadline,
            completed_at: campaign.completed_at,
            flagged_open: campaign.flagged_open().map(|item| item.id.0).collect(),
            name: campaign.name,
            items: campaign.items.into_iter().map(ItemView::from).collect(),
        }
    }
}

/// Every campaign, newest first.
#[utoipa::path(get, path = "/reviews", tag = "reviews", security(("bearer" = ["review:read"])),
    responses((status = 200, body = Vec<CampaignSummaryView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_campaigns(
    State(state): State<AppState>,
    _: Authorized<need::ReviewRead>,
) -> ApiResult<Json<Vec<CampaignSummaryView>>> {
    let campaigns = reviews::list(&state).await?;
    Ok(Json(campaigns.into_iter().map(Into::into).collect()))
}

/// Starts a campaign over every assignment in its scope, each with its last use; assignments
/// unused for longer than the threshold are flagged.
#[utoipa::path(post, path = "/reviews", tag = "reviews", security(("bearer" = ["review:manage"])), request_body = StartCampaignRequest,
    responses((status = 201, body = CampaignView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, description = "A bad name, scope, deadline or policy value, or an unknown role or account in the scope", body = Problem)))]
async fn start_campaign(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::ReviewManage>,
    ApiJson(body): ApiJson<StartCampaignRequest>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    bounded("name", &body.name, NAME_FIELD_MAX)?;
    let scope = body.scope.unwrap_or(ScopeDto::AllRoles).into_domain()?;
    let now = state.now();
    let deadline = match (body.deadline, body.deadline_days) {
        (Some(_), Some(_)) => {
            return Err(ApiError::Validation {
                field: "deadline",
                reason: "give deadline or deadline_days, not both".into(),
            });
        }
        (Some(at), None) => at,
        (None, Some(days)) => now + Duration::days(i64::from(days)),
        (None, None) => now + DEFAULT_DEADLINE,
    };
    let days = |days: Option<u16>| days.map(|days| Duration::days(i64::from(days)));
    let request = CampaignRequest {
        name: body.name,
        scope,
        deadline,
        policy: PolicyOverrides {
            escalation_grace: days(body.escalation_grace_days),
            auto_revoke: body.auto_revoke,
            unused_after: days(body.unused_after_days),
        },
    };
    let user = caller.user();
    let campaign = reviews::start(&state, Some(user), request, &origin.acting(user)).await?;
    Ok((StatusCode::CREATED, Json(campaign.into())))
}

/// A campaign with every item: account, role, last use, whether it is flagged unused, where it
/// stands and the decision.
#[utoipa::path(get, path = "/reviews/{id}", tag = "reviews", security(("bearer" = ["review:read"])),
    params(("id" = Uuid, Path, description = "Campaign id")),
    responses((status = 200, body = CampaignView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn campaign(
    State(state): State<AppState>,
    _: Authorized<need::ReviewRead>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<CampaignView>> {
    let campaign = reviews::get(&state, CampaignId(id)).await?;
    Ok(Json(campaign.into()))
}

/// `certify` (keep) or `revoke` (remove).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictDto {
    /// Keep the assignment.
    Certify,
    /// Remove the assignment, at once.
    Revoke,
}

impl From<VerdictDto> for Verdict {
    fn from(verdict: VerdictDto) -> Self {
        match verdict {
            VerdictDto::Certify => Self::Certify,
            VerdictDto::Revoke => Self::Revoke,
        }
    }
}

impl From<Verdict> for VerdictDto {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Certify => Self::Certify,
            Verdict::Revoke => Self::Revoke,
        }
    }
}

/// A reviewer's decision on one item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `certify` or `revoke`.
    verdict: VerdictDto,
    /// Why (at most 500 characters). Required to revoke, and to keep a sensitive role or an
    /// assignment flagged unused.
    #[serde(default)]
    reason: String,
}

/// Certifies or revokes one item. A revocation removes the assignment at once; nobody may
/// decide on their own access.
#[utoipa::path(post, path = "/reviews/{id}/items/{item}/decision", tag = "reviews", security(("bearer" = ["review:decide"])),
    params(("id" = Uuid, Path, description = "Campaign id"), ("item" = Uuid, Path, description = "Item id")),
    request_body = DecisionRequest,
    responses((status = 200, description = "The item as decided", body = ItemView), (status = 401, body = Problem),
        (status = 403, description = "Missing review:decide, or a decision on one's own access (self_review)", body = Problem),
        (status = 404, description = "No such campaign or item", body = Problem),
        (status = 409, description = "Already decided, campaign complete, or changed concurrently", body = Problem),
        (status = 422, description = "A missing or overlong reason", body = Problem)))]
async fn decide_item(
    State(state): State<AppState>,
    origin: Origin,
    caller: Authorized<need::ReviewDecide>,
    ApiPath((id, item)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> ApiResult<Json<ItemView>> {
    bounded("reason", &body.reason, REASON_FIELD_MAX)?;
    let user = caller.user();
    let decided = reviews::decide(
        &state,
        CampaignId(id),
        ReviewItemId(item),
        user,
        body.verdict.into(),
        &body.reason,
        &origin.acting(user),
    )
    .await?;
    Ok(Json(decided.into()))
}

/// The format of a report.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// RFC 4180 CSV, one line per item (`text/csv`).
    Csv,
    /// The campaign, its counts and its items (`application/json`).
    #[default]
    Json,
}

/// How to export a report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `csv` or `json` (the default).
    #[serde(default)]
    #[param(inline)]
    format: ReportFormat,
}

/// The campaign's report: who decided what, when, as CSV or JSON.
#[utoipa::path(get, path = "/reviews/{id}/report", tag = "reviews", security(("bearer" = ["review:read"])),
    params(("id" = Uuid, Path, description = "Campaign id"), ReportQuery),
    responses((status = 200, description = "The report", content((String = "text/csv"), (serde_json::Value = "application/json"))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, description = "An unknown format", body = Problem)))]
async fn campaign_report(
    State(state): State<AppState>,
    _: Authorized<need::ReviewRead>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    let report = reviews::report(&state, CampaignId(id)).await?;
    let (content_type, extension, body) = match query.format {
        ReportFormat::Csv => ("text/csv; charset=utf-8", "csv", report.to_csv()),
        ReportFormat::Json => (
            "application/json",
            "json",
            report.to_json().map_err(ApiError::internal)?,
        ),
    };
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"access-review-{id}.{extension}\""
    ))
    .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
