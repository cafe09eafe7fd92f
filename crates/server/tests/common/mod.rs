//! A real backend on a loopback port, over a real database, with a clock the test moves.
#![allow(dead_code, missing_docs, unused_macros)]

use reqwest::{Client, Method, Response, StatusCode};
use schild_core::authenticator::SecurityKeyPolicy;
use schild_core::clock::ManualClock;
use schild_core::lockout::LockoutPolicy;
use schild_core::password::PasswordPolicy;
use schild_server::auth::security_keys::SecurityKeySettings;
use schild_server::{AppState, Backend, Identity, Transport};
use schild_store::testing::TestDb;
use serde_json::{Value, json};
use std::sync::Arc;
use time::OffsetDateTime;

/// Declares each named `async fn(TestDb)` as two tests: `sqlite::name` and `postgres::name` (the
/// latter skipped only when `SCHILD_TEST_SKIP_POSTGRES` says so).
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = schild_store::testing::TestDb::sqlite().await {
                    super::$name(db).await
                }
            })+
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = schild_store::testing::TestDb::postgres().await {
                    super::$name(db).await
                }
            })+
        }
    };
}

pub const ADMIN_PASSWORD: &str = "correct horse battery staple 42";
pub const USER_PASSWORD: &str = "tangerine orbit lantern violin 7";
/// The origin WebAuthn clients sign from in tests started with [`TestServer::start_with_keys`].
pub const ORIGIN: &str = "https://schild.test";

/// Backend state over a test database with the production policies and the system clock.
pub async fn default_state(db: &TestDb) -> AppState {
    AppState::new(
        db.store().clone(),
        Arc::new(schild_core::clock::SystemClock),
        Identity::default(),
        PasswordPolicy::default(),
        LockoutPolicy::default(),
        schild_server::access::AccessPolicy::default(),
        SecurityKeySettings::default(),
        schild_server::sealing::Sealing::new(test_kek()),
    )
    .await
    .expect("state")
}

pub struct TestServer {
    pub base: String,
    pub client: Client,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    pub db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(db: TestDb) -> Self {
        Self::start_with(db, LockoutPolicy::default()).await
    }

    pub async fn start_with(db: TestDb, lockout: LockoutPolicy) -> Self {
        Self::start_configured(db, lockout, SecurityKeySettings::default()).await
    }

    /// A backend acting as WebAuthn relying party `schild.test` for the origin [`ORIGIN`].
    pub async fn start_with_keys(db: TestDb, policy: SecurityKeyPolicy) -> Self {
        Self::start_configured(db, LockoutPolicy::default(), key_settings(policy)).await
    }

    pub async fn start_configured(
        db: TestDb,
        lockout: LockoutPolicy,
        security_keys: SecurityKeySettings,
    ) -> Self {
        // reqwest is built without a bundled crypto provider; the backend already uses ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
        let state = AppState::new(
            db.store().clone(),
            clock.clone(),
            Identity::default(),
            PasswordPolicy::default(),
            lockout,
            schild_server::access::AccessPolicy::default(),
            security_keys,
            schild_server::sealing::Sealing::new(test_kek()),
        )
        .await
        .expect("state");
        let backend = Backend::bind(
            state.clone(),
            "127.0.0.1:0".parse().unwrap(),
            Transport::Plain {
                allow_insecure: false,
            },
        )
        .await
        .expect("bind");
        let addr = backend.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(backend.run(async move {
            let _ = stopped.await;
        }));
        Self {
            base: format!("http://{addr}"),
            client: Client::builder().user_agent("schild-e2e").build().unwrap(),
            clock,
            state,
            db,
            stop: Some(stop),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        decode(request.send().await.expect("request")).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, Some(token), None).await
    }

    /// Completes first-admin setup and returns the admin's access token.
    pub async fn setup_admin(&self) -> String {
        let token = schild_server::auth::setup::issue_token_if_needed(&self.state)
            .await
            .unwrap()
            .expect("no account yet");
        let (status, body) = self
            .post(
                "/api/v1/setup",
                None,
                json!({"setup_token": token.expose(), "username": "admin", "display_name": "Ada Admin", "password": ADMIN_PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.login_tokens("admin", ADMIN_PASSWORD).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Signs in an account without TOTP; returns the token pair.
    pub async fn login_tokens(&self, username: &str, password: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "signed_in", "{body}");
        body
    }

    pub async fn create_user(&self, admin: &str, username: &str, password: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/v1/admin/users",
                Some(admin),
                json!({"username": username, "display_name": username, "password": password, "roles": ["user"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Creates an account holding exactly `roles` (as the admin) and returns its JSON view.
    pub async fn create_user_with_roles(
        &self,
        admin: &str,
        username: &str,
        password: &str,
        roles: &[&str],
    ) -> Value {
        let (status, body) = self
            .post(
                "/api/v1/admin/users",
                Some(admin),
                json!({"username": username, "display_name": username, "password": password, "roles": roles}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Signs in an account without TOTP; returns its access token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        self.login_tokens(username, password).await["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, Some(token), Some(body)).await
    }

    /// Moves the backend's clock forward.
    pub fn advance(&self, by: time::Duration) {
        self.clock.advance(by);
    }

    /// Audit kinds, newest first.
    pub async fn audit_kinds(&self, admin: &str) -> Vec<String> {
        let (status, body) = self.get("/api/v1/admin/audit?limit=1000", admin).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["event"]["kind"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.db.cleanup().await;
    }
}

/// The key-encryption key every test backend seals secrets at rest with: one fixed key, as every
/// instance sharing a database shares one key file.
pub fn test_kek() -> Arc<dyn schild_core::provider::KeyEncryptionKey> {
    let key = zeroize::Zeroizing::new([0x42; 32]);
    Arc::new(schild_core::vault::LocalKek::new("test:kek;v=1", key).unwrap())
}

/// The relying party `schild.test`, for the origin [`ORIGIN`], with `policy`.
pub fn key_settings(policy: SecurityKeyPolicy) -> SecurityKeySettings {
    SecurityKeySettings {
        rp_id: "schild.test".into(),
        rp_name: "Schild test".into(),
        origins: vec![ORIGIN.parse().unwrap()],
        policy,
        attestation_roots: None,
    }
}

pub async fn decode(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response.bytes().await.expect("body");
    if !status.is_success() {
        assert_eq!(
            content_type,
            "application/problem+json",
            "status {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let value = if bytes.is_empty() {
        Value::Null
    } else if content_type.starts_with("application/json")
        || content_type.starts_with("application/problem+json")
    {
        serde_json::from_slice(&bytes).expect("JSON body")
    } else {
        // A file (a report, an image): what it holds is for the test that asked for it.
        Value::String(format!("{} bytes of {content_type}", bytes.len()))
    };
    (status, value)
}

/// The current TOTP code for an otpauth URI, at the server's clock.
pub fn totp_code(uri: &str, at: OffsetDateTime) -> String {
    let totp = totp_rs::Totp::from_url(uri).expect("otpauth URI");
    totp.generate(u64::try_from(at.unix_timestamp()).unwrap())
        .to_string()
}
