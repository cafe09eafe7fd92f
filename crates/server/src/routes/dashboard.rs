//! The administrators' dashboard: one read of the figures the UI charts, as JSON or drawn into a
//! report image (`crate::reports::dashboard`).

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiQuery, Authorized};
use crate::reports::{self, ImageFormat};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use schild_core::authenticator::{Aaguid, model_name};
use schild_core::rbac::need;
use schild_store::dashboard;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime, Time};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard))
        .routes(routes!(report))
}

/// How far back the time series reach.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// Days of history, today included (1–90, default 14).
    days: Option<u32>,
}

impl DashboardQuery {
    /// The period asked for, checked.
    fn days(&self) -> ApiResult<u32> {
        let days = self.days.unwrap_or(14);
        if !(1..=90).contains(&days) {
            return Err(ApiError::Validation {
                field: "days",
                reason: "must be between 1 and 90".into(),
            });
        }
        Ok(days)
    }
}

/// The period and format of a report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Days of history, today included (1–90, default 14).
    days: Option<u32>,
    /// `svg` (the default) or `png`.
    #[serde(default)]
    #[param(inline)]
    format: ImageFormat,
}

/// Failed sign-ins on one day (UTC).
#[derive(Debug, Serialize, ToSchema)]
pub struct DayCount {
    /// The day's start, 00:00 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) day: OffsetDateTime,
    /// Failed sign-ins (password or second factor) that day.
    pub(crate) count: u64,
}

/// Registered security keys of one model.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelCount {
    /// The model's AAGUID (all zeroes when the key does not disclose its model).
    pub(crate) aaguid: String,
    /// The model's name from the bundled catalogue; absent when the model is not catalogued.
    pub(crate) model: Option<String>,
    /// Keys in use.
    pub(crate) active: u64,
    /// Keys blocked after a signature-counter regression.
    pub(crate) blocked: u64,
    /// Keys revoked.
    pub(crate) revoked: u64,
}

/// Active security keys whose age falls in one bucket.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeBucket {
    /// Lower bound in days (inclusive).
    pub(crate) min_days: i64,
    /// Upper bound in days (exclusive); absent for the last, open-ended bucket.
    pub(crate) max_days: Option<i64>,
    /// How many keys.
    pub(crate) count: u64,
}

/// The dashboard's figures at one moment.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    /// When these figures were read.
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) generated_at: OffsetDateTime,
    /// Failed sign-ins per UTC day, oldest first, today last.
    pub(crate) failed_sign_ins: Vec<DayCount>,
    /// Account lockouts in the period.
    pub(crate) lockouts: u64,
    /// Address blocks (automatic or by an administrator) in the period.
    pub(crate) ip_blocks: u64,
    /// Accounts locked right now.
    pub(crate) locked_accounts: u64,
    /// Addresses blocked right now.
    pub(crate) blocked_ips: u64,
    /// Sessions neither ended nor expired.
    pub(crate) active_sessions: u64,
    /// Registered security keys per model, most numerous first.
    pub(crate) keys_by_model: Vec<ModelCount>,
    /// Active security keys by age: under 30 days, 30–89, 90–179, 180–364, a year or more.
    pub(crate) key_age: Vec<AgeBucket>,
    /// The key-encryption key each vault seals with now, and how old it is.
    pub(crate) vault_keys: Vec<VaultKeyAge>,
}

/// A vault's current key-encryption key (KEK) and its rotation age.
#[derive(Debug, Serialize, ToSchema)]
pub struct VaultKeyAge {
    /// The vault's id (`schild-server` for the backend's own secrets).
    pub(crate) vault: String,
    /// The vault's display name.
    pub(crate) name: String,
    /// The current KEK version.
    pub(crate) version: u32,
    /// Since when this version seals.
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) since: OffsetDateTime,
    /// Whole days since the last rotation (since `since`).
    pub(crate) age_days: i64,
    /// Days between scheduled rotations.
    pub(crate) rotation_days: u32,
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
    Ok(Json(figures(&state, query.days()?).await?))
}

/// The dashboard's charts and figures as one image: SVG or PNG, for saving or printing.
#[utoipa::path(get, path = "/dashboard/report", tag = "admin", security(("bearer" = ["metrics:read"])),
    params(ReportQuery),
    responses((status = 200, description = "The report, as an attachment",
            content((String = "image/svg+xml"), (Vec<u8> = "image/png"))),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, description = "A period outside 1–90 days or an unknown format", body = Problem)))]
async fn report(
    State(state): State<AppState>,
    _: Authorized<need::MetricsRead>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    let days = DashboardQuery { days: query.days }.days()?;
    let format = query.format;
    let figures = figures(&state, days).await?;
    let date = figures.generated_at.date();
    // Rasterising takes milliseconds of CPU: off the async workers.
    let image = tokio::task::spawn_blocking(move || reports::dashboard::render(&figures, format))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"schild-dashboard-{date}.{}\"",
        format.extension()
    ))
    .map_err(ApiError::internal)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.media_type()),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        image,
    )
        .into_response())
}

/// Reads the dashboard's figures for the `days` up to and including today (UTC): the one place
/// both the JSON and the report get them from.
async fn figures(state: &AppState, days: u32) -> ApiResult<Dashboard> {
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
    let keks = dashboard::current_keks(&mut conn).await?;

    Ok(Dashboard {
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
        vault_keys: keks
            .into_iter()
            .map(|kek| VaultKeyAge {
                age_days: (now - kek.since).whole_days().max(0),
                vault: kek.vault_id,
                name: kek.name,
                version: kek.version,
                since: kek.since,
                rotation_days: kek.rotation_days,
            })
            .collect(),
    })
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
