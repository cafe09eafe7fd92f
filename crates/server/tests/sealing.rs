//! Scheduled rotation of the keys that seal secrets at rest, on SQLite and PostgreSQL: a new KEK
//! version begins when the old one is 90 days old, every sealed secret moves to it, the old one
//! is destroyed only once nothing uses it, and sign-in keeps working throughout.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[macro_use]
mod common;

use common::{ADMIN_PASSWORD, TestServer, test_kek, totp_code};
use reqwest::StatusCode;
use schild_core::clock::Clock;
use schild_core::vault::{Envelope, ItemContext};
use schild_server::sealing::{RETIRE_AFTER, VAULT, rotation_step};
use schild_store::testing::TestDb;
use schild_store::{audit, keys, mfa};
use serde_json::json;

on_both_databases!(
    the_sealing_key_rotates_on_schedule_and_nothing_is_lost,
    a_different_key_file_refuses_to_start,
);

fn key_id_of_totp(stored: &str) -> String {
    use base64::Engine as _;
    let envelope = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(stored.strip_prefix("vault1:").unwrap())
        .unwrap();
    Envelope::parse(&envelope).unwrap().key_id().to_owned()
}

async fn stored_key_ids(server: &TestServer) -> (String, String) {
    let mut conn = server.state.store().acquire().await.unwrap();
    let totp = mfa::all_totp_secrets(&mut conn).await.unwrap();
    let signing = keys::all_private(&mut conn).await.unwrap();
    (
        key_id_of_totp(&totp[0].1),
        Envelope::parse(&signing[0].1).unwrap().key_id().to_owned(),
    )
}

async fn the_sealing_key_rotates_on_schedule_and_nothing_is_lost(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    let (status, enrollment) = server
        .post(
            "/api/v1/me/totp/enroll",
            Some(&admin),
            json!({"password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enrollment}");
    let uri = enrollment["otpauth_uri"].as_str().unwrap().to_owned();
    let secret = enrollment["secret"].as_str().unwrap().to_owned();
    let code = totp_code(&uri, server.clock.now());
    let (status, body) = server
        .post(
            "/api/v1/me/totp/confirm",
            Some(&admin),
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v1 = "vault:schild-server;kek=v1";
    assert_eq!(stored_key_ids(&server).await, (v1.into(), v1.into()));

    // Not due yet: nothing happens.
    let step = rotation_step(&server.state).await.unwrap();
    assert_eq!(
        (step.began, step.rewrapped, step.retired.len()),
        (None, 0, 0)
    );

    server.clock.advance(time::Duration::days(90));
    let step = rotation_step(&server.state).await.unwrap();
    assert_eq!(step.began, Some(2));
    assert_eq!(step.rewrapped, 2, "the TOTP secret and the signing key");
    assert!(
        step.retired.is_empty(),
        "v1 is kept until every instance moved on"
    );
    let v2 = "vault:schild-server;kek=v2";
    assert_eq!(stored_key_ids(&server).await, (v2.into(), v2.into()));

    // The holder notices nothing: the secret opens to the same value.
    let (user, stored) = {
        let mut conn = server.state.store().acquire().await.unwrap();
        mfa::all_totp_secrets(&mut conn).await.unwrap()[0].clone()
    };
    let opened =
        schild_server::auth::secrets::open_totp_secret(&server.state, user, &stored).unwrap();
    assert_eq!(opened.as_str(), secret);

    // A value another instance sealed under v1 meanwhile (here: directly by the provider, as
    // before key versions existed) is moved by the next step.
    let item = user.to_string();
    let legacy = schild_core::vault::seal(
        test_kek().as_ref(),
        ItemContext {
            vault: VAULT,
            item: &item,
            purpose: "totp-secret",
        },
        secret.as_bytes(),
        &mut rand::rng(),
    )
    .unwrap();
    use base64::Engine as _;
    let legacy = format!(
        "vault1:{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(legacy)
    );
    {
        let mut conn = server.state.store().acquire().await.unwrap();
        assert!(
            mfa::replace_totp_secret(&mut conn, user, &stored, &legacy)
                .await
                .unwrap()
        );
    }
    server.clock.advance(RETIRE_AFTER);
    let step = rotation_step(&server.state).await.unwrap();
    assert_eq!(step.began, None);
    assert_eq!(step.rewrapped, 1);
    assert_eq!(step.retired, [1]);
    assert_eq!(stored_key_ids(&server).await, (v2.into(), v2.into()));

    let mut conn = server.state.store().acquire().await.unwrap();
    let versions = schild_store::vault::keys(&mut conn, VAULT).await.unwrap();
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), [2]);
    let filter = audit::AuditFilter {
        limit: 100,
        ..audit::AuditFilter::default()
    };
    let kinds: Vec<String> = audit::list(&mut conn, &filter)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.record.event.kind().to_owned())
        .collect();
    assert!(
        kinds.contains(&"vault.kek.rotation_started".to_owned()),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"vault.kek.retired".to_owned()), "{kinds:?}");
    drop(conn);

    // A restart loads only v2 and opens the signing key and the secret.
    let restarted = common::default_state(&server.db).await;
    let (_, stored) = {
        let mut conn = server.state.store().acquire().await.unwrap();
        mfa::all_totp_secrets(&mut conn).await.unwrap()[0].clone()
    };
    let opened = schild_server::auth::secrets::open_totp_secret(&restarted, user, &stored).unwrap();
    assert_eq!(opened.as_str(), secret);
    server.shutdown().await;
}

async fn a_different_key_file_refuses_to_start(db: TestDb) {
    let server = TestServer::start(db).await;
    let other = std::sync::Arc::new(
        schild_core::vault::LocalKek::new("keyfile:other;v=1", zeroize::Zeroizing::new([9; 32]))
            .unwrap(),
    );
    let refused = schild_server::sealing::SealingKeys::load_or_init(
        server.state.store(),
        other,
        schild_core::vault::RotationPolicy::default(),
        server.clock.now(),
    )
    .await;
    assert!(refused.is_err());
    server.shutdown().await;
}
