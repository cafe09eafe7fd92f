//! Access-review campaigns: start, decide, deadline, escalation, auto-revocation, report.

use crate::common::{T0, add_user};
use schild_core::rbac::review::{ItemStatus, NewCampaign, ReviewPolicy, ReviewScope, Verdict};
use schild_core::rbac::{CampaignId, Permission, ReviewCampaign, RoleCatalog};
use schild_store::testing::TestDb;
use schild_store::{StoreError, reviews, roles, usage, users};
use time::Duration;

async fn a_campaign_runs_to_its_deadline_and_revokes_by_policy(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = add_user(&mut conn, "alice").await;
    let bob = add_user(&mut conn, "bob").await;
    let officer = add_user(&mut conn, "officer").await;
    users::set_roles(
        &mut conn,
        alice,
        &["user".into(), "incident-responder".into()],
        T0,
    )
    .await
    .unwrap();
    users::set_roles(
        &mut conn,
        bob,
        &["user".into(), "enrollment-operator".into()],
        T0,
    )
    .await
    .unwrap();
    users::set_roles(&mut conn, officer, &["security-officer".into()], T0)
        .await
        .unwrap();
    // Alice used her incident permissions recently; Bob never enrolled a key.
    let start = T0 + Duration::days(120);
    usage::record_use(
        &mut conn,
        alice,
        Permission::IncidentUpdate,
        start - Duration::days(2),
    )
    .await
    .unwrap();
    usage::record_use(
        &mut conn,
        bob,
        Permission::ProfileRead,
        start - Duration::days(1),
    )
    .await
    .unwrap();

    let catalog = roles::catalog(&mut conn).await.unwrap();
    let snapshots = reviews::snapshot_assignments(&mut conn).await.unwrap();
    assert_eq!(snapshots.len(), 5);
    let (campaign, outcome) = ReviewCampaign::start(
        NewCampaign {
            id: CampaignId(uuid::Uuid::from_u128(1)),
            name: "2027 Q2 operators".into(),
            scope: ReviewScope::Roles(
                ["incident-responder", "enrollment-operator"]
                    .map(|r| r.parse().unwrap())
                    .into(),
            ),
            deadline: start + Duration::days(14),
            policy: ReviewPolicy::default(),
            created_by: Some(officer),
        },
        &snapshots,
        &catalog,
        start,
        &mut schild_core::rand::rng(),
    )
    .unwrap();
    assert_eq!(outcome.events[0].kind(), "rbac.review.started");
    reviews::insert(&mut conn, &campaign).await.unwrap();
    let loaded = reviews::by_id(&mut conn, campaign.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded, campaign);
    let flags: Vec<_> = loaded
        .items
        .iter()
        .map(|i| (i.username.as_str(), i.role.as_str(), i.flagged_unused))
        .collect();
    assert_eq!(
        flags,
        [
            ("alice", "incident-responder", false),
            ("bob", "enrollment-operator", true)
        ]
    );
    assert_eq!(loaded.items[0].last_used, Some(start - Duration::days(2)));

    // Decide one item (the officer keeps Alice's role).
    let officer_perms = catalog.permissions_of(["security-officer"]);
    let before = loaded.clone();
    let mut after = loaded.clone();
    after
        .decide(
            after.items[0].id,
            officer,
            officer_perms,
            Verdict::Certify,
            "",
            start + Duration::days(1),
        )
        .unwrap();
    assert!(reviews::save(&mut conn, &before, &after).await.unwrap());
    // A stale copy cannot decide the same item again.
    let mut stale = before.clone();
    stale
        .decide(
            stale.items[0].id,
            officer,
            officer_perms,
            Verdict::Revoke,
            "changed my mind",
            start,
        )
        .unwrap();
    assert!(!reviews::save(&mut conn, &before, &stale).await.unwrap());
    let loaded = reviews::by_id(&mut conn, campaign.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded, after);
    assert!(
        reviews::due(&mut conn, start + Duration::days(13))
            .await
            .unwrap()
            .is_empty()
    );

    // The deadline passes: Bob's item escalates.
    let deadline = start + Duration::days(14);
    assert_eq!(
        reviews::due(&mut conn, deadline).await.unwrap(),
        [campaign.id]
    );
    let mut ticked = loaded.clone();
    let out = ticked.tick(deadline);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].kind(), "rbac.review.escalated");
    assert!(reviews::save(&mut conn, &loaded, &ticked).await.unwrap());

    // The grace passes: it is revoked automatically and the campaign completes.
    let loaded = reviews::by_id(&mut conn, campaign.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded.items[1].status(), ItemStatus::Escalated);
    let mut ticked = loaded.clone();
    let end = deadline + Duration::days(7);
    let out = ticked.tick(end);
    let kinds: Vec<_> = out.events.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds, ["rbac.review.auto_revoked", "rbac.review.completed"]);
    let mut tx = db.store().begin().await.unwrap();
    assert!(reviews::save(&mut tx, &loaded, &ticked).await.unwrap());
    for revocation in &out.revocations {
        assert!(
            roles::unassign(&mut tx, revocation.user, revocation.role.as_str())
                .await
                .unwrap()
        );
    }
    tx.commit().await.unwrap();
    assert_eq!(
        users::by_id(&mut conn, bob).await.unwrap().unwrap().roles,
        ["user"]
    );
    assert!(reviews::due(&mut conn, end).await.unwrap().is_empty());

    let done = reviews::by_id(&mut conn, campaign.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done, ticked);
    assert_eq!(done.completed_at, Some(end));
    let summary = reviews::list(&mut conn).await.unwrap();
    assert_eq!(summary.len(), 1);
    assert_eq!((summary[0].items, summary[0].resolved), (2, 2));
    assert_eq!(reviews::last_started(&mut conn).await.unwrap(), Some(start));

    // The report, from what was stored.
    let report = done.report();
    let csv = report.to_csv();
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.contains(",alice,incident-responder,false,"));
    assert!(csv.contains(",certified,"));
    assert!(csv.contains(",auto_revoked,"));
    let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    assert_eq!(json["summary"]["auto_revoked"], 1);
    assert_eq!(json["items"][0]["reviewer"], officer.to_string());
}

