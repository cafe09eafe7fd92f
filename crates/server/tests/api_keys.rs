//! API keys end to end over real HTTP, on SQLite and on PostgreSQL, with the clock the test
//! moves: issued once (the only time the key is shown), scoped within the owner's permissions,
//! listed without secrets, revoked by the owner or by someone holding `apikey:revoke`, dead
//! after revocation or expiry, and narrowed when the owner loses a role; bad input changes
//! nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[macro_use]
mod common;

use common::{TestServer, USER_PASSWORD};
use reqwest::StatusCode;
use schild_core::rbac::Permission;
use schild_server::api_keys;
use schild_server::error::ApiError;
use schild_store::testing::TestDb;
use serde_json::{Value, json};
use time::Duration;

on_both_databases!(
    keys_are_issued_listed_revoked_and_expire,
    bad_input_is_refused_and_changes_nothing,
);

/// An administrator; carol, a security officer (`apikey:issue`, `apikey:read`,
/// `apikey:revoke`); ivan, an incident responder (`apikey:read`, `apikey:revoke`); eve, an
/// auditor (`apikey:read`); alice, a plain user (none).
struct World {
    server: TestServer,
    admin: String,
    carol: String,
    carol_id: String,
    ivan: String,
    eve: String,
    alice: String,
}

async fn world(db: TestDb) -> World {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    let carol_id = server
        .create_user_with_roles(&admin, "carol", USER_PASSWORD, &["security-officer"])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (name, role) in [
        ("ivan", "incident-responder"),
        ("eve", "auditor"),
        ("alice", "user"),
    ] {
        server
            .create_user_with_roles(&admin, name, USER_PASSWORD, &[role])
            .await;
    }
    World {
        carol: server.login("carol", USER_PASSWORD).await,
        ivan: server.login("ivan", USER_PASSWORD).await,
        eve: server.login("eve", USER_PASSWORD).await,
        alice: server.login("alice", USER_PASSWORD).await,
        server,
        admin,
        carol_id,
    }
}

impl World {
    async fn issue(&self, token: &str, body: Value) -> (StatusCode, Value) {
        self.server
            .post("/api/v1/api-keys", Some(token), body)
            .await
    }

