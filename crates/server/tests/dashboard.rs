//! The dashboard's figures over real HTTP, on SQLite and on PostgreSQL, with the clock the test
//! moves: failed sign-ins land in their UTC day, lockouts and blocks are counted, live sessions
//! and security keys (per model and by age) are what the database holds; only `metrics:read`
//! sees them, and a bad period is refused. The same figures drawn as a report: an SVG that parses
//! and names the period and the failures, a PNG of the page's size that is not blank.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[macro_use]
mod common;

use common::{ORIGIN, TestServer, USER_PASSWORD};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use schild_core::authenticator::SecurityKeyPolicy;
use schild_core::clock::Clock;
use schild_store::testing::TestDb;
use serde_json::{Value, json};
use time::Duration;
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softtoken::SoftToken;

on_both_databases!(
    figures_follow_what_happens,
    only_metrics_read_sees_it,
    report_draws_the_figures,
    report_needs_metrics_read_and_a_valid_request
);

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
    let vault_keys = empty["vault_keys"].as_array().unwrap();
    assert_eq!(vault_keys.len(), 1, "the backend's own vault: {empty}");
    assert_eq!(vault_keys[0]["vault"], "schild-server", "{empty}");
    assert_eq!(vault_keys[0]["version"], 1, "{empty}");
    assert_eq!(vault_keys[0]["age_days"], 0, "{empty}");
    assert_eq!(vault_keys[0]["rotation_days"], 90, "{empty}");

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
    assert_eq!(
        body["vault_keys"][0]["age_days"], 41,
        "a day and forty since the first start: {body}"
    );

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

/// A report as served: status, media type, file name and bytes.
struct Report {
    status: StatusCode,
    content_type: String,
    disposition: String,
    bytes: Vec<u8>,
}

