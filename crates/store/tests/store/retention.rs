//! Retention: policies, legal holds, the scheduled-run claim, and the purge queries — checked
//! record by record against the core's plan, on a varied data set — and the audit trail's purge
//! floor, which lets a purge delete old events while every other DELETE is still refused.

use crate::api_keys::key_for;
use crate::common::{T0, add_user, h};
use schild_core::audit::{AuditEvent, AuditRecord};
use schild_core::ids::{SessionId, UserId};
use schild_core::retention::{
    DataClass, LegalHold, NewHold, RetentionPlan, RetentionPolicies, plan,
};
use schild_store::audit::{self, AuditFilter};
use schild_store::retention::{self, purge};
use schild_store::sessions::{self, NewSession, RevokeReason};
use schild_store::testing::TestDb;
use schild_store::{AnyConnection, api_keys};
use std::collections::BTreeSet;
use time::{Duration, OffsetDateTime};

async fn policies_default_and_change(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    assert_eq!(
        retention::policies(&mut conn).await.unwrap(),
        RetentionPolicies::default()
    );
    let mut expected = RetentionPolicies::default();
    expected.set(DataClass::Sessions, 7).unwrap();
    let period = expected.period(DataClass::Sessions);
    retention::set_policy(&mut conn, DataClass::Sessions, period, None, T0)
        .await
        .unwrap();
    assert_eq!(retention::policies(&mut conn).await.unwrap(), expected);
    expected.set(DataClass::Sessions, 14).unwrap();
    let period = expected.period(DataClass::Sessions);
    retention::set_policy(&mut conn, DataClass::Sessions, period, None, T0)
        .await
        .unwrap();
    assert_eq!(retention::policies(&mut conn).await.unwrap(), expected);

    // A period the core would refuse, written behind the store's back, is corrupt, not obeyed.
    sqlx::query("UPDATE retention_policies SET keep_days = 1 WHERE class = 'sessions'")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO retention_policies (class, keep_days, updated_at) VALUES ('audit_events', 5, 0)",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    assert!(matches!(
        retention::policies(&mut conn).await,
        Err(schild_store::StoreError::Corrupt { what }) if what == "retention_policies.keep_days"
    ));
}

fn new_hold(class: DataClass, subject: Option<UserId>, at: OffsetDateTime) -> LegalHold {
    LegalHold::place(
        NewHold {
            class,
            subject,
            reason: "matter 2026-17",
            placed_by: None,
        },
        at,
        &mut schild_core::rand::rng(),
    )
    .unwrap()
    .0
}

async fn holds_are_released_once_and_never_deleted(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = add_user(&mut conn, "alice").await;
    let first = new_hold(DataClass::AuditEvents, Some(alice), T0);
    let second = new_hold(DataClass::Sessions, None, T0 + Duration::seconds(1));
    retention::insert_hold(&mut conn, &first).await.unwrap();
    retention::insert_hold(&mut conn, &second).await.unwrap();
    assert_eq!(
        retention::hold(&mut conn, first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        retention::holds(&mut conn, false).await.unwrap(),
        [second.clone(), first.clone()]
    );

    let (released, _) = first
        .release(None, "matter closed", T0 + Duration::days(1))
        .unwrap();
    assert!(retention::release_hold(&mut conn, &released).await.unwrap());
    let (again, _) = first
        .release(None, "closed twice", T0 + Duration::days(2))
        .unwrap();
    assert!(
        !retention::release_hold(&mut conn, &again).await.unwrap(),
        "the first release stands"
    );
    assert_eq!(
        retention::hold(&mut conn, first.id).await.unwrap(),
        Some(released.clone())
    );
    assert_eq!(
        retention::holds(&mut conn, false).await.unwrap(),
        std::slice::from_ref(&second)
    );
    assert_eq!(
        retention::holds(&mut conn, true).await.unwrap(),
        [second.clone(), released]
    );

    // The triggers: no un-releasing, no deleting, whatever the statement.
    for sql in [
        "UPDATE legal_holds SET released_at = NULL",
        "DELETE FROM legal_holds",
    ] {
        assert!(
            sqlx::query(sql).execute(&mut *conn).await.is_err(),
            "{sql} must be refused"
        );
    }
    assert_eq!(retention::holds(&mut conn, true).await.unwrap().len(), 2);
}

async fn one_instance_claims_each_scheduled_run(db: &TestDb) {
    let store = db.store();
    let interval = Duration::days(1);
    let mut a = store.acquire().await.unwrap();
    let mut b = store.acquire().await.unwrap();
    let claim = retention::claim_scheduled_run(&mut a, T0, interval)
        .await
        .unwrap();
    assert!(claim.is_some(), "the first run is due");
    assert!(
        retention::claim_scheduled_run(&mut b, T0, interval)
            .await
            .unwrap()
            .is_none(),
        "a second instance at the same moment gets nothing"
    );
    assert!(
        retention::claim_scheduled_run(&mut b, T0 + Duration::hours(23), interval)
            .await
            .unwrap()
            .is_none()
    );
    // A failed run gives its claim back, so the next sweep retries.
    retention::release_scheduled_run(&mut a, claim.unwrap())
        .await
        .unwrap();
    let retry = retention::claim_scheduled_run(&mut b, T0 + Duration::minutes(1), interval)
        .await
        .unwrap();
    assert!(retry.is_some());
    // Giving back a stale claim changes nothing once another run has claimed since.
    retention::release_scheduled_run(&mut a, claim.unwrap())
        .await
        .unwrap();
    assert!(
        retention::claim_scheduled_run(&mut a, T0 + Duration::hours(2), interval)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        retention::claim_scheduled_run(&mut a, T0 + Duration::minutes(1) + interval, interval)
            .await
            .unwrap()
            .is_some()
    );
}

/// What is stored, by id, with its end and subject: sessions, API keys and audit events.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Snapshot {
    sessions: BTreeSet<String>,
    keys: BTreeSet<String>,
    events: BTreeSet<String>,
}