    async fn mine(&self, token: &str) -> Vec<Value> {
        let (status, body) = self.server.get("/api/v1/api-keys/mine", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array().unwrap().clone()
    }

    async fn authenticate(&self, key: &str) -> Result<Vec<Permission>, ApiError> {
        let state = &self.server.state;
        api_keys::authenticate(state, key, state.now())
            .await
            .map(|caller| caller.permissions.iter().collect())
    }
}

async fn keys_are_issued_listed_revoked_and_expire(db: TestDb) {
    let w = world(db).await;

    // Issuing needs apikey:issue.
    let (status, body) = w
        .issue(
            &w.alice,
            json!({"label": "mine", "scopes": ["profile:read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, issued) = w
        .issue(
            &w.carol,
            json!({"label": "nightly export", "scopes": ["user:read", "session:read"], "expires_in_days": 30}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let key = issued["key"].as_str().unwrap().to_owned();
    let view = &issued["api_key"];
    let prefix = view["prefix"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&format!("schild_{prefix}_")), "{key}");
    assert_eq!(view["owner"], "carol");
    assert_eq!(view["status"], "active");
    assert_eq!(view["scopes"], json!(["user:read", "session:read"]));
    assert_eq!(view["last_used_at"], Value::Null);
    let secret = key.strip_prefix(&format!("schild_{prefix}_")).unwrap();

    // A key carries nothing its owner does not hold.
    let (status, body) = w
        .issue(
            &w.carol,
            json!({"label": "too much", "scopes": ["user:read", "role:manage"]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "scope_not_held");
    assert!(
        body["detail"].as_str().unwrap().contains("role:manage"),
        "{body}"
    );

    // The key authenticates, and its use is recorded; no listing ever shows its secret.
    assert_eq!(
        w.authenticate(&key).await.unwrap(),
        [Permission::UserRead, Permission::SessionRead]
    );
    let mine = w.mine(&w.carol).await;
    assert_eq!(mine.len(), 1);
    assert!(mine[0]["last_used_at"].is_string(), "{}", mine[0]);
    let (status, everyone) = w.server.get("/api/v1/api-keys", &w.eve).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(everyone.as_array().unwrap().len(), 1);
    for listing in [json!(mine), everyone] {
        assert!(!listing.to_string().contains(secret), "{listing}");
    }
    assert!(w.mine(&w.admin).await.is_empty(), "only one's own");

    // Revocation: the auditor may not, a responder may (anyone's), but not through "mine".
    let reason = json!({"reason": "left in a CI log"});
    let (status, _) = w
        .server
        .post(
            &format!("/api/v1/api-keys/{prefix}/revoke"),
            Some(&w.eve),
            reason.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = w
        .server
        .post(
            &format!("/api/v1/api-keys/mine/{prefix}/revoke"),
            Some(&w.ivan),
            reason.clone(),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "ivan cannot issue, so has no own keys"
    );
    let (status, revoked) = w
        .server
        .post(
            &format!("/api/v1/api-keys/{prefix}/revoke"),
            Some(&w.ivan),
            reason.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revoke_reason"], "left in a CI log");
    let (status, again) = w
        .server
        .post(
            &format!("/api/v1/api-keys/{prefix}/revoke"),
            Some(&w.ivan),
            reason.clone(),
        )
        .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_revoked"))
    );
    assert!(matches!(
        w.authenticate(&key).await,
        Err(ApiError::Unauthenticated)
    ));

    // Owners revoke their own through "mine"; someone else's is not found there.
    w.server.advance(Duration::seconds(1));
    let (_, second) = w
        .issue(
            &w.carol,
            json!({"label": "short", "scopes": ["user:read"], "expires_in_days": 1}),
        )
        .await;
    let second_key = second["key"].as_str().unwrap().to_owned();
    let second_prefix = second["api_key"]["prefix"].as_str().unwrap().to_owned();
    let (_, admins) = w
        .issue(
            &w.admin,
            json!({"label": "admin's", "scopes": ["user:read"]}),
        )
        .await;
    let admins_prefix = admins["api_key"]["prefix"].as_str().unwrap();
    let (status, _) = w
        .server
        .post(
            &format!("/api/v1/api-keys/mine/{admins_prefix}/revoke"),
            Some(&w.carol),
            reason.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Expiry: a day later the short key is dead, and listed as expired.
    assert!(w.authenticate(&second_key).await.is_ok());
    w.server.advance(Duration::days(1));
    assert!(matches!(
        w.authenticate(&second_key).await,
        Err(ApiError::Unauthenticated)
    ));
    let carol = w.server.login("carol", USER_PASSWORD).await;
    let statuses: Vec<(String, String)> = w
        .mine(&carol)
        .await
        .iter()
        .map(|k| {
            (
                k["prefix"].as_str().unwrap().to_owned(),
                k["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (second_prefix, "expired".to_owned()),
            (prefix.clone(), "revoked".to_owned())
        ]
    );

    // A key is narrowed to what its owner still holds.
    let (_, third) = w
        .issue(
            &carol,
            json!({"label": "reads", "scopes": ["user:read", "audit:read"]}),
        )
        .await;
    let third_key = third["key"].as_str().unwrap().to_owned();
    let admin = w.server.login("admin", common::ADMIN_PASSWORD).await;
    let (status, _) = w
        .server
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/users/{}/roles/security-officer", w.carol_id),
            Some(&admin),
            Some(json!({"reason": "left the team"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        w.authenticate(&third_key).await.unwrap(),
        [] as [Permission; 0],
        "carol holds neither scope any more"
    );

    let kinds = w.server.audit_kinds(&admin).await;
    let count = |kind: &str| kinds.iter().filter(|k| *k == kind).count();
    assert_eq!((count("apikey.issued"), count("apikey.revoked")), (4, 1));
    w.server.shutdown().await;
}

async fn bad_input_is_refused_and_changes_nothing(db: TestDb) {
    let w = world(db).await;
    let audit_before = w.server.audit_kinds(&w.admin).await.len();
    let long_label = "x".repeat(101);
    for (body, field) in [
        (json!({"label": " ", "scopes": ["user:read"]}), "label"),
        (
            json!({"label": long_label, "scopes": ["user:read"]}),
            "label",
        ),
        (json!({"label": "x", "scopes": []}), "scopes"),
        (json!({"label": "x", "scopes": ["user:delete"]}), "scopes"),
        (
            json!({"label": "x", "scopes": ["user:read"], "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"label": "x", "scopes": ["user:read"], "expires_in_days": 366}),
            "expires_in_days",
        ),
    ] {
        let (status, problem) = w.issue(&w.carol, body.clone()).await;
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
    let (status, _) = w
        .issue(
            &w.carol,
            json!({"label": "x", "scopes": ["user:read"], "owner": "admin"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );

    let (_, issued) = w
        .issue(&w.carol, json!({"label": "real", "scopes": ["user:read"]}))
        .await;
    let prefix = issued["api_key"]["prefix"].as_str().unwrap().to_owned();
    for (path, body, expected) in [
        (
            "/api/v1/api-keys/NOT-AN-ID/revoke",
            json!({"reason": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/api-keys/aaaaaaaaaaaa/revoke",
            json!({"reason": "x"}),
            StatusCode::NOT_FOUND,
        ),
        (
            &format!("/api/v1/api-keys/{prefix}/revoke") as &str,
            json!({"reason": " "}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (status, problem) = w.server.post(path, Some(&w.ivan), body).await;
        assert_eq!(status, expected, "{path}: {problem}");
    }
    let mine = w.mine(&w.carol).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["status"], "active");
    assert_eq!(
        w.server.audit_kinds(&w.admin).await.len(),
        audit_before + 1,
        "only the one real issue was audited"
    );
    w.server.shutdown().await;
}
