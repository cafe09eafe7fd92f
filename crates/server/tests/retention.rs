//! Retention end to end over real HTTP, on SQLite and on PostgreSQL, with the clock the test
//! moves: the purge removes exactly the records that outlived their period and no legal hold
//! keeps — checked record by record against the core's plan — a dry run reports what would go
//! and changes nothing, the sweeper purges once a day however many instances ask, and policies
//! and holds refuse bad input without changing anything.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[macro_use]
mod common;

use common::{ADMIN_PASSWORD, TestServer, USER_PASSWORD};
use reqwest::StatusCode;
use schild_core::ids::UserId;
use schild_core::rbac::review::ReviewSchedule;
use schild_core::retention::{DataClass, RetentionPlan, plan};
use schild_server::access::sweep;
use schild_store::audit::{self, AuditFilter};
use schild_store::testing::TestDb;
use schild_store::{api_keys, retention, sessions};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use time::{Duration, OffsetDateTime};

on_both_databases!(
    the_purge_removes_exactly_the_expired_unheld_records,
    policies_and_holds_refuse_bad_input_and_change_nothing,
    the_sweeper_purges_once_a_day,
);

/// Every record of the three purged classes, by id, with when it ended and whom it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Records {
    sessions: BTreeMap<String, (OffsetDateTime, Option<UserId>)>,
    keys: BTreeMap<String, (OffsetDateTime, Option<UserId>)>,
    events: BTreeMap<i64, (OffsetDateTime, Option<UserId>)>,
}

async fn records(server: &TestServer, users: &[UserId]) -> Records {
    let now = server.state.now();
    let mut conn = server.state.store().acquire().await.unwrap();
    let mut sessions_seen = BTreeMap::new();
    for &user in users {
        for s in sessions::list_for_user(&mut conn, user, true, now)
            .await
            .unwrap()
        {
            let ended = s.revoked_at.map_or(s.expires_at, |r| r.min(s.expires_at));
            sessions_seen.insert(s.id.to_string(), (ended, Some(s.user_id)));
        }
    }
    let keys = api_keys::list(&mut conn, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|key| (key.prefix.to_string(), (key.ended_at(), Some(key.owner))))
        .collect();
    let filter = AuditFilter {
        limit: 10_000,
        ..AuditFilter::default()
    };
    let events = audit::list(&mut conn, &filter)
        .await
        .unwrap()
        .into_iter()
        .map(|stored| {
            let subject = stored.record.event.subject();
            (stored.id, (stored.record.at, subject))
        })
        .collect();
    Records {
        sessions: sessions_seen,
        keys,
        events,
    }
}

/// The plan at the server's now, from the stored policies and holds.
async fn current_plan(server: &TestServer) -> RetentionPlan {
    let mut conn = server.state.store().acquire().await.unwrap();
    let policies = retention::policies(&mut conn).await.unwrap();
    let holds = retention::holds(&mut conn, false).await.unwrap();
    plan(&policies, &holds, server.state.now())
}

/// What the plan says must go, per class.
fn expected_gone<K: Ord + Clone>(
    records: &BTreeMap<K, (OffsetDateTime, Option<UserId>)>,
    plan: &RetentionPlan,
    class: DataClass,
) -> BTreeSet<K> {
    records
        .iter()
        .filter(|(_, (ended, subject))| plan.class(class).is_expired(*ended, *subject))
        .map(|(id, _)| id.clone())
        .collect()
}

fn without<K: Ord + Clone, V: Clone>(all: &BTreeMap<K, V>, gone: &BTreeSet<K>) -> BTreeSet<K> {
    all.keys()
        .filter(|id| !gone.contains(id))
        .cloned()
        .collect()
}

