//! The audit trail.

use crate::common::{T0, new_user_id};
use schild_core::audit::{AuditEvent, AuditRecord, LoginFailure};
use schild_store::StoreError;
use schild_store::audit::{self, AuditFilter};
use schild_store::testing::TestDb;
use time::Duration;

async fn append_then_list_newest_first_with_filters(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = new_user_id();
    let admin = new_user_id();
    let records = [
        AuditRecord {
            at: T0,
            actor: Some(admin),
            source_ip: Some("2001:db8::1".parse().unwrap()),
            event: AuditEvent::UserCreated {
                user: alice,
                username: "alice".into(),
                roles: vec!["user".into()],
            },
        },
        AuditRecord {
            at: T0 + Duration::seconds(1),
            actor: None,
            source_ip: Some("192.0.2.7".parse().unwrap()),
            event: AuditEvent::LoginFailed {
                user: None,
                username: "mallory".into(),
                reason: LoginFailure::UnknownUser,
            },
        },
        AuditRecord {
            at: T0 + Duration::seconds(2),
            actor: Some(alice),
            source_ip: None,
            event: AuditEvent::TotpEnrolled { user: alice },
        },
        AuditRecord {
            at: T0 + Duration::seconds(3),
            actor: None,
            source_ip: None,
            event: AuditEvent::LoginFailed {
                user: Some(alice),
                username: "alice".into(),
                reason: LoginFailure::WrongPassword,
            },
        },
    ];
    let mut ids = Vec::new();
    for record in &records {
        ids.push(audit::append(&mut conn, record).await.unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");

    let all = audit::list(&mut conn, &AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        ids.iter().rev().copied().collect::<Vec<_>>()
    );
    let back: Vec<_> = all.into_iter().rev().map(|r| r.record).collect();
    assert_eq!(back, records, "records round-trip exactly");

    let about_alice = audit::list(
        &mut conn,
        &AuditFilter {
            subject: Some(alice),
            ..AuditFilter::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        about_alice.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ids[3], ids[2], ids[0]]
    );

    let failures = audit::list(
        &mut conn,
        &AuditFilter {
            kind: Some("auth.login.failed".into()),
            ..AuditFilter::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        failures.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ids[3], ids[1]]
    );

    let both = AuditFilter {
        kind: Some("auth.login.failed".into()),
        subject: Some(alice),
        ..AuditFilter::default()
    };
    assert_eq!(audit::list(&mut conn, &both).await.unwrap().len(), 1);

    // Paging: two at a time, continuing below the last id seen.
    let page1 = audit::list(
        &mut conn,
        &AuditFilter {
            limit: 2,
            ..AuditFilter::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        page1.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ids[3], ids[2]]
    );
    let page2 = audit::list(
        &mut conn,
        &AuditFilter {
            limit: 2,
            before_id: Some(page1[1].id),
            ..AuditFilter::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        page2.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ids[1], ids[0]]
    );
    assert!(
        audit::list(
            &mut conn,
            &AuditFilter {
                limit: 0,
                ..AuditFilter::default()
            }
        )
        .await
        .unwrap()
        .is_empty()
    );
}

async fn the_trail_is_append_only(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let user = new_user_id();
    let id = audit::append(
        &mut conn,
        &AuditRecord {
            at: T0,
            actor: None,
            source_ip: None,
            event: AuditEvent::TotpEnrolled { user },
        },
    )
    .await
    .unwrap();
    let update = sqlx::query("UPDATE audit_events SET kind = 'nothing.happened' WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await;
    assert!(update.is_err(), "UPDATE must be refused");
    let delete = sqlx::query("DELETE FROM audit_events")
        .execute(&mut *conn)
        .await;
    assert!(delete.is_err(), "DELETE must be refused");
    assert_eq!(
        audit::list(&mut conn, &AuditFilter::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn foreign_rows_are_corrupt(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    sqlx::query(
        "INSERT INTO audit_events (at, kind, data) VALUES (0, 'x.y', '{\"kind\":\"x.y\"}')",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    assert!(matches!(
        audit::list(&mut conn, &AuditFilter::default()).await,
        Err(StoreError::Corrupt { what }) if what == "audit_events.data"
    ));
}

async fn a_kind_column_that_disagrees_with_the_document_is_corrupt(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let user = new_user_id();
    let data = serde_json::to_string(&AuditEvent::TotpEnrolled { user }).unwrap();
    sqlx::query("INSERT INTO audit_events (at, kind, data) VALUES (0, 'mfa.totp.disabled', $1)")
        .bind(data)
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(matches!(
        audit::list(&mut conn, &AuditFilter::default()).await,
        Err(StoreError::Corrupt { what }) if what == "audit_events.kind"
    ));
}

schild_store::dual_backend_tests!(
    append_then_list_newest_first_with_filters,
    the_trail_is_append_only,
    foreign_rows_are_corrupt,
    a_kind_column_that_disagrees_with_the_document_is_corrupt,
);
