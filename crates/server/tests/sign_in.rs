//! End to end over real HTTP, on SQLite and on PostgreSQL: first-admin setup, TOTP enrollment,
//! sign-in with password and TOTP, refresh rotation and reuse detection, backup codes, lockout and
//! admin unlock, forced logout, IP blocking and signing-key rotation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[macro_use]
mod common;

use common::{ADMIN_PASSWORD, TestServer, USER_PASSWORD, totp_code};
use reqwest::StatusCode;
use schild_core::clock::Clock;
use schild_core::lockout::LockoutPolicy;
use schild_store::testing::TestDb;
use serde_json::{Value, json};
use std::collections::HashSet;
use time::Duration;

on_both_databases!(
    parallel_guesses_cannot_outrun_the_lock,
    reentered_passwords_count_toward_lockout,
    totp_refresh_and_backup_code_journey,
    lockout_and_admin_unlock,
    forced_logout_ends_the_session_at_once,
    credential_stuffing_blocks_the_address,
    signing_key_rotation_keeps_old_tokens_valid,
);

fn codes(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("codes")
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect()
}

async fn mfa_challenge(server: &TestServer, username: &str, password: &str) -> String {
    let (status, body) = server
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": username, "password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "mfa_required", "{body}");
    assert_eq!(body["methods"], json!(["totp", "backup_code"]));
    body["mfa_token"].as_str().unwrap().to_owned()
}

