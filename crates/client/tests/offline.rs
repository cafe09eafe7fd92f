//! The offline promise, end to end against the real backend: writes made while the backend is
//! stopped are kept (also across a restart of the desktop's own database), and when the backend
//! is back every one of them is carried out exactly once — including one whose first delivery
//! reached the backend but whose answer was lost, and none dropped when the backend refuses one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Running;
use schild_client::outbox::{self, Stopped};
use schild_client::{ApiRequest, Client, Method};
use schild_server::serve::Transport;
use schild_store::Store;
use serde_json::{Value, json};
use std::path::Path;

const ADMIN_PASSWORD: &str = "correct horse battery staple 42";
const OLGA_PASSWORD: &str = "tangerine orbit lantern violin 7";

async fn start(dir: &Path, port: u16) -> Running {
    common::start(
        dir,
        port,
        Transport::Plain {
            allow_insecure: false,
        },
    )
    .await
}

fn url(running: &Running) -> String {
    format!("http://{}", running.addr)
}

fn request(method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> ApiRequest {
    ApiRequest {
        method,
        path: path.to_owned(),
        authorization: token.map(|t| format!("Bearer {t}")),
        idempotency_key: None,
        body: body.map(|b| b.to_string()),
    }
}

async fn call(
    client: &Client,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Value {
    let answer = client
        .send(&request(method, path, token, body))
        .await
        .unwrap();
    assert!(
        answer.succeeded(),
        "{method:?} {path}: {} {}",
        answer.status,
        answer.body
    );
    serde_json::from_str(&answer.body).unwrap_or(Value::Null)
}

async fn sign_in(client: &Client, username: &str, password: &str) -> String {
    let answer = call(
        client,
        Method::Post,
        "/api/v1/auth/login",
        None,
        Some(json!({ "username": username, "password": password })),
    )
    .await;
    answer["access_token"].as_str().unwrap().to_owned()
}

fn jit(reason: &str, minutes: u32) -> ApiRequest {
    request(
        Method::Post,
        "/api/v1/access/requests",
        None,
        Some(json!({ "permission": "audit:read", "duration_minutes": minutes, "reason": reason })),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_made_offline_are_carried_out_exactly_once_when_the_backend_returns() {
    let server_dir = tempfile::tempdir().unwrap();
    let desktop_dir = tempfile::tempdir().unwrap();
    let local_url = format!("sqlite://{}", desktop_dir.path().join("local.db").display());

    // The backend, its first administrator, and olga.
    let backend = start(server_dir.path(), 0).await;
    let port = backend.addr.port();
    let setup_token = schild_server::auth::setup::issue_token_if_needed(&backend.state)
        .await
        .unwrap()
        .unwrap();
    let client = Client::new(&url(&backend), None).unwrap();
    call(
        &client,
        Method::Post,
        "/api/v1/setup",
        None,
        Some(json!({ "setup_token": setup_token.expose(), "username": "admin", "display_name": "Ada", "password": ADMIN_PASSWORD })),
    )
    .await;
    let admin = sign_in(&client, "admin", ADMIN_PASSWORD).await;
    let olga_view = call(
        &client,
        Method::Post,
        "/api/v1/admin/users",
        Some(&admin),
        Some(json!({ "username": "olga", "display_name": "Olga", "password": OLGA_PASSWORD })),
    )
    .await;
    let olga_id = olga_view["id"].as_str().unwrap().to_owned();
    let olga = sign_in(&client, "olga", OLGA_PASSWORD).await;
    let bearer = format!("Bearer {olga}");

    // The backend stops. Olga keeps working: three requests and one the backend will refuse
    // (longer than a single permission may be held).
    backend.stop().await;
    let local = Store::connect(&local_url).await.unwrap();
    let reasons = [
        "incident 41: read the audit log",
        "incident 41: second look",
        "incident 41: report",
    ];
    for reason in reasons {
        let mut write = jit(reason, 30);
        write.authorization = Some(bearer.clone());
        let kept = outbox::send_or_queue(&local, &client, &olga_id, &write)
            .await
            .unwrap();
        assert!(
            matches!(kept, outbox::Delivery::Queued(_)),
            "sent although the backend is stopped"
        );
    }
    let mut refused = jit("incident 41: all week", 600);
    refused.authorization = Some(bearer.clone());
    outbox::send_or_queue(&local, &client, &olga_id, &refused)
        .await
        .unwrap();
    // Reads are never queued: they fail as offline.
    assert!(matches!(
        outbox::send_or_queue(
            &local,
            &client,
            &olga_id,
            &request(Method::Get, "/api/v1/me", Some(&olga), None)
        )
        .await,
        Err(schild_client::ClientError::Unreachable)
    ));
    // A round while still offline sends nothing and loses nothing.
    let report = outbox::sync(&local, &client, &olga_id, &bearer, |_| {})
        .await
        .unwrap();
    assert_eq!(
        (report.sent, report.remaining, report.stopped),
        (0, 4, Stopped::Offline)
    );

    // The desktop closes and opens again: the queue is still there, in order, without tokens.
    local.close().await;
    let local = Store::connect(&local_url).await.unwrap();
    let queued = outbox::entries(&local).await.unwrap();
    assert_eq!(queued.len(), 4);
    assert!(queued.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert!(
        queued
            .iter()
            .all(|entry| !entry.body.as_deref().unwrap_or("").contains(&olga))
    );

    // The backend returns. The first entry reached it once already and only the answer was
    // lost: deliver it by hand with its key, as an interrupted earlier round would have.
    let backend = start(server_dir.path(), port).await;
    let mut first = jit(reasons[0], 30);
    first.authorization = Some(bearer.clone());
    first.idempotency_key = Some(queued[0].id.to_string());
    assert!(client.send(&first).await.unwrap().succeeded());

    // Someone else's token cannot send olga's queue as theirs: it is olga's to send.
    let admin_round = outbox::sync(
        &local,
        &client,
        "someone-else",
        &format!("Bearer {admin}"),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(admin_round.sent + admin_round.refused, 0);

    let mut seen = Vec::new();
    let report = outbox::sync(&local, &client, &olga_id, &bearer, |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(report.sent, 2, "{report:?}");
    assert_eq!(report.already_done, 1, "{report:?}");
    assert_eq!(report.refused, 1, "{report:?}");
    assert_eq!(report.remaining, 0);
    assert_eq!(report.stopped, Stopped::Done);
    assert_eq!(seen.last().map(|p| (p.done, p.total)), Some((4, 4)));

    // Exactly once each, in the order they were made.
    let mine = call(
        &client,
        Method::Get,
        "/api/v1/access/my-requests",
        Some(&olga),
        None,
    )
    .await;
    let mut made: Vec<String> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap().to_owned())
        .collect();
    made.sort();
    let mut expected: Vec<String> = reasons.iter().map(|r| (*r).to_owned()).collect();
    expected.sort();
    assert_eq!(made, expected);

    // The refused one stays, with the backend's reason, until olga discards it.
    let left = outbox::entries(&local).await.unwrap();
    assert_eq!(left.len(), 1);
    let why: outbox::Refusal = serde_json::from_str(left[0].refused.as_deref().unwrap()).unwrap();
    assert_eq!(
        (why.status, why.code.as_str()),
        (422, "validation_failed"),
        "{why:?}"
    );
    assert!(outbox::discard(&local, left[0].id).await.unwrap());
    assert!(outbox::entries(&local).await.unwrap().is_empty());

    // A second round has nothing to do, and nothing was carried out twice.
    let again = outbox::sync(&local, &client, &olga_id, &bearer, |_| {})
        .await
        .unwrap();
    assert_eq!((again.sent, again.already_done, again.refused), (0, 0, 0));
    let mine = call(
        &client,
        Method::Get,
        "/api/v1/access/my-requests",
        Some(&olga),
        None,
    )
    .await;
    assert_eq!(mine.as_array().unwrap().len(), 3);
    backend.stop().await;
}
