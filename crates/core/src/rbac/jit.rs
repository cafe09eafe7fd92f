//! Just-in-time access: a person asks for a role or a single permission for a bounded time, with
//! a reason; a *different* person holding `access:approve` approves (two distinct approvers for
//! roles that require it) or denies; the grant starts on the deciding approval and ends by itself
//! at the end of its window; it can be revoked early.
//!
//! [`JitRequest`] is a pure state machine. Each transition checks its preconditions against the
//! current role definitions and `now`, changes nothing when it fails, and returns the
//! [`AuditEvent`]s to append in the same transaction as the stored change.
//!
//! ```text
//! Pending ──approve (last approver)──▶ Active ──now ≥ ends_at──▶ Expired
//!    │  └──approve (more needed)──▶ Pending        └──revoke──▶ Revoked
//!    └──deny──▶ Denied          (Pending older than the policy's TTL is Lapsed)
//! ```

use super::effective::PermissionSet;
use super::permission::Permission;
use super::role::{RoleCatalog, RoleName};
use super::sod::{SodPolicy, SodViolation};
use super::{JitRequestId, Reason, ReasonError};
use crate::audit::AuditEvent;
use crate::ids::UserId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use time::{Duration, OffsetDateTime};

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JitTarget {
    /// A whole role, resolved against its current definition while the grant is active.
    Role(RoleName),
    /// One permission.
    Permission(Permission),
}

impl fmt::Display for JitTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Role(role) => write!(f, "role {role}"),
            Self::Permission(permission) => write!(f, "permission {permission}"),
        }
    }
}

/// Limits that are not part of a role definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitPolicy {
    /// The longest grant of a single permission (roles carry their own maximum).
    pub permission_max_duration: Duration,
    /// A request not decided within this time lapses and can no longer be approved.
    pub pending_ttl: Duration,
}

impl Default for JitPolicy {
    /// One hour for a single permission; requests lapse after a day.
    fn default() -> Self {
        Self {
            permission_max_duration: Duration::hours(1),
            pending_ttl: Duration::hours(24),
        }
    }
}

/// What a just-in-time transition is checked against.
#[derive(Debug, Clone, Copy)]
pub struct JitContext<'a> {
    /// The current role definitions.
    pub catalog: &'a RoleCatalog,
    /// The limits for single permissions and pending requests.
    pub policy: &'a JitPolicy,
    /// The conflicting role pairs.
    pub sod: &'a SodPolicy,
}

/// Why a just-in-time request or transition was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JitError {
    /// No reason was given (the requester's, a denier's or a revoker's).
    #[error("a reason is required")]
    ReasonEmpty,
    /// The reason is longer than allowed.
    #[error("a reason has at most {max} characters")]
    ReasonTooLong {
        /// The limit, in characters.
        max: usize,
    },
    /// The requested duration is zero or negative.
    #[error("a just-in-time grant lasts more than zero seconds")]
    DurationNotPositive,
    /// The requested duration is longer than the role's (or the policy's) maximum.
    #[error("this grant may last at most {} minutes", max.whole_minutes())]
    DurationTooLong {
        /// The maximum.
        max: Duration,
    },
    /// The role does not exist (any more).
    #[error("no role is named {name:?}")]
    UnknownRole {
        /// The name asked for.
        name: String,
    },
    /// The role cannot be requested just in time (it has no maximum duration).
    #[error("role {role} cannot be requested just in time")]
    NotRequestable {
        /// The role.
        role: RoleName,
    },
    /// The requester already holds what they ask for.
    #[error("you already hold this access")]
    AlreadyHeld,
    /// The requested role conflicts with one the requester holds.
    #[error(transparent)]
    SeparationOfDuties(SodViolation),
    /// The requester tried to approve (or deny) their own request.
    #[error("a request cannot be decided by the person who made it")]
    SelfApproval,
    /// The approver does not hold `access:approve`.
    #[error("deciding just-in-time requests needs the access:approve permission")]
    NotAnApprover,
    /// This approver has already approved this request; a second approval must come from
    /// someone else.
    #[error("you have already approved this request; it needs another approver")]
    AlreadyApproved,
    /// The request was already approved in full, denied, or has ended.
    #[error("this request has already been decided")]
    AlreadyDecided,
    /// The request lapsed undecided, or the grant's window has already ended.
    #[error("this request or grant has expired")]
    Expired,
    /// The operation needs an active grant and this request has none.
    #[error("this request has no active grant")]
    NotActive,
    /// Expiry was recorded before the end of the grant's window.
    #[error("this grant has not reached its end yet")]
    NotYetExpired,
}

