//! Access-review campaigns at run time, shared by the `/reviews` routes, the `schild review`
//! console commands and the background sweeper.
//!
//! The campaign rules are `schild_core::rbac::review`; this module runs them against the store.
//! Every change is one transaction: the campaign's rows, the assignments a revocation removes
//! (`rbac.role.unassigned`) and the audit events are written together or not at all. Permissions
//! are resolved per request from the current assignments, so a revoked assignment stops working
//! on the very next request.

use super::errors::changed_concurrently;
use super::permissions_with;
use crate::auth::Origin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::AuditEvent;
use schild_core::ids::UserId;
use schild_core::rbac::review::{
    NewCampaign, ReviewOutcome, ReviewPolicy, ReviewReport, ReviewSchedule, ReviewScope,
};
use schild_core::rbac::{
    CampaignId, Permission, ReviewCampaign, ReviewItem, ReviewItemId, RoleCatalog, RoleName,
    Verdict,
};
use schild_store::reviews::{self as stored, CampaignSummary};
use schild_store::{AnyConnection, audit, roles, users};
use std::collections::BTreeSet;
use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset};

/// How long reviewers get when a campaign names no deadline, and what scheduled campaigns get.
pub const DEFAULT_DEADLINE: Duration = Duration::days(14);
/// The furthest deadline accepted: a review that takes longer than a year is no review.
pub const MAX_DEADLINE: Duration = Duration::days(366);
/// The longest escalation grace accepted.
pub const MAX_ESCALATION_GRACE: Duration = Duration::days(366);
/// The longest "unused after" threshold accepted (ten years).
pub const MAX_UNUSED_AFTER: Duration = Duration::days(3653);
/// The most roles or accounts one scope may name.
pub const MAX_SCOPE_ENTRIES: usize = 256;

/// How often a lost compare-and-set is retried by the sweeper before giving up until its next
/// run.
const TICK_ATTEMPTS: usize = 3;

/// The random part of the ids of scheduled campaigns: with the scheduled instant as the UUIDv7
/// time, two instances that start the same scheduled campaign at once write the same id, and
/// the primary key lets exactly one of them win.
const SCHEDULED_ID_BYTES: &[u8; 10] = b"schild-rvw";

/// Changes to the configured [`ReviewPolicy`] for one campaign; `None` keeps the configured value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyOverrides {
    /// Time after the deadline before undecided items are revoked automatically.
    pub escalation_grace: Option<Duration>,
    /// Whether undecided items are revoked automatically after the grace.
    pub auto_revoke: Option<bool>,
    /// How long an assignment may go unused before it is flagged.
    pub unused_after: Option<Duration>,
}

impl PolicyOverrides {
    /// The configured policy with these changes, each within its bounds.
    fn apply(self, base: ReviewPolicy) -> ApiResult<ReviewPolicy> {
        let policy = ReviewPolicy {
            escalation_grace: self.escalation_grace.unwrap_or(base.escalation_grace),
            auto_revoke: self.auto_revoke.unwrap_or(base.auto_revoke),
            unused_after: self.unused_after.unwrap_or(base.unused_after),
            escalate_to: base.escalate_to,
        };
        if policy.escalation_grace > MAX_ESCALATION_GRACE {
            return Err(invalid(
                "escalation_grace_days",
                format!("at most {} days", MAX_ESCALATION_GRACE.whole_days()),
            ));
        }
        if policy.unused_after > MAX_UNUSED_AFTER {
            return Err(invalid(
                "unused_after_days",
                format!("at most {} days", MAX_UNUSED_AFTER.whole_days()),
            ));
        }
        // Zero and negative values are the core's to refuse (`PolicyOutOfRange`).
        Ok(policy)
    }
}

/// A campaign as asked for, before any check against the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignRequest {
    /// What reviewers see, for example "2027 Q1 access review" (1 to 200 characters).
    pub name: String,
    /// Which assignments it covers. Named roles and accounts must exist.
    pub scope: ReviewScope,
    /// When decisions are due: in the future, at most [`MAX_DEADLINE`] away.
    pub deadline: OffsetDateTime,
    /// Changes to the configured escalation, revocation and unused rules.
    pub policy: PolicyOverrides,
}

/// The scope "these roles" from role names as typed; the names are checked against the current
/// roles when the campaign starts. An empty list means every role.
pub fn roles_scope(names: &[String]) -> ApiResult<ReviewScope> {
    if names.is_empty() {
        return Ok(ReviewScope::AllRoles);
    }
    if names.len() > MAX_SCOPE_ENTRIES {
        return Err(invalid(
            "scope",
            format!("at most {MAX_SCOPE_ENTRIES} roles"),
        ));
    }
    names
        .iter()
        .map(|name| {
            name.parse::<RoleName>()
                .map_err(|error| invalid("scope", error))
        })
        .collect::<ApiResult<BTreeSet<_>>>()
        .map(ReviewScope::Roles)
}

