//! Every route is authorised, and by exactly the permission it documents.
//!
//! The OpenAPI document lists every route (utoipa-axum registers a route only with its entry),
//! and each authenticated operation names its one permission as its bearer scope. These tests
//! walk that document: an operation without a declaration fails the first test, and the
//! others call every operation over real HTTP to prove the declared permission is the one
//! enforced — for each built-in role, and for a role holding exactly that permission or
//! everything but it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{TestServer, USER_PASSWORD};
use reqwest::{Method, StatusCode};
use schild_core::rbac::{Permission, RoleCatalog};
use schild_store::testing::TestDb;
use serde_json::{Value, json};

/// Operations anyone may call: signing in (password, second factor, security key), first-admin
/// setup, health and the public keys.
const PUBLIC: &[&str] = &[
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/mfa",
    "POST /api/v1/auth/mfa/security-key",
    "POST /api/v1/auth/passwordless/options",
    "POST /api/v1/auth/passwordless",
    "POST /api/v1/auth/refresh",
    "POST /api/v1/setup",
    "GET /healthz",
    "GET /readyz",
    "GET /.well-known/jwks.json",
];

/// Operations any signed-in caller may call whatever their roles: ending one's own sessions
/// must never be refused.
const SESSION_ONLY: &[&str] = &["POST /api/v1/auth/logout", "POST /api/v1/auth/logout-all"];

/// One documented operation and the permission it declares (`None`: public or session-only).
#[derive(Debug, Clone)]
struct Operation {
    method: Method,
    path: String,
    permission: Option<Permission>,
}

impl Operation {
    fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The path with every parameter filled with a value that parses but names nothing.
    fn concrete_path(&self) -> String {
        let mut out = String::new();
        let mut rest = self.path.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find('}')
                .map_or(rest.len(), |e| start + e + 1);
            let name = &rest[start + 1..end - 1];
            out.push_str(match name {
                "ip" => "192.0.2.1",
                "name" | "role" => "no-such-role",
                _ => "01a23f06-1145-753c-a24b-4a320480cf4c",
            });
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }
}

/// Reads the document and each operation's declaration, failing on any that has none.
fn operations(doc: &Value) -> Vec<Operation> {
    let mut found = Vec::new();
    let mut undeclared = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let label = format!("{method} {path}");
            let scopes: Option<Vec<String>> = operation["security"].as_array().map(|reqs| {
                reqs.iter()
                    .flat_map(|req| req["bearer"].as_array().cloned().unwrap_or_default())
                    .map(|scope| scope.as_str().unwrap().to_owned())
                    .collect()
            });
            let permission = match scopes {
                None if PUBLIC.contains(&label.as_str()) => None,
                Some(scopes) if scopes.is_empty() && SESSION_ONLY.contains(&label.as_str()) => None,
                Some(scopes) if scopes.len() == 1 => match Permission::parse(&scopes[0]) {
                    Ok(permission) => Some(permission),
                    Err(error) => {
                        undeclared.push(format!("{label}: {error}"));
                        continue;
                    }
                },
                other => {
                    undeclared.push(format!(
                        "{label}: declares {other:?}; every route names exactly one permission \
                         as its bearer scope, or is listed as public or session-only here"
                    ));
                    continue;
                }
            };
            found.push(Operation {
                method,
                path: path.clone(),
                permission,
            });
        }
    }
    assert!(undeclared.is_empty(), "{}", undeclared.join("\n"));
    found
}