impl From<ReasonError> for JitError {
    fn from(err: ReasonError) -> Self {
        match err {
            ReasonError::Empty => Self::ReasonEmpty,
            ReasonError::TooLong => Self::ReasonTooLong {
                max: Reason::MAX_CHARS,
            },
        }
    }
}

/// One approval of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Who approved.
    pub approver: UserId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Where a request stands, as stored. Expiry by time needs no stored change to take effect
/// ([`JitGrant::is_active_at`] looks at the clock); [`JitState::Expired`] records that the
/// expiry was noticed and audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JitState {
    /// Waiting for (more) approvals.
    Pending,
    /// Refused.
    Denied {
        /// Who refused.
        by: UserId,
        /// When.
        at: OffsetDateTime,
        /// Why.
        reason: Reason,
    },
    /// Approved: the grant runs from `starts_at` (inclusive) to `ends_at` (exclusive).
    Active {
        /// When the deciding approval came.
        starts_at: OffsetDateTime,
        /// `starts_at` plus the requested duration.
        ends_at: OffsetDateTime,
    },
    /// The grant ran its full window.
    Expired {
        /// When it started.
        starts_at: OffsetDateTime,
        /// When it ended.
        ends_at: OffsetDateTime,
    },
    /// The grant was ended early.
    Revoked {
        /// When it started.
        starts_at: OffsetDateTime,
        /// When it would have ended.
        ends_at: OffsetDateTime,
        /// When it was revoked.
        at: OffsetDateTime,
        /// Who revoked it; `None` for the local console or an automatic policy.
        by: Option<UserId>,
        /// Why.
        reason: Reason,
    },
}

/// Where a request stands at a given instant, for listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JitStatus {
    /// Waiting for approval.
    Pending,
    /// Never decided, and now too old to approve.
    Lapsed,
    /// Refused.
    Denied,
    /// In force.
    Active,
    /// Its window has passed (whether or not expiry was recorded yet).
    Expired,
    /// Ended early.
    Revoked,
}

impl JitStatus {
    /// The stable name: `pending`, `lapsed`, `denied`, `active`, `expired`, `revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Lapsed => "lapsed",
            Self::Denied => "denied",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

/// A grant's window and whether it was cut short: everything the effective permission set
/// needs. Taken from a request by [`JitRequest::grant`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitGrant {
    /// The request it came from.
    pub request: JitRequestId,
    /// Who holds it.
    pub user: UserId,
    /// What it grants.
    pub target: JitTarget,
    /// First instant it counts.
    pub starts_at: OffsetDateTime,
    /// First instant it no longer counts.
    pub ends_at: OffsetDateTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

impl JitGrant {
    /// Whether it counts at `now`.
    pub fn is_active_at(&self, now: OffsetDateTime) -> bool {
        self.starts_at <= now
            && now < self.ends_at
            && self.revoked_at.is_none_or(|revoked| now < revoked)
    }
}

/// A request as submitted (the reason still raw text, checked by [`JitRequest::open`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJitRequest {
    /// Its id.
    pub id: JitRequestId,
    /// Who asks.
    pub requester: UserId,
    /// For what.
    pub target: JitTarget,
    /// For how long, from approval.
    pub duration: Duration,
    /// Why, 1 to 500 characters.
    pub reason: String,
}

/// A just-in-time request and, once approved, its grant.
///
/// The fields are public so the store can rebuild a request from its rows; every change goes
/// through the transition methods, which keep the state machine's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitRequest {
    /// Its id.
    pub id: JitRequestId,
    /// Who asked.
    pub requester: UserId,
    /// For what.
    pub target: JitTarget,
    /// For how long, from approval.
    pub duration: Duration,
    /// Why.
    pub reason: Reason,
    /// When it was made.
    pub requested_at: OffsetDateTime,
    /// Distinct approvers needed (1 or 2), fixed when it was made.
    pub approvals_required: u8,
    /// Approvals so far, in order.
    pub approvals: Vec<Approval>,
    /// Where it stands.
    pub state: JitState,
}

