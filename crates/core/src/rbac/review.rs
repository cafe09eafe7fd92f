//! Access reviews: campaigns that list every role assignment in their scope with when it was
//! last used, ask reviewers to certify or revoke each, escalate what is undecided at the
//! deadline, and by policy revoke what is still undecided after a grace period. Assignments not
//! used for a while (90 days by default) are flagged for removal. A campaign's report exports as
//! CSV (RFC 4180) and JSON.
//!
//! Like the rest of this module, [`ReviewCampaign`] only computes: every change returns the
//! audit events to append and the assignments to remove, and the caller stores both in one
//! transaction.

use super::assignment::RoleAssignment;
use super::effective::PermissionSet;
use super::permission::Permission;
use super::role::{RoleCatalog, RoleName};
use super::{CampaignId, Reason, ReasonError, ReviewItemId};
use crate::audit::AuditEvent;
use crate::ids::UserId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Duration, Month, OffsetDateTime, Time};

mod report;

use report::rfc3339;
pub use report::{ReportRow, ReportSummary, ReviewReport};

/// Assignments not used for this many days are flagged, unless a campaign says otherwise.
pub const DEFAULT_UNUSED_DAYS: i64 = 90;

/// Which assignments a campaign reviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewScope {
    /// Every assignment of every role.
    AllRoles,
    /// Assignments of roles marked sensitive.
    SensitiveRoles,
    /// Assignments of these roles.
    Roles(BTreeSet<RoleName>),
    /// Every assignment of these accounts.
    Users(BTreeSet<UserId>),
}

impl ReviewScope {
    fn includes(&self, assignment: &RoleAssignment, catalog: &RoleCatalog) -> bool {
        match self {
            Self::AllRoles => true,
            Self::SensitiveRoles => catalog
                .get(assignment.role.as_str())
                .is_some_and(|role| role.is_sensitive()),
            Self::Roles(roles) => roles.contains(&assignment.role),
            Self::Users(users) => users.contains(&assignment.user),
        }
    }
}

/// How a campaign treats time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPolicy {
    /// After the deadline, undecided items are escalated; after this further grace they are
    /// revoked automatically (when [`ReviewPolicy::auto_revoke`] is on).
    pub escalation_grace: Duration,
    /// Whether items still undecided at the end of the grace are revoked.
    pub auto_revoke: bool,
    /// An assignment whose permissions were last used this long ago (or never, this long after
    /// it was granted) is flagged unused.
    pub unused_after: Duration,
    /// Who escalations go to (shown in the escalation event); `None`: every reviewer.
    pub escalate_to: Option<UserId>,
}

impl Default for ReviewPolicy {
    /// Seven days' grace, automatic revocation on, unused after 90 days, no named escalation.
    fn default() -> Self {
        Self {
            escalation_grace: Duration::days(7),
            auto_revoke: true,
            unused_after: Duration::days(DEFAULT_UNUSED_DAYS),
            escalate_to: None,
        }
    }
}

/// When campaigns start by themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReviewSchedule {
    /// At the start of each calendar quarter (1 January, 1 April, 1 July, 1 October, 00:00 UTC).
    #[default]
    Quarterly,
    /// A fixed interval after the previous run.
    Every(Duration),
}

impl ReviewSchedule {
    /// The next run strictly after `after`.
    pub fn next_after(self, after: OffsetDateTime) -> OffsetDateTime {
        match self {
            Self::Every(interval) => after + interval.max(Duration::MINUTE),
            Self::Quarterly => {
                let after = after.to_offset(time::UtcOffset::UTC);
                let quarter_month = (u8::from(after.month()) - 1) / 3 * 3 + 1;
                let (year, month) = match quarter_month + 3 {
                    13 => (after.year() + 1, 1),
                    month => (after.year(), month),
                };
                Month::try_from(month)
                    .ok()
                    .and_then(|month| Date::from_calendar_date(year, month, 1).ok())
                    .map_or(after + Duration::days(91), |date| {
                        date.with_time(Time::MIDNIGHT).assume_utc()
                    })
            }
        }
    }
}

