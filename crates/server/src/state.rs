//! Shared state of a running backend: the store, the clock, the signing keys and the policies.

use crate::access::{AccessPolicy, Authorizer};
use crate::auth::security_keys::{RelyingParty, SecurityKeySettings};
use crate::auth::signing_keys;
use crate::error::{ApiError, ApiResult};
use crate::sealing::{Sealing, SealingKeys};
use schild_core::clock::Clock;
use schild_core::ids::SessionId;
use schild_core::lockout::LockoutPolicy;
use schild_core::password::{PasswordHash, PasswordPolicy, Verified};
use schild_core::token::{AccessClaims, KeyRing, TokenError};
use schild_store::Store;
use secrecy::SecretString;
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::{Mutex, RwLock, Semaphore};

/// Settings that shape tokens and enrollment.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `iss` of every token; also the issuer shown in authenticator apps.
    pub issuer: String,
    /// `aud` of access tokens.
    pub audience: String,
}

impl Default for Identity {
    fn default() -> Self {
        Self {
            issuer: "Schild".into(),
            audience: "schild-api".into(),
        }
    }
}

/// Cheaply clonable handle to everything a request needs.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    keys: RwLock<KeyRing>,
    identity: Identity,
    passwords: Arc<PasswordPolicy>,
    lockout: LockoutPolicy,
    authz: Authorizer,
    security_keys: RelyingParty,
    sealing: SealingKeys,
    /// Bounds concurrent Argon2 work to the number of cores, so a login flood queues instead of
    /// starving every other request of CPU and memory (19 MiB a hash).
    hashing: Semaphore,
    /// When the key ring was last reloaded because of an unknown key id.
    last_reload: Mutex<Option<OffsetDateTime>>,
}

/// Reloads of the key ring on an unknown `kid` happen at most this often, so a flood of tokens
/// with invented key ids cannot turn into a flood of database reads.
const KEY_RELOAD_INTERVAL: time::Duration = time::Duration::seconds(30);

impl AppState {
    /// [`new`](Self::new) on the system clock with the default identity and policies, as
    /// `schild serve` and the desktop's embedded backend run.
    pub async fn with_default_policies(
        store: Store,
        security_keys: SecurityKeySettings,
        sealing: Sealing,
    ) -> ApiResult<Self> {
        Self::new(
            store,
            Arc::new(schild_core::clock::SystemClock),
            Identity::default(),
            PasswordPolicy::default(),
            LockoutPolicy::default(),
            AccessPolicy::default(),
            security_keys,
            sealing,
        )
        .await
    }

    /// Builds the state, loading (or creating on first start) the token-signing keys.
    // One argument per policy; a builder would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub async fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        identity: Identity,
        passwords: PasswordPolicy,
        lockout: LockoutPolicy,
        access: AccessPolicy,
        security_keys: SecurityKeySettings,
        sealing: Sealing,
    ) -> ApiResult<Self> {
        let sealing =
            SealingKeys::load_or_init(&store, sealing.provider, sealing.rotation, clock.now())
                .await?;
        let keys = signing_keys::load_or_create(&store, &sealing.current(), clock.now(), &identity)
            .await?;
        // Build the dummy hash now, so the first unknown-user sign-in costs no more than later ones.
        let passwords = Arc::new(passwords);
        let warm = Arc::clone(&passwords);
        tokio::task::spawn_blocking(move || warm.warm_up())
            .await
            .map_err(ApiError::internal)?;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let state = Self {
            inner: Arc::new(Inner {
                store,
                clock,
                keys: RwLock::new(keys),
                identity,
                passwords,
                last_reload: Mutex::new(None),
                lockout,
                authz: Authorizer::new(access),
                security_keys: RelyingParty::new(security_keys),
                sealing,
                hashing: Semaphore::new(cores),
            }),
        };
        // Secrets written before encryption at rest (or by an older instance) are sealed now.
        let sealed = crate::auth::secrets::seal_stored_totp_secrets(&state).await?;
        if sealed > 0 {
            tracing::info!(sealed, "sealed TOTP secrets that were stored in plaintext");
        }
        Ok(state)
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The current time according to the configured clock.
    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// Token issuer and audience.
    pub fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    /// The password policy in force.
    pub fn passwords(&self) -> &PasswordPolicy {
        &self.inner.passwords
    }

    /// The lockout and blocking policy in force.
    pub fn lockout(&self) -> &LockoutPolicy {
        &self.inner.lockout
    }

    /// Access control: permissions of callers, the role catalogue, JIT and review rules.
    pub fn authz(&self) -> &Authorizer {
        &self.inner.authz
    }

    /// The KEK versions that seal secrets at rest.
    pub fn sealing(&self) -> &SealingKeys {
        &self.inner.sealing
    }

    /// The WebAuthn relying party and the security-key policy.
    pub fn security_keys(&self) -> &RelyingParty {
        &self.inner.security_keys
    }

    /// The signing keys.
    pub fn keys(&self) -> &RwLock<KeyRing> {
        &self.inner.keys
    }

    /// Verifies an access token. An unknown key id triggers a reload from the database (at most
    /// every 30 s), so a key rotated by another instance is picked up without a restart.
    pub async fn verify_access(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<AccessClaims, TokenError> {
        let first = self.inner.keys.read().await.verify_access(token, now);
        if !matches!(first, Err(TokenError::UnknownKeyId)) || !self.reload_due(now).await {
            return first;
        }
        match signing_keys::reload(
            &self.inner.store,
            &self.inner.sealing.current(),
            now,
            &self.inner.identity,
        )
        .await
        {
            Ok(fresh) => *self.inner.keys.write().await = fresh,
            Err(error) => tracing::warn!(%error, "could not reload the signing keys"),
        }
        self.inner.keys.read().await.verify_access(token, now)
    }

    async fn reload_due(&self, now: OffsetDateTime) -> bool {
        let mut last = self.inner.last_reload.lock().await;
        if last.is_some_and(|at| now - at < KEY_RELOAD_INTERVAL) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Whether a session may still be used.
    pub async fn sessions_active(
        &self,
        session: SessionId,
        now: OffsetDateTime,
    ) -> ApiResult<bool> {
        let mut conn = self.store().acquire().await?;
        Ok(schild_store::sessions::is_active(&mut conn, session, now).await?)
    }

    /// Hashes a password off the async runtime, bounded by the hashing semaphore.
    pub async fn hash_password(&self, password: SecretString) -> ApiResult<PasswordHash> {
        let policy = Arc::clone(&self.inner.passwords);
        self.blocking(move || policy.hash(&password))
            .await?
            .map_err(ApiError::internal)
    }

    /// Verifies a password off the async runtime. `None` as the stored hash verifies against the
    /// policy's dummy hash, so an unknown user costs the same time as a known one.
    pub async fn verify_password(
        &self,
        password: SecretString,
        stored: Option<PasswordHash>,
    ) -> ApiResult<Verified> {
        let policy = Arc::clone(&self.inner.passwords);
        self.blocking(move || match stored {
            Some(hash) => policy.verify(&password, &hash),
            None => {
                policy.verify_dummy(&password);
                Ok(Verified::Invalid)
            }
        })
        .await?
        .map_err(ApiError::internal)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> ApiResult<T> {
        let _permit = self
            .inner
            .hashing
            .acquire()
            .await
            .map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(ApiError::internal)
    }
}
