//! Data retention: the periods an administrator changed (`retention_policies`), legal holds
//! (`legal_holds`), and the claim that lets exactly one instance run the scheduled purge
//! (`retention_schedule`). The per-class purge queries, and the audit trail's purge floor, are in
//! [`purge`].
//!
//! Legal holds are never deleted, only released, and a released hold stays released: triggers in
//! both migrations refuse anything else, so a hold cannot be quietly lifted by rewriting its row.

pub mod purge;

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use schild_core::ids::UserId;
use schild_core::rbac::Reason;
use schild_core::retention::{
    DataClass, HoldId, HoldRelease, LegalHold, RetentionPeriod, RetentionPolicies,
};
use sqlx::any::AnyRow;
use time::{Duration, OffsetDateTime};

/// The retention period of every class: the defaults with the stored changes applied.
pub async fn policies(conn: &mut AnyConnection) -> Result<RetentionPolicies, StoreError> {
    let rows = sqlx::query("SELECT class, keep_days FROM retention_policies")
        .fetch_all(&mut *conn)
        .await?;
    let mut overrides = Vec::with_capacity(rows.len());
    for row in &rows {
        let c = Cols::new(row, "retention_policies");
        let class: DataClass = c.parse("class")?;
        let days = u32::try_from(c.int("keep_days")?).map_err(|_| c.corrupt("keep_days"))?;
        let period = RetentionPeriod::for_class(class, days).map_err(|_| c.corrupt("keep_days"))?;
        overrides.push((class, period));
    }
    Ok(RetentionPolicies::with_overrides(overrides))
}

/// Stores the period of `class`, set by `by` (`None`: the console) at `at`.
pub async fn set_policy(
    conn: &mut AnyConnection,
    class: DataClass,
    period: RetentionPeriod,
    by: Option<UserId>,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO retention_policies (class, keep_days, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (class) DO UPDATE SET keep_days = excluded.keep_days, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(class.as_str())
    .bind(i64::from(period.days()))
    .bind(millis(at))
    .bind(by.map(|id| id.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

macro_rules! select_holds {
    ($rest:literal) => {
        concat!(
            "SELECT id, class, subject, reason, placed_by, placed_at, released_at, released_by, \
             release_reason FROM legal_holds ",
            $rest
        )
    };
}

fn hold_from_row(row: &AnyRow) -> Result<LegalHold, StoreError> {
    let c = Cols::new(row, "legal_holds");
    let reason = |col: &str| -> Result<Option<Reason>, StoreError> {
        c.opt_text(col)?
            .map(|text| Reason::parse(&text).map_err(|_| c.corrupt(col)))
            .transpose()
    };
    let release = match (c.opt_time("released_at")?, reason("release_reason")?) {
        (None, None) => None,
        (Some(at), Some(reason)) => Some(HoldRelease {
            at,
            by: c.opt_parse("released_by")?,
            reason,
        }),
        _ => return Err(c.corrupt("released_at")),
    };
    Ok(LegalHold {
        id: c.parse("id")?,
        class: c.parse("class")?,
        subject: c.opt_parse("subject")?,
        reason: reason("reason")?.ok_or_else(|| c.corrupt("reason"))?,
        placed_by: c.opt_parse("placed_by")?,
        placed_at: c.time("placed_at")?,
        release,
    })
}

/// Stores a newly placed hold.
pub async fn insert_hold(conn: &mut AnyConnection, hold: &LegalHold) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO legal_holds (id, class, subject, reason, placed_by, placed_at, released_at, \
         released_by, release_reason) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, NULL)",
    )
    .bind(hold.id.to_string())
    .bind(hold.class.as_str())
    .bind(hold.subject.map(|id| id.to_string()))
    .bind(hold.reason.as_str())
    .bind(hold.placed_by.map(|id| id.to_string()))
    .bind(millis(hold.placed_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The hold with this id.
pub async fn hold(conn: &mut AnyConnection, id: HoldId) -> Result<Option<LegalHold>, StoreError> {
    sqlx::query(select_holds!("WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(hold_from_row)
        .transpose()
}

/// Holds in force (and released ones too with `include_released`), newest first.
pub async fn holds(
    conn: &mut AnyConnection,
    include_released: bool,
) -> Result<Vec<LegalHold>, StoreError> {
    sqlx::query(select_holds!(
        "WHERE ($1 OR released_at IS NULL) ORDER BY placed_at DESC, id DESC"
    ))
    .bind(include_released)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(hold_from_row)
    .collect()
}

/// Records a release — compare-and-set on `released_at IS NULL`, so of two concurrent releases
/// exactly one wins. Returns `false` when the hold is unknown or was already released.
pub async fn release_hold(
    conn: &mut AnyConnection,
    released: &LegalHold,
) -> Result<bool, StoreError> {
    let Some(release) = &released.release else {
        return Ok(false);
    };
    let done = sqlx::query(
        "UPDATE legal_holds SET released_at = $2, released_by = $3, release_reason = $4 \
         WHERE id = $1 AND released_at IS NULL",
    )
    .bind(released.id.to_string())
    .bind(millis(release.at))
    .bind(release.by.map(|id| id.to_string()))
    .bind(release.reason.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// This instance's claim on one scheduled purge run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleClaim {
    /// When the previous run started (Unix milliseconds as stored; 0 before the first run).
    previous: i64,
    /// When this one started.
    claimed: i64,
}

/// Claims the scheduled purge when the last run started at least `interval` before `now`:
/// a compare-and-set on the start time, so of several instances asking at once exactly one gets
/// the claim. `None`: not due, or another instance claimed it first.
pub async fn claim_scheduled_run(
    conn: &mut AnyConnection,
    now: OffsetDateTime,
    interval: Duration,
) -> Result<Option<ScheduleClaim>, StoreError> {
    let row = sqlx::query("SELECT last_run_at FROM retention_schedule WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::corrupt("retention_schedule", "id"))?;
    let previous = Cols::new(&row, "retention_schedule").int("last_run_at")?;
    if previous > millis(now - interval) {
        return Ok(None);
    }
    let claimed = millis(now);
    let done = sqlx::query(
        "UPDATE retention_schedule SET last_run_at = $2 WHERE id = 1 AND last_run_at = $1",
    )
    .bind(previous)
    .bind(claimed)
    .execute(&mut *conn)
    .await?;
    Ok((done.rows_affected() == 1).then_some(ScheduleClaim { previous, claimed }))
}

/// Gives a claim back after a run that failed, so the next sweep tries again instead of waiting
/// a whole interval. Does nothing when another instance has claimed a later run meanwhile.
pub async fn release_scheduled_run(
    conn: &mut AnyConnection,
    claim: ScheduleClaim,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE retention_schedule SET last_run_at = $1 WHERE id = 1 AND last_run_at = $2")
        .bind(claim.previous)
        .bind(claim.claimed)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
