//! Just-in-time access end to end over real HTTP, on SQLite and on PostgreSQL, with the clock
//! the test moves: a grant is requested, refused to its requester, approved by someone else,
//! usable, and stops working by itself at the end of its window; two-approver roles, denial,
//! early ends, lapsed requests, and bad input that changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[macro_use]
mod common;

use common::{TestServer, USER_PASSWORD};
use reqwest::StatusCode;
use schild_store::testing::TestDb;
use serde_json::{Value, json};
use time::Duration;

on_both_databases!(
    grant_is_approved_by_another_usable_and_expires_by_itself,
    two_approver_role_needs_two_different_people,
    denial_and_early_ends,
    undecided_requests_lapse,
    racing_approvals_grant_once,
    bad_input_is_refused_and_changes_nothing,
);

/// An administrator, a requester with the plain `user` role, and two security officers (who
/// hold `access:approve`, `access:read` and `access:revoke`).
struct World {
    server: TestServer,
    admin: String,
    alice: String,
    bob: String,
    carol: String,
}

async fn world(db: TestDb) -> World {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    server
        .create_user_with_roles(&admin, "alice", USER_PASSWORD, &["user"])
        .await;
    for officer in ["bob", "carol"] {
        server
            .create_user_with_roles(&admin, officer, USER_PASSWORD, &["security-officer"])
            .await;
    }
    let alice = server.login("alice", USER_PASSWORD).await;
    let bob = server.login("bob", USER_PASSWORD).await;
    let carol = server.login("carol", USER_PASSWORD).await;
    World {
        server,
        admin,
        alice,
        bob,
        carol,
    }
}

impl World {
    async fn ask(&self, token: &str, body: Value) -> (StatusCode, Value) {
        self.server
            .post("/api/v1/access/requests", Some(token), body)
            .await
    }

    /// Opens a request that must succeed; returns its id.
    async fn opened(&self, token: &str, body: Value) -> String {
        let (status, view) = self.ask(token, body).await;
        assert_eq!(status, StatusCode::CREATED, "{view}");
        assert_eq!(view["state"], "pending", "{view}");
        view["id"].as_str().unwrap().to_owned()
    }

    async fn decide(
        &self,
        token: &str,
        id: &str,
        action: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        self.server
            .post(
                &format!("/api/v1/access/requests/{id}/{action}"),
                Some(token),
                body,
            )
            .await
    }

    async fn approve(&self, token: &str, id: &str) -> (StatusCode, Value) {
        self.decide(token, id, "approve", Value::Null).await
    }

    /// The request as everyone's listing (`access:read`) shows it.
    async fn request(&self, id: &str) -> Value {
        let (status, view) = self
            .server
            .get(&format!("/api/v1/access/requests/{id}"), &self.admin)
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        view
    }

    /// Status of a call that needs `audit:read`.
    async fn audit_status(&self, token: &str) -> StatusCode {
        self.server
            .get("/api/v1/admin/audit?limit=1", token)
            .await
            .0
    }

    async fn audit_count(&self) -> usize {
        self.server.audit_kinds(&self.admin).await.len()
    }

    /// The audit kinds that name this request, oldest first.
    async fn audit_of(&self, id: &str) -> Vec<String> {
        let (status, entries) = self
            .server
            .get("/api/v1/admin/audit?limit=1000", &self.admin)
            .await;
        assert_eq!(status, StatusCode::OK, "{entries}");
        let mut kinds: Vec<String> = entries
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["event"]["request"] == id)
            .map(|entry| entry["event"]["kind"].as_str().unwrap().to_owned())
            .collect();
        kinds.reverse();
        kinds
    }
}

fn problem_code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