async fn report(server: &TestServer, token: &str, query: &str) -> Report {
    let response = server
        .client
        .get(server.url(&format!("/api/v1/dashboard/report{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|value: &reqwest::header::HeaderValue| value.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (content_type, disposition) = (header(CONTENT_TYPE), header(CONTENT_DISPOSITION));
    Report {
        status: response.status(),
        content_type,
        disposition,
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

/// Every text node of an SVG document, failing on anything that is not well-formed XML with an
/// `svg` root.
fn svg_texts(svg: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(svg);
    let (mut texts, mut root) = (Vec::new(), None);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(element) | Event::Empty(element) => {
                root.get_or_insert_with(|| element.name().as_ref().to_owned());
            }
            Event::Text(text) => texts.push(text.xml10_content().trim().to_owned()),
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(root.as_deref(), Some("svg"));
    texts.retain(|text| !text.is_empty());
    texts
}

/// Saves a rendered report where `SCHILD_REPORT_OUT` names a folder, to look at it.
fn keep(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("SCHILD_REPORT_OUT") {
        std::fs::write(std::path::Path::new(&dir).join(name), bytes).unwrap();
    }
}

async fn report_draws_the_figures(db: TestDb) {
    let server = TestServer::start_with_keys(db, SecurityKeyPolicy::default()).await;
    let admin = server.setup_admin().await;
    server.create_user(&admin, "alice", USER_PASSWORD).await;
    server.create_user(&admin, "bob", USER_PASSWORD).await;

    // Three failures yesterday, four today; a key registered by alice.
    for _ in 0..3 {
        fail_login(&server, "alice").await;
    }
    server.advance(Duration::days(1));
    for _ in 0..4 {
        fail_login(&server, "bob").await;
    }
    let alice = server.login("alice", USER_PASSWORD).await;
    register_key(&server, &alice).await;
    let admin = server.login("admin", common::ADMIN_PASSWORD).await;

    let today = server.clock.now().date();
    let first = today - Duration::days(6);
    let svg = report(&server, &admin, "?days=7&format=svg").await;
    assert_eq!(svg.status, StatusCode::OK);
    assert_eq!(svg.content_type, "image/svg+xml");
    assert_eq!(
        svg.disposition,
        format!("attachment; filename=\"schild-dashboard-{today}.svg\"")
    );
    keep("dashboard-report.svg", &svg.bytes);
    let texts = svg_texts(std::str::from_utf8(&svg.bytes).unwrap());
    let period = format!("Period: {first} to {today} (7 days, UTC)");
    assert!(
        texts.iter().any(|text| text.starts_with(&period)),
        "{period} in {texts:?}"
    );
    for expected in [
        "Failed sign-ins per day (UTC): 7 in 7 days",
        "Security keys per model",
        "Unknown model 0fb9bcbc",
        "Age of active security keys",
        "schild-server v1, due every 90 d",
    ] {
        assert!(
            texts.iter().any(|text| text == expected),
            "{expected} in {texts:?}"
        );
    }
    // The figures' tiles: a label, then its value.
    let after = |label: &str| {
        let at = texts.iter().position(|text| text == label).unwrap();
        texts[at + 1].clone()
    };
    assert_eq!(after("Failed sign-ins"), "7");
    assert_eq!(after("Active sessions"), "3", "admin twice and alice");
    assert_eq!(after("Accounts locked now"), "0");

    // The same page in pixels; the bars are there in their colour.
    let png = report(&server, &admin, "?format=png&days=7").await;
    assert_eq!(png.status, StatusCode::OK);
    assert_eq!(png.content_type, "image/png");
    assert_eq!(
        png.disposition,
        format!("attachment; filename=\"schild-dashboard-{today}.png\"")
    );
    assert!(png.bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    keep("dashboard-report.png", &png.bytes);
    let image = image::load_from_memory(&png.bytes).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), (1200, 940));
    let colours: std::collections::HashSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
    assert!(colours.len() > 8, "{} colours", colours.len());
    let failed_bar = [0xdc, 0x26, 0x26];
    let bar_pixels = image.pixels().filter(|p| p.0 == failed_bar).count();
    assert!(
        bar_pixels > 1000,
        "{bar_pixels} pixels of the failed sign-ins' bars"
    );
    let active_key = [0x25, 0x63, 0xeb];
    let key_pixels = image.pixels().filter(|p| p.0 == active_key).count();
    assert!(
        key_pixels > 5000,
        "{key_pixels} pixels of alice's key's bar"
    );

    // SVG is the default.
    let default = report(&server, &admin, "").await;
    assert_eq!(default.status, StatusCode::OK);
    assert_eq!(default.content_type, "image/svg+xml");
    let texts = svg_texts(std::str::from_utf8(&default.bytes).unwrap());
    assert!(
        texts
            .iter()
            .any(|text| text == "Failed sign-ins per day (UTC): 7 in 14 days"),
        "{texts:?}"
    );

    server.shutdown().await;
}

async fn report_needs_metrics_read_and_a_valid_request(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    server
        .create_user_with_roles(&admin, "eve", USER_PASSWORD, &["auditor"])
        .await;
    server.create_user(&admin, "alice", USER_PASSWORD).await;
    let eve = server.login("eve", USER_PASSWORD).await;
    let alice = server.login("alice", USER_PASSWORD).await;

    assert_eq!(
        report(&server, &eve, "?format=png").await.status,
        StatusCode::OK
    );
    let refused = report(&server, &alice, "?format=png").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.content_type, "application/problem+json");
    let body: Value = serde_json::from_slice(&refused.bytes).unwrap();
    assert_eq!(body["code"], "forbidden", "{body}");

    for bad in [
        "?format=gif",
        "?format=PNG",
        "?days=0",
        "?days=91",
        "?days=100000",
        "?days=-1",
        "?days=7&size=a4",
    ] {
        let answer = report(&server, &admin, bad).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(answer.content_type, "application/problem+json", "{bad}");
        let body: Value = serde_json::from_slice(&answer.bytes).unwrap();
        assert_eq!(body["code"], "validation_failed", "{bad}: {body}");
    }

    server.shutdown().await;
}
