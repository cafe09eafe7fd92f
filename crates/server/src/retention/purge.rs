//! The purge job: deletes what the retention plan says has expired, class by class, and records
//! the run in the audit trail.
//!
//! - Each class purges in its own transaction; a class that fails is rolled back, reported as
//!   `failed` and tried again at the next run, and does not stop the others.
//! - The audit trail goes last: its purge raises the purge floor, deletes, and appends the run's
//!   one `retention.purge.completed` event (counts per class) in a single transaction.
//! - A dry run reports what would go — per class the count and the record that ended first — and
//!   changes nothing, not even the audit trail.
//! - [`run_if_due`] runs it at most once per [`SCHEDULE_INTERVAL`] across all instances sharing
//!   the database (a compare-and-set claim); every step is idempotent, so a run that overlaps a
//!   manual one only finds less to delete.

use crate::auth::Origin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::AuditEvent;
use schild_core::retention::{
    ClassOutcome, ClassPlan, DataClass, PurgeCount, RetentionPeriod, RetentionPlan, plan,
};
use schild_store::retention::purge::{self, Expired, OldestRecord};
use schild_store::{AnyConnection, audit, retention};
use time::{Duration, OffsetDateTime};

/// How often the sweeper purges.
pub const SCHEDULE_INTERVAL: Duration = Duration::days(1);

/// One class's line in a purge report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassReport {
    /// The class.
    pub class: DataClass,
    /// Its retention period.
    pub keep: RetentionPeriod,
    /// Records that ended before this went (or would go).
    pub cutoff: OffsetDateTime,
    /// How it fared.
    pub outcome: ClassOutcome,
    /// How many records went (or would go).
    pub count: u64,
    /// In a dry run, the record that ended first among those that would go.
    pub oldest: Option<OldestRecord>,
    /// Why the class was not purged, when it was not.
    pub note: Option<&'static str>,
}

/// What a run did, or in a dry run would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    /// The moment the plan was made for.
    pub at: OffsetDateTime,
    /// Whether nothing was changed.
    pub dry_run: bool,
    /// Every class, in [`DataClass::ALL`] order.
    pub classes: Vec<ClassReport>,
    /// The audit trail's purge floor after the run, when audit events went.
    pub audit_floor: Option<i64>,
}

/// Why a class Schild keeps no records of reports nothing.
fn not_recorded(class: DataClass) -> Option<&'static str> {
    match class {
        DataClass::AuditEvents | DataClass::Sessions | DataClass::ApiKeys => None,
        // Removing an item destroys its DEK and ciphertext in the same transaction: secure
        // deletion leaves no soft-deleted items behind for a retention period to count.
        DataClass::VaultItems => {
            Some("removed vault items are crypto-shredded at once; none are kept to purge")
        }
        DataClass::Incidents => Some("Schild keeps no incident records yet"),
        DataClass::TrainingRecords => Some("Schild keeps no training records yet"),
        _ => Some("this version does not purge this class yet"),
    }
}

/// A class reached the purge without a query for it: `not_recorded` and the purge functions
/// below disagree, a bug in this file.
#[derive(Debug, thiserror::Error)]
#[error("no purge query for the data class {0}")]
struct NoPurgeQuery(DataClass);

/// What would go of a recorded class.
async fn expired(
    conn: &mut AnyConnection,
    class: DataClass,
    cutoff: OffsetDateTime,
) -> ApiResult<Expired> {
    Ok(match class {
        DataClass::Sessions => purge::expired_sessions(conn, cutoff).await?,
        DataClass::ApiKeys => purge::expired_api_keys(conn, cutoff).await?,
        DataClass::AuditEvents => purge::expired_audit_events(conn, cutoff).await?,
        other => return Err(ApiError::internal(NoPurgeQuery(other))),
    })
}

/// Deletes what has expired of one recorded class other than the audit trail, in its own
/// transaction.
async fn purge_one(state: &AppState, class: DataClass, cutoff: OffsetDateTime) -> ApiResult<u64> {
    let mut tx = state.store().begin().await?;
    let purged = match class {
        DataClass::Sessions => purge::purge_sessions(&mut tx, cutoff).await?,
        DataClass::ApiKeys => purge::purge_api_keys(&mut tx, cutoff).await?,
        other => return Err(ApiError::internal(NoPurgeQuery(other))),
    };
    tx.commit().await?;
    Ok(purged)
}

fn line(class: &ClassPlan, outcome: ClassOutcome, count: u64) -> ClassReport {
    ClassReport {
        class: class.class,
        keep: class.keep,
        cutoff: class.cutoff,
        outcome,
        count,
        oldest: None,
        note: match outcome {
            ClassOutcome::Held => Some("a legal hold keeps the whole class"),
            ClassOutcome::NotRecorded => not_recorded(class.class),
            ClassOutcome::Failed => Some("the purge of this class failed; see the server log"),
            ClassOutcome::Purged => None,
        },
    }
}

