//! Property test (issue 3): for random sequences of role assignments, just-in-time grants,
//! revocations, expiry and role redefinitions, the effective permission set computed by
//! `rbac::resolve` always equals the one rebuilt from the audit history alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use schild_core::audit::{AuditEvent, AuditRecord};
use schild_core::ids::UserId;
use schild_core::rbac::role::RoleDraft;
use schild_core::rbac::{
    JitContext, JitPolicy, JitRequest, JitRequestId, JitTarget, NewAssignment, NewJitRequest,
    Permission, RoleAssignment, RoleCatalog, RoleName, SodPolicy, resolve,
};
use std::collections::{BTreeMap, BTreeSet};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const ROLES: [&str; 6] = [
    "security-officer",
    "enrollment-operator",
    "incident-responder",
    "auditor",
    "user",
    "ops-custom",
];

#[derive(Debug, Clone)]
enum Op {
    Assign(usize),
    Unassign(usize),
    GrantRole(usize, i64),
    GrantPermission(usize, i64),
    Revoke(usize),
    Advance(i64),
    Redefine(Vec<usize>),
}

fn op() -> impl Strategy<Value = Op> {
    let perms = Permission::all().len();
    prop_oneof![
        (0..ROLES.len()).prop_map(Op::Assign),
        (0..ROLES.len()).prop_map(Op::Unassign),
        (0..ROLES.len(), 1i64..=90).prop_map(|(r, m)| Op::GrantRole(r, m)),
        (0..perms, 1i64..=60).prop_map(|(p, m)| Op::GrantPermission(p, m)),
        (0usize..8).prop_map(Op::Revoke),
        (0i64..=120).prop_map(Op::Advance),
        proptest::collection::vec(0..perms, 0..6).prop_map(Op::Redefine),
    ]
}

/// The system under test: domain values only, changed through their transition methods.
struct Live {
    catalog: RoleCatalog,
    assigned: BTreeMap<RoleName, RoleAssignment>,
    requests: Vec<JitRequest>,
    now: OffsetDateTime,
    history: Vec<AuditRecord>,
}

fn user() -> UserId {
    UserId(uuid::Uuid::from_u128(1))
}

fn approver(n: u128) -> UserId {
    UserId(uuid::Uuid::from_u128(100 + n))
}

impl Live {
    fn record(&mut self, event: AuditEvent) {
        self.history.push(AuditRecord {
            at: self.now,
            actor: None,
            source_ip: None,
            event,
        });
    }

    fn held(&self) -> BTreeSet<RoleName> {
        let jit = self
            .requests
            .iter()
            .filter_map(JitRequest::grant)
            .filter(|g| g.is_active_at(self.now))
            .filter_map(|g| match g.target {
                JitTarget::Role(role) => Some(role),
                JitTarget::Permission(_) => None,
            });
        self.assigned.keys().cloned().chain(jit).collect()
    }

    fn effective(&self) -> BTreeSet<Permission> {
        let grants: Vec<_> = self.requests.iter().filter_map(JitRequest::grant).collect();
        resolve(&self.catalog, self.assigned.keys(), &grants, self.now)
            .iter()
            .collect()
    }

    fn grant(&mut self, target: JitTarget, minutes: i64) {
        let policy = JitPolicy::default();
        let sod = SodPolicy::builtin();
        let held = self.held();
        let ctx = JitContext {
            catalog: &self.catalog,
            policy: &policy,
            sod: &sod,
        };
        let id = JitRequestId(uuid::Uuid::from_u128(self.requests.len() as u128 + 1));
        let new = NewJitRequest {
            id,
            requester: user(),
            target,
            duration: Duration::minutes(minutes),
            reason: "property test".into(),
        };
        let Ok((mut request, event)) = JitRequest::open(new, &held, &ctx, self.now) else {
            return;
        };
        let approvers = RoleCatalog::builtin().permissions_of(["security-officer"]);
        let mut events = vec![event];
        for n in 0..u128::from(request.approvals_required) {
            events.extend(
                request
                    .approve(approver(n), approvers, &ctx, self.now)
                    .unwrap(),
            );
        }
        for event in events {
            self.record(event);
        }
        self.requests.push(request);
    }

