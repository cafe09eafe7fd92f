//! Roles, assignments and permission use.

use crate::common::{T0, add_user, new_user_id};
use schild_core::rbac::role::RoleDraft;
use schild_core::rbac::{
    NewAssignment, Permission, RoleAssignment, RoleCatalog, RoleDefinition, RoleName, SodPolicy,
};
use schild_store::testing::TestDb;
use schild_store::{StoreError, roles, usage, users};
use std::collections::BTreeSet;
use time::Duration;

fn custom(name: &str) -> RoleDefinition {
    RoleDefinition::custom(RoleDraft {
        name: RoleName::parse(name).unwrap(),
        description: "Keeps the spare hardware keys, with a \"quote\" and a , comma.".into(),
        permissions: [Permission::KeyRead, Permission::KeyRevoke].into(),
        max_jit_duration: Some(Duration::minutes(90)),
        approvals_required: 2,
        sensitive: true,
    })
    .unwrap()
}

async fn updated_at(conn: &mut schild_store::AnyConnection) -> i64 {
    let row = sqlx::query("SELECT MAX(updated_at) AS t FROM roles")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    sqlx::Row::try_get::<i64, _>(&row, "t").unwrap()
}

async fn builtin_roles_are_seeded_from_core_idempotently(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    assert_eq!(
        roles::catalog(&mut conn).await.unwrap(),
        RoleCatalog::builtin()
    );
    let before = updated_at(&mut conn).await;
    // Seeding again (a restart) changes nothing, not even the timestamps.
    roles::seed_builtin(&mut conn, T0 + Duration::days(400))
        .await
        .unwrap();
    assert_eq!(updated_at(&mut conn).await, before);

    // A definition tampered with in SQL is repaired at the next start, and never believed.
    sqlx::query("UPDATE roles SET permissions = '[\"user:create\"]' WHERE name = 'user'")
        .execute(&mut *conn)
        .await
        .unwrap();
    let user = roles::by_name(&mut conn, "user").await.unwrap().unwrap();
    assert!(!user.permission_set().has(Permission::UserCreate));
    roles::seed_builtin(&mut conn, T0).await.unwrap();
    let row = sqlx::query("SELECT permissions FROM roles WHERE name = 'user'")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let stored: String = sqlx::Row::try_get(&row, "permissions").unwrap();
    assert!(!stored.contains("user:create"), "{stored}");
    assert!(roles::by_name(&mut conn, "nobody").await.unwrap().is_none());
}

async fn custom_roles_round_trip_and_builtins_are_protected(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let role = custom("key-custodian");
    roles::insert(&mut conn, &role, T0).await.unwrap();
    assert_eq!(
        roles::by_name(&mut conn, "key-custodian").await.unwrap(),
        Some(role.clone())
    );
    assert!(matches!(
        roles::insert(&mut conn, &role, T0).await,
        Err(StoreError::RoleNameTaken)
    ));
    let catalog = roles::catalog(&mut conn).await.unwrap();
    assert_eq!(catalog.len(), 7);
    assert!(
        catalog
            .permissions_of(["key-custodian"])
            .has(Permission::KeyRevoke)
    );

    let mut draft = role.to_draft();
    draft.permissions = [Permission::KeyRead].into();
    draft.max_jit_duration = None;
    let changed = role.update(draft).unwrap();
    roles::update(&mut conn, &changed, T0).await.unwrap();
    assert_eq!(
        roles::by_name(&mut conn, "key-custodian").await.unwrap(),
        Some(changed)
    );

    // Built-in rows are neither updated nor deleted through these functions.
    let admin = RoleDefinition::builtin("admin").unwrap();
    assert!(matches!(
        roles::update(&mut conn, &admin, T0).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        roles::delete(&mut conn, "admin").await,
        Err(StoreError::NotFound)
    ));

    // A role in use cannot be deleted; once unassigned it can.
    let alice = add_user(&mut conn, "alice").await;
    let (assignment, _) = RoleAssignment::grant(
        NewAssignment {
            user: alice,
            role: "key-custodian",
            granted_by: None,
            reason: "keeps the safe",
        },
        &BTreeSet::new(),
        &roles::catalog(&mut conn).await.unwrap(),
        &SodPolicy::builtin(),
        T0,
    )
    .unwrap();
    roles::assign(&mut conn, &assignment).await.unwrap();
    assert!(matches!(
        roles::delete(&mut conn, "key-custodian").await,
        Err(StoreError::RoleInUse)
    ));
    assert!(
        roles::unassign(&mut conn, alice, "key-custodian")
            .await
            .unwrap()
    );
    roles::delete(&mut conn, "key-custodian").await.unwrap();
    assert!(matches!(
        roles::delete(&mut conn, "key-custodian").await,
        Err(StoreError::NotFound)
    ));
}