async fn snapshot(conn: &mut AnyConnection, users: &[UserId]) -> Snapshot {
    let mut snap = Snapshot::default();
    for &user in users {
        for session in sessions::list_for_user(conn, user, true, T0).await.unwrap() {
            snap.sessions.insert(session.id.to_string());
        }
    }
    for key in api_keys::list(conn, None, 1000).await.unwrap() {
        snap.keys.insert(key.prefix.to_string());
    }
    let filter = AuditFilter {
        limit: 1000,
        ..AuditFilter::default()
    };
    for record in audit::list(conn, &filter).await.unwrap() {
        snap.events.insert(record.id.to_string());
    }
    snap
}

/// A varied data set: four accounts; sessions, keys and events ending from now back to years
/// ago, some revoked early; holds on some accounts and a released one.
/// Returns the accounts, the plan at `T0`, what the plan says must go, and what would go were
/// there no holds.
async fn seed(conn: &mut AnyConnection) -> (Vec<UserId>, RetentionPlan, Snapshot, Snapshot) {
    let mut users = Vec::new();
    for name in ["u-zero", "u-one", "u-two", "u-three"] {
        users.push(add_user(conn, name).await);
    }
    let holds = [
        new_hold(DataClass::Sessions, Some(users[1]), T0),
        new_hold(DataClass::ApiKeys, Some(users[2]), T0),
        new_hold(DataClass::AuditEvents, Some(users[3]), T0),
        new_hold(DataClass::AuditEvents, None, T0)
            .release(None, "closed", T0)
            .unwrap()
            .0,
    ];
    for hold in &holds {
        retention::insert_hold(conn, hold).await.unwrap();
        if let Some(release) = &hold.release {
            let open = LegalHold {
                release: None,
                ..hold.clone()
            };
            let (released, _) = open
                .release(None, release.reason.as_str(), release.at)
                .unwrap();
            assert!(retention::release_hold(conn, &released).await.unwrap());
        }
    }
    let plan_without_holds = plan(&RetentionPolicies::default(), &[], T0);
    let plan = plan(&RetentionPolicies::default(), &holds, T0);
    let mut expired = Snapshot::default();
    let mut unheld = Snapshot::default();

    for i in 0..24u8 {
        let user = users[usize::from(i % 4)];
        let created = T0 - Duration::days(i64::from(i) * 5);
        let session = NewSession {
            id: SessionId(uuid::Uuid::new_v4()),
            user_id: user,
            created_at: created,
            expires_at: created + Duration::days(7),
            ip: None,
            user_agent: None,
            method: schild_core::audit::LoginMethod::Password,
        };
        sessions::create(conn, &session, &h(i)).await.unwrap();
        let mut ended = session.expires_at;
        if i % 3 == 0 {
            let at = created + Duration::hours(1);
            sessions::revoke(conn, session.id, RevokeReason::Logout, at)
                .await
                .unwrap();
            ended = at;
        }
        if plan
            .class(DataClass::Sessions)
            .is_expired(ended, Some(user))
        {
            expired.sessions.insert(session.id.to_string());
        }
        if plan_without_holds
            .class(DataClass::Sessions)
            .is_expired(ended, Some(user))
        {
            unheld.sessions.insert(session.id.to_string());
        }
    }

    for i in 0..12u8 {
        let owner = users[usize::from(i % 4)];
        let (key, _) = key_for(owner, "seeded", T0 - Duration::days(i64::from(i) * 20));
        api_keys::insert(conn, &key).await.unwrap();
        let mut ended = key.expires_at;
        if i % 2 == 1 {
            let (revoked, _) = key
                .revoke(None, "rotated", key.created_at + Duration::days(1))
                .unwrap();
            assert!(api_keys::revoke(conn, &revoked).await.unwrap());
            ended = revoked.ended_at();
        }
        if plan
            .class(DataClass::ApiKeys)
            .is_expired(ended, Some(owner))
        {
            expired.keys.insert(key.prefix.to_string());
        }
        if plan_without_holds
            .class(DataClass::ApiKeys)
            .is_expired(ended, Some(owner))
        {
            unheld.keys.insert(key.prefix.to_string());
        }
    }

    for i in 0..30u8 {
        let at = T0 - Duration::days(i64::from(i) * 20);
        let event = if i % 5 == 0 {
            AuditEvent::SigningKeyRotated {
                kid: format!("k{i}"),
            }
        } else {
            AuditEvent::TotpEnrolled {
                user: users[usize::from(i % 4)],
            }
        };
        let subject = event.subject();
        let record = AuditRecord {
            at,
            actor: None,
            source_ip: None,
            event,
        };
        let id = audit::append(conn, &record).await.unwrap();
        if plan.class(DataClass::AuditEvents).is_expired(at, subject) {
            expired.events.insert(id.to_string());
        }
        if plan_without_holds
            .class(DataClass::AuditEvents)
            .is_expired(at, subject)
        {
            unheld.events.insert(id.to_string());
        }
    }
    (users, plan, expired, unheld)
}