impl JitRequest {
    /// Opens a request by someone currently holding the roles `held` (assigned and granted just
    /// in time), checking the reason, the duration against the role's (or, for a single
    /// permission, the policy's) maximum, and separation of duties.
    pub fn open(
        new: NewJitRequest,
        held: &BTreeSet<RoleName>,
        ctx: &JitContext<'_>,
        now: OffsetDateTime,
    ) -> Result<(Self, AuditEvent), JitError> {
        let reason = Reason::parse(&new.reason)?;
        let approvals_required = bounds(&new.target, new.duration, ctx)?;
        match &new.target {
            JitTarget::Role(role) => {
                if held.contains(role) {
                    return Err(JitError::AlreadyHeld);
                }
                ctx.sod
                    .check_addition(held, role)
                    .map_err(JitError::SeparationOfDuties)?;
            }
            JitTarget::Permission(permission) => {
                if ctx.catalog.permissions_of(held).has(*permission) {
                    return Err(JitError::AlreadyHeld);
                }
            }
        }
        let request = Self {
            id: new.id,
            requester: new.requester,
            target: new.target,
            duration: new.duration,
            reason,
            requested_at: now,
            approvals_required,
            approvals: Vec::new(),
            state: JitState::Pending,
        };
        let event = AuditEvent::JitRequested {
            request: request.id,
            user: request.requester,
            target: request.target.clone(),
            duration_secs: request.duration.whole_seconds(),
            reason: request.reason.to_string(),
        };
        Ok((request, event))
    }

    /// Records an approval by `approver`, who holds `approver_permissions` at `now`. The
    /// deciding approval activates the grant from `now`; the returned events are the approval
    /// and, then, the activation.
    ///
    /// The request is checked again against the current role definitions: a role deleted or
    /// whose maximum shrank since the request was made cannot be granted as asked.
    pub fn approve(
        &mut self,
        approver: UserId,
        approver_permissions: PermissionSet,
        ctx: &JitContext<'_>,
        now: OffsetDateTime,
    ) -> Result<Vec<AuditEvent>, JitError> {
        self.check_decidable(approver, approver_permissions, ctx, now)?;
        if self.approvals.iter().any(|a| a.approver == approver) {
            return Err(JitError::AlreadyApproved);
        }
        let required = bounds(&self.target, self.duration, ctx)?.max(self.approvals_required);
        self.approvals.push(Approval { approver, at: now });
        let approvals = u8::try_from(self.approvals.len()).unwrap_or(u8::MAX);
        let mut events = vec![AuditEvent::JitApproved {
            request: self.id,
            user: self.requester,
            approver,
            approvals,
            required,
        }];
        if approvals >= required {
            let ends_at = now + self.duration;
            self.state = JitState::Active {
                starts_at: now,
                ends_at,
            };
            events.push(AuditEvent::JitActivated {
                request: self.id,
                user: self.requester,
                target: self.target.clone(),
                starts_at: now,
                ends_at,
            });
        }
        Ok(events)
    }

    /// Refuses the request. The same rules as for approving apply to who may do it.
    pub fn deny(
        &mut self,
        by: UserId,
        by_permissions: PermissionSet,
        reason: &str,
        ctx: &JitContext<'_>,
        now: OffsetDateTime,
    ) -> Result<AuditEvent, JitError> {
        let reason = Reason::parse(reason)?;
        self.check_decidable(by, by_permissions, ctx, now)?;
        let event = AuditEvent::JitDenied {
            request: self.id,
            user: self.requester,
            by,
            reason: reason.to_string(),
        };
        self.state = JitState::Denied {
            by,
            at: now,
            reason,
        };
        Ok(event)
    }

    fn check_decidable(
        &self,
        decider: UserId,
        permissions: PermissionSet,
        ctx: &JitContext<'_>,
        now: OffsetDateTime,
    ) -> Result<(), JitError> {
        if self.state != JitState::Pending {
            return Err(JitError::AlreadyDecided);
        }
        if now >= self.requested_at + ctx.policy.pending_ttl {
            return Err(JitError::Expired);
        }
        if decider == self.requester {
            return Err(JitError::SelfApproval);
        }
        if !permissions.has(Permission::AccessApprove) {
            return Err(JitError::NotAnApprover);
        }
        Ok(())
    }

