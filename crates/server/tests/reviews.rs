//! Access-review campaigns end to end over real HTTP, on SQLite and on PostgreSQL: start a
//! campaign, certify and revoke items (a revocation takes effect on the next request), refuse
//! self-review, escalate at the deadline and revoke automatically after the grace, export the
//! report as CSV and JSON; flag assignments unused for 90 days from recorded last use; refuse
//! bad input without changing anything; start the scheduled campaign once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[macro_use]
mod common;

use common::{TestServer, USER_PASSWORD};
use reqwest::StatusCode;
use schild_core::rbac::review::ReviewSchedule;
use schild_server::access::reviews;
use schild_store::testing::TestDb;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

on_both_databases!(
    campaign_decisions_deadline_escalation_auto_revocation_and_report,
    unused_assignments_are_flagged_from_recorded_use,
    bad_input_is_refused_and_changes_nothing,
    the_scheduled_campaign_starts_once_per_quarter,
);

/// A time as the store keeps it: whole milliseconds.
fn stored(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap()
}

fn time_of(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().expect("a timestamp"), &Rfc3339).unwrap()
}

/// The id of the item for `username` in a campaign view or report.
fn item_of(campaign: &Value, username: &str) -> String {
    let key = if campaign["items"][0].get("id").is_some() {
        "id"
    } else {
        "item"
    };
    campaign["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["username"] == username)
        .unwrap_or_else(|| panic!("no item for {username}: {campaign}"))[key]
        .as_str()
        .unwrap()
        .to_owned()
}

fn status_of(campaign: &Value, username: &str) -> String {
    campaign["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["username"] == username)
        .unwrap()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

async fn decide(
    server: &TestServer,
    token: &str,
    campaign: &str,
    item: &str,
    body: Value,
) -> (StatusCode, Value) {
    server
        .post(
            &format!("/api/v1/reviews/{campaign}/items/{item}/decision"),
            Some(token),
            body,
        )
        .await
}

/// A report as raw text, with its content type.
async fn report_text(
    server: &TestServer,
    token: &str,
    campaign: &str,
    format: &str,
) -> (String, String) {
    let response = server
        .client
        .get(server.url(&format!(
            "/api/v1/reviews/{campaign}/report?format={format}"
        )))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, response.text().await.unwrap())
}

async fn campaign_decisions_deadline_escalation_auto_revocation_and_report(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    let officer_id = server
        .create_user_with_roles(&admin, "olivia", USER_PASSWORD, &["security-officer"])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .create_user_with_roles(&admin, "audrey", USER_PASSWORD, &["auditor"])
        .await;
    for (name, role) in [
        ("alice", "incident-responder"),
        ("bob", "incident-responder"),
        ("carol", "enrollment-operator"),
    ] {
        server
            .create_user_with_roles(&admin, name, USER_PASSWORD, &[role])
            .await;
    }
    let officer = server.login("olivia", USER_PASSWORD).await;
    let auditor = server.login("audrey", USER_PASSWORD).await;
    let bob = server.login("bob", USER_PASSWORD).await;
    assert_eq!(
        server.get("/api/v1/admin/users", &bob).await.0,
        StatusCode::OK
    );

    // An auditor reads reviews but may not start one.
    let start = json!({
        "name": "2027 Q1 access review",
        "scope": {"roles": ["incident-responder", "enrollment-operator", "security-officer"]},
        "deadline_days": 14,
    });
    let (status, body) = server
        .post("/api/v1/reviews", Some(&auditor), start.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "forbidden");

    let started_at = server.state.now();
    let (status, campaign) = server.post("/api/v1/reviews", Some(&officer), start).await;
    assert_eq!(status, StatusCode::CREATED, "{campaign}");
    let id = campaign["id"].as_str().unwrap().to_owned();
    let who: Vec<_> = campaign["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}/{}/{}",
                i["username"].as_str().unwrap(),
                i["role"].as_str().unwrap(),
                i["status"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        who,
        [
            "alice/incident-responder/pending",
            "bob/incident-responder/pending",
            "carol/enrollment-operator/pending",
            "olivia/security-officer/pending",
        ]
    );
    assert_eq!(campaign["created_by"], officer_id.as_str());
    assert_eq!(
        time_of(&campaign["deadline"]),
        stored(started_at + Duration::days(14))
    );
    let (status, listed) = server.get("/api/v1/reviews", &auditor).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(
        (listed[0]["items"].as_u64(), listed[0]["resolved"].as_u64()),
        (Some(4), Some(0))
    );

    // Nobody reviews their own access.
    let (status, body) = decide(
        &server,
        &officer,
        &id,
        &item_of(&campaign, "olivia"),
        json!({"verdict": "certify", "reason": "I need it"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "self_review");

    // Certify Alice, revoke Bob: Bob loses the role's permissions on his very next request.
    let decided_at = server.state.now();
    let (status, alice) = decide(
        &server,
        &officer,
        &id,
        &item_of(&campaign, "alice"),
        json!({"verdict": "certify"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{alice}");
    assert_eq!(alice["status"], "certified");
    assert_eq!(alice["decision"]["reviewer"], officer_id.as_str());
    let (status, revoked) = decide(
        &server,
        &officer,
        &id,
        &item_of(&campaign, "bob"),
        json!({"verdict": "revoke", "reason": "moved to finance"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["status"], "revoked");
    let (status, body) = server.get("/api/v1/admin/users", &bob).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "forbidden");
    let (status, body) = decide(
        &server,
        &officer,
        &id,
        &item_of(&campaign, "bob"),
        json!({"verdict": "certify", "reason": "changed my mind"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "already_decided");

    // Before the deadline the sweeper has nothing to do.
    assert_eq!(
        reviews::tick_due(&server.state, server.state.now())
            .await
            .unwrap(),
        0
    );

    // The deadline passes: the two undecided items escalate, once.
    server.advance(Duration::days(14) + Duration::minutes(1));
    let now = server.state.now();
    assert_eq!(reviews::tick_due(&server.state, now).await.unwrap(), 1);
    assert_eq!(reviews::tick_due(&server.state, now).await.unwrap(), 0);
    let auditor = server.login("audrey", USER_PASSWORD).await;
    let (_, campaign) = server.get(&format!("/api/v1/reviews/{id}"), &auditor).await;
    assert_eq!(status_of(&campaign, "carol"), "escalated");
    assert_eq!(status_of(&campaign, "olivia"), "escalated");
    assert_eq!(status_of(&campaign, "alice"), "certified");
    let admin = server.login("admin", common::ADMIN_PASSWORD).await;
    let kinds = server.audit_kinds(&admin).await;
    assert_eq!(count(&kinds, "rbac.review.escalated"), 2, "{kinds:?}");
    assert_eq!(count(&kinds, "rbac.review.auto_revoked"), 0);
    // Escalated, Carol's role still works until the grace is over.
    let carol = server.login("carol", USER_PASSWORD).await;
    assert_eq!(
        server.get("/api/v1/admin/users", &carol).await.0,
        StatusCode::OK
    );

    // After the grace the rest is revoked automatically and the campaign completes.
    server.advance(Duration::days(7));
    let now = server.state.now();
    assert_eq!(reviews::tick_due(&server.state, now).await.unwrap(), 1);
    assert_eq!(reviews::tick_due(&server.state, now).await.unwrap(), 0);
    let carol = server.login("carol", USER_PASSWORD).await;
    assert_eq!(
        server.get("/api/v1/admin/users", &carol).await.0,
        StatusCode::FORBIDDEN
    );
    let officer = server.login("olivia", USER_PASSWORD).await;
    let (status, _) = decide(
        &server,
        &officer,
        &id,
        &item_of(&campaign, "carol"),
        json!({"verdict": "certify", "reason": "late"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the officer's own role was revoked"
    );

    let admin = server.login("admin", common::ADMIN_PASSWORD).await;
    let kinds = server.audit_kinds(&admin).await;
    assert_eq!(count(&kinds, "rbac.review.started"), 1, "{kinds:?}");
    assert_eq!(count(&kinds, "rbac.review.decided"), 2);
    assert_eq!(count(&kinds, "rbac.review.auto_revoked"), 2);
    assert_eq!(
        count(&kinds, "rbac.role.unassigned"),
        3,
        "Bob, Carol and Olivia"
    );
    assert_eq!(count(&kinds, "rbac.review.completed"), 1);
    let review_kinds: Vec<_> = kinds.iter().filter(|k| k.starts_with("rbac.")).collect();
    assert_eq!(
        review_kinds[0], "rbac.review.completed",
        "completion comes last"
    );
    let (_, users) = server.get("/api/v1/admin/users", &admin).await;
    let roles_of = |name: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["roles"]
            .clone()
    };
    assert_eq!(roles_of("alice"), json!(["incident-responder"]));
    assert_eq!(roles_of("bob"), json!([]));
    assert_eq!(roles_of("carol"), json!([]));
    assert_eq!(roles_of("olivia"), json!([]));

    // The report: who decided what, when.
    let auditor = server.login("audrey", USER_PASSWORD).await;
    let (status, report) = server
        .get(&format!("/api/v1/reviews/{id}/report"), &auditor)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let (content_type, json_text) = report_text(&server, &auditor, &id, "json").await;
    assert_eq!(content_type, "application/json");
    assert_eq!(serde_json::from_str::<Value>(&json_text).unwrap(), report);
    assert_eq!(report["campaign"], id.as_str());
    assert!(report["completed_at"].is_string());
    assert_eq!(
        (
            &report["summary"]["certified"],
            &report["summary"]["revoked"],
            &report["summary"]["auto_revoked"],
            &report["summary"]["items"],
        ),
        (&json!(1), &json!(1), &json!(2), &json!(4))
    );
    let row = |name: &str| {
        report["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["username"] == name)
            .unwrap()
            .clone()
    };
    let bob_row = row("bob");
    assert_eq!(bob_row["status"], "revoked");
    assert_eq!(bob_row["reviewer"], officer_id.as_str());
    assert_eq!(bob_row["reason"], "moved to finance");
    assert_eq!(time_of(&bob_row["decided_at"]), stored(decided_at));
    assert_eq!(row("alice")["status"], "certified");
    assert_eq!(row("alice")["reviewer"], officer_id.as_str());
    let carol_row = row("carol");
    assert_eq!(carol_row["status"], "auto_revoked");
    assert_eq!(carol_row["reviewer"], Value::Null);
    assert!(carol_row["escalated_at"].is_string() && carol_row["auto_revoked_at"].is_string());

    let (content_type, csv) = report_text(&server, &auditor, &id, "csv").await;
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines.len(), 6, "header, four rows, final line end: {csv}");
    assert!(lines[0].starts_with("campaign,campaign_name,item,user_id,username,role,"));
    let line = |name: &str| {
        *lines
            .iter()
            .find(|l| l.contains(&format!(",{name},")))
            .unwrap()
    };
    let decided = bob_row["decided_at"].as_str().unwrap();
    assert!(
        line("bob").contains(&format!(
            ",revoked,{officer_id},{decided},moved to finance,"
        )),
        "{}",
        line("bob")
    );
    assert!(line("alice").contains(&format!(",certified,{officer_id},")));
    assert!(
        line("carol").contains(",auto_revoked,,,,"),
        "{}",
        line("carol")
    );
    let (status, body) = server
        .get(&format!("/api/v1/reviews/{id}/report?format=xml"), &auditor)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    server.shutdown().await;
}

async fn unused_assignments_are_flagged_from_recorded_use(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    server
        .create_user_with_roles(&admin, "olivia", USER_PASSWORD, &["security-officer"])
        .await;
    for name in ["uma", "nick"] {
        server
            .create_user_with_roles(&admin, name, USER_PASSWORD, &["incident-responder"])
            .await;
    }
    // Both exercise nothing for 91 days; then Uma lists accounts (user:read), Nick never does.
    server.advance(Duration::days(91));
    let uma = server.login("uma", USER_PASSWORD).await;
    let used_at = server.state.now();
    assert_eq!(
        server.get("/api/v1/admin/users", &uma).await.0,
        StatusCode::OK
    );

    let officer = server.login("olivia", USER_PASSWORD).await;
    let (status, campaign) = server
        .post(
            "/api/v1/reviews",
            Some(&officer),
            json!({"name": "Responders", "scope": {"roles": ["incident-responder"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{campaign}");
    let item = |name: &str| {
        campaign["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["username"] == name)
            .unwrap()
            .clone()
    };
    let (uma_item, nick_item) = (item("uma"), item("nick"));
    assert_eq!(nick_item["flagged_unused"], true, "{nick_item}");
    assert_eq!(nick_item["last_used"], Value::Null);
    assert_eq!(uma_item["flagged_unused"], false, "{uma_item}");
    assert_eq!(time_of(&uma_item["last_used"]), stored(used_at));
    assert_eq!(
        time_of(&uma_item["permission_last_used"]["user:read"]),
        stored(used_at)
    );
    assert_eq!(campaign["flagged_open"], json!([nick_item["id"]]));
    assert_eq!(campaign["policy"]["unused_after_seconds"], 90 * 86_400);

    // Keeping an assignment flagged unused needs a reason.
    let campaign_id = campaign["id"].as_str().unwrap();
    let nick_id = nick_item["id"].as_str().unwrap();
    let (status, body) = decide(
        &server,
        &officer,
        campaign_id,
        nick_id,
        json!({"verdict": "certify"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"].as_str().unwrap().starts_with("reason:"),
        "{body}"
    );
    let (status, body) = decide(
        &server,
        &officer,
        campaign_id,
        nick_id,
        json!({"verdict": "certify", "reason": "on call from next month"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    server.shutdown().await;
}

async fn bad_input_is_refused_and_changes_nothing(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    server
        .create_user_with_roles(&admin, "olivia", USER_PASSWORD, &["security-officer"])
        .await;
    server
        .create_user_with_roles(&admin, "audrey", USER_PASSWORD, &["auditor"])
        .await;
    server
        .create_user_with_roles(&admin, "alice", USER_PASSWORD, &["incident-responder"])
        .await;
    let officer = server.login("olivia", USER_PASSWORD).await;
    let auditor = server.login("audrey", USER_PASSWORD).await;
    let (status, campaign) = server
        .post(
            "/api/v1/reviews",
            Some(&officer),
            json!({"name": "Responders", "scope": {"roles": ["incident-responder"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{campaign}");
    let id = campaign["id"].as_str().unwrap().to_owned();
    let alice_item = item_of(&campaign, "alice");

    let footprint = async || {
        let (_, audit) = server.get("/api/v1/admin/audit?limit=1000", &admin).await;
        let (_, list) = server.get("/api/v1/reviews", &auditor).await;
        let (_, campaign) = server.get(&format!("/api/v1/reviews/{id}"), &auditor).await;
        let (_, users) = server.get("/api/v1/admin/users", &admin).await;
        (audit.as_array().unwrap().len(), list, campaign, users)
    };
    let before = footprint().await;

    let past = (server.state.now() - Duration::days(1))
        .format(&Rfc3339)
        .unwrap();
    let soon = (server.state.now() + Duration::days(3))
        .format(&Rfc3339)
        .unwrap();
    let starts: Vec<(&str, Value, StatusCode, &str)> = vec![
        (
            "deadline in the past",
            json!({"name": "q", "deadline": past}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "deadline:",
        ),
        (
            "zero days",
            json!({"name": "q", "deadline_days": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "deadline:",
        ),
        (
            "over a year",
            json!({"name": "q", "deadline_days": 400}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "deadline:",
        ),
        (
            "both deadlines",
            json!({"name": "q", "deadline": soon, "deadline_days": 3}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "deadline:",
        ),
        (
            "unknown role",
            json!({"name": "q", "scope": {"roles": ["no-such-role"]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "scope:",
        ),
        (
            "malformed role",
            json!({"name": "q", "scope": {"roles": ["Not A Role!"]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "scope:",
        ),
        (
            "no roles",
            json!({"name": "q", "scope": {"roles": []}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "scope:",
        ),
        (
            "unknown account",
            json!({"name": "q", "scope": {"users": ["01a23f06-1145-753c-a24b-4a320480cf4c"]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "scope:",
        ),
        (
            "empty name",
            json!({"name": "  "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name:",
        ),
        (
            "overlong name",
            json!({"name": "n".repeat(201)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name:",
        ),
        (
            "zero unused threshold",
            json!({"name": "q", "unused_after_days": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "policy:",
        ),
        (
            "unknown field",
            json!({"name": "q", "owner": "me"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        (
            "deadline not RFC 3339",
            json!({"name": "q", "deadline": "next week"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
    ];
    for (case, body, expected, detail) in starts {
        let (status, answer) = server.post("/api/v1/reviews", Some(&officer), body).await;
        assert_eq!(status, expected, "{case}: {answer}");
        assert!(
            answer["detail"]
                .as_str()
                .unwrap_or_default()
                .starts_with(detail),
            "{case}: {answer}"
        );
    }
    let (status, _) = server
        .post("/api/v1/reviews", Some(&auditor), json!({"name": "q"}))
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an auditor may not start campaigns"
    );

    let nobody = "01a23f06-1145-753c-a24b-4a320480cf4c";
    let decisions: Vec<(&str, String, String, Value, StatusCode)> = vec![
        (
            "unknown campaign",
            nobody.into(),
            alice_item.clone(),
            json!({"verdict": "certify"}),
            StatusCode::NOT_FOUND,
        ),
        (
            "unknown item",
            id.clone(),
            nobody.into(),
            json!({"verdict": "certify"}),
            StatusCode::NOT_FOUND,
        ),
        (
            "malformed item id",
            id.clone(),
            "item-1".into(),
            json!({"verdict": "certify"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "overlong reason",
            id.clone(),
            alice_item.clone(),
            json!({"verdict": "revoke", "reason": "r".repeat(501)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "revoke without a reason",
            id.clone(),
            alice_item.clone(),
            json!({"verdict": "revoke"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "blank reason",
            id.clone(),
            alice_item.clone(),
            json!({"verdict": "revoke", "reason": "   "}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "unknown verdict",
            id.clone(),
            alice_item.clone(),
            json!({"verdict": "maybe"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (case, campaign, item, body, expected) in decisions {
        let (status, answer) = decide(&server, &officer, &campaign, &item, body).await;
        assert_eq!(status, expected, "{case}: {answer}");
    }
    let (status, body) = decide(
        &server,
        &auditor,
        &id,
        &alice_item,
        json!({"verdict": "certify"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    for path in [
        format!("/api/v1/reviews/{nobody}"),
        format!("/api/v1/reviews/{nobody}/report?format=csv"),
    ] {
        let (status, body) = server.get(&path, &auditor).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }

    let after = footprint().await;
    assert_eq!(before.0, after.0, "no audit event");
    assert_eq!(before.1, after.1, "no campaign");
    assert_eq!(before.2, after.2, "no decision");
    assert_eq!(before.3, after.3, "no assignment changed");
    assert_eq!(status_of(&after.2, "alice"), "pending");

    server.shutdown().await;
}

async fn the_scheduled_campaign_starts_once_per_quarter(db: TestDb) {
    let server = TestServer::start(db).await;
    // A fresh installation has nothing to review: no campaign marks the quarter done.
    assert_eq!(
        reviews::start_scheduled(&server.state, server.state.now(), ReviewSchedule::Quarterly)
            .await
            .unwrap(),
        None
    );
    assert!(reviews::list(&server.state).await.unwrap().is_empty());
    let admin = server.setup_admin().await;
    server
        .create_user_with_roles(&admin, "alice", USER_PASSWORD, &["incident-responder"])
        .await;
    let state = &server.state;
    let now = state.now();
    let quarterly = ReviewSchedule::Quarterly;

    // Two instances racing on the first run: exactly one starts it.
    let (first, second) = tokio::join!(
        reviews::start_scheduled(state, now, quarterly),
        reviews::start_scheduled(state, now, quarterly)
    );
    let started: Vec<_> = [first.unwrap(), second.unwrap()]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(
        reviews::start_scheduled(state, now, quarterly)
            .await
            .unwrap(),
        None
    );

    let campaign = reviews::get(state, started[0]).await.unwrap();
    assert!(
        campaign.name.starts_with("Access review "),
        "{}",
        campaign.name
    );
    assert_eq!(campaign.created_by, None);
    assert_eq!(campaign.deadline, stored(now + reviews::DEFAULT_DEADLINE));
    let roles: Vec<_> = campaign
        .items
        .iter()
        .map(|i| (i.username.as_str(), i.role.as_str()))
        .collect();
    assert_eq!(roles, [("admin", "admin"), ("alice", "incident-responder")]);

    // Not again until the next quarter begins.
    let next = quarterly.next_after(now);
    assert_eq!(
        reviews::start_scheduled(state, next - Duration::minutes(1), quarterly)
            .await
            .unwrap(),
        None
    );
    let again = reviews::start_scheduled(state, next, quarterly)
        .await
        .unwrap()
        .expect("due at the next quarter");
    assert_ne!(again, started[0]);
    assert_eq!(reviews::list(state).await.unwrap().len(), 2);
    let kinds = server.audit_kinds(&admin).await;
    assert_eq!(count(&kinds, "rbac.review.started"), 2, "{kinds:?}");

    server.shutdown().await;
}

/// Each review route refuses a caller without the one permission its OpenAPI entry names, and
/// names that same permission in the refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_review_route_needs_the_permission_it_documents() {
    let Some(db) = TestDb::sqlite().await else {
        return;
    };
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    server.create_user(&admin, "uma", USER_PASSWORD).await;
    let token = server.login("uma", USER_PASSWORD).await;
    let doc: Value = server
        .client
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nobody = "01a23f06-1145-753c-a24b-4a320480cf4c";
    let mut probed = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/reviews") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            assert_eq!(operation["tags"], json!(["reviews"]), "{method} {path}");
            let scopes = operation["security"][0]["bearer"].as_array().unwrap();
            assert_eq!(scopes.len(), 1, "{method} {path} names one permission");
            let permission = scopes[0].as_str().unwrap();
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let body = (method == reqwest::Method::POST).then(|| json!({}));
            let concrete = path.replace("{id}", nobody).replace("{item}", nobody);
            let (status, answer) = server
                .send(method.clone(), &concrete, Some(&token), body)
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
            assert_eq!(
                answer["detail"],
                format!("this needs the permission {permission}"),
                "{method} {path}"
            );
            probed.push(format!("{method} {path} {permission}"));
        }
    }
    probed.sort();
    assert_eq!(
        probed,
        [
            "GET /api/v1/reviews review:read",
            "GET /api/v1/reviews/{id} review:read",
            "GET /api/v1/reviews/{id}/report review:read",
            "POST /api/v1/reviews review:manage",
            "POST /api/v1/reviews/{id}/items/{item}/decision review:decide",
        ]
    );
    server.shutdown().await;
}
