//! Just-in-time requests, approvals and grants, with a controllable clock.

use crate::common::{T0, add_user};
use schild_core::audit::{AuditEvent, AuditRecord};
use schild_core::ids::UserId;
use schild_core::rbac::jit::JitContext;
use schild_core::rbac::{
    JitError, JitPolicy, JitRequest, JitRequestId, JitState, JitTarget, NewJitRequest, Permission,
    RoleCatalog, RoleName, SodPolicy, resolve,
};
use schild_store::access::{self, JitFilter};
use schild_store::testing::TestDb;
use schild_store::{AnyConnection, StoreError, audit, roles};
use time::{Duration, OffsetDateTime};

async fn record(conn: &mut AnyConnection, at: OffsetDateTime, actor: UserId, event: AuditEvent) {
    audit::append(
        conn,
        &AuditRecord {
            at,
            actor: Some(actor),
            source_ip: None,
            event,
        },
    )
    .await
    .unwrap();
}

fn request_id(n: u128) -> JitRequestId {
    JitRequestId(uuid::Uuid::from_u128(n))
}

fn new_request(id: JitRequestId, requester: UserId, role: &str, minutes: i64) -> NewJitRequest {
    NewJitRequest {
        id,
        requester,
        target: JitTarget::Role(RoleName::parse(role).unwrap()),
        duration: Duration::minutes(minutes),
        reason: "INC-42: contain the credential-stuffing wave".into(),
    }
}