    /// Ends an active grant before its window is over. `by` is `None` for the local console or
    /// an automatic policy. Who may revoke (the holder themselves, or someone with
    /// `access:revoke`) is the caller's check.
    pub fn revoke(
        &mut self,
        by: Option<UserId>,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<AuditEvent, JitError> {
        let reason = Reason::parse(reason)?;
        let JitState::Active { starts_at, ends_at } = self.state else {
            return Err(self.not_active());
        };
        if now >= ends_at {
            return Err(JitError::Expired);
        }
        let event = AuditEvent::JitRevoked {
            request: self.id,
            user: self.requester,
            target: self.target.clone(),
            by,
            reason: reason.to_string(),
        };
        self.state = JitState::Revoked {
            starts_at,
            ends_at,
            at: now,
            by,
            reason,
        };
        Ok(event)
    }

    /// Records that the grant's window has passed (the grant already stopped counting at
    /// `ends_at`; this writes it down and produces the audit line, once).
    pub fn expire(&mut self, now: OffsetDateTime) -> Result<AuditEvent, JitError> {
        let JitState::Active { starts_at, ends_at } = self.state else {
            return Err(self.not_active());
        };
        if now < ends_at {
            return Err(JitError::NotYetExpired);
        }
        self.state = JitState::Expired { starts_at, ends_at };
        Ok(AuditEvent::JitExpired {
            request: self.id,
            user: self.requester,
            target: self.target.clone(),
            ended_at: ends_at,
        })
    }

    fn not_active(&self) -> JitError {
        match self.state {
            JitState::Expired { .. } => JitError::Expired,
            _ => JitError::NotActive,
        }
    }

    /// The grant, once approved (also after it expired or was revoked, for history).
    pub fn grant(&self) -> Option<JitGrant> {
        let (starts_at, ends_at, revoked_at) = match self.state {
            JitState::Pending | JitState::Denied { .. } => return None,
            JitState::Active { starts_at, ends_at } | JitState::Expired { starts_at, ends_at } => {
                (starts_at, ends_at, None)
            }
            JitState::Revoked {
                starts_at,
                ends_at,
                at,
                ..
            } => (starts_at, ends_at, Some(at)),
        };
        Some(JitGrant {
            request: self.id,
            user: self.requester,
            target: self.target.clone(),
            starts_at,
            ends_at,
            revoked_at,
        })
    }

    /// Where it stands at `now`.
    pub fn status(&self, now: OffsetDateTime, policy: &JitPolicy) -> JitStatus {
        match self.state {
            JitState::Pending if now >= self.requested_at + policy.pending_ttl => JitStatus::Lapsed,
            JitState::Pending => JitStatus::Pending,
            JitState::Denied { .. } => JitStatus::Denied,
            JitState::Active { ends_at, .. } if now >= ends_at => JitStatus::Expired,
            JitState::Active { .. } => JitStatus::Active,
            JitState::Expired { .. } => JitStatus::Expired,
            JitState::Revoked { .. } => JitStatus::Revoked,
        }
    }
}

/// Checks `duration` against the target's maximum and returns the approvals it needs.
fn bounds(target: &JitTarget, duration: Duration, ctx: &JitContext<'_>) -> Result<u8, JitError> {
    if duration <= Duration::ZERO {
        return Err(JitError::DurationNotPositive);
    }
    let (max, approvals) = match target {
        JitTarget::Role(name) => {
            let role = ctx
                .catalog
                .get(name.as_str())
                .ok_or_else(|| JitError::UnknownRole {
                    name: name.to_string(),
                })?;
            let max = role
                .max_jit_duration()
                .ok_or_else(|| JitError::NotRequestable { role: name.clone() })?;
            (max, role.approvals_required())
        }
        JitTarget::Permission(permission) => (
            ctx.policy.permission_max_duration,
            if permission.is_sensitive() { 2 } else { 1 },
        ),
    };
    if duration > max {
        return Err(JitError::DurationTooLong { max });
    }
    Ok(approvals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-04 10:00 UTC);

    fn user(n: u128) -> UserId {
        UserId(uuid::Uuid::from_u128(n))
    }

    fn role(name: &str) -> RoleName {
        RoleName::parse(name).unwrap()
    }

    struct World {
        catalog: RoleCatalog,
        policy: JitPolicy,
        sod: SodPolicy,
    }

    impl World {
        fn new() -> Self {
            Self {
                catalog: RoleCatalog::builtin(),
                policy: JitPolicy::default(),
                sod: SodPolicy::builtin(),
            }
        }

        fn ctx(&self) -> JitContext<'_> {
            JitContext {
                catalog: &self.catalog,
                policy: &self.policy,
                sod: &self.sod,
            }
        }

        fn open(
            &self,
            target: JitTarget,
            minutes: i64,
            reason: &str,
        ) -> Result<JitRequest, JitError> {
            JitRequest::open(
                NewJitRequest {
                    id: JitRequestId(uuid::Uuid::from_u128(99)),
                    requester: user(1),
                    target,
                    duration: Duration::minutes(minutes),
                    reason: reason.into(),
                },
                &[role("user")].into(),
                &self.ctx(),
                T0,
            )
            .map(|(request, event)| {
                assert_eq!(event.kind(), "access.jit.requested");
                request
            })
        }
    }

