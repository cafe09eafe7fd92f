//! What authorisation costs inside an authenticated request.
//!
//! `authz/permissions_of` is the per-request work the `Authorized<…>` extractor adds: the
//! account's current roles and active just-in-time grants read from the database, resolved
//! against the cached role catalogue, and one bit tested. `request/…` is a whole authenticated
//! request through the router (token verification, session check, authorisation, handler,
//! JSON) for a route whose handler does almost nothing else, so the ratio of the two is the
//! share authorisation takes. Both on SQLite in a temporary directory, and on the local
//! PostgreSQL when it is reachable.
//!
//! Run with `cargo bench -p schild-server --bench authorization`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly by design

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use criterion::{Criterion, criterion_group, criterion_main};
use schild_core::clock::SystemClock;
use schild_core::ids::UserId;
use schild_core::lockout::LockoutPolicy;
use schild_core::password::PasswordPolicy;
use schild_server::access::AccessPolicy;
use schild_server::{AppState, Identity};
use schild_store::testing::TestDb;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

struct Fixture {
    db: TestDb,
    state: AppState,
    app: Router,
    token: String,
    user: UserId,
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn post(path: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn get(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

async fn fixture(db: TestDb) -> Fixture {
    let state = AppState::new(
        db.store().clone(),
        Arc::new(SystemClock),
        Identity::default(),
        PasswordPolicy::default(),
        LockoutPolicy::default(),
        AccessPolicy::default(),
        schild_server::auth::security_keys::SecurityKeySettings::default(),
        schild_server::sealing::Sealing::new(Arc::new(
            schild_core::vault::LocalKek::new("bench:kek;v=1", zeroize::Zeroizing::new([7; 32]))
                .unwrap(),
        )),
    )
    .await
    .unwrap();
    let app = schild_server::routes::app(state.clone())
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let setup = schild_server::auth::setup::issue_token_if_needed(&state)
        .await
        .unwrap()
        .unwrap();
    let password = "correct horse battery staple 42";
    let (status, _) = send(
        &app,
        post(
            "/api/v1/setup",
            &json!({"setup_token": setup.expose(), "username": "admin", "display_name": "Admin", "password": password}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, tokens) = send(
        &app,
        post(
            "/api/v1/auth/login",
            &json!({"username": "admin", "password": password}),
        ),
    )
    .await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let (_, me) = send(&app, get("/api/v1/me", &token)).await;
    let user = UserId(me["id"].as_str().unwrap().parse().unwrap());
    Fixture {
        db,
        state,
        app,
        token,
        user,
    }
}

fn authorization(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let databases = runtime.block_on(async {
        [
            ("sqlite", TestDb::sqlite().await),
            ("postgres", TestDb::postgres().await),
        ]
    });
    for (name, db) in databases {
        let Some(db) = db else { continue };
        let fixture = runtime.block_on(fixture(db));
        c.bench_function(&format!("authz/permissions_of/{name}"), |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let now = fixture.state.now();
                    let set = fixture
                        .state
                        .authz()
                        .permissions_of(fixture.state.store(), fixture.user, now)
                        .await
                        .unwrap();
                    assert!(set.has(schild_core::rbac::Permission::RoleRead));
                })
            })
        });
        c.bench_function(&format!("request/get_permissions/{name}"), |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let response = fixture
                        .app
                        .clone()
                        .oneshot(get("/api/v1/permissions", &fixture.token))
                        .await
                        .unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                    axum::body::to_bytes(response.into_body(), usize::MAX)
                        .await
                        .unwrap()
                })
            })
        });
        runtime.block_on(fixture.db.cleanup());
    }
}

criterion_group!(benches, authorization);
criterion_main!(benches);
