//! The enrollment station's flow end to end over real HTTP, on SQLite and on PostgreSQL, with
//! the virtual CTAP2 key driven through the same code as a USB or NFC key: an operator issues a
//! biometric key to a person (PIN set, fingerprint enrolled, registered, inventoried), who then
//! signs in with it as second factor and, registered as passwordless, without a password.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[macro_use]
mod common;

use async_trait::async_trait;
use common::{ORIGIN, TestServer, USER_PASSWORD};
use reqwest::StatusCode;
use schild_core::authenticator::{SecurityKeyPolicy, VIRTUAL_KEY_AAGUID};
use schild_hwkey::ctap::enrollment::{
    BackendError, EnrollmentBackend, KeyIssue, OpenedRegistration, Registered, enroll,
};
use schild_hwkey::ctap::virtual_key::VirtualKey;
use schild_hwkey::ctap::{Pin, PinPolicy, SecurityKey, SilentObserver};
use schild_store::testing::TestDb;
use serde_json::{Value, json};
use std::sync::Arc;
use webauthn_rs_proto::RegisterPublicKeyCredential;

on_both_databases!(station_issues_a_key_that_then_signs_in);

/// The enrollment station's view of the backend: its HTTP API, as an operator.
struct OverHttp<'a> {
    server: &'a TestServer,
    operator: String,
    user_id: String,
}

fn refused(body: &Value) -> BackendError {
    BackendError {
        code: body["code"].as_str().unwrap_or("unknown").to_owned(),
        message: body["detail"].as_str().unwrap_or_default().to_owned(),
    }
}

#[async_trait]
impl EnrollmentBackend for OverHttp<'_> {
    async fn begin(&self, _: &str, passwordless: bool) -> Result<OpenedRegistration, BackendError> {
        let (status, body) = self
            .server
            .post(
                &format!("/api/v1/users/{}/security-keys/options", self.user_id),
                Some(&self.operator),
                json!({"passwordless": passwordless}),
            )
            .await;
        if status != StatusCode::OK {
            return Err(refused(&body));
        }
        Ok(OpenedRegistration {
            ceremony: body["ceremony_id"].as_str().unwrap().parse().unwrap(),
            options: serde_json::from_value(body["options"].clone()).unwrap(),
        })
    }

    async fn finish(
        &self,
        _: &str,
        opened: uuid::Uuid,
        issue: &KeyIssue,
        answer: RegisterPublicKeyCredential,
    ) -> Result<Registered, BackendError> {
        let (status, body) = self
            .server
            .post(
                &format!("/api/v1/users/{}/security-keys", self.user_id),
                Some(&self.operator),
                json!({"ceremony_id": opened, "name": issue.name, "credential": answer,
                       "serial": issue.serial, "station": issue.station}),
            )
            .await;
        if status != StatusCode::CREATED {
            return Err(refused(&body));
        }
        Ok(Registered {
            credential: body["key"]["id"].as_str().unwrap().parse().unwrap(),
            hardware_key: body["hardware_key"]["id"]
                .as_str()
                .map(|id| id.parse().unwrap()),
            model: body["key"]["model"].as_str().unwrap().to_owned(),
            lacks_backup: body["lacks_backup"].as_bool().unwrap(),
        })
    }
}

async fn station_issues_a_key_that_then_signs_in(db: TestDb) {
    let server = TestServer::start_with_keys(db, SecurityKeyPolicy::default()).await;
    let admin = server.setup_admin().await;
    server
        .create_user_with_roles(&admin, "olga", USER_PASSWORD, &["enrollment-operator"])
        .await;
    let person = server.create_user(&admin, "frank", USER_PASSWORD).await;
    let backend = OverHttp {
        server: &server,
        operator: server.login("olga", USER_PASSWORD).await,
        user_id: person["id"].as_str().unwrap().to_owned(),
    };

    // A new biometric key, straight from the box: no PIN, no fingerprints, and it keeps a
    // credential discoverable only when the client asks for one (rk).
    let device = VirtualKey::new();
    let mut key = SecurityKey::open(device.clone(), Arc::new(SilentObserver))
        .await
        .unwrap();
    assert_eq!(key.info().options.client_pin, Some(false));
    let pin = Pin::new("483920").unwrap();
    let issue = KeyIssue {
        name: "primary key".into(),
        serial: Some("VK-0001".into()),
        station: Some("front desk".into()),
        passwordless: true,
        fingerprints: 1,
    };
    let enrolled = enroll(
        &mut key,
        &backend,
        "frank",
        &pin,
        &PinPolicy::default(),
        ORIGIN.parse().unwrap(),
        &issue,
    )
    .await
    .unwrap();
    assert!(enrolled.pin_set);
    assert_eq!(enrolled.fingerprints.len(), 1);
    assert_eq!(
        enrolled.registered.model,
        "Schild virtual key (not hardware)"
    );
    assert!(enrolled.registered.lacks_backup);

    // Listed in the inventory, with who issued it where.
    let (status, inventory) = server.get("/api/v1/hardware-keys", &admin).await;
    assert_eq!(status, StatusCode::OK, "{inventory}");
    let entry = &inventory[0];
    assert_eq!(
        entry["id"],
        json!(enrolled.registered.hardware_key.unwrap())
    );
    assert_eq!(entry["aaguid"], VIRTUAL_KEY_AAGUID.to_string());
    assert_eq!(entry["serial"], "VK-0001");
    assert_eq!(entry["station"], "front desk");
    assert_eq!(entry["state"], "active");

    // Password, then the key.
    let (_, step) = server
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "frank", "password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(step["methods"], json!(["security_key"]), "{step}");
    let (_, ceremony) = server
        .post(
            "/api/v1/auth/mfa/security-key",
            None,
            json!({"mfa_token": step["mfa_token"]}),
        )
        .await;
    let options = serde_json::from_value(ceremony["options"].clone()).unwrap();
    let assertion = key
        .authenticate(Some(&pin), ORIGIN.parse().unwrap(), options)
        .await
        .unwrap();
    let (status, tokens) = server
        .post(
            "/api/v1/auth/mfa",
            None,
            json!({"mfa_token": step["mfa_token"], "security_key": {"ceremony_id": ceremony["ceremony_id"], "credential": assertion}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");

    // The key alone, with its PIN: passwordless.
    let (status, ceremony) = server
        .send(
            reqwest::Method::POST,
            "/api/v1/auth/passwordless/options",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ceremony}");
    let options = serde_json::from_value(ceremony["options"].clone()).unwrap();
    let assertion = key
        .authenticate(Some(&pin), ORIGIN.parse().unwrap(), options)
        .await
        .unwrap();
    let (status, tokens) = server
        .post(
            "/api/v1/auth/passwordless",
            None,
            json!({"ceremony_id": ceremony["ceremony_id"], "credential": assertion}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (_, me) = server
        .get("/api/v1/me", tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me["username"], "frank", "{me}");

    // Replaying that answer does not sign in again: the ceremony was used up.
    let (status, problem) = server
        .post(
            "/api/v1/auth/passwordless",
            None,
            json!({"ceremony_id": ceremony["ceremony_id"], "credential": assertion}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
    server.shutdown().await;
}
