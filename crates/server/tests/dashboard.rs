//! The dashboard's figures over real HTTP, on SQLite and on PostgreSQL, with the clock the test
//! moves: failed sign-ins land in their UTC day, lockouts and blocks are counted, live sessions
//! and security keys (per model and by age) are what the database holds; only `metrics:read`
//! sees them, and a bad period is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[macro_use]
mod common;

use common::{ORIGIN, TestServer, USER_PASSWORD};
use reqwest::StatusCode;
use schild_core::authenticator::SecurityKeyPolicy;
use schild_store::testing::TestDb;
use serde_json::{Value, json};
use time::Duration;
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softtoken::SoftToken;

on_both_databases!(figures_follow_what_happens, only_metrics_read_sees_it);

async fn fail_login(server: &TestServer, username: &str) {
    let (status, body) = server
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": username, "password": "not the password at all"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

async fn dashboard(server: &TestServer, token: &str, query: &str) -> Value {
    let (status, body) = server
        .get(&format!("/api/v1/dashboard{query}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn counts(body: &Value) -> Vec<u64> {
    body["failed_sign_ins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|day| day["count"].as_u64().unwrap())
        .collect()
}

async fn register_key(server: &TestServer, access: &str) {
    let mut token = SoftToken::new(true).unwrap().0;
    let (status, ceremony) = server
        .post(
            "/api/v1/me/security-keys/options",
            Some(access),
            json!({"password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ceremony}");
    let options = serde_json::from_value(ceremony["options"].clone()).unwrap();
    let origin: Url = ORIGIN.parse().unwrap();
    let credential = token.do_registration(origin, options).unwrap();
    let (status, body) = server
        .post(
            "/api/v1/me/security-keys",
            Some(access),
            json!({"ceremony_id": ceremony["ceremony_id"], "name": "blue key", "credential": credential}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn figures_follow_what_happens(db: TestDb) {
    let server = TestServer::start_with_keys(db, SecurityKeyPolicy::default()).await;
    let admin = server.setup_admin().await;
    server.create_user(&admin, "alice", USER_PASSWORD).await;
    server.create_user(&admin, "bob", USER_PASSWORD).await;

    let empty = dashboard(&server, &admin, "").await;
    assert_eq!(counts(&empty), vec![0; 14], "{empty}");
    assert_eq!(empty["active_sessions"], 1, "{empty}");
    assert_eq!(empty["keys_by_model"], json!([]), "{empty}");
    let ages = empty["key_age"].as_array().unwrap();
    assert_eq!(ages.len(), 5, "{empty}");
    assert_eq!(ages[0], json!({"min_days": 0, "max_days": 30, "count": 0}));
    assert_eq!(
        ages[4],
        json!({"min_days": 365, "max_days": null, "count": 0})
    );

    // Two failures yesterday, five today (which lock bob), and a key registered by alice.
    fail_login(&server, "alice").await;
    fail_login(&server, "nobody-at-all").await;
    server.advance(Duration::days(1));
    for _ in 0..5 {
        fail_login(&server, "bob").await;
    }
    let alice = server.login("alice", USER_PASSWORD).await;
    register_key(&server, &alice).await;
    // The first access token expired with the day; the admin's first session lives on.
    let admin = server.login("admin", common::ADMIN_PASSWORD).await;

    let body = dashboard(&server, &admin, "?days=3").await;
    let per_day = counts(&body);
    assert_eq!(per_day.len(), 3, "{body}");
    assert_eq!(per_day[1..], [2, 5], "{body}");
    let days = body["failed_sign_ins"].as_array().unwrap();
    assert!(
        days[2]["day"].as_str().unwrap().ends_with("T00:00:00Z"),
        "days start at midnight UTC: {body}"
    );
    assert_eq!(body["lockouts"], 1, "{body}");
    assert_eq!(body["locked_accounts"], 1, "{body}");
    assert_eq!(body["blocked_ips"], 0, "{body}");
    assert_eq!(body["active_sessions"], 3, "admin twice and alice: {body}");
    assert_eq!(
        body["keys_by_model"],
        json!([{"aaguid": "0fb9bcbc-a0d4-4042-bbb0-559bc1631e28", "model": null,
                "active": 1, "blocked": 0, "revoked": 0}]),
        "{body}"
    );
    assert_eq!(body["key_age"][0]["count"], 1, "{body}");

    // A manual block is counted; after 40 days the key moves to the next age bucket and the
    // old failures leave the window.
    let (status, block) = server
        .post(
            "/api/v1/admin/ip-blocks",
            Some(&admin),
            json!({"ip": "192.0.2.7", "minutes": 60, "note": "scanner"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{block}");
    let body = dashboard(&server, &admin, "").await;
    assert_eq!(body["ip_blocks"], 1, "{body}");
    assert_eq!(body["blocked_ips"], 1, "{body}");

    server.advance(Duration::days(40));
    let admin = server.login("admin", common::ADMIN_PASSWORD).await;
    let body = dashboard(&server, &admin, "").await;
    assert_eq!(counts(&body), vec![0; 14], "{body}");
    assert_eq!(body["lockouts"], 0, "{body}");
    assert_eq!(body["locked_accounts"], 0, "{body}");
    assert_eq!(body["blocked_ips"], 0, "{body}");
    assert_eq!(body["key_age"][0]["count"], 0, "{body}");
    assert_eq!(body["key_age"][1]["count"], 1, "{body}");

    server.shutdown().await;
}

async fn only_metrics_read_sees_it(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    server
        .create_user_with_roles(&admin, "eve", USER_PASSWORD, &["auditor"])
        .await;
    server.create_user(&admin, "alice", USER_PASSWORD).await;
    let eve = server.login("eve", USER_PASSWORD).await;
    let alice = server.login("alice", USER_PASSWORD).await;

    dashboard(&server, &eve, "?days=90").await;
    let (status, body) = server.get("/api/v1/dashboard", &alice).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "forbidden", "{body}");
    for bad in ["?days=0", "?days=91", "?days=x", "?since=1"] {
        let (status, body) = server.get(&format!("/api/v1/dashboard{bad}"), &admin).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }

    server.shutdown().await;
}