async fn totp_refresh_and_backup_code_journey(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;

    // Setup works once.
    let (status, body) = server
        .post(
            "/api/v1/setup",
            None,
            json!({"setup_token": "A".repeat(43), "username": "eve", "display_name": "Eve", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "setup_done");

    // Enroll TOTP: not active until confirmed.
    let (status, enrollment) = server
        .post(
            "/api/v1/me/totp/enroll",
            Some(&admin),
            json!({"password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enrollment}");
    let uri = enrollment["otpauth_uri"].as_str().unwrap().to_owned();
    assert!(uri.starts_with("otpauth://totp/Schild:admin?"), "{uri}");
    assert!(enrollment["qr_svg"].as_str().unwrap().contains("<svg"));
    let (_, me) = server.get("/api/v1/me", &admin).await;
    assert_eq!(me["totp_enabled"], false);

    let (status, body) = server
        .post(
            "/api/v1/me/totp/confirm",
            Some(&admin),
            json!({"code": "000000"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let code = totp_code(&uri, server.clock.now());
    let (status, first_set) = server
        .post(
            "/api/v1/me/totp/confirm",
            Some(&admin),
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{first_set}");
    let first_set = codes(&first_set["codes"]);
    assert_eq!(first_set.len(), 10);
    for code in &first_set {
        assert_eq!(code.len(), 14, "{code}");
        assert_eq!(code.matches('-').count(), 2, "{code}");
    }
    let (_, me) = server.get("/api/v1/me", &admin).await;
    assert_eq!(me["totp_enabled"], true);
    assert_eq!(me["backup_codes_left"], 10);

    // Password alone no longer signs in; the code used at confirmation cannot be replayed.
    let challenge = mfa_challenge(&server, "admin", ADMIN_PASSWORD).await;
    let (status, body) = server
        .post(
            "/api/v1/auth/mfa",
            None,
            json!({"mfa_token": challenge, "totp_code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "invalid_second_factor");

    server.clock.advance(Duration::seconds(30));
    let code = totp_code(&uri, server.clock.now());
    let challenge = mfa_challenge(&server, "admin", ADMIN_PASSWORD).await;
    let (status, tokens) = server
        .post(
            "/api/v1/auth/mfa",
            None,
            json!({"mfa_token": challenge, "totp_code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(tokens.get("backup_codes").is_none());

    // Refresh rotates; replaying the old refresh token revokes the whole family.
    let first_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, rotated) = server
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": first_refresh}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_ne!(rotated["refresh_token"], first_refresh);
    assert_eq!(rotated["session_id"], tokens["session_id"]);
    let rotated_access = rotated["access_token"].as_str().unwrap().to_owned();
    let (status, _) = server.get("/api/v1/me", &rotated_access).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = server
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": first_refresh}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "refresh_reused");
    let (status, body) = server
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": rotated["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = server.get("/api/v1/me", &rotated_access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "session_ended");

    // A backup code signs in once, voids the whole set and returns a fresh one.
    let challenge = mfa_challenge(&server, "admin", ADMIN_PASSWORD).await;
    let used = first_set[3].to_uppercase();
    let (status, body) = server
        .post(
            "/api/v1/auth/mfa",
            None,
            json!({"mfa_token": challenge, "backup_code": used}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second_set = codes(&body["backup_codes"]["codes"]);
    assert_eq!(second_set.len(), 10);
    let first: HashSet<_> = first_set.iter().collect();
    assert!(second_set.iter().all(|code| !first.contains(code)));
    let admin = body["access_token"].as_str().unwrap().to_owned();

    for old in [&first_set[3], &first_set[4]] {
        let challenge = mfa_challenge(&server, "admin", ADMIN_PASSWORD).await;
        let (status, body) = server
            .post(
                "/api/v1/auth/mfa",
                None,
                json!({"mfa_token": challenge, "backup_code": old}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // Those two failures count toward lockout; a success clears them.
    let challenge = mfa_challenge(&server, "admin", ADMIN_PASSWORD).await;
    let (status, _) = server
        .post(
            "/api/v1/auth/mfa",
            None,
            json!({"mfa_token": challenge, "backup_code": second_set[0]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let kinds = server.audit_kinds(&admin).await;
    for expected in [
        "setup.completed",
        "mfa.totp.enrollment_started",
        "mfa.totp.enrolled",
        "auth.refresh.reuse_detected",
        "mfa.backup_code.used",
        "mfa.backup_codes.regenerated",
        "auth.login.succeeded",
        "auth.login.failed",
    ] {
        assert!(
            kinds.iter().any(|kind| kind == expected),
            "missing {expected} in {kinds:?}"
        );
    }
    server.shutdown().await;
}

async fn lockout_and_admin_unlock(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    let bob = server.create_user(&admin, "bob", USER_PASSWORD).await;

    for _ in 0..5 {
        let (status, body) = server
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": "bob", "password": "wrong password here"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["code"], "invalid_credentials");
    }
    // Locked: the right password now gets the same answer as a wrong one or an unknown account.
    let (status, locked) = server
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "bob", "password": USER_PASSWORD}),
        )
        .await;
    let (_, unknown) = server
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "nobody", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(locked, unknown);

    let (_, users) = server.get("/api/v1/admin/users", &admin).await;
    let listed = users
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["username"] == "bob")
        .unwrap()
        .clone();
    assert!(listed["locked_until"].is_string(), "{listed}");

    let id = bob["id"].as_str().unwrap();
    let (status, body) = server
        .post(
            &format!("/api/v1/admin/users/{id}/unlock"),
            Some(&admin),
            json!(null),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["was_locked"], true);
    server.login_tokens("bob", USER_PASSWORD).await;
    server.clock.advance(Duration::seconds(1));

    // Locked again, the lock lifts by itself after its backoff period, with a doubled period next time.
    for _ in 0..5 {
        server
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": "bob", "password": "wrong password here"}),
            )
            .await;
    }
    let (status, _) = server
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "bob", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server
        .clock
        .advance(LockoutPolicy::default().base_lock + Duration::seconds(1));
    server.login_tokens("bob", USER_PASSWORD).await;

    let kinds = server.audit_kinds(&admin).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| *kind == "auth.account.locked")
            .count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| *kind == "auth.account.unlocked")
            .count(),
        2,
        "{kinds:?}"
    );
    server.shutdown().await;
}

async fn forced_logout_ends_the_session_at_once(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    let bob = server.create_user(&admin, "bob", USER_PASSWORD).await;
    let tokens = server.login_tokens("bob", USER_PASSWORD).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(server.get("/api/v1/me", access).await.0, StatusCode::OK);

    let (status, sessions) = server
        .get(
            &format!(
                "/api/v1/admin/users/{}/sessions",
                bob["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sessions}");
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    assert_eq!(sessions[0]["ip"], "127.0.0.1");
    assert_eq!(sessions[0]["user_agent"], "schild-e2e");
    let session = sessions[0]["id"].as_str().unwrap();

    let (status, body) = server
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/sessions/{session}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = server.get("/api/v1/me", access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "session_ended");
    let (status, _) = server
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A non-admin cannot use admin routes.
    let bob_access = server.login_tokens("bob", USER_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = server.get("/api/v1/admin/users", &bob_access).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "forbidden");

    // Logout everywhere ends every session of the caller.
    server.login_tokens("bob", USER_PASSWORD).await;
    let (status, body) = server
        .post("/api/v1/auth/logout-all", Some(&bob_access), json!(null))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sessions_ended"], 2);
    assert_eq!(
        server.get("/api/v1/me", &bob_access).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        server
            .audit_kinds(&admin)
            .await
            .iter()
            .any(|kind| kind == "auth.session.forced_logout")
    );
    server.shutdown().await;
}

async fn credential_stuffing_blocks_the_address(db: TestDb) {
    let policy = LockoutPolicy {
        ip_max_failures: 6,
        ip_min_accounts: 3,
        ..LockoutPolicy::default()
    };
    let server = TestServer::start_with(db, policy).await;
    let admin = server.setup_admin().await;
    for attempt in 0..6 {
        let username = format!("victim{}", attempt % 3);
        let (status, _) = server
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": username, "password": "Summer2024!"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, response_body) = server
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "admin", "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{response_body}");
    assert_eq!(response_body["code"], "ip_blocked");

    let (_, blocks) = server.get("/api/v1/admin/ip-blocks", &admin).await;
    assert_eq!(blocks[0]["ip"], "127.0.0.1", "{blocks}");
    assert_eq!(blocks[0]["reason"]["how"], "credential_stuffing");
    let (status, _) = server
        .send(
            reqwest::Method::DELETE,
            "/api/v1/admin/ip-blocks/127.0.0.1",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    server.login_tokens("admin", ADMIN_PASSWORD).await;

    // Manual block, with Retry-After.
    let (status, body) = server
        .post(
            "/api/v1/admin/ip-blocks",
            Some(&admin),
            json!({"ip": "127.0.0.1", "minutes": 5, "note": "test"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let response = server
        .client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry_after), "{retry_after}");
    let kinds = server.audit_kinds(&admin).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| *kind == "net.ip.blocked")
            .count(),
        2,
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|kind| kind == "net.ip.unblocked"));
    server.shutdown().await;
}

async fn signing_key_rotation_keeps_old_tokens_valid(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    let (status, jwks) = server
        .send(reqwest::Method::GET, "/.well-known/jwks.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");

    let (status, rotated) = server
        .post(
            "/api/v1/admin/signing-keys/rotate",
            Some(&admin),
            json!(null),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let (_, jwks) = server
        .send(reqwest::Method::GET, "/.well-known/jwks.json", None, None)
        .await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    // The token signed by the old key still works until it expires.
    assert_eq!(server.get("/api/v1/me", &admin).await.0, StatusCode::OK);
    let fresh = server.login_tokens("admin", ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(server.get("/api/v1/me", &fresh).await.0, StatusCode::OK);

    // Once every token it signed has expired, the old key no longer verifies anything.
    server.clock.advance(Duration::minutes(20));
    let fresh = server.login_tokens("admin", ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = server.get("/api/v1/me", &admin).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthenticated");
    assert_eq!(server.get("/api/v1/me", &fresh).await.0, StatusCode::OK);
    server.shutdown().await;
}

async fn parallel_guesses_cannot_outrun_the_lock(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    server.create_user(&admin, "bob", USER_PASSWORD).await;
    // Every guess is wrong: a right password in the burst would legitimately reset the count
    // whenever it happened to land before the lock.
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..24 {
        let request = server
            .client
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({"username": "bob", "password": format!("wrong guess {i}")}))
            .send();
        burst.spawn(async move { request.await.unwrap().status() });
    }
    let statuses = burst.join_all().await;
    assert!(
        statuses
            .iter()
            .all(|status| *status == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );

    // However the burst interleaves, exactly the policy's five passwords were checked.
    let (_, failed) = server
        .get(
            "/api/v1/admin/audit?kind=auth.login.failed&limit=1000",
            &admin,
        )
        .await;
    let reasons: Vec<_> = failed
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["event"]["reason"].as_str().unwrap_or("").to_owned())
        .collect();
    let checked = reasons.iter().filter(|r| *r == "wrong_password").count();
    let refused = reasons.iter().filter(|r| *r == "locked").count();
    assert_eq!(checked, 5, "{reasons:?}");
    assert_eq!(checked + refused, 24, "{reasons:?}");

    // The account is locked now: even the right password is refused.
    let (status, _) = server
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "bob", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.shutdown().await;
}

async fn reentered_passwords_count_toward_lockout(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    // A stolen access token is no password oracle: wrong re-entered passwords lock the account.
    for _ in 0..5 {
        let (status, body) = server
            .post(
                "/api/v1/me/totp/enroll",
                Some(&admin),
                json!({"password": "not the password"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    let (status, _) = server
        .post(
            "/api/v1/me/totp/enroll",
            Some(&admin),
            json!({"password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the right password must not pass while locked"
    );
    let (status, _) = server
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "admin", "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        server
            .audit_kinds(&admin)
            .await
            .iter()
            .any(|kind| kind == "auth.account.locked")
    );
    server.shutdown().await;
}