/// Why a campaign could not be started or an item decided. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// The campaign has no name.
    #[error("a review campaign needs a name")]
    NameEmpty,
    /// The name is longer than [`ReviewCampaign::MAX_NAME_CHARS`].
    #[error("a review campaign's name has at most {max} characters")]
    NameTooLong {
        /// The limit.
        max: usize,
    },
    /// The deadline is not after the start.
    #[error("a review campaign's deadline must be in the future")]
    DeadlineNotInFuture,
    /// The unused threshold or the grace period is negative or zero where it must not be.
    #[error("the unused threshold must be positive and the escalation grace not negative")]
    PolicyOutOfRange,
    /// No item of this campaign has this id.
    #[error("this campaign has no such item")]
    UnknownItem,
    /// The reviewer lacks `review:decide`.
    #[error("deciding review items needs the review:decide permission")]
    NotAReviewer,
    /// The reviewer tried to decide on their own access.
    #[error("nobody may review their own access")]
    SelfReview,
    /// The item was already decided or revoked automatically.
    #[error("this item has already been decided")]
    AlreadyDecided,
    /// The campaign is complete.
    #[error("this campaign is complete")]
    Completed,
    /// Revoking, keeping a sensitive role, or keeping an assignment flagged unused needs a
    /// reason.
    #[error("this decision needs a reason")]
    ReasonRequired,
    /// The reason is too long.
    #[error("a reason has at most {max} characters")]
    ReasonTooLong {
        /// The limit, in characters.
        max: usize,
    },
}

/// A reviewer's verdict on one assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Keep it.
    Certify,
    /// Remove it.
    Revoke,
}

impl Verdict {
    /// `certify` or `revoke`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Certify => "certify",
            Self::Revoke => "revoke",
        }
    }
}

/// A reviewer's decision on one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Who decided.
    pub reviewer: UserId,
    /// What.
    pub verdict: Verdict,
    /// Why (required for revocations, sensitive roles and unused assignments).
    pub reason: Option<Reason>,
    /// When.
    pub at: OffsetDateTime,
}

/// One assignment as input to a campaign: the assignment, the account's name for the report,
/// and when the account last exercised each permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentSnapshot {
    /// The assignment.
    pub assignment: RoleAssignment,
    /// The account's username, for the report.
    pub username: String,
    /// The account's last use of each permission it ever exercised.
    pub last_used: BTreeMap<Permission, OffsetDateTime>,
}

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ItemStatus {
    /// Waiting for a decision.
    Pending,
    /// Past the deadline, still waiting.
    Escalated,
    /// Kept.
    Certified,
    /// Removed by a reviewer.
    Revoked,
    /// Removed because nobody decided in time.
    AutoRevoked,
}

impl ItemStatus {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Escalated => "escalated",
            Self::Certified => "certified",
            Self::Revoked => "revoked",
            Self::AutoRevoked => "auto_revoked",
        }
    }
}

/// One assignment under review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    /// Its id.
    pub id: ReviewItemId,
    /// The account.
    pub user: UserId,
    /// The account's username when the campaign started.
    pub username: String,
    /// The role.
    pub role: RoleName,
    /// Whether the role was marked sensitive when the campaign started.
    pub sensitive: bool,
    /// Who granted the assignment.
    pub granted_by: Option<UserId>,
    /// When.
    pub granted_at: OffsetDateTime,
    /// The account's last use of each permission that this assignment alone provides (not also
    /// held through another of the account's roles) and that it ever used.
    pub permission_last_used: BTreeMap<Permission, OffsetDateTime>,
    /// The latest of those: when the assignment was last of use. `None` also for an assignment
    /// that adds nothing the account's other roles do not already give (it is redundant, and
    /// flagged once it is older than the unused threshold).
    pub last_used: Option<OffsetDateTime>,
    /// Unused for longer than the campaign's threshold when the campaign started.
    pub flagged_unused: bool,
    /// When it was escalated.
    pub escalated_at: Option<OffsetDateTime>,
    /// The reviewer's decision.
    pub decision: Option<Decision>,
    /// When it was revoked automatically.
    pub auto_revoked_at: Option<OffsetDateTime>,
}

