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

/// OpenAPI requires every `operationId` to be unique, and code generators refuse the document
/// otherwise; handler names (the default ids) repeat across route modules.
#[test]
fn operation_ids_are_unique() {
    let (_, doc) = schild_server::routes::api();
    let doc = serde_json::to_value(doc).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            if let Some(id) = operation["operationId"].as_str()
                && let Some(first) = seen.insert(id.to_owned(), format!("{method} {path}"))
            {
                panic!("operationId {id} on both {first} and {method} {path}");
            }
        }
    }
}

/// Every `$ref` names a schema the document declares, and query strings are documented as
/// query parameters: generators refuse a dangling reference.
#[test]
fn references_resolve_and_query_parameters_are_queries() {
    fn walk(value: &serde_json::Value, refs: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                    refs.push(target.to_owned());
                }
                map.values().for_each(|v| walk(v, refs));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let (_, doc) = schild_server::routes::api();
    let doc = serde_json::to_value(doc).unwrap();
    let mut refs = Vec::new();
    walk(&doc, &mut refs);
    for target in refs {
        let name = target.trim_start_matches("#/components/schemas/");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling reference {target}"
        );
    }
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "path" {
                    let name = parameter["name"].as_str().unwrap();
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: path parameter {name} is not in the path"
                    );
                }
            }
        }
    }
}
