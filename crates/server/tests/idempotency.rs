//! Idempotency keys over real HTTP, on SQLite and on PostgreSQL: a write sent twice with the same
//! key is carried out once and the repeat says so; the same key for a different request, a key
//! that is not valid, and a repeat while the first still runs are refused; a refused write gives
//! its key back; keys are per account; and the sweep forgets them after a day.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[macro_use]
mod common;

use common::{TestServer, USER_PASSWORD, decode};
use reqwest::StatusCode;
use schild_store::idempotency;
use schild_store::testing::TestDb;
use serde_json::{Value, json};
use sha2::Digest as _;

on_both_databases!(
    a_repeated_write_is_carried_out_once,
    keys_that_cannot_be_used_are_refused_and_change_nothing,
    a_refused_write_gives_its_key_back,
    keys_belong_to_one_account_and_are_forgotten_after_a_day,
);

async fn send_keyed(
    server: &TestServer,
    token: &str,
    key: &str,
    path: &str,
    body: &Value,
) -> (StatusCode, Option<String>, Value) {
    let response = server
        .client
        .post(server.url(path))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let replayed = response
        .headers()
        .get("idempotency-replayed")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, value) = decode(response).await;
    (status, replayed, value)
}

fn request(reason: &str) -> Value {
    json!({ "permission": "audit:read", "duration_minutes": 30, "reason": reason })
}

async fn my_requests(server: &TestServer, token: &str) -> usize {
    let (status, list) = server.get("/api/v1/access/my-requests", token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().unwrap().len()
}

async fn alice(db: TestDb) -> (TestServer, String) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    server
        .create_user_with_roles(&admin, "alice", USER_PASSWORD, &["user"])
        .await;
    let alice = server.login("alice", USER_PASSWORD).await;
    (server, alice)
}

async fn a_repeated_write_is_carried_out_once(db: TestDb) {
    let (server, alice) = alice(db).await;
    let key = "0192e4a0-7c1a-7000-8000-00000000000a";
    let path = "/api/v1/access/requests";
    let (first, replayed, view) =
        send_keyed(&server, &alice, key, path, &request("incident 7")).await;
    assert_eq!(first, StatusCode::CREATED, "{view}");
    assert_eq!(replayed, None);
    let (again, replayed, body) =
        send_keyed(&server, &alice, key, path, &request("incident 7")).await;
    assert_eq!(again, StatusCode::CREATED);
    assert_eq!(replayed.as_deref(), Some("true"));
    assert_eq!(body, json!({ "idempotent_replay": true }));
    assert_eq!(my_requests(&server, &alice).await, 1, "carried out once");
    // Without a key, the same body is a second request, as always.
    let (status, _) = server.post(path, Some(&alice), request("incident 7")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(my_requests(&server, &alice).await, 2);
    server.shutdown().await;
}

async fn keys_that_cannot_be_used_are_refused_and_change_nothing(db: TestDb) {
    let (server, alice) = alice(db).await;
    let path = "/api/v1/access/requests";
    for bad in ["", "has space", "semi;colon", &"k".repeat(65)] {
        let (status, _, problem) = send_keyed(&server, &alice, bad, path, &request("x")).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad:?}: {problem}"
        );
        assert_eq!(problem["code"], "idempotency_key_invalid");
    }
    let (status, _, _) = send_keyed(&server, &alice, "k-1", path, &request("first")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, problem) = send_keyed(&server, &alice, "k-1", path, &request("second")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "idempotency_key_reused");
    assert_eq!(my_requests(&server, &alice).await, 1);

    // A repeat while the first is still running (claimed, not yet answered) waits its turn;
    // a claim whose request died is taken over after a minute.
    let body = request("running");
    let mut digest = sha2::Sha256::new();
    digest.update(format!("POST\n{path}\n"));
    digest.update(serde_json::to_vec(&body).unwrap());
    let fingerprint: [u8; 32] = digest.finalize().into();
    let alice_id = server.get("/api/v1/me", &alice).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut conn = server.state.store().acquire().await.unwrap();
    let claim = idempotency::claim(
        &mut conn,
        &alice_id,
        "k-run",
        &fingerprint,
        server.state.now(),
    )
    .await
    .unwrap();
    assert_eq!(claim, idempotency::Claim::Fresh);
    drop(conn);
    let (status, _, problem) = send_keyed(&server, &alice, "k-run", path, &body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "idempotency_in_progress");
    assert_eq!(my_requests(&server, &alice).await, 1);
    server.advance(idempotency::RUNNING_LIMIT + time::Duration::seconds(1));
    let alice = server.login("alice", USER_PASSWORD).await;
    let (status, replayed, _) = send_keyed(&server, &alice, "k-run", path, &body).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, None));
    assert_eq!(my_requests(&server, &alice).await, 2);
    server.shutdown().await;
}

async fn a_refused_write_gives_its_key_back(db: TestDb) {
    let (server, alice) = alice(db).await;
    let path = "/api/v1/access/requests";
    let too_long =
        json!({ "permission": "audit:read", "duration_minutes": 600, "reason": "all week" });
    let (status, _, _) = send_keyed(&server, &alice, "k-2", path, &too_long).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Corrected, the same key works: the refusal changed nothing and kept nothing.
    let (status, replayed, _) = send_keyed(&server, &alice, "k-2", path, &request("an hour")).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, None));
    assert_eq!(my_requests(&server, &alice).await, 1);
    server.shutdown().await;
}

async fn keys_belong_to_one_account_and_are_forgotten_after_a_day(db: TestDb) {
    let (server, alice) = alice(db).await;
    let admin = server.login("admin", common::ADMIN_PASSWORD).await;
    let path = "/api/v1/access/requests";
    let (status, _, _) = send_keyed(&server, &alice, "shared", path, &request("alice's")).await;
    assert_eq!(status, StatusCode::CREATED);
    // The same key from another account is that account's own, new request.
    let admin_body =
        json!({ "role": "security-officer", "duration_minutes": 30, "reason": "admin's" });
    let (status, replayed, view) = send_keyed(&server, &admin, "shared", path, &admin_body).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, None), "{view}");

    // A day later the sweep has forgotten the key: sending it again is a new request.
    server.advance(time::Duration::days(1) + time::Duration::minutes(2));
    let alice = server.login("alice", USER_PASSWORD).await;
    let swept = schild_server::access::sweep::once(&server.state, Default::default())
        .await
        .unwrap();
    assert!(swept.idempotency_keys_purged >= 2, "{swept:?}");
    let (status, replayed, _) =
        send_keyed(&server, &alice, "shared", path, &request("alice's")).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, None));
    assert_eq!(my_requests(&server, &alice).await, 2);
    server.shutdown().await;
}
