//! Every class of bad input gets a 4xx problem+json, never a 500, and changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::TestServer;
use reqwest::StatusCode;
use schild_store::testing::TestDb;
use serde_json::{Value, json};
use time::Duration;

/// Number of audit events and accounts: what a bad request must leave untouched.
async fn footprint(server: &TestServer, admin: &str) -> (usize, usize) {
    let (_, audit) = server.get("/api/v1/admin/audit?limit=1000", admin).await;
    let (_, users) = server.get("/api/v1/admin/users", admin).await;
    (
        audit.as_array().unwrap().len(),
        users.as_array().unwrap().len(),
    )
}

async fn raw(
    server: &TestServer,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut request = server.client.post(server.url(path)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    common::decode(request.send().await.unwrap()).await
}

/// A refused request: its name, content type, body, and the expected status and problem code.
type Case = (
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    StatusCode,
    &'static str,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_are_refused_without_side_effects() {
    let Some(db) = TestDb::sqlite().await else {
        return;
    };
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    let before = footprint(&server, &admin).await;
    let json_type = Some("application/json");
    let login = "/api/v1/auth/login";

    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            json_type,
            b"{\"username\": \"admin\",".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "not an object",
            json_type,
            b"[1, 2, 3]".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "wrong content type",
            Some("text/plain"),
            br#"{"username":"admin","password":"x"}"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "no content type",
            None,
            br#"{"username":"admin","password":"x"}"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "oversized body",
            json_type,
            format!(
                r#"{{"username":"admin","password":"{}"}}"#,
                "x".repeat(64 * 1024)
            )
            .into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "unknown field",
            json_type,
            br#"{"username":"admin","password":"x","is_admin":true}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "missing field",
            json_type,
            br#"{"username":"admin"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "wrong type",
            json_type,
            br#"{"username":42,"password":"x"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "overlong username",
            json_type,
            format!(r#"{{"username":"{}","password":"x"}}"#, "a".repeat(300)).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "overlong password",
            json_type,
            format!(
                r#"{{"username":"admin","password":"{}"}}"#,
                "p".repeat(2000)
            )
            .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "invalid UTF-8",
            json_type,
            b"{\"username\":\"ad\xff\xfemin\",\"password\":\"x\"}".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
    ];
    for (name, content_type, body, status, code) in cases {
        let (got, problem) = raw(&server, login, content_type, body).await;
        assert_eq!(got, status, "{name}: {problem}");
        assert_eq!(problem["code"], code, "{name}: {problem}");
        assert_eq!(problem["status"], status.as_u16(), "{name}");
        assert!(
            problem["title"].is_string() && problem["recommendation"].is_string(),
            "{name}: {problem}"
        );
    }

    // The same strictness on an authenticated route that writes.
    let (status, problem) = server
        .post(
            "/api/v1/admin/users",
            Some(&admin),
            json!({"username": "x".repeat(65), "display_name": "X", "password": "tangerine orbit lantern violin 7"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, problem) = server
        .post(
            "/api/v1/admin/users",
            Some(&admin),
            json!({"username": "mallory", "display_name": "M", "password": "password123", "roles": ["root"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, problem) = server
        .post(
            "/api/v1/admin/users",
            Some(&admin),
            json!({"username": "mallory", "display_name": "M", "password": "password1234"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "weak_password");
    let (status, problem) = server
        .post(
            "/api/v1/admin/ip-blocks",
            Some(&admin),
            json!({"ip": "300.1.1.1", "minutes": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, problem) = server
        .post(
            "/api/v1/admin/ip-blocks",
            Some(&admin),
            json!({"ip": "192.0.2.1", "minutes": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, problem) = server.get("/api/v1/admin/audit?limit=0", &admin).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, problem) = server
        .get("/api/v1/admin/users/not-a-uuid/sessions", &admin)
        .await;
    assert!(status.is_client_error(), "{status} {problem}");
    let (status, problem) = server.get("/api/v1/no/such/route", &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    let (status, problem) = server
        .send(reqwest::Method::PUT, "/api/v1/auth/login", None, None)
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{problem}");

    assert_eq!(
        footprint(&server, &admin).await,
        before,
        "a refused request changed something"
    );
    server.shutdown().await;
}

fn split(token: &str) -> (Value, String, String) {
    let mut parts = token.split('.');
    let header = parts.next().unwrap();
    let payload = parts.next().unwrap().to_owned();
    let signature = parts.next().unwrap().to_owned();
    (
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap(),
        payload,
        signature,
    )
}

fn encode_header(header: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_expired_tokens_are_refused() {
    let Some(db) = TestDb::sqlite().await else {
        return;
    };
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    let before = footprint(&server, &admin).await;
    let (header, payload, signature) = split(&admin);
    assert_eq!(header["alg"], "EdDSA");

    let mut flipped = signature.clone().into_bytes();
    flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
    let forged_signature = format!(
        "{}.{payload}.{}",
        encode_header(&header),
        String::from_utf8(flipped).unwrap()
    );

    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&payload).unwrap()).unwrap();
    claims["roles"] = json!(["admin", "superuser"]);
    let forged_claims = format!(
        "{}.{}.{signature}",
        encode_header(&header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );

    let mut none = header.clone();
    none["alg"] = json!("none");
    let alg_none = format!("{}.{payload}.", encode_header(&none));

    let mut hs = header.clone();
    hs["alg"] = json!("HS256");
    let alg_hs256 = format!("{}.{payload}.{signature}", encode_header(&hs));

    let mut unknown_kid = header.clone();
    unknown_kid["kid"] = json!("no-such-key");
    let wrong_kid = format!("{}.{payload}.{signature}", encode_header(&unknown_kid));

    let mut no_kid = header.clone();
    no_kid.as_object_mut().unwrap().remove("kid");
    let missing_kid = format!("{}.{payload}.{signature}", encode_header(&no_kid));

    for (name, token) in [
        ("forged signature", forged_signature.as_str()),
        ("forged claims", forged_claims.as_str()),
        ("alg none", alg_none.as_str()),
        ("alg HS256", alg_hs256.as_str()),
        ("unknown kid", wrong_kid.as_str()),
        ("missing kid", missing_kid.as_str()),
        ("garbage", "not.a.jwt"),
        ("empty", ""),
    ] {
        let (status, problem) = server.get("/api/v1/admin/users", token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {problem}");
        assert_eq!(problem["code"], "unauthenticated", "{name}: {problem}");
    }
    let response = server
        .client
        .get(server.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");

    // A refresh token that is not even well-formed.
    let (status, problem) = server
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": "not-a-refresh-token"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
    assert_eq!(problem["code"], "refresh_invalid");

    assert_eq!(footprint(&server, &admin).await, before);

    server
        .clock
        .advance(Duration::minutes(15) + Duration::seconds(1));
    let (status, problem) = server.get("/api/v1/me", &admin).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
    assert_eq!(problem["code"], "token_expired");
    server.shutdown().await;
}
