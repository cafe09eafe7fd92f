//! Authorisation cost per request: resolving the caller's effective permissions from the roles in
//! their token (plus any just-in-time grants) against the current role catalogue, and checking
//! one permission.
//!
//! Run with `cargo bench -p schild-core --bench rbac`.

use criterion::{Criterion, criterion_group, criterion_main};
use schild_core::ids::UserId;
use schild_core::rbac::{
    JitGrant, JitRequestId, JitTarget, Permission, PermissionSet, RoleCatalog, RoleName, resolve,
};
use std::hint::black_box;
use time::Duration;
use time::macros::datetime;

fn rbac(c: &mut Criterion) {
    let now = datetime!(2026-12-04 10:00 UTC);
    let catalog = RoleCatalog::builtin();
    let token_roles = vec!["user".to_owned(), "incident-responder".to_owned()];
    let grants = vec![
        JitGrant {
            request: JitRequestId(uuid::Uuid::from_u128(1)),
            user: UserId(uuid::Uuid::from_u128(2)),
            target: JitTarget::Role(
                RoleName::parse("enrollment-operator")
                    .unwrap_or_else(|error| panic!("benchmark role name: {error}")),
            ),
            starts_at: now - Duration::minutes(5),
            ends_at: now + Duration::minutes(55),
            revoked_at: None,
        },
        JitGrant {
            request: JitRequestId(uuid::Uuid::from_u128(3)),
            user: UserId(uuid::Uuid::from_u128(2)),
            target: JitTarget::Permission(Permission::AuditExport),
            starts_at: now - Duration::hours(2),
            ends_at: now - Duration::hours(1),
            revoked_at: None,
        },
    ];

    c.bench_function("rbac/check_permission", |b| {
        let set: PermissionSet = catalog.permissions_of(&token_roles);
        b.iter(|| black_box(set).has(black_box(Permission::IncidentAssign)))
    });
    c.bench_function("rbac/resolve_token_roles_and_check", |b| {
        b.iter(|| {
            catalog
                .permissions_of(black_box(&token_roles))
                .has(black_box(Permission::IncidentAssign))
        })
    });
    c.bench_function("rbac/resolve_with_jit_grants_and_check", |b| {
        b.iter(|| {
            resolve(&catalog, black_box(&token_roles), black_box(&grants), now)
                .has(black_box(Permission::KeyEnroll))
        })
    });
}

criterion_group!(benches, rbac);
criterion_main!(benches);