/// Runs the purge at the state's current time (or only reports, with `dry_run`), as `origin`.
pub async fn run(state: &AppState, dry_run: bool, origin: &Origin) -> ApiResult<PurgeReport> {
    let now = state.now();
    let plan = {
        let mut conn = state.store().acquire().await?;
        let policies = retention::policies(&mut conn).await?;
        let holds = retention::holds(&mut conn, false).await?;
        plan(&policies, &holds, now)
    };
    if dry_run {
        return dry(state, &plan).await;
    }
    let mut classes = Vec::with_capacity(DataClass::ALL.len());
    for class in plan.iter() {
        let report = if not_recorded(class.class).is_some() {
            line(class, ClassOutcome::NotRecorded, 0)
        } else if class.is_held() {
            line(class, ClassOutcome::Held, 0)
        } else if class.class == DataClass::AuditEvents {
            // Purged last, with the run's event: see `finish`.
            line(class, ClassOutcome::Purged, 0)
        } else {
            match purge_one(state, class.class, class.cutoff).await {
                Ok(count) => line(class, ClassOutcome::Purged, count),
                Err(error) => {
                    tracing::error!(class = %class.class, ?error, "retention purge failed");
                    line(class, ClassOutcome::Failed, 0)
                }
            }
        };
        classes.push(report);
    }
    finish(state, &plan, classes, origin).await
}

/// Purges the audit trail (unless held) and appends the run's event, in one transaction. If
/// that fails, the event is still written, with the audit class marked failed.
async fn finish(
    state: &AppState,
    plan: &RetentionPlan,
    mut classes: Vec<ClassReport>,
    origin: &Origin,
) -> ApiResult<PurgeReport> {
    let audit_plan = plan.class(DataClass::AuditEvents);
    let purge_audit = !audit_plan.is_held();
    let attempt = async {
        let mut tx = state.store().begin().await?;
        let purged = if purge_audit {
            purge::purge_audit_events(&mut tx, audit_plan.cutoff, plan.at).await?
        } else {
            purge::AuditPurge {
                purged: 0,
                floor: None,
            }
        };
        set_count(&mut classes, DataClass::AuditEvents, purged.purged);
        let event = run_event(&classes, purged.floor);
        audit::append(&mut tx, &origin.record(plan.at, event)).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(purged.floor)
    }
    .await;
    let audit_floor = match attempt {
        Ok(floor) => floor,
        Err(error) => {
            tracing::error!(?error, "retention purge of the audit trail failed");
            for report in classes
                .iter_mut()
                .filter(|report| report.class == DataClass::AuditEvents)
            {
                *report = line(audit_plan, ClassOutcome::Failed, 0);
            }
            let mut conn = state.store().acquire().await?;
            let event = run_event(&classes, None);
            audit::append(&mut conn, &origin.record(plan.at, event)).await?;
            None
        }
    };
    Ok(PurgeReport {
        at: plan.at,
        dry_run: false,
        classes,
        audit_floor,
    })
}

fn set_count(classes: &mut [ClassReport], class: DataClass, count: u64) {
    for report in classes.iter_mut().filter(|report| report.class == class) {
        report.count = count;
    }
}

fn run_event(classes: &[ClassReport], audit_floor: Option<i64>) -> AuditEvent {
    AuditEvent::RetentionPurged {
        classes: classes
            .iter()
            .map(|report| PurgeCount {
                class: report.class,
                outcome: report.outcome,
                purged: report.count,
            })
            .collect(),
        audit_floor,
    }
}

/// What a run at the plan's moment would delete. Only reads.
async fn dry(state: &AppState, plan: &RetentionPlan) -> ApiResult<PurgeReport> {
    let mut conn = state.store().acquire().await?;
    let mut classes = Vec::with_capacity(DataClass::ALL.len());
    for class in plan.iter() {
        let report = if not_recorded(class.class).is_some() {
            line(class, ClassOutcome::NotRecorded, 0)
        } else if class.is_held() {
            line(class, ClassOutcome::Held, 0)
        } else {
            let found = expired(&mut conn, class.class, class.cutoff).await?;
            ClassReport {
                count: found.count,
                oldest: found.oldest,
                ..line(class, ClassOutcome::Purged, 0)
            }
        };
        classes.push(report);
    }
    Ok(PurgeReport {
        at: plan.at,
        dry_run: true,
        classes,
        audit_floor: None,
    })
}

/// Runs the purge when no instance has in the last [`SCHEDULE_INTERVAL`]; returns its report,
/// or `None` when it was not due. Called by the sweeper every minute; the run is recorded with
/// no actor (the system acting on its policy).
pub async fn run_if_due(state: &AppState, now: OffsetDateTime) -> ApiResult<Option<PurgeReport>> {
    let claim = {
        let mut conn = state.store().acquire().await?;
        retention::claim_scheduled_run(&mut conn, now, SCHEDULE_INTERVAL).await?
    };
    let Some(claim) = claim else {
        return Ok(None);
    };
    match run(state, false, &Origin::console()).await {
        Ok(report) => Ok(Some(report)),
        Err(error) => {
            // Give the claim back so the next sweep retries rather than waiting a day.
            let mut conn = state.store().acquire().await?;
            retention::release_scheduled_run(&mut conn, claim).await?;
            Err(error)
        }
    }
}