async fn grant_is_approved_by_another_usable_and_expires_by_itself(db: TestDb) {
    let w = world(db).await;
    assert_eq!(w.audit_status(&w.alice).await, StatusCode::FORBIDDEN);

    // Requested.
    let (status, view) = w
        .ask(
            &w.alice,
            json!({"permission": "audit:read", "duration_minutes": 10, "reason": "  triage of INC-7 "}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    let id = view["id"].as_str().unwrap().to_owned();
    assert_eq!(view["state"], "pending");
    assert_eq!(view["requester"]["username"], "alice");
    assert_eq!(view["target"], json!({"permission": "audit:read"}));
    assert_eq!(view["duration_minutes"], 10);
    assert_eq!(view["reason"], "triage of INC-7");
    assert_eq!(view["approvals_required"], 1);
    assert_eq!(view["starts_at"], Value::Null);

    // The requester cannot approve: a plain user is no approver at all...
    let audited = w.audit_count().await;
    let (status, body) = w.approve(&w.alice, &id).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // ...and an approver cannot approve their own request.
    let bobs = w
        .opened(
            &w.bob,
            json!({"permission": "incident:create", "duration_minutes": 30, "reason": "INC-7"}),
        )
        .await;
    let audited = audited + 1;
    let (status, body) = w.approve(&w.bob, &bobs).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(problem_code(&body), "self_approval", "{body}");
    let (status, body) = w
        .decide(&w.bob, &bobs, "deny", json!({"reason": "changed my mind"}))
        .await;
    assert_eq!(problem_code(&body), "self_approval", "{status} {body}");
    assert_eq!(w.request(&bobs).await["state"], "pending");
    assert_eq!(w.request(&id).await["state"], "pending");
    assert_eq!(w.audit_count().await, audited, "refusals change nothing");
    assert_eq!(w.audit_status(&w.alice).await, StatusCode::FORBIDDEN);

    // Approved by another person holding access:approve: the grant starts now.
    let approved_at = w.server.state.now();
    let (status, view) = w.approve(&w.carol, &id).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["state"], "active");
    assert_eq!(view["approvals"][0]["approver"]["username"], "carol");
    let starts_at = time::OffsetDateTime::parse(
        view["starts_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let ends_at = time::OffsetDateTime::parse(
        view["ends_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!((starts_at - approved_at).abs() < Duration::seconds(1));
    assert_eq!(ends_at - starts_at, Duration::minutes(10));

    // Usable at once, on the requester's existing token.
    assert_eq!(w.audit_status(&w.alice).await, StatusCode::OK);
    // Held now, so asking again is refused.
    let (status, body) = w
        .ask(
            &w.alice,
            json!({"permission": "audit:read", "duration_minutes": 10, "reason": "again"}),
        )
        .await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::CONFLICT, "already_held"),
        "{body}"
    );
    let (status, grants) = w.server.get("/api/v1/access/grants", &w.bob).await;
    assert_eq!(status, StatusCode::OK, "{grants}");
    let grants = grants.as_array().unwrap();
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0]["request_id"], id.as_str());
    assert_eq!(grants[0]["user"]["username"], "alice");
    assert_eq!(grants[0]["active"], true);

    // Still usable a moment before the end; the route refuses again at the end, by itself.
    w.server.advance(Duration::minutes(9));
    assert_eq!(w.audit_status(&w.alice).await, StatusCode::OK);
    w.server.advance(Duration::minutes(1));
    let (status, body) = w.server.get("/api/v1/admin/audit?limit=1", &w.alice).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(problem_code(&body), "forbidden");
    let (_, mine) = w
        .server
        .get(&format!("/api/v1/access/my-requests/{id}"), &w.alice)
        .await;
    assert_eq!(mine["state"], "expired", "ended before any sweep: {mine}");
    let (_, active) = w.server.get("/api/v1/access/grants", &w.bob).await;
    assert_eq!(active, json!([]));
    assert_eq!(
        w.audit_of(&id).await,
        [
            "access.jit.requested",
            "access.jit.approved",
            "access.jit.activated"
        ]
    );

    // The sweep records the expiry once.
    let now = w.server.state.now();
    assert_eq!(
        schild_server::access::jit::expire_due(&w.server.state, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        schild_server::access::jit::expire_due(&w.server.state, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(w.request(&id).await["state"], "expired");
    assert_eq!(
        w.audit_of(&id).await,
        [
            "access.jit.requested",
            "access.jit.approved",
            "access.jit.activated",
            "access.jit.expired"
        ]
    );
    let (_, ended) = w
        .server
        .get("/api/v1/access/grants?include_ended=true", &w.bob)
        .await;
    assert_eq!(ended.as_array().unwrap().len(), 1, "{ended}");
    assert_eq!(ended[0]["active"], false);
    // An expired grant cannot be ended again.
    let (status, body) = w
        .decide(&w.carol, &id, "revoke", json!({"reason": "too late"}))
        .await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::CONFLICT, "expired"),
        "{body}"
    );
    assert_eq!(w.audit_status(&w.alice).await, StatusCode::FORBIDDEN);
    w.server.shutdown().await;
}

async fn two_approver_role_needs_two_different_people(db: TestDb) {
    let w = world(db).await;
    let (status, _) = w.server.get("/api/v1/admin/users", &w.alice).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let id = w
        .opened(
            &w.alice,
            json!({"role": "admin", "duration_minutes": 30, "reason": "restore after outage"}),
        )
        .await;
    assert_eq!(w.request(&id).await["approvals_required"], 2);

    let (status, view) = w.approve(&w.bob, &id).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["state"], "pending", "one approval is not enough");
    assert_eq!(view["approvals"].as_array().unwrap().len(), 1);
    let (status, _) = w.server.get("/api/v1/admin/users", &w.alice).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The same approver twice counts once.
    let audited = w.audit_count().await;
    let (status, body) = w.approve(&w.bob, &id).await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::CONFLICT, "already_approved"),
        "{body}"
    );
    let view = w.request(&id).await;
    assert_eq!(
        (
            view["state"].as_str(),
            view["approvals"].as_array().unwrap().len()
        ),
        (Some("pending"), 1)
    );
    assert_eq!(w.audit_count().await, audited);

    let (status, view) = w.approve(&w.carol, &id).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["state"], "active");
    let approvers: Vec<&str> = view["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|approval| approval["approver"]["username"].as_str().unwrap())
        .collect();
    assert_eq!(approvers, ["bob", "carol"]);
    let (status, body) = w.server.get("/api/v1/admin/users", &w.alice).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = w
        .ask(
            &w.alice,
            json!({"role": "admin", "duration_minutes": 30, "reason": "again"}),
        )
        .await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::CONFLICT, "already_held"),
        "{body}"
    );
    assert_eq!(
        w.audit_of(&id).await,
        [
            "access.jit.requested",
            "access.jit.approved",
            "access.jit.approved",
            "access.jit.activated"
        ]
    );

    // Decided: a further approval changes nothing.
    let audited = w.audit_count().await;
    let (status, body) = w.approve(&w.admin, &id).await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::CONFLICT, "already_decided"),
        "{body}"
    );
    assert_eq!(w.audit_count().await, audited);
    w.server.shutdown().await;
}

