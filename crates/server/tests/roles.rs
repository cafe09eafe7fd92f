//! Custom roles and assignments over real HTTP on both databases: changes take effect on the
//! next request, the rules (separation of duties, no self-assignment, the last administrator)
//! refuse clearly, and a refused change changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[macro_use]
mod common;

use common::{TestServer, USER_PASSWORD};
use reqwest::StatusCode;
use schild_store::testing::TestDb;
use serde_json::{Value, json};

on_both_databases!(
    role_changes_apply_on_the_next_request,
    assignment_rules_refuse_clearly,
    bad_role_definitions_change_nothing,
);

fn id_of(user: &Value) -> String {
    user["id"].as_str().unwrap().to_owned()
}

async fn role_names(server: &TestServer, admin: &str, user: &str) -> Vec<String> {
    let (status, body) = server
        .get(&format!("/api/v1/admin/users/{user}/roles"), admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .unwrap()
        .iter()
        .map(|a| a["role"].as_str().unwrap().to_owned())
        .collect()
}

async fn role_changes_apply_on_the_next_request(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    let (status, role) = server
        .put(
            "/api/v1/roles/helpdesk",
            &admin,
            json!({"description": "Unlocks accounts for callers.", "permissions": ["user:read", "user:unlock"], "max_jit_minutes": 120}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{role}");
    assert_eq!(role["permissions"], json!(["user:read", "user:unlock"]));
    assert_eq!(role["max_jit_minutes"], 120);
    assert_eq!(role["builtin"], false);

    let carol = server
        .create_user_with_roles(&admin, "carol", USER_PASSWORD, &["user"])
        .await;
    let token = server.login("carol", USER_PASSWORD).await;
    assert_eq!(
        server.get("/api/v1/admin/users", &token).await.0,
        StatusCode::FORBIDDEN
    );

    // Assigned: the same access token works at once, no new sign-in needed.
    let (status, body) = server
        .post(
            &format!("/api/v1/admin/users/{}/roles", id_of(&carol)),
            Some(&admin),
            json!({"role": "helpdesk", "reason": "joins the service desk"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["reason"], "joins the service desk");
    assert_eq!(body["username"], "carol");
    assert_eq!(
        server.get("/api/v1/admin/users", &token).await.0,
        StatusCode::OK
    );
    let (_, me) = server.get("/api/v1/me", &token).await;
    assert!(
        me["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("user:unlock")),
        "{me}"
    );

    // Narrowed: user:read taken out of the definition stops working for every holder.
    let (status, body) = server
        .put(
            "/api/v1/roles/helpdesk",
            &admin,
            json!({"description": "Unlocks accounts for callers.", "permissions": ["user:unlock"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        server.get("/api/v1/admin/users", &token).await.0,
        StatusCode::FORBIDDEN
    );

    let (status, detail) = server.get("/api/v1/roles/helpdesk", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["holders"], 1);
    assert_eq!(detail["assignments"][0]["username"], "carol");

    // In use: cannot be deleted; unassigned, it can, and it is gone from the listing.
    let (status, body) = server.delete("/api/v1/roles/helpdesk", &admin).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::CONFLICT, json!("role_in_use"))
    );
    let (status, body) = server
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/users/{}/roles/helpdesk", id_of(&carol)),
            Some(&admin),
            Some(json!({"reason": "left the service desk"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        server.get("/api/v1/admin/users", &token).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server.delete("/api/v1/roles/helpdesk", &admin).await.0,
        StatusCode::NO_CONTENT
    );
    let (_, roles) = server.get("/api/v1/roles", &admin).await;
    assert!(
        !roles
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "helpdesk")
    );

    let kinds = server.audit_kinds(&admin).await;
    for kind in [
        "rbac.role.created",
        "rbac.role.updated",
        "rbac.role.assigned",
        "rbac.role.unassigned",
        "rbac.role.deleted",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} missing from {kinds:?}"
        );
    }
    server.shutdown().await;
}

async fn assignment_rules_refuse_clearly(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    let dave = server
        .create_user_with_roles(&admin, "dave", USER_PASSWORD, &["auditor"])
        .await;
    let dave_id = id_of(&dave);
    let audit_before = server.audit_kinds(&admin).await.len();
    let assign = |role: &'static str, reason: String| {
        let path = format!("/api/v1/admin/users/{dave_id}/roles");
        let admin = admin.clone();
        let server = &server;
        async move {
            server
                .post(&path, Some(&admin), json!({"role": role, "reason": reason}))
                .await
        }
    };

    let (status, body) = assign("admin", "cover for a colleague".into()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "separation_of_duties");
    assert!(
        body["detail"].as_str().unwrap().contains("auditor"),
        "{body}"
    );

    let (status, body) = assign("auditor", "again".into()).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::CONFLICT, json!("already_assigned"))
    );

    let (status, body) = assign("root", "no such role".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("root"), "{body}");

    let (status, body) = assign("incident-responder", "x".repeat(501)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"].as_str().unwrap().starts_with("reason"),
        "{body}"
    );

    let (status, body) = assign("incident-responder", "  ".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Creating an account with conflicting roles is refused the same way.
    let (status, body) = server
        .post(
            "/api/v1/admin/users",
            Some(&admin),
            json!({"username": "eve", "display_name": "Eve", "password": USER_PASSWORD, "roles": ["auditor", "security-officer"]}),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::CONFLICT, json!("separation_of_duties"))
    );
    let (status, body) = server
        .post(
            "/api/v1/admin/users",
            Some(&admin),
            json!({"username": "eve", "display_name": "Eve", "password": USER_PASSWORD, "roles": ["superuser"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Nobody widens their own access, and the last administrator keeps the role.
    let (_, me) = server.get("/api/v1/me", &admin).await;
    let admin_id = me["id"].as_str().unwrap().to_owned();
    let (status, body) = server
        .post(
            &format!("/api/v1/admin/users/{admin_id}/roles"),
            Some(&admin),
            json!({"role": "incident-responder", "reason": "for myself"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("self_assignment"))
    );
    let (status, body) = server
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/users/{admin_id}/roles/admin"),
            Some(&admin),
            Some(json!({"reason": "stepping down"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::CONFLICT, json!("last_admin"))
    );
    let (status, _) = server
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/users/{dave_id}/roles/incident-responder"),
            Some(&admin),
            Some(json!({"reason": "not held"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Nothing changed: dave still holds just auditor, no account eve, no new audit entries.
    assert_eq!(role_names(&server, &admin, &dave_id).await, ["auditor"]);
    let (_, users) = server.get("/api/v1/admin/users", &admin).await;
    assert!(
        !users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "eve")
    );
    assert_eq!(server.audit_kinds(&admin).await.len(), audit_before);
    server.shutdown().await;
}

async fn bad_role_definitions_change_nothing(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    let (_, before) = server.get("/api/v1/roles", &admin).await;
    let cases = [
        (
            "tier1",
            json!({"description": "x", "permissions": ["user:delete"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "user:delete",
        ),
        (
            "tier1",
            json!({"description": "", "permissions": ["user:read"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "description",
        ),
        (
            "tier1",
            json!({"description": "x".repeat(501), "permissions": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "description",
        ),
        (
            "tier1",
            json!({"description": "x", "permissions": [], "max_jit_minutes": 1441}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "max_jit_minutes",
        ),
        (
            "tier1",
            json!({"description": "x", "permissions": [], "approvals_required": 3}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "approvals_required",
        ),
        (
            "x",
            json!({"description": "x", "permissions": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            "auditor",
            json!({"description": "Mine now.", "permissions": ["user:create"]}),
            StatusCode::CONFLICT,
            "built-in",
        ),
    ];
    for (name, body, want, mentions) in cases {
        let (status, problem) = server
            .put(&format!("/api/v1/roles/{name}"), &admin, body.clone())
            .await;
        assert_eq!(status, want, "{name} {body}: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains(mentions),
            "{name} {body}: {problem}"
        );
    }
    let (status, problem) = server.delete("/api/v1/roles/user", &admin).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (StatusCode::CONFLICT, json!("role_builtin"))
    );
    assert_eq!(
        server
            .delete("/api/v1/roles/nobody-has-this", &admin)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    let (_, after) = server.get("/api/v1/roles", &admin).await;
    assert_eq!(before, after);
    let (_, permissions) = server.get("/api/v1/permissions", &admin).await;
    assert!(
        permissions
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "incident:assign" && p["description"].as_str().is_some())
    );
    server.shutdown().await;
}