impl ReviewItem {
    /// Where it stands.
    pub fn status(&self) -> ItemStatus {
        match (&self.decision, self.auto_revoked_at, self.escalated_at) {
            (Some(decision), _, _) => match decision.verdict {
                Verdict::Certify => ItemStatus::Certified,
                Verdict::Revoke => ItemStatus::Revoked,
            },
            (None, Some(_), _) => ItemStatus::AutoRevoked,
            (None, None, Some(_)) => ItemStatus::Escalated,
            (None, None, None) => ItemStatus::Pending,
        }
    }

    /// Decided or revoked automatically.
    pub fn is_resolved(&self) -> bool {
        self.decision.is_some() || self.auto_revoked_at.is_some()
    }
}

/// Whether an assignment counts as unused at `now`: its last use (or, never used, its grant)
/// is at least `unused_after` ago.
pub fn is_unused(
    last_used: Option<OffsetDateTime>,
    granted_at: OffsetDateTime,
    now: OffsetDateTime,
    unused_after: Duration,
) -> bool {
    last_used.unwrap_or(granted_at) + unused_after <= now
}

/// An assignment the caller must remove because of a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The account.
    pub user: UserId,
    /// The role to take away.
    pub role: RoleName,
    /// The reason to record on the unassignment.
    pub reason: String,
}

impl Revocation {
    /// The `rbac.role.unassigned` event to append when the assignment is actually removed.
    pub fn unassigned_event(&self) -> AuditEvent {
        AuditEvent::RoleUnassigned {
            user: self.user,
            role: self.role.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// What a campaign change produced: audit events to append and assignments to remove.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReviewOutcome {
    /// The events, in order.
    pub events: Vec<AuditEvent>,
    /// The assignments to remove (each with its own `rbac.role.unassigned` event, see
    /// [`Revocation::unassigned_event`]).
    pub revocations: Vec<Revocation>,
}

/// A campaign as requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    /// Its id.
    pub id: CampaignId,
    /// What reviewers see, for example "2027 Q1 access review".
    pub name: String,
    /// Which assignments it covers.
    pub scope: ReviewScope,
    /// When decisions are due.
    pub deadline: OffsetDateTime,
    /// Its escalation, revocation and unused rules.
    pub policy: ReviewPolicy,
    /// Who started it; `None` for the scheduler or the console.
    pub created_by: Option<UserId>,
}

/// An access-review campaign and its items.
///
/// Fields are public so the store can rebuild a campaign from its rows; changes go through
/// [`ReviewCampaign::decide`] and [`ReviewCampaign::tick`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewCampaign {
    /// Its id.
    pub id: CampaignId,
    /// Its name.
    pub name: String,
    /// Its scope.
    pub scope: ReviewScope,
    /// Its rules.
    pub policy: ReviewPolicy,
    /// Who started it.
    pub created_by: Option<UserId>,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// When decisions are due.
    pub deadline: OffsetDateTime,
    /// When every item was resolved.
    pub completed_at: Option<OffsetDateTime>,
    /// One item per assignment in scope at the start, by account then role.
    pub items: Vec<ReviewItem>,
}

impl ReviewCampaign {
    /// The longest campaign name, in characters.
    pub const MAX_NAME_CHARS: usize = 200;

