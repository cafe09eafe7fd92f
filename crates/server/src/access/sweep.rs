//! The sweeper: the time-driven half of access control, and the scheduled rotation of the keys
//! that seal secrets at rest (`crate::sealing`), run once a minute by `schild serve` (and directly
//! by tests with a controlled clock). It also starts the daily retention purge
//! ([`crate::retention::purge::run_if_due`]).
//!
//! Nothing here is needed for correctness of authorisation: an ended grant stops counting at
//! its end because the effective permission set reads only grants in force at `now`. The
//! sweeper records what time did (grants expired, review items escalated or revoked by policy,
//! scheduled campaigns started), so the audit trail and the lists say so too. Several instances
//! may sweep at once: every step is a compare-and-set, so each change happens exactly once.

use super::{jit, reviews};
use crate::error::ApiResult;
use crate::retention;
use crate::state::AppState;
use schild_core::rbac::review::ReviewSchedule;
use std::time::Duration;

/// How often `schild serve` sweeps.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Just-in-time grants recorded as expired.
    pub grants_expired: usize,
    /// Review campaigns whose deadline or grace passed and that were ticked.
    pub campaigns_ticked: usize,
    /// Whether a scheduled review campaign was started.
    pub campaign_started: bool,
    /// The KEK version a sealing-key rotation began with, if one began.
    pub kek_rotation_began: Option<u32>,
    /// Sealed secrets re-wrapped to the current KEK version.
    pub secrets_rewrapped: usize,
    /// Old KEK versions destroyed.
    pub kek_versions_retired: usize,
    /// Whether the daily retention purge ran.
    pub retention_purged: bool,
    /// Idempotency keys forgotten after [`crate::idempotency::KEPT_FOR`].
    pub idempotency_keys_purged: u64,
}

/// Runs every time-driven step once, at the state's current time.
pub async fn once(state: &AppState, schedule: ReviewSchedule) -> ApiResult<Swept> {
    let now = state.now();
    let rotation = crate::sealing::rotation_step(state).await?;
    Ok(Swept {
        grants_expired: jit::expire_due(state, now).await?,
        campaigns_ticked: reviews::tick_due(state, now).await?,
        campaign_started: reviews::start_scheduled(state, now, schedule)
            .await?
            .is_some(),
        kek_rotation_began: rotation.began,
        secrets_rewrapped: rotation.rewrapped,
        kek_versions_retired: rotation.retired.len(),
        retention_purged: retention::purge::run_if_due(state, now).await?.is_some(),
        idempotency_keys_purged: schild_store::idempotency::purge_before(
            &mut *state.store().acquire().await?,
            now - crate::idempotency::KEPT_FOR,
        )
        .await?,
    })
}

/// Sweeps every [`INTERVAL`] until the task is dropped or aborted. A failed sweep is logged
/// and retried at the next interval; it never stops the loop.
pub async fn run(state: AppState, schedule: ReviewSchedule) {
    let mut ticker = tokio::time::interval(INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match once(&state, schedule).await {
            Ok(swept) if swept != Swept::default() => tracing::info!(
                grants_expired = swept.grants_expired,
                campaigns_ticked = swept.campaigns_ticked,
                campaign_started = swept.campaign_started,
                kek_rotation_began = swept.kek_rotation_began,
                secrets_rewrapped = swept.secrets_rewrapped,
                kek_versions_retired = swept.kek_versions_retired,
                retention_purged = swept.retention_purged,
                idempotency_keys_purged = swept.idempotency_keys_purged,
                "sweep"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(?error, "access sweep failed; retrying next minute"),
        }
    }
}