async fn campaigns_without_items_and_bad_saves(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    assert_eq!(reviews::last_started(&mut conn).await.unwrap(), None);
    let (campaign, _) = ReviewCampaign::start(
        NewCampaign {
            id: CampaignId(uuid::Uuid::from_u128(2)),
            name: "nobody to review".into(),
            scope: ReviewScope::SensitiveRoles,
            deadline: T0 + Duration::days(1),
            policy: ReviewPolicy {
                auto_revoke: false,
                ..ReviewPolicy::default()
            },
            created_by: None,
        },
        &[],
        &RoleCatalog::builtin(),
        T0,
        &mut schild_core::rand::rng(),
    )
    .unwrap();
    reviews::insert(&mut conn, &campaign).await.unwrap();
    assert_eq!(
        reviews::by_id(&mut conn, campaign.id).await.unwrap(),
        Some(campaign.clone())
    );
    assert!(
        reviews::by_id(&mut conn, CampaignId(uuid::Uuid::nil()))
            .await
            .unwrap()
            .is_none()
    );
    let mut other = campaign.clone();
    other.id = CampaignId(uuid::Uuid::nil());
    assert!(matches!(
        reviews::save(&mut conn, &campaign, &other).await,
        Err(StoreError::NotFound)
    ));
    sqlx::query("UPDATE review_campaigns SET scope = 'nope' WHERE id = $1")
        .bind(campaign.id.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(matches!(
        reviews::by_id(&mut conn, campaign.id).await,
        Err(StoreError::Corrupt { what }) if what == "review_campaigns.scope"
    ));
}

schild_store::dual_backend_tests!(
    a_campaign_runs_to_its_deadline_and_revokes_by_policy,
    campaigns_without_items_and_bad_saves,
);