async fn the_purge_removes_exactly_what_the_plan_says(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let (users, plan, expired, unheld) = seed(&mut conn).await;
    // The data set exercises every branch: something goes and something stays in each class,
    // and in each the holds keep records that would otherwise go.
    assert!(!expired.sessions.is_empty() && !expired.keys.is_empty() && !expired.events.is_empty());
    assert!(expired.sessions.is_subset(&unheld.sessions) && expired.sessions != unheld.sessions);
    assert!(expired.keys.is_subset(&unheld.keys) && expired.keys != unheld.keys);
    assert!(expired.events.is_subset(&unheld.events) && expired.events != unheld.events);
    let before = snapshot(&mut conn, &users).await;
    assert!(expired.sessions.len() < before.sessions.len());
    assert!(expired.keys.len() < before.keys.len());
    assert!(expired.events.len() < before.events.len());

    // The dry-run queries count exactly the expired records, and change nothing.
    let sessions_cut = plan.class(DataClass::Sessions).cutoff;
    let keys_cut = plan.class(DataClass::ApiKeys).cutoff;
    let audit_cut = plan.class(DataClass::AuditEvents).cutoff;
    let found = purge::expired_sessions(&mut conn, sessions_cut)
        .await
        .unwrap();
    assert_eq!(found.count, expired.sessions.len() as u64);
    assert!(expired.sessions.contains(&found.oldest.unwrap().id));
    let found = purge::expired_api_keys(&mut conn, keys_cut).await.unwrap();
    assert_eq!(found.count, expired.keys.len() as u64);
    let oldest = found.oldest.unwrap();
    assert!(expired.keys.contains(&oldest.id));
    assert!(oldest.ended_at < keys_cut);
    let found = purge::expired_audit_events(&mut conn, audit_cut)
        .await
        .unwrap();
    assert_eq!(found.count, expired.events.len() as u64);
    // Events were seeded newest first, so the oldest expired one has the highest id.
    let oldest_event = expired
        .events
        .iter()
        .max_by_key(|id| id.parse::<i64>().unwrap());
    assert_eq!(found.oldest.map(|oldest| oldest.id).as_ref(), oldest_event);
    assert_eq!(snapshot(&mut conn, &users).await, before);
    drop(conn);

    // The purge, one transaction per class.
    let mut tx = db.store().begin().await.unwrap();
    assert_eq!(
        purge::purge_sessions(&mut tx, sessions_cut).await.unwrap(),
        expired.sessions.len() as u64
    );
    tx.commit().await.unwrap();
    let mut tx = db.store().begin().await.unwrap();
    assert_eq!(
        purge::purge_api_keys(&mut tx, keys_cut).await.unwrap(),
        expired.keys.len() as u64
    );
    tx.commit().await.unwrap();
    let mut tx = db.store().begin().await.unwrap();
    let audit_purge = purge::purge_audit_events(&mut tx, audit_cut, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(audit_purge.purged, expired.events.len() as u64);

    let mut conn = db.store().acquire().await.unwrap();
    let after = snapshot(&mut conn, &users).await;
    let left = |all: &BTreeSet<String>, gone: &BTreeSet<String>| -> BTreeSet<String> {
        all.difference(gone).cloned().collect()
    };
    assert_eq!(after.sessions, left(&before.sessions, &expired.sessions));
    assert_eq!(after.keys, left(&before.keys, &expired.keys));
    assert_eq!(after.events, left(&before.events, &expired.events));
    // Refresh tokens went with their sessions.
    for i in 0..24u8 {
        if let Some((_, session)) = sessions::find_refresh(&mut conn, &h(i)).await.unwrap() {
            assert!(after.sessions.contains(&session.id.to_string()));
        }
    }

    // The floor names the newest purged event; purging again at the same moment finds nothing.
    let floor = purge::audit_floor(&mut conn).await.unwrap();
    let newest_gone = expired
        .events
        .iter()
        .map(|id| id.parse::<i64>().unwrap())
        .max()
        .unwrap();
    assert_eq!(audit_purge.floor, Some(floor.max_id));
    assert!(floor.max_id >= newest_gone);
    assert_eq!(floor.before_at, audit_cut);
    assert_eq!(floor.raised_at, Some(T0));
    drop(conn);
    let mut tx = db.store().begin().await.unwrap();
    assert_eq!(
        purge::purge_sessions(&mut tx, sessions_cut).await.unwrap(),
        0
    );
    assert_eq!(purge::purge_api_keys(&mut tx, keys_cut).await.unwrap(), 0);
    assert_eq!(
        purge::purge_audit_events(&mut tx, audit_cut, T0)
            .await
            .unwrap(),
        purge::AuditPurge {
            purged: 0,
            floor: None
        }
    );
    tx.commit().await.unwrap();
}

async fn the_audit_trail_refuses_every_delete_but_the_purge(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = add_user(&mut conn, "alice").await;
    let bob = add_user(&mut conn, "bob").await;
    let mut ids = Vec::new();
    for (days_ago, user) in [(800, alice), (700, bob), (600, bob), (10, bob)] {
        let record = AuditRecord {
            at: T0 - Duration::days(days_ago),
            actor: None,
            source_ip: None,
            event: AuditEvent::TotpEnrolled { user },
        };
        ids.push(audit::append(&mut conn, &record).await.unwrap());
    }
    let hold = new_hold(DataClass::AuditEvents, Some(alice), T0);
    retention::insert_hold(&mut conn, &hold).await.unwrap();
    let delete = |id: i64| sqlx::query("DELETE FROM audit_events WHERE id = $1").bind(id);

    // Before any purge: nothing may be deleted, however old.
    for &id in &ids {
        assert!(delete(id).execute(&mut *conn).await.is_err(), "event {id}");
    }
    drop(conn);

    let cutoff = T0 - Duration::days(365);
    let mut tx = db.store().begin().await.unwrap();
    let purged = purge::purge_audit_events(&mut tx, cutoff, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(purged.purged, 2, "bob's two old events; alice's is held");
    assert_eq!(purged.floor, Some(ids[2]));

    let mut conn = db.store().acquire().await.unwrap();
    // Above the floor, and a held event below it: still refused.
    assert!(
        delete(ids[3]).execute(&mut *conn).await.is_err(),
        "recent event"
    );
    assert!(
        delete(ids[0]).execute(&mut *conn).await.is_err(),
        "held event"
    );
    assert!(
        sqlx::query("DELETE FROM audit_events")
            .execute(&mut *conn)
            .await
            .is_err(),
        "a blanket DELETE"
    );
    // The floor only rises and cannot be removed.
    for sql in [
        "UPDATE audit_purge_floor SET max_id = 0",
        "UPDATE audit_purge_floor SET before_at = 0",
        "DELETE FROM audit_purge_floor",
    ] {
        assert!(sqlx::query(sql).execute(&mut *conn).await.is_err(), "{sql}");
    }
    let left: Vec<i64> = audit::list(&mut conn, &AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|record| record.id)
        .collect();
    assert_eq!(left, [ids[3], ids[0]]);

    // Once the hold is released, the next purge may take alice's event too.
    let (released, _) = hold.release(None, "closed", T0).unwrap();
    assert!(retention::release_hold(&mut conn, &released).await.unwrap());
    drop(conn);
    let mut tx = db.store().begin().await.unwrap();
    let purged = purge::purge_audit_events(&mut tx, cutoff, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(purged.purged, 1);
}

schild_store::dual_backend_tests!(
    policies_default_and_change,
    holds_are_released_once_and_never_deleted,
    one_instance_claims_each_scheduled_run,
    the_purge_removes_exactly_what_the_plan_says,
    the_audit_trail_refuses_every_delete_but_the_purge,
);