    fn approver_perms() -> PermissionSet {
        RoleCatalog::builtin().permissions_of(["security-officer"])
    }

    #[test]
    fn request_approve_use_and_expire_by_itself() {
        let w = World::new();
        let mut req = w
            .open(
                JitTarget::Role(role("incident-responder")),
                60,
                "  on call for INC-7 ",
            )
            .unwrap();
        assert_eq!(req.reason.as_str(), "on call for INC-7");
        assert_eq!(req.approvals_required, 1);
        assert!(req.grant().is_none());
        assert_eq!(req.status(T0, &w.policy), JitStatus::Pending);

        // Self-approval refused, nothing changed.
        let before = req.clone();
        assert_eq!(
            req.approve(user(1), PermissionSet::all(), &w.ctx(), T0),
            Err(JitError::SelfApproval)
        );
        assert_eq!(
            req.approve(
                user(2),
                RoleCatalog::builtin().permissions_of(["user"]),
                &w.ctx(),
                T0
            ),
            Err(JitError::NotAnApprover)
        );
        assert_eq!(req, before);

        let t1 = T0 + Duration::minutes(5);
        let events = req
            .approve(user(2), approver_perms(), &w.ctx(), t1)
            .unwrap();
        let kinds: Vec<_> = events.iter().map(AuditEvent::kind).collect();
        assert_eq!(kinds, ["access.jit.approved", "access.jit.activated"]);
        let grant = req.grant().unwrap();
        assert_eq!(
            (grant.starts_at, grant.ends_at),
            (t1, t1 + Duration::hours(1))
        );
        assert!(grant.is_active_at(t1 + Duration::minutes(59)));
        assert!(!grant.is_active_at(t1 + Duration::hours(1)));
        assert_eq!(
            req.status(t1 + Duration::hours(1), &w.policy),
            JitStatus::Expired
        );
        assert_eq!(
            req.approve(user(3), approver_perms(), &w.ctx(), t1),
            Err(JitError::AlreadyDecided)
        );

        assert_eq!(
            req.expire(t1 + Duration::minutes(59)),
            Err(JitError::NotYetExpired)
        );
        let event = req.expire(t1 + Duration::hours(2)).unwrap();
        assert_eq!(event.kind(), "access.jit.expired");
        assert!(matches!(req.state, JitState::Expired { .. }));
        assert_eq!(req.expire(t1 + Duration::hours(2)), Err(JitError::Expired));
        assert_eq!(
            req.revoke(None, "late", t1 + Duration::hours(2)),
            Err(JitError::Expired)
        );
    }

