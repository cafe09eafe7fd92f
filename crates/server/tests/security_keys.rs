//! Security keys end to end over real HTTP, on SQLite and on PostgreSQL, with a software
//! authenticator (webauthn-authenticator-rs's `SoftToken`) answering the ceremonies exactly as a
//! browser or CTAP2 client would: registration, the key as second factor, a disallowed model,
//! a cloned key whose counter goes backwards, revocation, the inventory, and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[macro_use]
mod common;

use common::{ORIGIN, TestServer, USER_PASSWORD, key_settings};
use reqwest::StatusCode;
use schild_core::authenticator::{Aaguid, ModelAllowlist, SecurityKeyPolicy};
use schild_store::testing::TestDb;
use serde_json::{Value, json};
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softtoken::SoftToken;

on_both_databases!(
    key_registers_and_signs_in_as_second_factor,
    disallowed_model_is_refused_and_nothing_is_stored,
    counter_regression_blocks_the_credential,
    station_enrollment_fills_the_inventory_and_lost_key_revokes,
    bad_input_is_refused_and_changes_nothing,
    untrusted_attestation_is_refused_when_vendor_roots_are_required,
);

fn origin() -> Url {
    ORIGIN.parse().unwrap()
}

fn soft_token() -> SoftToken {
    SoftToken::new(true).unwrap().0
}

