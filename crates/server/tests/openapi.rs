//! The OpenAPI document and the router agree: every documented operation is served, every
//! operation documents its problem responses, and the document is OpenAPI 3.1.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Method, Request, StatusCode};
use schild_store::testing::TestDb;
use std::net::SocketAddr;
use tower::ServiceExt;

#[tokio::test]
async fn every_documented_operation_is_routed_and_documents_its_errors() {
    let Some(db) = TestDb::sqlite().await else {
        return;
    };
    let state = common::default_state(&db).await;
    let app = schild_server::routes::app(state)
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));

    let response = app
        .clone()
        .oneshot(
            Request::get("/api/v1/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );

    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "only {} paths documented", paths.len());
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path
            .replace("{id}", "01a23f06-1145-753c-a24b-4a320480cf4c")
            .replace("{ip}", "192.0.2.1");
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            operations += 1;
            let request = Request::builder()
                .method(method.clone())
                .uri(&concrete)
                .body(Body::empty())
                .unwrap();
            let status = app.clone().oneshot(request).await.unwrap().status();
            assert!(
                status != StatusCode::NOT_FOUND || path.contains('{'),
                "{method} {path} is documented but not routed"
            );
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed"
            );
            assert!(
                !status.is_server_error(),
                "{method} {path} answered {status} to an empty request"
            );

            let responses = operation["responses"].as_object().unwrap();
            if path.starts_with("/api/v1/") {
                assert!(
                    responses.keys().any(|code| code.starts_with('4')),
                    "{method} {path} documents no 4xx problem response"
                );
            }
            if operation.get("security").is_some() {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} is authenticated but documents no 401"
                );
            }
        }
    }
    assert!(operations >= 22, "only {operations} operations documented");
    db.cleanup().await;
}

/// Schemas are keyed by name in the document: two views of one name (the JIT and the review
/// decision, the retention and the review policy) must not replace each other.
#[test]
fn like_named_views_keep_their_own_schemas() {
    let (_, doc) = schild_server::routes::api();
    let doc = serde_json::to_value(doc).unwrap();
    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("DecisionView", "by"),
        ("ReviewDecisionView", "verdict"),
        ("PolicyView", "keep_days"),
        ("ReviewPolicyView", "auto_revoke"),
    ] {
        assert!(
            schemas[schema]["properties"][field].is_object(),
            "{schema} lacks {field}: {}",
            schemas[schema]
        );
    }
}