async fn purge(server: &TestServer, token: &str, dry_run: bool) -> Value {
    let (status, report) = server
        .post(
            "/api/v1/retention/purge",
            Some(token),
            json!({"dry_run": dry_run}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

fn class<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line["class"] == name)
        .unwrap()
}

/// Runs a dry run and then the purge at the server's now, and checks both against the plan:
/// the dry run counts exactly what the plan says must go and changes nothing; the purge deletes
/// exactly that and records one run event. Returns the purge's report and what went.
async fn dry_run_then_purge(
    server: &TestServer,
    admin: &str,
    users: &[UserId],
) -> (
    Value,
    Records,
    BTreeSet<String>,
    BTreeSet<String>,
    BTreeSet<i64>,
) {
    let before = records(server, users).await;
    let plan = current_plan(server).await;
    let sessions_gone = expected_gone(&before.sessions, &plan, DataClass::Sessions);
    let keys_gone = expected_gone(&before.keys, &plan, DataClass::ApiKeys);
    let events_gone = expected_gone(&before.events, &plan, DataClass::AuditEvents);

    let dry = purge(server, admin, true).await;
    assert_eq!(dry["dry_run"], true);
    for (name, count) in [
        ("sessions", sessions_gone.len()),
        ("api_keys", keys_gone.len()),
        ("audit_events", events_gone.len()),
    ] {
        let line = class(&dry, name);
        assert_eq!(line["count"], count, "{name}: {line}");
        assert_eq!(line["oldest"].is_object(), count > 0, "{name}: {line}");
    }
    if let Some(oldest) = class(&dry, "sessions")["oldest"]["id"].as_str() {
        let first = sessions_gone
            .iter()
            .map(|id| (before.sessions[id].0, id))
            .min()
            .unwrap();
        assert_eq!(
            before.sessions[oldest].0, first.0,
            "the oldest is one that ended first"
        );
    }
    for name in ["vault_items", "incidents", "training_records"] {
        assert_eq!(class(&dry, name)["outcome"], "not_recorded");
        assert!(class(&dry, name)["note"].is_string());
    }
    assert_eq!(
        records(server, users).await,
        before,
        "a dry run changes nothing"
    );

    let report = purge(server, admin, false).await;
    assert_eq!(report["dry_run"], false);
    assert_eq!(class(&report, "sessions")["count"], sessions_gone.len());
    assert_eq!(class(&report, "api_keys")["count"], keys_gone.len());
    assert_eq!(class(&report, "audit_events")["count"], events_gone.len());

    let after = records(server, users).await;
    assert_eq!(
        after.sessions.keys().cloned().collect::<BTreeSet<_>>(),
        without(&before.sessions, &sessions_gone)
    );
    assert_eq!(
        after.keys.keys().cloned().collect::<BTreeSet<_>>(),
        without(&before.keys, &keys_gone)
    );
    let newest_before = before.events.keys().max().copied().unwrap();
    let old_left: BTreeSet<i64> = after
        .events
        .keys()
        .copied()
        .filter(|id| *id <= newest_before)
        .collect();
    assert_eq!(old_left, without(&before.events, &events_gone));
    let new: Vec<i64> = after
        .events
        .keys()
        .copied()
        .filter(|id| *id > newest_before)
        .collect();
    assert_eq!(new.len(), 1, "one audit event per run");
    (report, before, sessions_gone, keys_gone, events_gone)
}

async fn the_purge_removes_exactly_the_expired_unheld_records(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    let mut users = Vec::new();
    for (name, role) in [
        ("alice", "user"),
        ("bob", "user"),
        ("carol", "security-officer"),
    ] {
        let user = server
            .create_user_with_roles(&admin, name, USER_PASSWORD, &[role])
            .await;
        users.push(UserId(user["id"].as_str().unwrap().parse().unwrap()));
    }
    let (alice, bob) = (users[0], users[1]);
    let admin_id = {
        let mut conn = server.state.store().acquire().await.unwrap();
        let name = schild_core::ids::Username::parse("admin").unwrap();
        schild_store::users::by_username(&mut conn, &name)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    users.push(admin_id);

    // Day 0: everyone signs in; alice signs out at once; carol issues two keys and revokes one.
    let alice_token = server.login("alice", USER_PASSWORD).await;
    server.login("bob", USER_PASSWORD).await;
    let carol = server.login("carol", USER_PASSWORD).await;
    let (status, _) = server
        .post("/api/v1/auth/logout", Some(&alice_token), json!(null))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mut prefixes = Vec::new();
    for days in [30, 1] {
        let (status, issued) = server
            .post(
                "/api/v1/api-keys",
                Some(&carol),
                json!({"label": format!("{days} days"), "scopes": ["user:read"], "expires_in_days": days}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        prefixes.push(issued["api_key"]["prefix"].as_str().unwrap().to_owned());
    }
    let (status, _) = server
        .post(
            &format!("/api/v1/api-keys/mine/{}/revoke", prefixes[0]),
            Some(&carol),
            json!({"reason": "rotated"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Holds: bob's sessions, and the audit events about alice.
    let mut hold_ids = Vec::new();
    for (class, subject) in [("sessions", bob), ("audit_events", alice)] {
        let (status, hold) = server
            .post(
                "/api/v1/retention/holds",
                Some(&admin),
                json!({"class": class, "subject": subject.0, "reason": "matter 2026-17"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{hold}");
        hold_ids.push(hold["id"].as_str().unwrap().to_owned());
    }

    // Day 40: the day-0 sessions ended 33–40 days ago (over 30); bob's are held. Keys ended
    // under 90 days ago and events are under a year old: they stay.
    server.advance(Duration::days(40));
    let admin = server.login("admin", ADMIN_PASSWORD).await;
    let (_, before, sessions_gone, keys_gone, events_gone) =
        dry_run_then_purge(&server, &admin, &users).await;
    let gone_owners: BTreeSet<Option<UserId>> = sessions_gone
        .iter()
        .map(|id| before.sessions[id].1)
        .collect();
    assert_eq!(
        gone_owners,
        [Some(alice), Some(users[2]), Some(admin_id)]
            .into_iter()
            .collect(),
        "alice's, carol's and the admin's day-0 sessions"
    );
    let kept_by_hold: Vec<_> = before
        .sessions
        .iter()
        .filter(|(_, (ended, who))| {
            *who == Some(bob) && *ended < server.state.now() - Duration::days(30)
        })
        .collect();
    assert_eq!(
        kept_by_hold.len(),
        1,
        "bob's expired session is kept by the hold"
    );
    assert!(keys_gone.is_empty() && events_gone.is_empty());

    // Day 400: bob's hold is released; carol issues a fresh year-long key.
    server.advance(Duration::days(360));
    let admin = server.login("admin", ADMIN_PASSWORD).await;
    let (status, _) = server
        .post(
            &format!("/api/v1/retention/holds/{}/release", hold_ids[0]),
            Some(&admin),
            json!({"reason": "matter closed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let carol = server.login("carol", USER_PASSWORD).await;
    let (status, fresh) = server
        .post(
            "/api/v1/api-keys",
            Some(&carol),
            json!({"label": "fresh", "scopes": ["user:read"], "expires_in_days": 365}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (report, before, sessions_gone, keys_gone, events_gone) =
        dry_run_then_purge(&server, &admin, &users).await;
    assert!(
        sessions_gone
            .iter()
            .any(|id| before.sessions[id].1 == Some(bob)),
        "bob's session goes once the hold is released"
    );
    assert_eq!(
        keys_gone,
        prefixes.iter().cloned().collect::<BTreeSet<_>>(),
        "both day-0 keys go; the fresh one stays"
    );
    assert!(
        before
            .keys
            .contains_key(fresh["api_key"]["prefix"].as_str().unwrap())
    );
    assert!(!events_gone.is_empty());
    let cutoff = server.state.now() - Duration::days(365);
    let kept_for_alice = before
        .events
        .values()
        .filter(|(at, subject)| *at < cutoff && *subject == Some(alice))
        .count();
    assert!(
        kept_for_alice > 0,
        "alice's old events are kept by her hold"
    );

    // The run is recorded once, with its counts and the trail's new purge floor; every other
    // DELETE on the trail is still refused.
    let floor = report["audit_floor"].as_i64().unwrap();
    assert!(floor >= *events_gone.iter().max().unwrap());
    let (status, entries) = server
        .get("/api/v1/admin/audit?kind=retention.purge.completed", &admin)
        .await;
    assert_eq!(status, StatusCode::OK);
    let runs = entries.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let event = &runs[0]["event"];
    assert_eq!(event["audit_floor"], floor);
    let counts: BTreeMap<String, u64> = event["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            (
                line["class"].as_str().unwrap().to_owned(),
                line["purged"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts["sessions"], sessions_gone.len() as u64);
    assert_eq!(counts["api_keys"], keys_gone.len() as u64);
    assert_eq!(counts["audit_events"], events_gone.len() as u64);
    assert_eq!(runs[0]["actor"], json!(admin_id.0));
    server.shutdown().await;
}

async fn policies_and_holds_refuse_bad_input_and_change_nothing(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    server
        .create_user_with_roles(&admin, "eve", USER_PASSWORD, &["auditor"])
        .await;
    let eve = server.login("eve", USER_PASSWORD).await;
    let policies = |body: &Value| -> BTreeMap<String, u64> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["class"].as_str().unwrap().to_owned(),
                    p["keep_days"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let (status, listed) = server.get("/api/v1/retention/policies", &eve).await;
    assert_eq!(status, StatusCode::OK);
    let defaults = policies(&listed);
    assert_eq!(defaults.len(), 6);
    assert_eq!(
        (
            defaults["audit_events"],
            defaults["sessions"],
            defaults["api_keys"]
        ),
        (365, 30, 90)
    );
    let audit_before = server.audit_kinds(&admin).await.len();

    for (body, field) in [
        (json!({"keep_days": {}}), "keep_days"),
        (json!({"keep_days": {"sessions": 0}}), "keep_days"),
        (json!({"keep_days": {"audit_events": 30}}), "keep_days"),
        (json!({"keep_days": {"sessions": 3651}}), "keep_days"),
        (json!({"keep_days": {"logs": 30}}), "class"),
        // All are checked before any is written.
        (
            json!({"keep_days": {"sessions": 7, "audit_events": 1}}),
            "keep_days",
        ),
    ] {
        let (status, problem) = server
            .put("/api/v1/retention/policies", &admin, body.clone())
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{field}:")),
            "{body}: {problem}"
        );
    }
    let (status, _) = server
        .put(
            "/api/v1/retention/policies",
            &eve,
            json!({"keep_days": {"sessions": 7}}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "reading is not managing");
    let (_, listed) = server.get("/api/v1/retention/policies", &eve).await;
    assert_eq!(policies(&listed), defaults);

    for body in [
        json!({"class": "logs", "reason": "x"}),
        json!({"class": "sessions", "reason": " "}),
        json!({"class": "sessions", "reason": "x", "subject": "not-a-uuid"}),
        json!({"class": "sessions"}),
    ] {
        let (status, problem) = server
            .post("/api/v1/retention/holds", Some(&admin), body.clone())
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
    }
    let (status, problem) = server
        .post("/api/v1/retention/purge", Some(&admin), json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dry_run is required: {problem}"
    );
    let (status, _) = server
        .post(
            "/api/v1/retention/holds/01a23f06-1145-753c-a24b-4a320480cf4c/release",
            Some(&admin),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, holds) = server
        .get("/api/v1/retention/holds?include_released=true", &eve)
        .await;
    assert_eq!(holds, json!([]));
    assert_eq!(
        server.audit_kinds(&admin).await.len(),
        audit_before,
        "nothing was recorded"
    );

    // What works: a change (recorded once; repeating it records nothing), a hold and its release.
    for _ in 0..2 {
        let (status, changed) = server
            .put(
                "/api/v1/retention/policies",
                &admin,
                json!({"keep_days": {"sessions": 7}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(policies(&changed)["sessions"], 7);
    }
    let (status, hold) = server
        .post(
            "/api/v1/retention/holds",
            Some(&admin),
            json!({"class": "incidents", "reason": "audit 2027"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    assert_eq!(hold["subject"], Value::Null);
    let release = format!(
        "/api/v1/retention/holds/{}/release",
        hold["id"].as_str().unwrap()
    );
    let (status, _) = server
        .post(&release, Some(&eve), json!({"reason": "done"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, problem) = server
        .post(&release, Some(&admin), json!({"reason": ""}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, released) = server
        .post(&release, Some(&admin), json!({"reason": "done"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{released}");
    assert_eq!(released["release_reason"], "done");
    let (status, problem) = server
        .post(&release, Some(&admin), json!({"reason": "again"}))
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("hold_released"))
    );
    let (_, in_force) = server.get("/api/v1/retention/holds", &eve).await;
    assert_eq!(in_force, json!([]));
    let (_, all) = server
        .get("/api/v1/retention/holds?include_released=true", &eve)
        .await;
    assert_eq!(all.as_array().unwrap().len(), 1);

    let kinds = server.audit_kinds(&admin).await;
    assert_eq!(
        kinds[..3],
        [
            "retention.hold.released",
            "retention.hold.placed",
            "retention.policy.changed"
        ]
    );
    assert_eq!(kinds.len(), audit_before + 3);
    server.shutdown().await;
}

async fn the_sweeper_purges_once_a_day(db: TestDb) {
    let server = TestServer::start(db).await;
    server.setup_admin().await;
    let schedule = ReviewSchedule::default();
    let state = &server.state;
    let swept = sweep::once(state, schedule).await.unwrap();
    assert!(swept.retention_purged, "the first sweep purges");
    assert!(!sweep::once(state, schedule).await.unwrap().retention_purged);
    server.advance(Duration::hours(23));
    assert!(!sweep::once(state, schedule).await.unwrap().retention_purged);
    server.advance(Duration::hours(1));
    // Two instances sweeping at the same moment: exactly one purges.
    let (a, b) = tokio::join!(sweep::once(state, schedule), sweep::once(state, schedule));
    assert_eq!(
        [a.unwrap().retention_purged, b.unwrap().retention_purged]
            .iter()
            .filter(|ran| **ran)
            .count(),
        1
    );
    let admin = server.login("admin", ADMIN_PASSWORD).await;
    let (_, runs) = server
        .get("/api/v1/admin/audit?kind=retention.purge.completed", &admin)
        .await;
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter().all(|run| run["actor"].is_null()),
        "the system runs it"
    );
    server.shutdown().await;
}