    fn apply(&mut self, op: Op) {
        let sod = SodPolicy::builtin();
        match op {
            Op::Assign(r) => {
                let held = self.held();
                let new = NewAssignment {
                    user: user(),
                    role: ROLES[r],
                    granted_by: None,
                    reason: "property test",
                };
                if let Ok((assignment, event)) =
                    RoleAssignment::grant(new, &held, &self.catalog, &sod, self.now)
                {
                    self.assigned.insert(assignment.role.clone(), assignment);
                    self.record(event);
                }
            }
            Op::Unassign(r) => {
                if let Some(assignment) = self.assigned.remove(ROLES[r]) {
                    let event = assignment.revoke("property test").unwrap();
                    self.record(event);
                }
            }
            Op::GrantRole(r, minutes) => {
                self.grant(JitTarget::Role(RoleName::parse(ROLES[r]).unwrap()), minutes)
            }
            Op::GrantPermission(p, minutes) => {
                self.grant(JitTarget::Permission(Permission::all()[p]), minutes)
            }
            Op::Revoke(k) => {
                let now = self.now;
                if let Some(request) = self.requests.get_mut(k)
                    && let Ok(event) = request.revoke(Some(approver(0)), "property test", now)
                {
                    self.record(event);
                }
            }
            Op::Advance(minutes) => {
                self.now += Duration::minutes(minutes);
                let now = self.now;
                let mut events = Vec::new();
                for request in &mut self.requests {
                    if let Ok(event) = request.expire(now) {
                        events.push(event);
                    }
                }
                for event in events {
                    self.record(event);
                }
            }
            Op::Redefine(perms) => {
                let mut draft = self.catalog.get("ops-custom").unwrap().to_draft();
                draft.permissions = perms.into_iter().map(|p| Permission::all()[p]).collect();
                let (_, event) = self.catalog.update(draft).unwrap();
                self.record(event);
            }
        }
    }
}

/// The oracle: effective permissions rebuilt from nothing but the audit records, starting from
/// the role definitions as they were when the history began.
fn from_history(
    initial: &RoleCatalog,
    history: &[AuditRecord],
    now: OffsetDateTime,
) -> BTreeSet<Permission> {
    let mut definitions: BTreeMap<String, BTreeSet<Permission>> = initial
        .iter()
        .map(|role| (role.name().to_string(), role.permissions().clone()))
        .collect();
    let mut roles = BTreeSet::new();
    // request -> (target, start, end, revoked at)
    let mut grants: BTreeMap<
        JitRequestId,
        (
            JitTarget,
            OffsetDateTime,
            OffsetDateTime,
            Option<OffsetDateTime>,
        ),
    > = BTreeMap::new();
    for record in history.iter().filter(|r| r.at <= now) {
        match &record.event {
            AuditEvent::RoleAssigned { role, .. } => {
                roles.insert(role.to_string());
            }
            AuditEvent::RoleUnassigned { role, .. } => {
                roles.remove(role.as_str());
            }
            AuditEvent::RoleUpdated { role, permissions }
            | AuditEvent::RoleCreated { role, permissions } => {
                definitions.insert(role.to_string(), permissions.iter().copied().collect());
            }
            AuditEvent::RoleDeleted { role } => {
                definitions.remove(role.as_str());
            }
            AuditEvent::JitActivated {
                request,
                target,
                starts_at,
                ends_at,
                ..
            } => {
                grants.insert(*request, (target.clone(), *starts_at, *ends_at, None));
            }
            AuditEvent::JitRevoked { request, .. } => {
                if let Some(grant) = grants.get_mut(request) {
                    grant.3 = Some(record.at);
                }
            }
            AuditEvent::JitExpired { request, .. } => {
                grants.remove(request);
            }
            _ => {}
        }
    }
    let of_role = |name: &str| definitions.get(name).cloned().unwrap_or_default();
    let mut effective: BTreeSet<Permission> = roles.iter().flat_map(|r| of_role(r)).collect();
    for (target, start, end, revoked) in grants.values() {
        let live = *start <= now && now < *end && revoked.is_none_or(|at| now < at);
        if live {
            match target {
                JitTarget::Role(role) => effective.extend(of_role(role.as_str())),
                JitTarget::Permission(permission) => {
                    effective.insert(*permission);
                }
            }
        }
    }
    effective
}

fn initial_catalog() -> RoleCatalog {
    let mut catalog = RoleCatalog::builtin();
    catalog
        .create(RoleDraft {
            name: RoleName::parse("ops-custom").unwrap(),
            description: "A custom role redefined by the test.".into(),
            permissions: [Permission::MetricsRead].into(),
            max_jit_duration: Some(Duration::hours(2)),
            approvals_required: 1,
            sensitive: false,
        })
        .unwrap();
    catalog
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn effective_permissions_equal_the_history(ops in proptest::collection::vec(op(), 1..60)) {
        let initial = initial_catalog();
        let mut live = Live {
            catalog: initial.clone(),
            assigned: BTreeMap::new(),
            requests: Vec::new(),
            now: datetime!(2026-12-04 10:00 UTC),
            history: Vec::new(),
        };
        for op in ops {
            live.apply(op);
            prop_assert_eq!(
                live.effective(),
                from_history(&initial, &live.history, live.now),
                "at {} after {} events", live.now, live.history.len()
            );
            // Looking ahead without further events: grants lapse by themselves.
            let later = live.now + Duration::hours(3);
            let grants: Vec<_> = live.requests.iter().filter_map(JitRequest::grant).collect();
            let ahead: BTreeSet<_> = resolve(&live.catalog, live.assigned.keys(), &grants, later).iter().collect();
            prop_assert_eq!(ahead, from_history(&initial, &live.history, later));
        }
    }
}