    #[test]
    fn sensitive_roles_need_two_distinct_approvers() {
        let w = World::new();
        let mut req = w
            .open(JitTarget::Role(role("admin")), 30, "restore")
            .unwrap();
        assert_eq!(req.approvals_required, 2);
        let events = req
            .approve(user(2), approver_perms(), &w.ctx(), T0)
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(req.state, JitState::Pending);
        assert_eq!(
            req.approve(user(2), approver_perms(), &w.ctx(), T0),
            Err(JitError::AlreadyApproved)
        );
        let events = req
            .approve(user(3), approver_perms(), &w.ctx(), T0)
            .unwrap();
        assert_eq!(events.len(), 2);
        assert!(matches!(req.state, JitState::Active { .. }));

        let mut perm = w
            .open(JitTarget::Permission(Permission::VaultRotate), 30, "rotate")
            .unwrap();
        assert_eq!(perm.approvals_required, 2, "sensitive permission");
        let mut plain = w
            .open(JitTarget::Permission(Permission::IncidentRead), 30, "read")
            .unwrap();
        assert_eq!(plain.approvals_required, 1);
        assert_eq!(
            plain
                .approve(user(2), approver_perms(), &w.ctx(), T0)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            perm.approve(user(2), approver_perms(), &w.ctx(), T0)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn bad_requests_are_refused_with_clear_errors() {
        let w = World::new();
        let ir = || JitTarget::Role(role("incident-responder"));
        assert_eq!(w.open(ir(), 60, " "), Err(JitError::ReasonEmpty));
        assert_eq!(
            w.open(ir(), 60, &"x".repeat(501)),
            Err(JitError::ReasonTooLong { max: 500 })
        );
        assert!(w.open(ir(), 60, &"x".repeat(500)).is_ok());
        assert_eq!(w.open(ir(), 0, "r"), Err(JitError::DurationNotPositive));
        assert_eq!(
            w.open(ir(), 8 * 60 + 1, "r"),
            Err(JitError::DurationTooLong {
                max: Duration::hours(8)
            })
        );
        assert_eq!(
            w.open(JitTarget::Permission(Permission::AuditRead), 61, "r"),
            Err(JitError::DurationTooLong {
                max: Duration::hours(1)
            })
        );
        assert_eq!(
            w.open(JitTarget::Role(role("user")), 10, "r"),
            Err(JitError::NotRequestable { role: role("user") })
        );
        assert_eq!(
            w.open(JitTarget::Role(role("ghost")), 10, "r"),
            Err(JitError::UnknownRole {
                name: "ghost".into()
            })
        );
        assert_eq!(
            w.open(JitTarget::Permission(Permission::ProfileRead), 10, "r"),
            Err(JitError::AlreadyHeld)
        );
        let err = JitRequest::open(
            NewJitRequest {
                id: JitRequestId(uuid::Uuid::nil()),
                requester: user(1),
                target: JitTarget::Role(role("admin")),
                duration: Duration::minutes(10),
                reason: "r".into(),
            },
            &[role("auditor")].into(),
            &w.ctx(),
            T0,
        )
        .unwrap_err();
        assert!(matches!(err, JitError::SeparationOfDuties(_)), "{err:?}");
        assert!(err.to_string().contains("auditor"), "{err}");
    }

    #[test]
    fn deny_revoke_lapse_and_role_changes() {
        let mut w = World::new();
        let mut req = w
            .open(JitTarget::Role(role("auditor")), 60, "audit")
            .unwrap();
        assert_eq!(
            req.deny(user(1), PermissionSet::all(), "no", &w.ctx(), T0),
            Err(JitError::SelfApproval)
        );
        assert_eq!(
            req.deny(user(2), approver_perms(), "", &w.ctx(), T0),
            Err(JitError::ReasonEmpty)
        );
        let event = req
            .deny(user(2), approver_perms(), "not needed", &w.ctx(), T0)
            .unwrap();
        assert_eq!(event.kind(), "access.jit.denied");
        assert_eq!(req.status(T0, &w.policy), JitStatus::Denied);
        assert_eq!(req.revoke(None, "x", T0), Err(JitError::NotActive));

        let mut req = w
            .open(JitTarget::Role(role("auditor")), 60, "audit")
            .unwrap();
        let late = T0 + Duration::hours(24);
        assert_eq!(req.status(late, &w.policy), JitStatus::Lapsed);
        assert_eq!(
            req.approve(user(2), approver_perms(), &w.ctx(), late),
            Err(JitError::Expired)
        );

        req.approve(user(2), approver_perms(), &w.ctx(), T0)
            .unwrap();
        let event = req
            .revoke(Some(user(2)), "done early", T0 + Duration::minutes(10))
            .unwrap();
        assert_eq!(event.kind(), "access.jit.revoked");
        let grant = req.grant().unwrap();
        assert!(grant.is_active_at(T0 + Duration::minutes(9)));
        assert!(!grant.is_active_at(T0 + Duration::minutes(10)));
        assert_eq!(
            req.status(T0 + Duration::minutes(11), &w.policy),
            JitStatus::Revoked
        );

        // The role was deleted between request and approval.
        let mut req = w
            .open(JitTarget::Role(role("auditor")), 60, "audit")
            .unwrap();
        w.catalog.remove("auditor");
        assert_eq!(
            req.approve(user(2), approver_perms(), &w.ctx(), T0),
            Err(JitError::UnknownRole {
                name: "auditor".into()
            })
        );
        assert_eq!(req.state, JitState::Pending);
        assert!(
            req.approvals.is_empty(),
            "a refused approval changes nothing"
        );
    }
}