async fn document(server: &TestServer) -> Value {
    let response = server
        .client
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Calls an operation with no body: enough to pass or fail authorisation, never enough to
/// change anything that matters to the test.
async fn call(server: &TestServer, op: &Operation, token: &str) -> (StatusCode, Value) {
    server
        .send(op.method.clone(), &op.concrete_path(), Some(token), None)
        .await
}

/// The start of a body, for failure messages.
fn shown(body: &Value) -> String {
    body.to_string().chars().take(300).collect()
}

fn protected(ops: &[Operation]) -> Vec<(Operation, Permission)> {
    ops.iter()
        .filter_map(|op| op.permission.map(|p| (op.clone(), p)))
        .collect()
}

#[tokio::test]
async fn every_route_declares_a_permission() {
    let Some(db) = TestDb::sqlite().await else {
        return;
    };
    let server = TestServer::start(db).await;
    let ops = operations(&document(&server).await);
    let labels: Vec<String> = ops.iter().map(Operation::label).collect();
    for listed in PUBLIC.iter().chain(SESSION_ONLY) {
        assert!(
            labels.iter().any(|label| label == listed),
            "{listed} is listed here but not served"
        );
    }
    assert!(protected(&ops).len() >= 20, "{labels:?}");

    // The public and session-only lists mean what they say: without a token the protected
    // operations answer 401, the session-only ones too, and the public ones do not.
    for op in &ops {
        let status = server
            .send(op.method.clone(), &op.concrete_path(), None, None)
            .await
            .0;
        if op.permission.is_some() || SESSION_ONLY.contains(&op.label().as_str()) {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{}", op.label());
        } else {
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{}", op.label());
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn each_builtin_role_can_do_exactly_what_its_catalogue_says() {
    for db in [TestDb::sqlite().await, TestDb::postgres().await]
        .into_iter()
        .flatten()
    {
        let server = TestServer::start(db).await;
        let admin = server.setup_admin().await;
        let ops = protected(&operations(&document(&server).await));
        let catalog = RoleCatalog::builtin();
        for role in catalog.iter() {
            let name = role.name().as_str();
            let username = format!("holder-{name}");
            server
                .create_user_with_roles(&admin, &username, USER_PASSWORD, &[name])
                .await;
            let token = server.login(&username, USER_PASSWORD).await;
            for (op, permission) in &ops {
                let (status, body) = call(&server, op, &token).await;
                if role.permissions().contains(permission) {
                    assert_ne!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{name} holds {permission} but {} refused it: {}",
                        op.label(),
                        shown(&body)
                    );
                } else {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{name} lacks {permission} but {} allowed it: {}",
                        op.label(),
                        shown(&body)
                    );
                    assert_eq!(body["code"], "forbidden", "{body}");
                    assert_eq!(
                        body["detail"],
                        format!("this needs the permission {permission}"),
                        "{}",
                        op.label()
                    );
                }
            }
        }
        server.shutdown().await;
    }
}

/// Points the `probe` role at exactly `permissions`; the change applies on the next request.
async fn define_probe(server: &TestServer, admin: &str, permissions: &[Permission]) {
    let (status, body) = server
        .put(
            "/api/v1/roles/probe",
            admin,
            json!({"description": "Authorisation probe.", "permissions": permissions}),
        )
        .await;
    assert!(status.is_success(), "{body}");
}

#[tokio::test]
async fn every_route_enforces_exactly_the_permission_it_declares() {
    let Some(db) = TestDb::sqlite().await else {
        return;
    };
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    define_probe(&server, &admin, &[]).await;
    server
        .create_user_with_roles(&admin, "prober", USER_PASSWORD, &["probe"])
        .await;
    let token = server.login("prober", USER_PASSWORD).await;

    for (op, permission) in protected(&operations(&document(&server).await)) {
        let all_but: Vec<Permission> = Permission::all()
            .iter()
            .copied()
            .filter(|p| *p != permission)
            .collect();
        define_probe(&server, &admin, &all_but).await;
        let (status, body) = call(&server, &op, &token).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{} is allowed without {permission}: {}",
            op.label(),
            shown(&body)
        );

        define_probe(&server, &admin, &[permission]).await;
        let (status, body) = call(&server, &op, &token).await;
        assert_ne!(
            status,
            StatusCode::FORBIDDEN,
            "{} is refused with only {permission}: {}",
            op.label(),
            shown(&body)
        );
    }
    server.shutdown().await;
}
