//! The administrators' dashboard: one read of the figures the UI charts.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiQuery, Authorized};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use schild_core::authenticator::{Aaguid, model_name};
use schild_core::rbac::need;
use schild_store::dashboard;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime, Time};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dashboard))
}

/// How far back the time series reach.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// Days of history, today included (1–90, default 14).
    days: Option<u32>,
}

/// Failed sign-ins on one day (UTC).
#[derive(Debug, Serialize, ToSchema)]
pub struct DayCount {
    /// The day's start, 00:00 UTC.
    #[serde(with = "time::serde::rfc3339")]
    day: OffsetDateTime,
    /// Failed sign-ins (password or second factor) that day.
    count: u64,
}

/// Registered security keys of one model.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelCount {
    /// The model's AAGUID (all zeroes when the key does not disclose its model).
    aaguid: String,
    /// The model's name from the bundled catalogue; absent when the model is not catalogued.
    model: Option<String>,
    /// Keys in use.
    active: u64,
    /// Keys blocked after a signature-counter regression.
    blocked: u64,
    /// Keys revoked.
    revoked: u64,
}

/// Active security keys whose age falls in one bucket.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeBucket {
    /// Lower bound in days (inclusive).
    min_days: i64,
    /// Upper bound in days (exclusive); absent for the last, open-ended bucket.
    max_days: Option<i64>,
    /// How many keys.
    count: u64,
}

/// The dashboard's figures at one moment.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    /// When these figures were read.
    #[serde(with = "time::serde::rfc3339")]
    generated_at: OffsetDateTime,
    /// Failed sign-ins per UTC day, oldest first, today last.
    failed_sign_ins: Vec<DayCount>,
    /// Account lockouts in the period.
    lockouts: u64,
    /// Address blocks (automatic or by an administrator) in the period.
    ip_blocks: u64,
    /// Accounts locked right now.
    locked_accounts: u64,
    /// Addresses blocked right now.
    blocked_ips: u64,
    /// Sessions neither ended nor expired.
    active_sessions: u64,
    /// Registered security keys per model, most numerous first.
    keys_by_model: Vec<ModelCount>,
    /// Active security keys by age: under 30 days, 30–89, 90–179, 180–364, a year or more.
    key_age: Vec<AgeBucket>,
}

/// Sign-in failures, lockouts, blocks, sessions and security keys, for the dashboard.
#[utoipa::path(get, path = "/dashboard", tag = "admin", security(("bearer" = ["metrics:read"])),
    params(DashboardQuery),
    responses((status = 200, body = Dashboard), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn dashboard(
    State(state): State<AppState>,
    _: Authorized<need::MetricsRead>,
    ApiQuery(query): ApiQuery<DashboardQuery>,
) -> ApiResult<Json<Dashboard>> {
    let days = query.days.unwrap_or(14);
    if !(1..=90).contains(&days) {
        return Err(ApiError::Validation {
            field: "days",
            reason: "must be between 1 and 90".into(),
        });
    }
    let now = state.now();
    let today = now.replace_time(Time::MIDNIGHT);
    let since = today - Duration::days(i64::from(days) - 1);

    let mut conn = state.store().acquire().await?;
    let per_day = dashboard::failures_per_day(&mut conn, since, days).await?;
    let lockouts = dashboard::events_since(&mut conn, "auth.account.locked", since).await?;
    let ip_blocks = dashboard::events_since(&mut conn, "net.ip.blocked", since).await?;
    let in_force = dashboard::in_force(&mut conn, now).await?;
    let per_model = dashboard::keys_per_model(&mut conn).await?;
    let ages = dashboard::active_key_ages(&mut conn, now).await?;

    Ok(Json(Dashboard {
        generated_at: now,
        failed_sign_ins: per_day
            .into_iter()
            .zip(0_i64..)
            .map(|(count, offset)| DayCount {
                day: since + Duration::days(offset),
                count,
            })
            .collect(),
        lockouts,
        ip_blocks,
        locked_accounts: in_force.locked_accounts,
        blocked_ips: in_force.blocked_ips,
        active_sessions: in_force.active_sessions,
        keys_by_model: by_model(per_model),
        key_age: age_buckets(ages),
    }))
}

/// Folds per-state rows into one entry per model, most active keys first.
fn by_model(rows: Vec<dashboard::KeysOfModel>) -> Vec<ModelCount> {
    let mut models: BTreeMap<String, ModelCount> = BTreeMap::new();
    for row in rows {
        let entry = models
            .entry(row.aaguid.clone())
            .or_insert_with(|| ModelCount {
                model: row
                    .aaguid
                    .parse::<Aaguid>()
                    .ok()
                    .and_then(model_name)
                    .map(str::to_owned),
                aaguid: row.aaguid,
                active: 0,
                blocked: 0,
                revoked: 0,
            });
        match row.state.as_str() {
            "active" => entry.active += row.count,
            "blocked" => entry.blocked += row.count,
            _ => entry.revoked += row.count,
        }
    }
    let mut out: Vec<ModelCount> = models.into_values().collect();
    out.sort_by(|a, b| {
        (b.active, b.active + b.blocked + b.revoked)
            .cmp(&(a.active, a.active + a.blocked + a.revoked))
    });
    out
}

fn age_buckets(counts: [u64; 5]) -> Vec<AgeBucket> {
    let bounds = dashboard::KEY_AGE_BOUNDS_DAYS;
    let lower = std::iter::once(0).chain(bounds);
    let upper = bounds.into_iter().map(Some).chain(std::iter::once(None));
    counts
        .into_iter()
        .zip(lower.zip(upper))
        .map(|(count, (min_days, max_days))| AgeBucket {
            min_days,
            max_days,
            count,
        })
        .collect()
}