async fn assignments_record_who_when_why_and_feed_user_rows(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = add_user(&mut conn, "alice").await; // holds `user`
    let admin = add_user(&mut conn, "admin").await;
    let catalog = roles::catalog(&mut conn).await.unwrap();
    let (assignment, event) = RoleAssignment::grant(
        NewAssignment {
            user: alice,
            role: "incident-responder",
            granted_by: Some(admin),
            reason: "joins the on-call rota",
        },
        &[RoleName::parse("user").unwrap()].into(),
        &catalog,
        &SodPolicy::builtin(),
        T0 + Duration::hours(1),
    )
    .unwrap();
    assert_eq!(event.kind(), "rbac.role.assigned");
    roles::assign(&mut conn, &assignment).await.unwrap();

    let held = roles::assignments_for(&mut conn, alice).await.unwrap();
    assert_eq!(held.len(), 2);
    assert_eq!(held[0], assignment);
    assert_eq!(held[1].role.as_str(), "user");
    assert_eq!(held[1].granted_by, None);
    assert_eq!(
        users::by_id(&mut conn, alice).await.unwrap().unwrap().roles,
        ["incident-responder", "user"]
    );
    let listed = users::list(&mut conn).await.unwrap();
    assert_eq!(listed[1].roles, ["incident-responder", "user"]);
    assert_eq!(listed[0].roles, ["user"]);
    assert_eq!(
        roles::holders(&mut conn, "incident-responder")
            .await
            .unwrap(),
        std::slice::from_ref(&assignment)
    );
    assert_eq!(roles::all_assignments(&mut conn).await.unwrap().len(), 3);

    // Twice, an unknown role, an unknown account: clear errors, nothing changed.
    assert!(matches!(
        roles::assign(&mut conn, &assignment).await,
        Err(StoreError::AlreadyAssigned)
    ));
    let mut ghost_role = assignment.clone();
    ghost_role.role = RoleName::parse("ghost").unwrap();
    assert!(matches!(
        roles::assign(&mut conn, &ghost_role).await,
        Err(StoreError::UnknownRole)
    ));
    let mut ghost_user = assignment.clone();
    ghost_user.user = new_user_id();
    assert!(matches!(
        roles::assign(&mut conn, &ghost_user).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(roles::all_assignments(&mut conn).await.unwrap().len(), 3);
    assert!(matches!(
        users::set_roles(&mut conn, alice, &["root".into()], T0).await,
        Err(StoreError::UnknownRole)
    ));
    assert_eq!(
        roles::assignments_for(&mut conn, alice)
            .await
            .unwrap()
            .len(),
        2
    );

    // Racing removals: exactly one wins.
    let store = db.store();
    let (mut a, mut b) = (
        store.acquire().await.unwrap(),
        store.acquire().await.unwrap(),
    );
    let (ra, rb) = tokio::join!(
        roles::unassign(&mut a, alice, "incident-responder"),
        roles::unassign(&mut b, alice, "incident-responder")
    );
    assert_eq!(
        [ra.unwrap(), rb.unwrap()]
            .iter()
            .filter(|won| **won)
            .count(),
        1
    );

    // set_roles keeps the history of assignments it keeps.
    users::set_roles(
        &mut conn,
        alice,
        &["user".into(), "auditor".into()],
        T0 + Duration::days(1),
    )
    .await
    .unwrap();
    let held = roles::assignments_for(&mut conn, alice).await.unwrap();
    assert_eq!(
        held.iter()
            .map(|a| (a.role.as_str(), a.granted_at))
            .collect::<Vec<_>>(),
        [("auditor", T0 + Duration::days(1)), ("user", T0)]
    );
}

async fn permission_use_only_moves_forward(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = add_user(&mut conn, "alice").await;
    let bob = add_user(&mut conn, "bob").await;
    usage::record_use(&mut conn, alice, Permission::AuditRead, T0)
        .await
        .unwrap();
    usage::record_use(
        &mut conn,
        alice,
        Permission::AuditRead,
        T0 - Duration::days(1),
    )
    .await
    .unwrap();
    usage::record_use(
        &mut conn,
        alice,
        Permission::UserRead,
        T0 + Duration::hours(1),
    )
    .await
    .unwrap();
    usage::record_use(
        &mut conn,
        bob,
        Permission::AuditRead,
        T0 + Duration::hours(2),
    )
    .await
    .unwrap();
    let last = usage::last_used(&mut conn, alice).await.unwrap();
    assert_eq!(
        last.into_iter().collect::<Vec<_>>(),
        [
            (Permission::UserRead, T0 + Duration::hours(1)),
            (Permission::AuditRead, T0),
        ]
    );
    let all = usage::all(&mut conn).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[&bob][&Permission::AuditRead], T0 + Duration::hours(2));

    sqlx::query("UPDATE permission_last_used SET permission = 'root:all' WHERE user_id = $1")
        .bind(bob.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(matches!(
        usage::last_used(&mut conn, bob).await,
        Err(StoreError::Corrupt { what }) if what == "permission_last_used.permission"
    ));
}

async fn corrupt_role_rows_are_reported(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    roles::insert(&mut conn, &custom("key-custodian"), T0)
        .await
        .unwrap();
    sqlx::query("UPDATE roles SET permissions = '[\"root:all\"]' WHERE name = 'key-custodian'")
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(matches!(
        roles::catalog(&mut conn).await,
        Err(StoreError::Corrupt { what }) if what == "roles.permissions"
    ));
    sqlx::query(
        "UPDATE roles SET permissions = '[]', approvals_required = 2, max_jit_ms = 0 \
         WHERE name = 'key-custodian'",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    assert!(matches!(
        roles::by_name(&mut conn, "key-custodian").await,
        Err(StoreError::Corrupt { what }) if what == "roles.definition"
    ));
}

schild_store::dual_backend_tests!(
    builtin_roles_are_seeded_from_core_idempotently,
    custom_roles_round_trip_and_builtins_are_protected,
    assignments_record_who_when_why_and_feed_user_rows,
    permission_use_only_moves_forward,
    corrupt_role_rows_are_reported,
);