/// Registers `token` for the signed-in holder of `access`; returns the new key's JSON view.
async fn register_own(
    server: &TestServer,
    access: &str,
    token: &mut SoftToken,
    name: &str,
) -> Value {
    let (status, ceremony) = server
        .post(
            "/api/v1/me/security-keys/options",
            Some(access),
            json!({"password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ceremony}");
    let options = serde_json::from_value(ceremony["options"].clone()).unwrap();
    let credential = token.do_registration(origin(), options).unwrap();
    let (status, body) = server
        .post(
            "/api/v1/me/security-keys",
            Some(access),
            json!({"ceremony_id": ceremony["ceremony_id"], "name": name, "credential": credential}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// Password, then the key: returns the sign-in answer.
async fn sign_in_with_key(
    server: &TestServer,
    username: &str,
    token: &mut SoftToken,
) -> (StatusCode, Value) {
    let (status, step) = server
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": username, "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{step}");
    assert_eq!(step["status"], "mfa_required", "{step}");
    assert!(
        step["methods"]
            .as_array()
            .unwrap()
            .contains(&json!("security_key"))
    );
    let (status, ceremony) = server
        .post(
            "/api/v1/auth/mfa/security-key",
            None,
            json!({"mfa_token": step["mfa_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ceremony}");
    let options = serde_json::from_value(ceremony["options"].clone()).unwrap();
    let credential = token.do_authentication(origin(), options).unwrap();
    server
        .post(
            "/api/v1/auth/mfa",
            None,
            json!({"mfa_token": step["mfa_token"], "security_key": {"ceremony_id": ceremony["ceremony_id"], "credential": credential}}),
        )
        .await
}

async fn key_registers_and_signs_in_as_second_factor(db: TestDb) {
    let server = TestServer::start_with_keys(db, SecurityKeyPolicy::default()).await;
    let admin = server.setup_admin().await;
    server.create_user(&admin, "alice", USER_PASSWORD).await;
    let alice = server.login("alice", USER_PASSWORD).await;
    let mut token = soft_token();

    let registered = register_own(&server, &alice, &mut token, "blue key").await;
    let key = &registered["key"];
    assert_eq!(key["name"], "blue key");
    assert_eq!(key["state"], "active");
    assert_eq!(key["attestation_format"], "packed");
    // The soft token's AAGUID, attested by its packed statement; not a catalogued model.
    assert_eq!(key["aaguid"], "0fb9bcbc-a0d4-4042-bbb0-559bc1631e28");
    assert_eq!(key["model"], "unknown model");
    assert_eq!(
        registered["lacks_backup"], true,
        "one key is below the default minimum of two"
    );

    let (status, tokens) = sign_in_with_key(&server, "alice", &mut token).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let (status, list) = server.get("/api/v1/me/security-keys", access).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(list["keys"][0]["last_used_at"].is_string(), "{list}");
    assert!(list["keys"][0]["sign_count"].as_u64().unwrap() >= 1);

    // A second key for the same account is its backup.
    let mut spare = soft_token();
    let second = register_own(&server, access, &mut spare, "spare key").await;
    assert_eq!(second["lacks_backup"], false, "{second}");

    // Another person's key does not answer for alice.
    let mut stranger = soft_token();
    let (status, step) = server
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "alice", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, ceremony) = server
        .post(
            "/api/v1/auth/mfa/security-key",
            None,
            json!({"mfa_token": step["mfa_token"]}),
        )
        .await;
    let options = serde_json::from_value(ceremony["options"].clone()).unwrap();
    assert!(
        stranger.do_authentication(origin(), options).is_err(),
        "the stranger holds none of alice's credentials"
    );

    let kinds = server.audit_kinds(&admin).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "webauthn.credential.registered")
            .count(),
        2
    );
    assert!(kinds.contains(&"auth.login.succeeded".to_owned()));
    server.shutdown().await;
}

async fn disallowed_model_is_refused_and_nothing_is_stored(db: TestDb) {
    let yubikey: Aaguid = "cb69481e-8ff7-4039-93ec-0a2729a154a8".parse().unwrap();
    let policy = SecurityKeyPolicy {
        allowed_models: ModelAllowlist::Only([yubikey].into()),
        ..SecurityKeyPolicy::default()
    };
    let server = TestServer::start_with_keys(db, policy).await;
    let admin = server.setup_admin().await;
    server.create_user(&admin, "bob", USER_PASSWORD).await;
    let bob = server.login("bob", USER_PASSWORD).await;
    let mut token = soft_token();

    let (status, ceremony) = server
        .post(
            "/api/v1/me/security-keys/options",
            Some(&bob),
            json!({"password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ceremony}");
    let options = serde_json::from_value(ceremony["options"].clone()).unwrap();
    let credential = token.do_registration(origin(), options).unwrap();
    let (status, problem) = server
        .post(
            "/api/v1/me/security-keys",
            Some(&bob),
            json!({"ceremony_id": ceremony["ceremony_id"], "name": "unapproved", "credential": credential}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert_eq!(problem["code"], "security_key_model_not_allowed");
    let (_, list) = server.get("/api/v1/me/security-keys", &bob).await;
    assert_eq!(list["keys"], json!([]));
    assert!(
        server
            .audit_kinds(&admin)
            .await
            .contains(&"webauthn.credential.refused".to_owned())
    );

    // The ceremony was used up: answering it again does not register either.
    let (status, problem) = server
        .post(
            "/api/v1/me/security-keys",
            Some(&bob),
            json!({"ceremony_id": ceremony["ceremony_id"], "name": "again", "credential": credential}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "ceremony_expired");
    server.shutdown().await;
}

async fn counter_regression_blocks_the_credential(db: TestDb) {
    let server = TestServer::start_with_keys(db, SecurityKeyPolicy::default()).await;
    let admin = server.setup_admin().await;
    server.create_user(&admin, "carol", USER_PASSWORD).await;
    let carol = server.login("carol", USER_PASSWORD).await;
    let mut token = soft_token();
    register_own(&server, &carol, &mut token, "carol's key").await;

    // A copy of the key as it is now: its counter will fall behind the original's.
    let mut clone = SoftToken::from_cbor(&token.to_cbor().unwrap()).unwrap();
    let (status, _) = sign_in_with_key(&server, "carol", &mut token).await;
    assert_eq!(status, StatusCode::OK);
    let (status, problem) = sign_in_with_key(&server, "carol", &mut clone).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
    assert_eq!(problem["code"], "invalid_second_factor");

    let kinds = server.audit_kinds(&admin).await;
    assert!(kinds.contains(&"webauthn.credential.counter_regressed".to_owned()));
    let user_id = user_id(&server, &admin, "carol").await;
    let (_, list) = server
        .get(&format!("/api/v1/users/{user_id}/security-keys"), &admin)
        .await;
    let key = &list["keys"][0];
    assert_eq!(key["state"], "blocked", "{list}");

    // Blocked: the account still needs its key, and even the genuine key is refused until an
    // administrator unblocks it; the password alone does not sign in.
    let (_, step) = server
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "carol", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(step["status"], "mfa_required", "{step}");
    let (status, problem) = server
        .post(
            "/api/v1/auth/mfa/security-key",
            None,
            json!({"mfa_token": step["mfa_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "no_security_key");
    let (status, body) = server
        .post(
            &format!(
                "/api/v1/users/{user_id}/security-keys/{}/unblock",
                key["id"].as_str().unwrap()
            ),
            Some(&admin),
            json!({"reason": "holder still has the original; clone destroyed"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = sign_in_with_key(&server, "carol", &mut token).await;
    assert_eq!(status, StatusCode::OK);
    server.shutdown().await;
}

async fn user_id(server: &TestServer, admin: &str, username: &str) -> String {
    let (_, users) = server.get("/api/v1/admin/users", admin).await;
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["username"] == username)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn station_enrollment_fills_the_inventory_and_lost_key_revokes(db: TestDb) {
    let server = TestServer::start_with_keys(db, SecurityKeyPolicy::default()).await;
    let admin = server.setup_admin().await;
    server
        .create_user_with_roles(&admin, "olga", USER_PASSWORD, &["enrollment-operator"])
        .await;
    server.create_user(&admin, "dave", USER_PASSWORD).await;
    let operator = server.login("olga", USER_PASSWORD).await;
    let dave = user_id(&server, &admin, "dave").await;
    let holder = server.login("dave", USER_PASSWORD).await;
    let mut token = soft_token();

    let (status, ceremony) = server
        .post(
            &format!("/api/v1/users/{dave}/security-keys/options"),
            Some(&operator),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ceremony}");
    let options = serde_json::from_value(ceremony["options"].clone()).unwrap();
    let credential = token.do_registration(origin(), options).unwrap();
    let (status, registered) = server
        .post(
            &format!("/api/v1/users/{dave}/security-keys"),
            Some(&operator),
            json!({"ceremony_id": ceremony["ceremony_id"], "name": "issued key", "credential": credential,
                   "serial": "SN-0042", "station": "front desk"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let inventory_id = registered["hardware_key"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(registered["hardware_key"]["station"], "front desk");
    assert_eq!(registered["hardware_key"]["serial"], "SN-0042");

    // The inventory is for those holding key:read (operators do); not for the key's holder.
    let (status, _) = server.get("/api/v1/hardware-keys", &holder).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, inventory) = server
        .get(&format!("/api/v1/hardware-keys?user={dave}"), &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{inventory}");
    assert_eq!(inventory.as_array().unwrap().len(), 1);
    assert_eq!(
        inventory[0]["enrolled_by"],
        json!(user_id(&server, &admin, "olga").await)
    );

    let (status, step) = sign_in_with_key(&server, "dave", &mut token).await;
    assert_eq!(status, StatusCode::OK, "{step}");

    let (status, withdrawn) = server
        .post(
            &format!("/api/v1/hardware-keys/{inventory_id}/lost"),
            Some(&admin),
            json!({"reason": "left on a train"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{withdrawn}");
    assert_eq!(withdrawn["credentials_revoked"], 1);
    assert_eq!(withdrawn["key"]["state"], "lost");
    // Its credential is revoked, so the password step no longer offers a key…
    let (_, step) = server
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "dave", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(step["status"], "signed_in", "{step}");
    // …and marking it lost twice is refused.
    let (status, problem) = server
        .post(
            &format!("/api/v1/hardware-keys/{inventory_id}/revoke"),
            Some(&admin),
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let kinds = server.audit_kinds(&admin).await;
    assert!(kinds.contains(&"inventory.key.withdrawn".to_owned()));
    assert!(kinds.contains(&"webauthn.credential.revoked".to_owned()));
    server.shutdown().await;
}

async fn bad_input_is_refused_and_changes_nothing(db: TestDb) {
    let server = TestServer::start_with_keys(db, SecurityKeyPolicy::default()).await;
    let admin = server.setup_admin().await;
    server.create_user(&admin, "erin", USER_PASSWORD).await;
    let erin = server.login("erin", USER_PASSWORD).await;
    let audit_before = server.audit_kinds(&admin).await.len();

    // Wrong password: no ceremony.
    let (status, problem) = server
        .post(
            "/api/v1/me/security-keys/options",
            Some(&erin),
            json!({"password": "not the password at all"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");

    let mut token = soft_token();
    let (_, ceremony) = server
        .post(
            "/api/v1/me/security-keys/options",
            Some(&erin),
            json!({"password": USER_PASSWORD}),
        )
        .await;
    let options = serde_json::from_value(ceremony["options"].clone()).unwrap();
    let credential = token.do_registration(origin(), options).unwrap();
    for (body, code) in [
        (
            json!({"ceremony_id": ceremony["ceremony_id"], "name": "", "credential": credential}),
            "validation_failed",
        ),
        (
            json!({"ceremony_id": ceremony["ceremony_id"], "name": "x".repeat(65), "credential": credential}),
            "validation_failed",
        ),
        (
            json!({"ceremony_id": ceremony["ceremony_id"], "name": "k", "credential": {"id": "garbage"}}),
            "invalid_body",
        ),
        (
            json!({"ceremony_id": "not-a-uuid", "name": "k", "credential": credential}),
            "invalid_body",
        ),
        (
            json!({"ceremony_id": uuid::Uuid::new_v4(), "name": "k", "credential": credential}),
            "ceremony_expired",
        ),
    ] {
        let (status, problem) = server
            .post("/api/v1/me/security-keys", Some(&erin), body)
            .await;
        assert!(status.is_client_error(), "{problem}");
        assert_eq!(problem["code"], code, "{problem}");
    }
    // A registration answer signed for another origin is rejected.
    let (_, ceremony) = server
        .post(
            "/api/v1/me/security-keys/options",
            Some(&erin),
            json!({"password": USER_PASSWORD}),
        )
        .await;
    // A phishing site relays the options under its own name; the key signs for evil.test.
    let mut relayed = ceremony["options"].clone();
    relayed["publicKey"]["rp"]["id"] = json!("evil.test");
    let options = serde_json::from_value(relayed).unwrap();
    let phished = token
        .do_registration("https://evil.test".parse().unwrap(), options)
        .unwrap();
    let (status, problem) = server
        .post(
            "/api/v1/me/security-keys",
            Some(&erin),
            json!({"ceremony_id": ceremony["ceremony_id"], "name": "k", "credential": phished}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "security_key_rejected");

    let (_, list) = server.get("/api/v1/me/security-keys", &erin).await;
    assert_eq!(list["keys"], json!([]), "nothing was registered");
    // No second-factor ceremony for an account without keys, and none for a forged challenge.
    let (status, _) = server
        .post(
            "/api/v1/auth/mfa/security-key",
            None,
            json!({"mfa_token": "forged"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let after: Vec<String> = server.audit_kinds(&admin).await;
    let new_events = &after[..after.len() - audit_before];
    assert!(
        new_events
            .iter()
            .all(|kind| kind == "auth.login.failed" || kind == "auth.login.succeeded"),
        "only the wrong password is on record: {new_events:?}"
    );
    server.shutdown().await;
}

async fn untrusted_attestation_is_refused_when_vendor_roots_are_required(db: TestDb) {
    let settings = schild_server::auth::security_keys::SecurityKeySettings {
        attestation_roots: Some(schild_server::auth::security_keys::roots::bundled()),
        ..key_settings(SecurityKeyPolicy::default())
    };
    let server = TestServer::start_configured(db, Default::default(), settings).await;
    let admin = server.setup_admin().await;
    server.create_user(&admin, "gina", USER_PASSWORD).await;
    let gina = server.login("gina", USER_PASSWORD).await;
    // The software token signs its attestation with its own CA, not a vendor's.
    let mut token = soft_token();
    let (_, ceremony) = server
        .post(
            "/api/v1/me/security-keys/options",
            Some(&gina),
            json!({"password": USER_PASSWORD}),
        )
        .await;
    let options = serde_json::from_value(ceremony["options"].clone()).unwrap();
    let credential = token.do_registration(origin(), options).unwrap();
    let (status, problem) = server
        .post(
            "/api/v1/me/security-keys",
            Some(&gina),
            json!({"ceremony_id": ceremony["ceremony_id"], "name": "soft", "credential": credential}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "security_key_rejected");
    let (_, list) = server.get("/api/v1/me/security-keys", &gina).await;
    assert_eq!(list["keys"], json!([]));
    server.shutdown().await;
}