async fn a_grant_is_requested_approved_used_and_expires_by_itself(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = add_user(&mut conn, "alice").await;
    let officer = add_user(&mut conn, "officer").await;
    users_set(&mut conn, officer, "security-officer").await;
    let catalog = roles::catalog(&mut conn).await.unwrap();
    let (policy, sod) = (JitPolicy::default(), SodPolicy::builtin());
    let ctx = JitContext {
        catalog: &catalog,
        policy: &policy,
        sod: &sod,
    };
    let held = [RoleName::parse("user").unwrap()].into();

    // Requested.
    let (request, event) = JitRequest::open(
        new_request(request_id(1), alice, "incident-responder", 60),
        &held,
        &ctx,
        T0,
    )
    .unwrap();
    let mut tx = db.store().begin().await.unwrap();
    access::insert(&mut tx, &request).await.unwrap();
    record(&mut tx, T0, alice, event).await;
    tx.commit().await.unwrap();
    let stored = access::by_id(&mut conn, request.id).await.unwrap().unwrap();
    assert_eq!(stored, request);
    let queue = access::list(
        &mut conn,
        &JitFilter {
            pending_only: true,
            ..JitFilter::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(queue, std::slice::from_ref(&request));

    // Self-approval refused: nothing stored changes.
    let mut attempt = stored.clone();
    assert_eq!(
        attempt.approve(alice, catalog.permissions_of(["admin"]), &ctx, T0),
        Err(JitError::SelfApproval)
    );
    assert_eq!(
        access::by_id(&mut conn, request.id).await.unwrap().unwrap(),
        stored
    );

    // Approved by another.
    let t1 = T0 + Duration::minutes(3);
    let officer_perms = catalog.permissions_of(["security-officer"]);
    let mut approved = stored.clone();
    let events = approved.approve(officer, officer_perms, &ctx, t1).unwrap();
    let mut tx = db.store().begin().await.unwrap();
    assert!(access::update(&mut tx, &stored, &approved).await.unwrap());
    for event in events {
        record(&mut tx, t1, officer, event).await;
    }
    tx.commit().await.unwrap();
    let reloaded = access::by_id(&mut conn, request.id).await.unwrap().unwrap();
    assert_eq!(reloaded, approved);
    assert!(matches!(reloaded.state, JitState::Active { .. }));

    // Usable: the grant is in the effective set while its window lasts.
    let effective = |grants: &[_], at| resolve(&catalog, ["user"], grants, at);
    let grants = access::active_grants(&mut conn, alice, t1 + Duration::minutes(30))
        .await
        .unwrap();
    assert_eq!(grants.len(), 1);
    assert!(effective(&grants, t1 + Duration::minutes(30)).has(Permission::IncidentClose));
    assert!(
        access::active_grants(&mut conn, officer, t1)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        access::grants(&mut conn, None, false, t1, 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // Expired by itself at the end of its window, with no write needed ...
    let end = t1 + Duration::hours(1);
    assert!(
        access::active_grants(&mut conn, alice, end)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!effective(&grants, end).has(Permission::IncidentClose));
    assert!(
        access::due_for_expiry(&mut conn, end - Duration::seconds(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // ... and the sweeper records and audits it once.
    let due = access::due_for_expiry(&mut conn, end, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    let mut expired = due[0].clone();
    let event = expired.expire(end).unwrap();
    let mut tx = db.store().begin().await.unwrap();
    assert!(access::update(&mut tx, &due[0], &expired).await.unwrap());
    record(&mut tx, end, officer, event).await;
    tx.commit().await.unwrap();
    assert!(
        access::due_for_expiry(&mut conn, end, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        access::grants(&mut conn, Some(alice), false, end, 10)
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        access::grants(&mut conn, Some(alice), true, end, 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // Audited at each step.
    let kinds: Vec<String> = audit::list(&mut conn, &audit::AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|r| r.record.event.kind().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "access.jit.requested",
            "access.jit.approved",
            "access.jit.activated",
            "access.jit.expired"
        ]
    );
}

async fn users_set(conn: &mut AnyConnection, user: UserId, role: &str) {
    schild_store::users::set_roles(conn, user, &[role.to_owned(), "user".into()], T0)
        .await
        .unwrap();
}

async fn racing_approvals_cannot_both_win(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = add_user(&mut conn, "alice").await;
    let (a1, a2) = (
        add_user(&mut conn, "approver1").await,
        add_user(&mut conn, "approver2").await,
    );
    let catalog = RoleCatalog::builtin();
    let (policy, sod) = (JitPolicy::default(), SodPolicy::builtin());
    let ctx = JitContext {
        catalog: &catalog,
        policy: &policy,
        sod: &sod,
    };
    let perms = catalog.permissions_of(["security-officer"]);
    let store = db.store();

    // One approval needed: two approvers race, exactly one is stored.
    let (request, _) = JitRequest::open(
        new_request(request_id(1), alice, "enrollment-operator", 30),
        &Default::default(),
        &ctx,
        T0,
    )
    .unwrap();
    access::insert(&mut conn, &request).await.unwrap();
    let (mut by1, mut by2) = (request.clone(), request.clone());
    by1.approve(a1, perms, &ctx, T0).unwrap();
    by2.approve(a2, perms, &ctx, T0).unwrap();
    let (mut c1, mut c2) = (
        store.acquire().await.unwrap(),
        store.acquire().await.unwrap(),
    );
    let (r1, r2) = tokio::join!(
        access::update(&mut c1, &request, &by1),
        access::update(&mut c2, &request, &by2)
    );
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert!(r1 ^ r2, "exactly one approval wins: {r1} {r2}");
    let stored = access::by_id(&mut conn, request.id).await.unwrap().unwrap();
    assert_eq!(stored.approvals.len(), 1);
    assert_eq!(stored, if r1 { by1 } else { by2 });
    // The loser reloads and finds it decided.
    let mut again = stored.clone();
    assert_eq!(
        again.approve(a2, perms, &ctx, T0),
        Err(JitError::AlreadyDecided)
    );

    // Two approvals needed: two first approvals race; the loser retries and completes it.
    let (request, _) = JitRequest::open(
        new_request(request_id(2), alice, "admin", 30),
        &Default::default(),
        &ctx,
        T0,
    )
    .unwrap();
    access::insert(&mut conn, &request).await.unwrap();
    let (mut by1, mut by2) = (request.clone(), request.clone());
    by1.approve(a1, perms, &ctx, T0).unwrap();
    by2.approve(a2, perms, &ctx, T0).unwrap();
    assert!(access::update(&mut conn, &request, &by1).await.unwrap());
    assert!(!access::update(&mut conn, &request, &by2).await.unwrap());
    let mut retry = access::by_id(&mut conn, request.id).await.unwrap().unwrap();
    let before = retry.clone();
    assert_eq!(retry.approve(a2, perms, &ctx, T0).unwrap().len(), 2);
    assert!(access::update(&mut conn, &before, &retry).await.unwrap());
    let stored = access::by_id(&mut conn, request.id).await.unwrap().unwrap();
    assert_eq!(
        stored
            .approvals
            .iter()
            .map(|a| a.approver)
            .collect::<Vec<_>>(),
        [a1, a2]
    );
    assert!(matches!(stored.state, JitState::Active { .. }));

    // Deny and revoke round-trip too.
    let mut revoked = stored.clone();
    revoked
        .revoke(Some(a1), "incident closed", T0 + Duration::minutes(5))
        .unwrap();
    assert!(access::update(&mut conn, &stored, &revoked).await.unwrap());
    assert_eq!(
        access::by_id(&mut conn, request.id).await.unwrap().unwrap(),
        revoked
    );
    let active = access::active_grants(&mut conn, alice, T0 + Duration::minutes(6))
        .await
        .unwrap();
    assert_eq!(
        active.iter().map(|g| g.request).collect::<Vec<_>>(),
        [request_id(1)]
    );

    let (request, _) = JitRequest::open(
        new_request(request_id(3), alice, "auditor", 30),
        &Default::default(),
        &ctx,
        T0,
    )
    .unwrap();
    access::insert(&mut conn, &request).await.unwrap();
    let mut denied = request.clone();
    denied.deny(a1, perms, "not on the rota", &ctx, T0).unwrap();
    assert!(access::update(&mut conn, &request, &denied).await.unwrap());
    assert_eq!(
        access::by_id(&mut conn, request.id).await.unwrap().unwrap(),
        denied
    );
    assert!(matches!(
        access::update(&mut conn, &request, &by1).await,
        Err(StoreError::NotFound)
    ));

    let mine = access::list(
        &mut conn,
        &JitFilter {
            requester: Some(alice),
            ..JitFilter::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        mine.iter().map(|r| r.id).collect::<Vec<_>>(),
        [request_id(3), request_id(2), request_id(1)]
    );
    assert!(
        access::list(
            &mut conn,
            &JitFilter {
                requester: Some(a1),
                ..JitFilter::default()
            }
        )
        .await
        .unwrap()
        .is_empty()
    );
}

async fn corrupt_requests_are_reported(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = add_user(&mut conn, "alice").await;
    let catalog = RoleCatalog::builtin();
    let (policy, sod) = (JitPolicy::default(), SodPolicy::builtin());
    let ctx = JitContext {
        catalog: &catalog,
        policy: &policy,
        sod: &sod,
    };
    let (request, _) = JitRequest::open(
        new_request(request_id(1), alice, "auditor", 30),
        &Default::default(),
        &ctx,
        T0,
    )
    .unwrap();
    access::insert(&mut conn, &request).await.unwrap();
    // An "active" request without a grant row.
    sqlx::query("UPDATE jit_requests SET state = 'active' WHERE id = $1")
        .bind(request.id.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(matches!(
        access::by_id(&mut conn, request.id).await,
        Err(StoreError::Corrupt { what }) if what == "jit_requests.starts_at"
    ));
    sqlx::query(
        "UPDATE jit_requests SET state = 'pending', target = 'no such role!' WHERE id = $1",
    )
    .bind(request.id.to_string())
    .execute(&mut *conn)
    .await
    .unwrap();
    assert!(matches!(
        access::by_id(&mut conn, request.id).await,
        Err(StoreError::Corrupt { what }) if what == "jit_requests.target"
    ));
}

schild_store::dual_backend_tests!(
    a_grant_is_requested_approved_used_and_expires_by_itself,
    racing_approvals_cannot_both_win,
    corrupt_requests_are_reported,
);