async fn denial_and_early_ends(db: TestDb) {
    let w = world(db).await;

    // Denied, with a reason (which is required).
    let denied = w
        .opened(
            &w.alice,
            json!({"role": "auditor", "duration_minutes": 60, "reason": "quarterly audit"}),
        )
        .await;
    let (status, body) = w
        .decide(&w.bob, &denied, "deny", json!({"reason": "  "}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"].as_str().unwrap().starts_with("reason:"),
        "{body}"
    );
    let (status, view) = w
        .decide(
            &w.bob,
            &denied,
            "deny",
            json!({"reason": "the audit starts next week"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["state"], "denied");
    assert_eq!(view["denied"]["by"]["username"], "bob");
    assert_eq!(view["denied"]["reason"], "the audit starts next week");
    assert_eq!(view["starts_at"], Value::Null);
    let (status, body) = w.approve(&w.carol, &denied).await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::CONFLICT, "already_decided"),
        "{body}"
    );
    assert_eq!(w.audit_status(&w.alice).await, StatusCode::FORBIDDEN);
    assert_eq!(
        w.audit_of(&denied).await,
        ["access.jit.requested", "access.jit.denied"]
    );

    // The holder ends their own grant early.
    let ended = w
        .opened(
            &w.alice,
            json!({"permission": "audit:read", "duration_minutes": 30, "reason": "INC-8"}),
        )
        .await;
    assert_eq!(w.approve(&w.bob, &ended).await.0, StatusCode::OK);
    assert_eq!(w.audit_status(&w.alice).await, StatusCode::OK);
    w.server.advance(Duration::minutes(5));
    let (status, view) = w
        .server
        .post(
            &format!("/api/v1/access/my-requests/{ended}/end"),
            Some(&w.alice),
            json!({"reason": "done early"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["state"], "revoked");
    assert_eq!(view["revoked"]["by"]["username"], "alice");
    assert_eq!(w.audit_status(&w.alice).await, StatusCode::FORBIDDEN);

    // Someone with access:revoke ends another person's grant; others may not.
    let revoked = w
        .opened(
            &w.alice,
            json!({"permission": "audit:read", "duration_minutes": 30, "reason": "INC-9"}),
        )
        .await;
    assert_eq!(w.approve(&w.bob, &revoked).await.0, StatusCode::OK);
    w.server
        .create_user_with_roles(&w.admin, "dave", USER_PASSWORD, &["user"])
        .await;
    let dave = w.server.login("dave", USER_PASSWORD).await;
    let audited = w.audit_count().await;
    let (status, body) = w
        .server
        .post(
            &format!("/api/v1/access/my-requests/{revoked}/end"),
            Some(&dave),
            json!({"reason": "not mine"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = w
        .decide(
            &w.alice,
            &revoked,
            "revoke",
            json!({"reason": "via the officers' route"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(w.request(&revoked).await["state"], "active");
    assert_eq!(w.audit_count().await, audited);
    let (status, view) = w
        .decide(
            &w.carol,
            &revoked,
            "revoke",
            json!({"reason": "access no longer needed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["state"], "revoked");
    assert_eq!(view["revoked"]["by"]["username"], "carol");
    assert_eq!(view["revoked"]["reason"], "access no longer needed");
    assert_eq!(w.audit_status(&w.alice).await, StatusCode::FORBIDDEN);
    let (status, body) = w
        .decide(&w.carol, &revoked, "revoke", json!({"reason": "again"}))
        .await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::CONFLICT, "not_active"),
        "{body}"
    );
    for id in [&ended, &revoked] {
        assert_eq!(
            w.audit_of(id).await,
            [
                "access.jit.requested",
                "access.jit.approved",
                "access.jit.activated",
                "access.jit.revoked"
            ]
        );
    }

    // Listings: the grants are ended; the requester sees their own requests, filtered by state.
    let (_, active) = w.server.get("/api/v1/access/grants", &w.bob).await;
    assert_eq!(active, json!([]));
    let (_, all) = w
        .server
        .get("/api/v1/access/grants?include_ended=true", &w.bob)
        .await;
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    let (status, mine) = w
        .server
        .get("/api/v1/access/my-requests?state=revoked", &w.alice)
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine.as_array().unwrap().len(), 2, "{mine}");
    let (_, theirs) = w.server.get("/api/v1/access/my-requests", &dave).await;
    assert_eq!(theirs, json!([]));
    let (status, _) = w
        .server
        .get(&format!("/api/v1/access/my-requests/{denied}"), &dave)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "someone else's request is not found"
    );
    let (status, _) = w.server.get("/api/v1/access/requests", &w.alice).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "everyone's requests need access:read"
    );
    let (_, denied_only) = w
        .server
        .get("/api/v1/access/requests?state=denied", &w.bob)
        .await;
    assert_eq!(denied_only.as_array().unwrap().len(), 1, "{denied_only}");
    assert_eq!(denied_only[0]["id"], denied.as_str());
    w.server.shutdown().await;
}

async fn undecided_requests_lapse(db: TestDb) {
    let w = world(db).await;
    let id = w
        .opened(
            &w.alice,
            json!({"role": "incident-responder", "duration_minutes": 60, "reason": "on call"}),
        )
        .await;
    w.server.advance(Duration::hours(24));
    let admin = w.server.login("admin", common::ADMIN_PASSWORD).await;
    let bob = w.server.login("bob", USER_PASSWORD).await;
    let (_, view) = w
        .server
        .get(&format!("/api/v1/access/requests/{id}"), &admin)
        .await;
    assert_eq!(view["state"], "lapsed", "{view}");
    let (_, lapsed) = w
        .server
        .get("/api/v1/access/requests?state=lapsed", &bob)
        .await;
    assert_eq!(lapsed.as_array().unwrap().len(), 1, "{lapsed}");
    let (status, body) = w.approve(&bob, &id).await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::CONFLICT, "expired"),
        "{body}"
    );
    w.server.shutdown().await;
}

async fn racing_approvals_grant_once(db: TestDb) {
    let w = world(db).await;
    for round in 0..5 {
        let id = w
            .opened(
                &w.alice,
                json!({"role": "incident-responder", "duration_minutes": 60, "reason": format!("on call {round}")}),
            )
            .await;
        let (first, second) = tokio::join!(w.approve(&w.bob, &id), w.approve(&w.carol, &id));
        let mut statuses = [first.0, second.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{first:?} {second:?}"
        );
        let loser = if first.0 == StatusCode::OK {
            &second.1
        } else {
            &first.1
        };
        assert!(
            ["already_decided", "changed_concurrently"].contains(&problem_code(loser)),
            "{loser}"
        );
        let view = w.request(&id).await;
        assert_eq!(view["state"], "active");
        assert_eq!(view["approvals"].as_array().unwrap().len(), 1, "{view}");
        assert_eq!(
            w.audit_of(&id).await,
            [
                "access.jit.requested",
                "access.jit.approved",
                "access.jit.activated"
            ]
        );
        // Ended so that the next round's request is not for a role already held.
        let (status, body) = w
            .decide(&w.bob, &id, "revoke", json!({"reason": "next round"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    w.server.shutdown().await;
}

async fn bad_input_is_refused_and_changes_nothing(db: TestDb) {
    let w = world(db).await;
    let audited = w.audit_count().await;
    let long_reason = "x".repeat(501);
    let cases = [
        // Unknown names, each naming its field.
        (
            json!({"permission": "audit:nuke", "duration_minutes": 10, "reason": "r"}),
            422,
            "permission",
        ),
        (
            json!({"role": "ghost", "duration_minutes": 10, "reason": "r"}),
            422,
            "role",
        ),
        (
            json!({"role": "!x", "duration_minutes": 10, "reason": "r"}),
            422,
            "role",
        ),
        (
            json!({"role": "auditor", "permission": "audit:read", "duration_minutes": 10, "reason": "r"}),
            422,
            "role",
        ),
        (json!({"duration_minutes": 10, "reason": "r"}), 422, "role"),
        // A role that cannot be requested just in time.
        (
            json!({"role": "user", "duration_minutes": 10, "reason": "r"}),
            422,
            "role",
        ),
        // Reasons: overlong (501 characters) and empty.
        (
            json!({"role": "auditor", "duration_minutes": 10, "reason": long_reason}),
            422,
            "reason",
        ),
        (
            json!({"role": "auditor", "duration_minutes": 10, "reason": " "}),
            422,
            "reason",
        ),
        // Longer than the role's maximum (auditor: 8 hours), or a permission's (1 hour); zero.
        (
            json!({"role": "auditor", "duration_minutes": 481, "reason": "r"}),
            422,
            "duration_minutes",
        ),
        (
            json!({"permission": "audit:read", "duration_minutes": 61, "reason": "r"}),
            422,
            "duration_minutes",
        ),
        (
            json!({"role": "auditor", "duration_minutes": 0, "reason": "r"}),
            422,
            "duration_minutes",
        ),
        // Wrong shapes.
        (
            json!({"role": "auditor", "duration_minutes": -5, "reason": "r"}),
            422,
            "",
        ),
        (
            json!({"role": "auditor", "duration_minutes": 10, "reason": "r", "approver": "me"}),
            422,
            "",
        ),
        // What the requester already holds.
        (
            json!({"permission": "profile:read", "duration_minutes": 10, "reason": "r"}),
            409,
            "",
        ),
    ];
    for (body, status, field) in cases {
        let (got, problem) = w.ask(&w.alice, body.clone()).await;
        assert_eq!(got.as_u16(), status, "{body} → {problem}");
        if !field.is_empty() {
            assert_eq!(problem["code"], "validation_failed", "{body} → {problem}");
            let detail = problem["detail"].as_str().unwrap();
            assert!(
                detail.starts_with(&format!("{field}:")),
                "{body} → {detail}"
            );
        }
    }
    let (_, body) = w
        .ask(
            &w.alice,
            json!({"permission": "profile:read", "duration_minutes": 10, "reason": "r"}),
        )
        .await;
    assert_eq!(problem_code(&body), "already_held");
    // Separation of duties: a security officer may not become an auditor.
    let (status, body) = w
        .ask(
            &w.bob,
            json!({"role": "auditor", "duration_minutes": 10, "reason": "r"}),
        )
        .await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::CONFLICT, "separation_of_duties"),
        "{body}"
    );
    let (_, mine) = w.server.get("/api/v1/access/my-requests", &w.alice).await;
    assert_eq!(mine, json!([]), "no request was stored");
    let (_, everyone) = w.server.get("/api/v1/access/requests", &w.bob).await;
    assert_eq!(everyone, json!([]));
    assert_eq!(w.audit_count().await, audited, "nothing was audited");

    // Decisions that are refused change nothing either.
    let id = w
        .opened(
            &w.bob,
            json!({"permission": "incident:create", "duration_minutes": 30, "reason": "INC-7"}),
        )
        .await;
    let before = w.request(&id).await;
    let audited = w.audit_count().await;
    let (status, body) = w.approve(&w.bob, &id).await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::FORBIDDEN, "self_approval"),
        "{body}"
    );
    let (status, body) = w
        .decide(&w.carol, &id, "deny", json!({"reason": "x".repeat(501)}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = w
        .approve(&w.carol, "01a23f06-1145-753c-a24b-4a320480cf4c")
        .await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::NOT_FOUND, "not_found"),
        "{body}"
    );
    let (status, body) = w.approve(&w.carol, "not-a-uuid").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = w
        .decide(&w.carol, &id, "revoke", json!({"reason": "nothing to end"}))
        .await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::CONFLICT, "not_active"),
        "{body}"
    );
    assert_eq!(w.request(&id).await, before);
    assert_eq!(w.audit_count().await, audited);

    // Once decided, approving or denying again is a conflict and changes nothing.
    assert_eq!(w.approve(&w.carol, &id).await.0, StatusCode::OK);
    let decided = w.request(&id).await;
    let audited = w.audit_count().await;
    let (status, body) = w.approve(&w.admin, &id).await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::CONFLICT, "already_decided"),
        "{body}"
    );
    let (status, body) = w
        .decide(&w.admin, &id, "deny", json!({"reason": "too late"}))
        .await;
    assert_eq!(
        (status, problem_code(&body)),
        (StatusCode::CONFLICT, "already_decided"),
        "{body}"
    );
    assert_eq!(w.request(&id).await, decided);
    assert_eq!(w.audit_count().await, audited);
    w.server.shutdown().await;
}