    /// Starts a campaign over `assignments` (those outside the scope are skipped), flagging
    /// unused ones. A campaign with nothing in scope completes at once.
    pub fn start(
        new: NewCampaign,
        assignments: &[AssignmentSnapshot],
        catalog: &RoleCatalog,
        now: OffsetDateTime,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<(Self, ReviewOutcome), ReviewError> {
        let name = new.name.trim();
        if name.is_empty() {
            return Err(ReviewError::NameEmpty);
        }
        if name.chars().count() > Self::MAX_NAME_CHARS {
            return Err(ReviewError::NameTooLong {
                max: Self::MAX_NAME_CHARS,
            });
        }
        if new.deadline <= now {
            return Err(ReviewError::DeadlineNotInFuture);
        }
        if new.policy.unused_after <= Duration::ZERO || new.policy.escalation_grace < Duration::ZERO
        {
            return Err(ReviewError::PolicyOutOfRange);
        }
        let mut in_scope: Vec<&AssignmentSnapshot> = assignments
            .iter()
            .filter(|s| new.scope.includes(&s.assignment, catalog))
            .collect();
        in_scope.sort_by(|a, b| {
            (&a.username, &a.assignment.role).cmp(&(&b.username, &b.assignment.role))
        });
        // What each account holds through each of its assignments, in scope or not.
        let mut by_user: BTreeMap<UserId, Vec<(&RoleName, PermissionSet)>> = BTreeMap::new();
        for s in assignments {
            let set = catalog.permissions_of([s.assignment.role.as_str()]);
            by_user
                .entry(s.assignment.user)
                .or_default()
                .push((&s.assignment.role, set));
        }
        let items = in_scope
            .into_iter()
            .map(|snapshot| {
                let a = &snapshot.assignment;
                let role = catalog.get(a.role.as_str());
                // Only what this assignment alone provides counts as its use: a permission the
                // account also holds through another role would be kept without it.
                let others = by_user
                    .get(&a.user)
                    .into_iter()
                    .flatten()
                    .filter(|(name, _)| **name != a.role)
                    .fold(PermissionSet::EMPTY, |set, (_, other)| set.union(*other));
                let perms = role.map_or(PermissionSet::EMPTY, |r| r.permission_set());
                let perms: PermissionSet = perms.iter().filter(|p| !others.has(*p)).collect();
                let permission_last_used: BTreeMap<_, _> = snapshot
                    .last_used
                    .iter()
                    .filter(|(p, _)| perms.has(**p))
                    .map(|(p, at)| (*p, *at))
                    .collect();
                let last_used = permission_last_used.values().max().copied();
                ReviewItem {
                    id: ReviewItemId::new_v7(now, rng),
                    user: a.user,
                    username: snapshot.username.clone(),
                    role: a.role.clone(),
                    sensitive: role.is_some_and(|r| r.is_sensitive()),
                    granted_by: a.granted_by,
                    granted_at: a.granted_at,
                    flagged_unused: is_unused(
                        last_used,
                        a.granted_at,
                        now,
                        new.policy.unused_after,
                    ),
                    permission_last_used,
                    last_used,
                    escalated_at: None,
                    decision: None,
                    auto_revoked_at: None,
                }
            })
            .collect::<Vec<_>>();
        let mut campaign = Self {
            id: new.id,
            name: name.to_owned(),
            scope: new.scope,
            policy: new.policy,
            created_by: new.created_by,
            started_at: now,
            deadline: new.deadline,
            completed_at: None,
            items,
        };
        let mut outcome = ReviewOutcome {
            events: vec![AuditEvent::ReviewStarted {
                campaign: campaign.id,
                name: campaign.name.clone(),
                items: u32::try_from(campaign.items.len()).unwrap_or(u32::MAX),
                flagged_unused: u32::try_from(
                    campaign.items.iter().filter(|i| i.flagged_unused).count(),
                )
                .unwrap_or(u32::MAX),
                deadline: campaign.deadline,
            }],
            revocations: Vec::new(),
        };
        campaign.complete_if_done(now, &mut outcome);
        Ok((campaign, outcome))
    }

    /// Records a reviewer's verdict on one item (allowed after the deadline until the item is
    /// revoked automatically). `reason` may be empty only when certifying an assignment that is
    /// neither of a sensitive role nor flagged unused.
    pub fn decide(
        &mut self,
        item: ReviewItemId,
        reviewer: UserId,
        reviewer_permissions: PermissionSet,
        verdict: Verdict,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<ReviewOutcome, ReviewError> {
        if self.completed_at.is_some() {
            return Err(ReviewError::Completed);
        }
        if !reviewer_permissions.has(Permission::ReviewDecide) {
            return Err(ReviewError::NotAReviewer);
        }
        let index = self
            .items
            .iter()
            .position(|i| i.id == item)
            .ok_or(ReviewError::UnknownItem)?;
        let entry = &self.items[index];
        if entry.user == reviewer {
            return Err(ReviewError::SelfReview);
        }
        if entry.is_resolved() {
            return Err(ReviewError::AlreadyDecided);
        }
        let reason = match Reason::parse(reason) {
            Ok(reason) => Some(reason),
            Err(ReasonError::TooLong) => {
                return Err(ReviewError::ReasonTooLong {
                    max: Reason::MAX_CHARS,
                });
            }
            Err(ReasonError::Empty) => {
                if verdict == Verdict::Revoke || entry.sensitive || entry.flagged_unused {
                    return Err(ReviewError::ReasonRequired);
                }
                None
            }
        };
        let mut outcome = ReviewOutcome::default();
        outcome.events.push(AuditEvent::ReviewDecided {
            campaign: self.id,
            item,
            user: entry.user,
            role: entry.role.clone(),
            verdict,
            reviewer,
        });
        if verdict == Verdict::Revoke {
            outcome.revocations.push(Revocation {
                user: entry.user,
                role: entry.role.clone(),
                reason: format!(
                    "access review \"{}\": {}",
                    self.name,
                    reason.as_ref().map_or("", Reason::as_str)
                ),
            });
        }
        self.items[index].decision = Some(Decision {
            reviewer,
            verdict,
            reason,
            at: now,
        });
        self.complete_if_done(now, &mut outcome);
        Ok(outcome)
    }

    /// Applies the deadline rules at `now`: escalates undecided items once the deadline has
    /// passed, revokes them automatically (by policy) once the grace has passed too, and
    /// completes the campaign when every item is resolved. Idempotent: a second call at the same
    /// `now` produces nothing.
    pub fn tick(&mut self, now: OffsetDateTime) -> ReviewOutcome {
        let mut outcome = ReviewOutcome::default();
        if self.completed_at.is_some() {
            return outcome;
        }
        if now >= self.deadline {
            for item in &mut self.items {
                if !item.is_resolved() && item.escalated_at.is_none() {
                    item.escalated_at = Some(now);
                    outcome.events.push(AuditEvent::ReviewEscalated {
                        campaign: self.id,
                        item: item.id,
                        user: item.user,
                        role: item.role.clone(),
                        escalate_to: self.policy.escalate_to,
                    });
                }
            }
        }
        if self.policy.auto_revoke && now >= self.deadline + self.policy.escalation_grace {
            for item in &mut self.items {
                if !item.is_resolved() {
                    item.auto_revoked_at = Some(now);
                    outcome.events.push(AuditEvent::ReviewAutoRevoked {
                        campaign: self.id,
                        item: item.id,
                        user: item.user,
                        role: item.role.clone(),
                    });
                    outcome.revocations.push(Revocation {
                        user: item.user,
                        role: item.role.clone(),
                        reason: format!(
                            "access review \"{}\": not decided by the deadline",
                            self.name
                        ),
                    });
                }
            }
        }
        self.complete_if_done(now, &mut outcome);
        outcome
    }

    fn complete_if_done(&mut self, now: OffsetDateTime, outcome: &mut ReviewOutcome) {
        if self.completed_at.is_some() || !self.items.iter().all(ReviewItem::is_resolved) {
            return;
        }
        self.completed_at = Some(now);
        let count = |status| {
            u32::try_from(self.items.iter().filter(|i| i.status() == status).count())
                .unwrap_or(u32::MAX)
        };
        outcome.events.push(AuditEvent::ReviewCompleted {
            campaign: self.id,
            certified: count(ItemStatus::Certified),
            revoked: count(ItemStatus::Revoked),
            auto_revoked: count(ItemStatus::AutoRevoked),
        });
    }

    /// Items a reviewer should look at first: flagged unused and still open.
    pub fn flagged_open(&self) -> impl Iterator<Item = &ReviewItem> {
        self.items
            .iter()
            .filter(|item| item.flagged_unused && !item.is_resolved())
    }

    /// The campaign's report: who decided what, when.
    pub fn report(&self) -> ReviewReport {
        let count = |status| self.items.iter().filter(|i| i.status() == status).count();
        ReviewReport {
            campaign: self.id,
            name: self.name.clone(),
            scope: self.scope.clone(),
            created_by: self.created_by,
            started_at: rfc3339(self.started_at),
            deadline: rfc3339(self.deadline),
            completed_at: self.completed_at.map(rfc3339),
            summary: ReportSummary {
                items: self.items.len(),
                pending: count(ItemStatus::Pending),
                escalated: count(ItemStatus::Escalated),
                certified: count(ItemStatus::Certified),
                revoked: count(ItemStatus::Revoked),
                auto_revoked: count(ItemStatus::AutoRevoked),
                flagged_unused: self.items.iter().filter(|i| i.flagged_unused).count(),
            },
            items: self.items.iter().map(ReportRow::from_item).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-04 10:00 UTC);

    fn user(n: u128) -> UserId {
        UserId(uuid::Uuid::from_u128(n))
    }

    fn snapshot(n: u128, name: &str, role: &str, used: &[(Permission, i64)]) -> AssignmentSnapshot {
        AssignmentSnapshot {
            assignment: RoleAssignment {
                user: user(n),
                role: RoleName::parse(role).unwrap(),
                granted_by: None,
                granted_at: T0 - Duration::days(365),
                reason: Reason::parse("initial").unwrap(),
            },
            username: name.into(),
            last_used: used
                .iter()
                .map(|(p, days_ago)| (*p, T0 - Duration::days(*days_ago)))
                .collect(),
        }
    }

    fn campaign(scope: ReviewScope) -> (ReviewCampaign, ReviewOutcome) {
        let assignments = [
            snapshot(1, "alice", "admin", &[(Permission::UserCreate, 3)]),
            snapshot(
                2,
                "bob",
                "incident-responder",
                &[(Permission::IncidentRead, 120)],
            ),
            snapshot(2, "bob", "user", &[(Permission::ProfileRead, 1)]),
            snapshot(
                3,
                "carol",
                "enrollment-operator",
                &[(Permission::IncidentRead, 1)],
            ),
        ];
        ReviewCampaign::start(
            NewCampaign {
                id: CampaignId(uuid::Uuid::from_u128(7)),
                name: " Q1, \"2027\" review ".into(),
                scope,
                deadline: T0 + Duration::days(14),
                policy: ReviewPolicy::default(),
                created_by: Some(user(9)),
            },
            &assignments,
            &RoleCatalog::builtin(),
            T0,
            &mut rand::rng(),
        )
        .unwrap()
    }

    fn reviewer() -> PermissionSet {
        RoleCatalog::builtin().permissions_of(["security-officer"])
    }

    #[test]
    fn start_scopes_and_flags_unused_assignments() {
        let (c, outcome) = campaign(ReviewScope::AllRoles);
        assert_eq!(c.name, "Q1, \"2027\" review");
        assert_eq!(outcome.events.len(), 1);
        assert_eq!(outcome.events[0].kind(), "rbac.review.started");
        let summary: Vec<_> = c
            .items
            .iter()
            .map(|i| (i.username.as_str(), i.role.as_str(), i.flagged_unused))
            .collect();
        assert_eq!(
            summary,
            [
                ("alice", "admin", false),
                ("bob", "incident-responder", true),
                // Everything `user` allows, Bob also holds as an incident responder.
                ("bob", "user", true),
                // Used only a permission the role does not grant: the role itself is unused.
                ("carol", "enrollment-operator", true),
            ]
        );
        assert_eq!(c.items[0].last_used, Some(T0 - Duration::days(3)));
        assert_eq!(c.items[3].last_used, None);
        assert!(c.items[0].sensitive && !c.items[1].sensitive);
        assert_eq!(c.flagged_open().count(), 3);

        let (sensitive, _) = campaign(ReviewScope::SensitiveRoles);
        assert_eq!(sensitive.items.len(), 1);
        let (bob, _) = campaign(ReviewScope::Users([user(2)].into()));
        assert_eq!(bob.items.len(), 2);
        let (roles, _) = campaign(ReviewScope::Roles(
            [RoleName::parse("user").unwrap()].into(),
        ));
        assert_eq!(roles.items.len(), 1);
        let (empty, outcome) = campaign(ReviewScope::Roles(
            [RoleName::parse("auditor").unwrap()].into(),
        ));
        assert!(empty.completed_at.is_some());
        assert_eq!(
            outcome.events.last().unwrap().kind(),
            "rbac.review.completed"
        );
    }

    #[test]
    fn bad_campaigns_are_refused() {
        let start = |name: &str, deadline, policy| {
            ReviewCampaign::start(
                NewCampaign {
                    id: CampaignId(uuid::Uuid::nil()),
                    name: name.into(),
                    scope: ReviewScope::AllRoles,
                    deadline,
                    policy,
                    created_by: None,
                },
                &[],
                &RoleCatalog::builtin(),
                T0,
                &mut rand::rng(),
            )
            .map(|_| ())
        };
        let later = T0 + Duration::days(1);
        let ok = ReviewPolicy::default();
        assert_eq!(start(" ", later, ok), Err(ReviewError::NameEmpty));
        assert_eq!(
            start(&"n".repeat(201), later, ok),
            Err(ReviewError::NameTooLong { max: 200 })
        );
        assert_eq!(start("q", T0, ok), Err(ReviewError::DeadlineNotInFuture));
        let bad = ReviewPolicy {
            unused_after: Duration::ZERO,
            ..ok
        };
        assert_eq!(start("q", later, bad), Err(ReviewError::PolicyOutOfRange));
        assert_eq!(start("q", later, ok), Ok(()));
    }

    #[test]
    fn decisions_deadline_escalation_auto_revocation_and_report() {
        let (mut c, _) = campaign(ReviewScope::AllRoles);
        let [alice_admin, bob_ir, bob_user, carol_eo] = [0, 1, 2, 3].map(|i| c.items[i].id);
        let t = T0 + Duration::days(1);

        // Refusals change nothing.
        let before = c.clone();
        let user_perms = RoleCatalog::builtin().permissions_of(["user"]);
        assert_eq!(
            c.decide(bob_user, user(9), user_perms, Verdict::Certify, "", t),
            Err(ReviewError::NotAReviewer)
        );
        assert_eq!(
            c.decide(bob_user, user(2), reviewer(), Verdict::Certify, "", t),
            Err(ReviewError::SelfReview)
        );
        assert_eq!(
            c.decide(bob_ir, user(9), reviewer(), Verdict::Revoke, " ", t),
            Err(ReviewError::ReasonRequired)
        );
        assert_eq!(
            c.decide(bob_ir, user(9), reviewer(), Verdict::Certify, "", t),
            Err(ReviewError::ReasonRequired),
            "flagged unused"
        );
        assert_eq!(
            c.decide(alice_admin, user(9), reviewer(), Verdict::Certify, "", t),
            Err(ReviewError::ReasonRequired),
            "sensitive"
        );
        assert_eq!(
            c.decide(
                ReviewItemId(uuid::Uuid::nil()),
                user(9),
                reviewer(),
                Verdict::Certify,
                "",
                t
            ),
            Err(ReviewError::UnknownItem)
        );
        assert_eq!(
            c.decide(
                bob_user,
                user(9),
                reviewer(),
                Verdict::Certify,
                &"r".repeat(501),
                t
            ),
            Err(ReviewError::ReasonTooLong { max: 500 })
        );
        assert_eq!(c, before);

        assert_eq!(
            c.decide(bob_user, user(9), reviewer(), Verdict::Certify, "", t),
            Err(ReviewError::ReasonRequired),
            "redundant"
        );
        let out = c
            .decide(
                bob_user,
                user(9),
                reviewer(),
                Verdict::Certify,
                "base account",
                t,
            )
            .unwrap();
        assert_eq!(out.events[0].kind(), "rbac.review.decided");
        assert!(out.revocations.is_empty());
        let out = c
            .decide(
                bob_ir,
                user(9),
                reviewer(),
                Verdict::Revoke,
                "moved to finance, =SUM(A1)",
                t,
            )
            .unwrap();
        assert_eq!(out.revocations.len(), 1);
        assert_eq!(out.revocations[0].role.as_str(), "incident-responder");
        assert_eq!(
            out.revocations[0].unassigned_event().kind(),
            "rbac.role.unassigned"
        );
        assert_eq!(
            c.decide(bob_ir, user(9), reviewer(), Verdict::Certify, "again", t),
            Err(ReviewError::AlreadyDecided)
        );

        // Before the deadline nothing happens by itself.
        assert_eq!(c.tick(T0 + Duration::days(13)), ReviewOutcome::default());
        // At the deadline the two undecided items escalate, once.
        let deadline = T0 + Duration::days(14);
        let out = c.tick(deadline);
        assert_eq!(
            out.events.iter().map(AuditEvent::kind).collect::<Vec<_>>(),
            ["rbac.review.escalated"; 2]
        );
        assert!(c.tick(deadline).events.is_empty());
        assert_eq!(c.items[0].status(), ItemStatus::Escalated);
        // An escalated item can still be decided.
        c.decide(
            alice_admin,
            user(9),
            reviewer(),
            Verdict::Certify,
            "still the admin",
            deadline + Duration::days(1),
        )
        .unwrap();
        // After the grace the rest is revoked automatically and the campaign completes.
        let end = deadline + Duration::days(7);
        let out = c.tick(end);
        let kinds: Vec<_> = out.events.iter().map(AuditEvent::kind).collect();
        assert_eq!(kinds, ["rbac.review.auto_revoked", "rbac.review.completed"]);
        assert_eq!(
            out.revocations,
            [Revocation {
                user: user(3),
                role: RoleName::parse("enrollment-operator").unwrap(),
                reason: "access review \"Q1, \"2027\" review\": not decided by the deadline".into(),
            }]
        );
        assert_eq!(c.items[3].status(), ItemStatus::AutoRevoked);
        assert_eq!(c.completed_at, Some(end));
        assert!(c.tick(end + Duration::days(1)).events.is_empty());
        assert_eq!(
            c.decide(carol_eo, user(9), reviewer(), Verdict::Certify, "x", end),
            Err(ReviewError::Completed)
        );

        let report = c.report();
        assert_eq!(
            (
                report.summary.certified,
                report.summary.revoked,
                report.summary.auto_revoked,
                report.summary.flagged_unused
            ),
            (2, 1, 1, 3)
        );
        let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
        assert_eq!(json["items"][1]["status"], "revoked");
        assert_eq!(json["items"][1]["reason"], "moved to finance, =SUM(A1)");
        assert_eq!(json["items"][3]["reviewer"], serde_json::Value::Null);
        assert_eq!(json["summary"]["items"], 4);

        let csv = report.to_csv();
        let lines: Vec<_> = csv.split("\r\n").collect();
        assert_eq!(lines.len(), 6, "header, four rows, trailing empty: {csv}");
        assert!(lines[0].starts_with("campaign,campaign_name,item,user_id,username,role,"));
        assert!(
            lines[2].contains(",\"Q1, \"\"2027\"\" review\","),
            "{}",
            lines[2]
        );
        assert!(
            lines[2].contains(",\"moved to finance, =SUM(A1)\","),
            "{}",
            lines[2]
        );
        assert!(lines[2].contains(",revoked,"));
        assert!(lines[3].ends_with(",certified,00000000-0000-0000-0000-000000000009,2026-12-05T10:00:00Z,base account,,"), "{}", lines[3]);
        assert!(
            lines[4].contains(",auto_revoked,,,,2026-12-18T10:00:00Z,2026-12-25T10:00:00Z"),
            "{}",
            lines[4]
        );
    }

    #[test]
    fn schedules() {
        let q = ReviewSchedule::Quarterly;
        assert_eq!(
            q.next_after(datetime!(2026-12-04 10:00 UTC)),
            datetime!(2027-01-01 0:00 UTC)
        );
        assert_eq!(
            q.next_after(datetime!(2027-01-01 0:00 UTC)),
            datetime!(2027-04-01 0:00 UTC)
        );
        assert_eq!(
            q.next_after(datetime!(2027-03-31 23:59 UTC)),
            datetime!(2027-04-01 0:00 UTC)
        );
        assert_eq!(
            q.next_after(datetime!(2027-08-15 0:00 UTC)),
            datetime!(2027-10-01 0:00 UTC)
        );
        assert_eq!(
            ReviewSchedule::Every(Duration::days(30)).next_after(T0),
            T0 + Duration::days(30)
        );
        assert!(is_unused(
            None,
            T0 - Duration::days(90),
            T0,
            Duration::days(90)
        ));
        assert!(!is_unused(
            None,
            T0 - Duration::days(89),
            T0,
            Duration::days(90)
        ));
        assert!(!is_unused(
            Some(T0 - Duration::days(10)),
            T0 - Duration::days(900),
            T0,
            Duration::days(90)
        ));
    }
}