fn invalid(field: &'static str, reason: impl ToString) -> ApiError {
    ApiError::Validation {
        field,
        reason: reason.to_string(),
    }
}

/// Starts a campaign over every assignment in `request.scope`, with each assignment's last use
/// and the unused ones flagged. `by` is the person starting it, who must hold `review:manage`
/// (checked again here, inside the transaction); `None` for the scheduler. Audited as
/// `rbac.review.started` (and `rbac.review.completed` when nothing is in scope).
pub async fn start(
    state: &AppState,
    by: Option<UserId>,
    request: CampaignRequest,
    origin: &Origin,
) -> ApiResult<ReviewCampaign> {
    let now = state.now();
    let id = CampaignId::new_v7(now, &mut rand::rng());
    let mut tx = state.store().begin().await?;
    let campaign = begin_campaign(&mut tx, state, id, by, request, origin, now).await?;
    tx.commit().await?;
    Ok(campaign)
}

async fn begin_campaign(
    tx: &mut AnyConnection,
    state: &AppState,
    id: CampaignId,
    by: Option<UserId>,
    request: CampaignRequest,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<ReviewCampaign> {
    if request.deadline > now + MAX_DEADLINE {
        return Err(invalid(
            "deadline",
            format!("at most {} days away", MAX_DEADLINE.whole_days()),
        ));
    }
    let policy = request.policy.apply(state.authz().policy().review)?;
    let catalog = roles::catalog(tx).await?;
    if let Some(by) = by {
        require(&catalog, tx, by, Permission::ReviewManage, now).await?;
    }
    check_scope(tx, &catalog, &request.scope).await?;
    let assignments = stored::snapshot_assignments(tx).await?;
    let (campaign, outcome) = ReviewCampaign::start(
        NewCampaign {
            id,
            name: request.name,
            scope: request.scope,
            deadline: request.deadline,
            policy,
            created_by: by,
        },
        &assignments,
        &catalog,
        now,
        &mut rand::rng(),
    )?;
    stored::insert(tx, &campaign).await?;
    apply(tx, origin, now, outcome).await?;
    // Read back what was stored (timestamps at the store's millisecond precision).
    stored::by_id(tx, id).await?.ok_or(ApiError::NotFound)
}

async fn require(
    catalog: &RoleCatalog,
    tx: &mut AnyConnection,
    user: UserId,
    permission: Permission,
    now: OffsetDateTime,
) -> ApiResult<()> {
    if permissions_with(catalog, tx, user, now)
        .await?
        .has(permission)
    {
        Ok(())
    } else {
        Err(ApiError::MissingPermission(permission))
    }
}

/// Refuses a scope naming no role or account, or one that does not exist: a typo would
/// otherwise start an empty campaign that completes at once.
async fn check_scope(
    tx: &mut AnyConnection,
    catalog: &RoleCatalog,
    scope: &ReviewScope,
) -> ApiResult<()> {
    match scope {
        ReviewScope::AllRoles | ReviewScope::SensitiveRoles => Ok(()),
        ReviewScope::Roles(names) => {
            if names.is_empty() || names.len() > MAX_SCOPE_ENTRIES {
                return Err(invalid(
                    "scope",
                    format!("name 1 to {MAX_SCOPE_ENTRIES} roles"),
                ));
            }
            for name in names {
                catalog
                    .require(name.as_str())
                    .map_err(|error| invalid("scope", error))?;
            }
            Ok(())
        }
        ReviewScope::Users(ids) => {
            if ids.is_empty() || ids.len() > MAX_SCOPE_ENTRIES {
                return Err(invalid(
                    "scope",
                    format!("name 1 to {MAX_SCOPE_ENTRIES} accounts"),
                ));
            }
            for id in ids {
                if users::by_id(tx, *id).await?.is_none() {
                    return Err(invalid("scope", format!("no account has the id {id}")));
                }
            }
            Ok(())
        }
    }
}

/// Appends a transition's audit events and removes the assignments it revoked, each removal
/// audited as `rbac.role.unassigned`; `rbac.review.completed` goes last. An assignment already
/// gone (removed by hand meanwhile) is skipped without an event.
async fn apply(
    tx: &mut AnyConnection,
    origin: &Origin,
    now: OffsetDateTime,
    outcome: ReviewOutcome,
) -> ApiResult<()> {
    let (completed, events): (Vec<_>, Vec<_>) = outcome
        .events
        .into_iter()
        .partition(|event| matches!(event, AuditEvent::ReviewCompleted { .. }));
    for event in events {
        audit::append(tx, &origin.record(now, event)).await?;
    }
    for revocation in &outcome.revocations {
        if roles::unassign(tx, revocation.user, revocation.role.as_str()).await? {
            audit::append(tx, &origin.record(now, revocation.unassigned_event())).await?;
        }
    }
    for event in completed {
        audit::append(tx, &origin.record(now, event)).await?;
    }
    Ok(())
}

/// Every campaign, newest first, without items.
pub async fn list(state: &AppState) -> ApiResult<Vec<CampaignSummary>> {
    let mut conn = state.store().acquire().await?;
    Ok(stored::list(&mut conn).await?)
}

/// One campaign with its items and decisions; [`ApiError::NotFound`] when there is none.
pub async fn get(state: &AppState, id: CampaignId) -> ApiResult<ReviewCampaign> {
    let mut conn = state.store().acquire().await?;
    stored::by_id(&mut conn, id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Records `reviewer`'s verdict on one item and returns the item as decided. The reviewer must
/// hold `review:decide` (resolved inside the transaction) and may not decide on their own
/// access; revoking (or keeping a sensitive or unused assignment) needs a reason. A revocation
/// removes the assignment in the same transaction, so it stops working at once. A decision
/// that loses a race with another reviewer or the sweeper is refused as
/// `changed_concurrently` and changes nothing.
pub async fn decide(
    state: &AppState,
    campaign: CampaignId,
    item: ReviewItemId,
    reviewer: UserId,
    verdict: Verdict,
    reason: &str,
    origin: &Origin,
) -> ApiResult<ReviewItem> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let before = stored::by_id(&mut tx, campaign)
        .await?
        .ok_or(ApiError::NotFound)?;
    let catalog = roles::catalog(&mut tx).await?;
    let permissions = permissions_with(&catalog, &mut tx, reviewer, now).await?;
    let mut after = before.clone();
    let outcome = after.decide(item, reviewer, permissions, verdict, reason, now)?;
    if !stored::save(&mut tx, &before, &after).await? {
        return Err(changed_concurrently());
    }
    apply(&mut tx, origin, now, outcome).await?;
    let decided = after
        .items
        .into_iter()
        .find(|i| i.id == item)
        .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(decided)
}

/// The campaign's report (who decided what, when), ready for `to_csv` or `to_json`.
pub async fn report(state: &AppState, id: CampaignId) -> ApiResult<ReviewReport> {
    Ok(get(state, id).await?.report())
}

/// Applies the deadline rules at `now` to every open campaign whose deadline has passed:
/// undecided items escalate, and after the grace (by policy) are revoked automatically, their
/// assignments removed. One transaction per campaign, so one failing campaign does not hold up
/// the others; the first failure is returned after all were tried. Returns how many campaigns
/// changed. Idempotent: a second call at the same `now` changes nothing.
pub async fn tick_due(state: &AppState, now: OffsetDateTime) -> ApiResult<usize> {
    let due = {
        let mut conn = state.store().acquire().await?;
        stored::due(&mut conn, now).await?
    };
    let mut changed = 0;
    let mut first_error = None;
    for id in due {
        match tick_one(state, id, now).await {
            Ok(true) => changed += 1,
            Ok(false) => {}
            Err(error) => {
                let cause = std::error::Error::source(&error).map(ToString::to_string);
                tracing::warn!(campaign = %id, %error, ?cause, "could not apply a review deadline");
                first_error.get_or_insert(error);
            }
        }
    }
    first_error.map_or(Ok(changed), Err)
}

async fn tick_one(state: &AppState, id: CampaignId, now: OffsetDateTime) -> ApiResult<bool> {
    for _ in 0..TICK_ATTEMPTS {
        let mut tx = state.store().begin().await?;
        let Some(before) = stored::by_id(&mut tx, id).await? else {
            return Ok(false);
        };
        let mut after = before.clone();
        let outcome = after.tick(now);
        if outcome == ReviewOutcome::default() {
            return Ok(false);
        }
        // Lost to a reviewer deciding at this moment: roll back, reload and apply again.
        if !stored::save(&mut tx, &before, &after).await? {
            tx.rollback().await?;
            continue;
        }
        apply(&mut tx, &Origin::console(), now, outcome).await?;
        tx.commit().await?;
        return Ok(true);
    }
    Err(changed_concurrently())
}

/// Starts the scheduled all-roles campaign when one is due at `now` according to `schedule` and
/// the latest campaign's start (on demand or scheduled); the first one is due as soon as any
/// account holds a role. Returns
/// its id, or `None` when none is due or another instance started it at the same moment (the
/// scheduled instant is the campaign id's time, so the database's primary key lets only one
/// win). Deadline [`DEFAULT_DEADLINE`] after `now`, with the configured policy.
pub async fn start_scheduled(
    state: &AppState,
    now: OffsetDateTime,
    schedule: ReviewSchedule,
) -> ApiResult<Option<CampaignId>> {
    let mut tx = state.store().begin().await?;
    let slot = match stored::last_started(&mut tx).await? {
        Some(last) => schedule.next_after(last),
        None => latest_slot(schedule, now),
    };
    // Before the first account holds a role there is nothing to review: a campaign now would
    // mark the period reviewed with nothing checked. The slot's campaign starts once there is.
    if slot > now || stored::snapshot_assignments(&mut tx).await?.is_empty() {
        tx.rollback().await?;
        return Ok(None);
    }
    let millis = u64::try_from(slot.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let id = CampaignId(
        uuid::Builder::from_unix_timestamp_millis(millis, SCHEDULED_ID_BYTES).into_uuid(),
    );
    let request = CampaignRequest {
        name: scheduled_name(schedule, slot),
        scope: ReviewScope::AllRoles,
        deadline: now + DEFAULT_DEADLINE,
        policy: PolicyOverrides::default(),
    };
    let started =
        match begin_campaign(&mut tx, state, id, None, request, &Origin::console(), now).await {
            Ok(_) => tx.commit().await.map_err(ApiError::from),
            Err(error) => {
                drop(tx);
                Err(error)
            }
        };
    match started {
        Ok(()) => Ok(Some(id)),
        // The other instance's campaign holds the id: it won the race.
        Err(error) => match get(state, id).await {
            Ok(_) => Ok(None),
            Err(_) => Err(error),
        },
    }
}

/// The latest scheduled instant at or before `now`, for the very first scheduled campaign.
fn latest_slot(schedule: ReviewSchedule, now: OffsetDateTime) -> OffsetDateTime {
    match schedule {
        ReviewSchedule::Quarterly => quarter_start(now),
        ReviewSchedule::Every(interval) => {
            // Aligned to the Unix epoch, so every instance computes the same instant.
            let step = interval.max(Duration::MINUTE).whole_seconds().max(60);
            let since = now.unix_timestamp().max(0);
            OffsetDateTime::from_unix_timestamp(since - since % step).unwrap_or(now)
        }
    }
}

/// The start of the calendar quarter (UTC) that `at` falls in.
fn quarter_start(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(UtcOffset::UTC);
    let month = (u8::from(at.month()) - 1) / 3 * 3 + 1;
    Month::try_from(month)
        .ok()
        .and_then(|month| Date::from_calendar_date(at.year(), month, 1).ok())
        .map_or(at, |date| date.with_time(Time::MIDNIGHT).assume_utc())
}

fn scheduled_name(schedule: ReviewSchedule, slot: OffsetDateTime) -> String {
    let slot = slot.to_offset(UtcOffset::UTC);
    match schedule {
        ReviewSchedule::Quarterly => format!(
            "Access review {} Q{}",
            slot.year(),
            (u8::from(slot.month()) - 1) / 3 + 1
        ),
        ReviewSchedule::Every(_) => format!("Scheduled access review {}", slot.date()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn first_scheduled_slot_is_the_current_quarter_or_interval() {
        let q = ReviewSchedule::Quarterly;
        assert_eq!(
            latest_slot(q, datetime!(2027-03-31 23:59 UTC)),
            datetime!(2027-01-01 0:00 UTC)
        );
        assert_eq!(
            latest_slot(q, datetime!(2027-04-01 0:00 UTC)),
            datetime!(2027-04-01 0:00 UTC)
        );
        assert_eq!(
            latest_slot(q, datetime!(2027-12-04 10:00 +02:00)),
            datetime!(2027-10-01 0:00 UTC)
        );
        assert_eq!(
            latest_slot(
                ReviewSchedule::Every(Duration::days(1)),
                datetime!(2027-05-06 7:08 UTC)
            ),
            datetime!(2027-05-06 0:00 UTC)
        );
        assert_eq!(
            scheduled_name(q, datetime!(2027-10-01 0:00 UTC)),
            "Access review 2027 Q4"
        );
    }

    #[test]
    fn roles_scope_parses_names_and_defaults_to_every_role() {
        assert_eq!(roles_scope(&[]).unwrap(), ReviewScope::AllRoles);
        let scope = roles_scope(&["auditor".into(), "auditor".into()]).unwrap();
        assert_eq!(
            scope,
            ReviewScope::Roles(["auditor".parse().unwrap()].into())
        );
        assert!(matches!(
            roles_scope(&["Not A Role!".into()]),
            Err(ApiError::Validation { field: "scope", .. })
        ));
    }
}
