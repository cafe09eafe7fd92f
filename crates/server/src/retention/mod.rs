//! Data retention at run time: the policies, legal holds and the purge job behind the
//! `/retention` routes and `schild retention …` (`schild_core::retention` holds the rules,
//! `schild_store::retention` the SQL).
//!
//! Every change is one transaction with its audit event, and every refusal changes nothing. The
//! purge itself is in [`purge`]: on demand (with a dry run that only reports), and once a day
//! from the sweeper.

pub mod purge;

use crate::access::errors::{changed_concurrently, refused};
use crate::auth::Origin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::http::StatusCode;
use schild_core::ids::UserId;
use schild_core::retention::{
    DataClass, HoldError, HoldId, LegalHold, NewHold, PolicyError, RetentionPolicies,
    UnknownDataClass,
};
use schild_store::{audit, retention};
use std::collections::BTreeMap;

/// Parses a data class's name as a client typed it.
pub fn parse_class(raw: &str) -> ApiResult<DataClass> {
    Ok(DataClass::parse(raw)?)
}

/// The retention period of every class.
pub async fn policies(state: &AppState) -> ApiResult<RetentionPolicies> {
    let mut conn = state.store().acquire().await?;
    Ok(retention::policies(&mut conn).await?)
}

/// Sets the period, in days, of each class named in `changes`; the others keep theirs. Every
/// name and period is checked before anything is written; each actual change is audited.
pub async fn set_policies(
    state: &AppState,
    changes: &BTreeMap<String, u32>,
    origin: &Origin,
) -> ApiResult<RetentionPolicies> {
    if changes.is_empty() {
        return Err(ApiError::Validation {
            field: "keep_days",
            reason: "name at least one data class and its period in days".into(),
        });
    }
    let changes = changes
        .iter()
        .map(|(class, days)| Ok((parse_class(class)?, *days)))
        .collect::<ApiResult<Vec<_>>>()?;
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let mut policies = retention::policies(&mut tx).await?;
    let mut events = Vec::new();
    for (class, days) in changes {
        if let Some(event) = policies.set(class, days)? {
            events.push(event);
            retention::set_policy(&mut tx, class, policies.period(class), origin.actor, now)
                .await?;
        }
    }
    for event in events {
        audit::append(&mut tx, &origin.record(now, event)).await?;
    }
    tx.commit().await?;
    Ok(policies)
}

/// Legal holds in force, and released ones too with `include_released`, newest first.
pub async fn holds(state: &AppState, include_released: bool) -> ApiResult<Vec<LegalHold>> {
    let mut conn = state.store().acquire().await?;
    Ok(retention::holds(&mut conn, include_released).await?)
}

/// Places a legal hold on `class`, or only on the records about `subject` in it. The account
/// need not exist any more: its audit events outlive it, and may be exactly what a hold is for.
pub async fn place_hold(
    state: &AppState,
    class: DataClass,
    subject: Option<UserId>,
    reason: &str,
    origin: &Origin,
) -> ApiResult<LegalHold> {
    let now = state.now();
    let (hold, event) = LegalHold::place(
        NewHold {
            class,
            subject,
            reason,
            placed_by: origin.actor,
        },
        now,
        &mut rand::rng(),
    )?;
    let mut tx = state.store().begin().await?;
    retention::insert_hold(&mut tx, &hold).await?;
    audit::append(&mut tx, &origin.record(now, event)).await?;
    tx.commit().await?;
    Ok(hold)
}

/// Releases a legal hold; what it kept becomes subject to its class's period again.
pub async fn release_hold(
    state: &AppState,
    id: HoldId,
    reason: &str,
    origin: &Origin,
) -> ApiResult<LegalHold> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let hold = retention::hold(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let (released, event) = hold.release(origin.actor, reason, now)?;
    if !retention::release_hold(&mut tx, &released).await? {
        return Err(changed_concurrently());
    }
    audit::append(&mut tx, &origin.record(now, event)).await?;
    tx.commit().await?;
    Ok(released)
}

impl From<UnknownDataClass> for ApiError {
    fn from(error: UnknownDataClass) -> Self {
        ApiError::Validation {
            field: "class",
            reason: error.to_string(),
        }
    }
}

impl From<PolicyError> for ApiError {
    fn from(error: PolicyError) -> Self {
        ApiError::Validation {
            field: "keep_days",
            reason: error.to_string(),
        }
    }
}

impl From<HoldError> for ApiError {
    fn from(error: HoldError) -> Self {
        match error {
            HoldError::Reason(reason) => ApiError::Validation {
                field: "reason",
                reason: reason.to_string(),
            },
            HoldError::AlreadyReleased => refused(
                StatusCode::CONFLICT,
                "hold_released",
                "This legal hold is already released.",
                "Place a new hold if the records must be kept again.",
                error,
            ),
            _ => ApiError::internal(error),
        }
    }
}
