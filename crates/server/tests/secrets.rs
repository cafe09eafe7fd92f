//! Secrets at rest, on SQLite and on PostgreSQL: a TOTP secret is stored sealed (never its base32
//! text), still verifies codes, and a secret left in plaintext by an earlier version is sealed at
//! the next start, changing nothing for its holder.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[macro_use]
mod common;

use common::{ADMIN_PASSWORD, TestServer, default_state, totp_code};
use reqwest::StatusCode;
use schild_core::clock::Clock;
use schild_store::testing::TestDb;
use schild_store::{keys, mfa};
use serde_json::json;

on_both_databases!(
    totp_secrets_are_sealed_and_old_plaintext_is_sealed_at_start,
    signing_keys_are_sealed_and_old_plaintext_is_sealed_at_start,
);

async fn totp_secrets_are_sealed_and_old_plaintext_is_sealed_at_start(db: TestDb) {
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
    let secret = enrollment["secret"].as_str().unwrap().to_owned();
    let uri = enrollment["otpauth_uri"].as_str().unwrap().to_owned();

    let stored = || async {
        let mut conn = server.state.store().acquire().await.unwrap();
        let rows = mfa::all_totp_secrets(&mut conn).await.unwrap();
        assert_eq!(rows.len(), 1);
        rows[0].clone()
    };
    let (user, sealed) = stored().await;
    assert!(sealed.starts_with("vault1:"), "stored sealed");
    assert!(
        !sealed.contains(secret.as_str()),
        "the base32 secret is not in the row"
    );

    // As an earlier version would have left it: the secret in plaintext.
    {
        let mut conn = server.state.store().acquire().await.unwrap();
        assert!(
            mfa::replace_totp_secret(&mut conn, user, &sealed, &secret)
                .await
                .unwrap()
        );
    }
    // The next start seals it again (a second backend over the same database here).
    let _restarted = default_state(&server.db).await;
    let (_, resealed) = stored().await;
    assert!(resealed.starts_with("vault1:"));
    assert_ne!(*resealed, *sealed, "a fresh data key and nonce");

    // The holder notices nothing: the confirmation code verifies against the sealed secret.
    let code = totp_code(&uri, server.clock.now());
    let (status, body) = server
        .post(
            "/api/v1/me/totp/confirm",
            Some(&admin),
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.shutdown().await;
}

async fn signing_keys_are_sealed_and_old_plaintext_is_sealed_at_start(db: TestDb) {
    let server = TestServer::start(db).await;
    let admin = server.setup_admin().await;
    let stored = || async {
        let mut conn = server.state.store().acquire().await.unwrap();
        keys::all_private(&mut conn).await.unwrap()
    };
    let rows = stored().await;
    assert_eq!(rows.len(), 1);
    let (kid, sealed) = rows[0].clone();
    assert_eq!(sealed[0], 0x01, "an envelope, not a PKCS#8 document (0x30)");

    // As an earlier version would have left it: the PKCS#8 document in plaintext.
    let pkcs8 = schild_server::auth::secrets::open_signing_key(
        &server.state.sealing().current(),
        &kid,
        &sealed,
    )
    .unwrap();
    assert_eq!(pkcs8[0], 0x30);
    {
        let mut conn = server.state.store().acquire().await.unwrap();
        assert!(
            keys::replace_private(&mut conn, &kid, &sealed, &pkcs8)
                .await
                .unwrap()
        );
    }
    // The next start seals it again and signs with the same key: tokens issued before still verify.
    let restarted = default_state(&server.db).await;
    let (_, resealed) = stored().await[0].clone();
    assert_eq!(resealed[0], 0x01);
    let (status, _) = server.get("/api/v1/me", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let claims = restarted.verify_access(&admin, server.clock.now()).await;
    assert!(claims.is_ok(), "{claims:?}");
    server.shutdown().await;
}
