//! The backend's sealing keys: the KEK versions of its own vault (`schild-server`), wrapped by the
//! configured provider (a key file, an HSM key or the OS keyring), and their scheduled rotation.
//!
//! Secrets at rest (`auth::secrets`) are sealed under the current version and open under any
//! version still held. The sweeper calls [`rotation_step`] every minute: when the current version
//! is older than the rotation interval, a new version begins (a compare-and-set, so one instance
//! begins it); every sealed value still wrapped by an older version is re-wrapped, a batch per
//! transaction, each row a compare-and-set; an older version is destroyed once no value uses it
//! and every instance has had time to load the new one ([`RETIRE_AFTER`]).
//!
//! Values sealed directly by the provider (before key versions existed) still open, and the first
//! rotation step moves them under the current version.

use crate::auth::secrets;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::{AuditEvent, AuditRecord};
use schild_core::provider::{KeyEncryptionKey, WrappedKey};
use schild_core::vault::{KekSet, KeyVersion, RotationPolicy, generate_kek, open_kek};
use schild_store::vault::{self as rows, VaultKeyRow, VaultRow};
use schild_store::{AnyConnection, Store, StoreError, audit, keys, mfa};
use std::sync::{Arc, RwLock};
use time::OffsetDateTime;

/// The id of the backend's vault, bound into every value it seals.
pub const VAULT: &str = "schild-server";
/// How long an older KEK version is kept after a rotation began, at least: every instance reloads
/// its keys at each sweep (once a minute), so after this none seals under the old version any
/// more, and a final pass finds whatever was sealed under it meanwhile.
pub const RETIRE_AFTER: time::Duration = time::Duration::minutes(10);
/// Values re-wrapped per transaction.
const BATCH: usize = 500;

/// How the backend seals secrets at rest: the provider of its root key, and how often the KEK
/// versions under it rotate.
pub struct Sealing {
    /// The key that wraps the KEK versions (a key file, an HSM key, a keyring entry).
    pub provider: Arc<dyn KeyEncryptionKey>,
    /// When a new KEK version begins.
    pub rotation: RotationPolicy,
}

impl Sealing {
    /// `provider`, rotating every 90 days.
    pub fn new(provider: Arc<dyn KeyEncryptionKey>) -> Self {
        Self {
            provider,
            rotation: RotationPolicy::default(),
        }
    }
}

/// The backend's KEK versions, with the provider that unwraps them.
pub struct SealingKeys {
    provider: Arc<dyn KeyEncryptionKey>,
    policy: RotationPolicy,
    current: RwLock<Arc<KekSet>>,
}

impl std::fmt::Debug for SealingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingKeys")
            .field("provider", &self.provider.key_id())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// The configured provider does not open the stored key versions: the key file, HSM key or
/// keyring entry was replaced. Starting would make every sealed secret unreadable.
#[derive(Debug, thiserror::Error)]
#[error(
    "the configured key-encryption key {configured:?} does not open the server's key versions \
     (wrapped by {stored:?}); configure the key they were made with"
)]
struct WrongProvider {
    configured: String,
    stored: String,
}

impl SealingKeys {
    /// Loads the KEK versions, creating version 1 under `provider` on the first start.
    pub async fn load_or_init(
        store: &Store,
        provider: Arc<dyn KeyEncryptionKey>,
        policy: RotationPolicy,
        now: OffsetDateTime,
    ) -> ApiResult<Self> {
        let mut tx = store.begin().await?;
        if rows::find(&mut tx, VAULT).await?.is_none() {
            let (_, wrapped) = generate_kek(
                VAULT,
                KeyVersion::FIRST,
                provider.as_ref(),
                &mut rand::rng(),
            )
            .map_err(ApiError::internal)?;
            let vault = VaultRow {
                id: VAULT.to_owned(),
                name: "Schild backend".to_owned(),
                current_version: KeyVersion::FIRST.get(),
                rotation_days: u32::try_from(policy.interval.whole_days().clamp(1, 36_500))
                    .unwrap_or(90),
                // A server's vault never locks; the column needs a value all the same.
                auto_lock_secs: 86_400,
                created_at: now,
            };
            match rows::create(&mut tx, &vault, &key_row(KeyVersion::FIRST, wrapped, now)).await {
                // Another instance created it first: use theirs.
                Ok(()) | Err(StoreError::VaultExists) => {}
                Err(other) => return Err(other.into()),
            }
        }
        tx.commit().await?;
        let mut conn = store.acquire().await?;
        let set = load(&mut conn, &provider).await?;
        Ok(Self {
            provider,
            policy,
            current: RwLock::new(Arc::new(set)),
        })
    }

    /// The keys now: seal with its current KEK, open with any.
    pub fn current(&self) -> Arc<KekSet> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Reloads the KEK versions from the database (another instance may have rotated).
    pub async fn reload(&self, store: &Store) -> ApiResult<()> {
        let mut conn = store.acquire().await?;
        let set = load(&mut conn, &self.provider).await?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(set);
        Ok(())
    }
}

/// Unwraps every stored KEK version with the provider.
async fn load(conn: &mut AnyConnection, provider: &Arc<dyn KeyEncryptionKey>) -> ApiResult<KekSet> {
    let vault = rows::find(conn, VAULT)
        .await?
        .ok_or_else(|| ApiError::internal(MissingVault))?;
    let mut current = None;
    // Values sealed by the provider itself, before key versions, still open.
    let mut older: Vec<Arc<dyn KeyEncryptionKey>> = vec![Arc::clone(provider)];
    for row in rows::keys(conn, VAULT).await? {
        let version =
            KeyVersion::new(row.version).ok_or_else(|| ApiError::internal(MissingVault))?;
        if row.root_key_id != provider.key_id() {
            return Err(ApiError::internal(WrongProvider {
                configured: provider.key_id().to_owned(),
                stored: row.root_key_id,
            }));
        }
        let wrapped = WrappedKey {
            key_id: row.root_key_id,
            blob: row.wrapped,
        };
        let kek: Arc<dyn KeyEncryptionKey> = Arc::new(
            open_kek(VAULT, version, provider.as_ref(), &wrapped).map_err(ApiError::internal)?,
        );
        if row.version == vault.current_version {
            current = Some(kek);
        } else {
            older.push(kek);
        }
    }
    let current = current.ok_or_else(|| ApiError::internal(MissingVault))?;
    Ok(KekSet::new(current, older))
}

#[derive(Debug, thiserror::Error)]
#[error("the server's vault or its current key version is missing from the database")]
struct MissingVault;

fn key_row(version: KeyVersion, wrapped: WrappedKey, now: OffsetDateTime) -> VaultKeyRow {
    VaultKeyRow {
        version: version.get(),
        root_key_id: wrapped.key_id,
        wrapped: wrapped.blob,
        wraps: 0,
        created_at: now,
    }
}

/// What one rotation step did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationStep {
    /// The version a rotation began with, if one began.
    pub began: Option<u32>,
    /// Sealed values moved to the current version.
    pub rewrapped: usize,
    /// Versions destroyed.
    pub retired: Vec<u32>,
}

/// Begins a rotation when one is due, re-wraps whatever an older version still wraps, and
/// retires older versions nothing uses. Safe to run on several instances at once.
pub async fn rotation_step(state: &AppState) -> ApiResult<RotationStep> {
    let sealing = state.sealing();
    sealing.reload(state.store()).await?;
    let now = state.now();
    let mut step = RotationStep::default();

    let mut conn = state.store().acquire().await?;
    let versions = rows::keys(&mut conn, VAULT).await?;
    let vault = rows::find(&mut conn, VAULT)
        .await?
        .ok_or_else(|| ApiError::internal(MissingVault))?;
    drop(conn);
    let current = versions
        .iter()
        .find(|v| v.version == vault.current_version)
        .ok_or_else(|| ApiError::internal(MissingVault))?;
    if versions.len() == 1
        && sealing
            .policy
            .due(current.created_at, current.wraps, now)
            .is_some()
    {
        step.began = begin(state, vault.current_version, now).await?;
        sealing.reload(state.store()).await?;
    }

    let keks = sealing.current();
    let (rewrapped, left) = rewrap_sealed(state, &keks).await?;
    step.rewrapped = rewrapped;

    let mut conn = state.store().acquire().await?;
    let versions = rows::keys(&mut conn, VAULT).await?;
    let vault = rows::find(&mut conn, VAULT)
        .await?
        .ok_or_else(|| ApiError::internal(MissingVault))?;
    let current_since = versions
        .iter()
        .find(|v| v.version == vault.current_version)
        .map(|v| v.created_at)
        .ok_or_else(|| ApiError::internal(MissingVault))?;
    if left == 0 && now - current_since >= RETIRE_AFTER {
        for old in versions
            .iter()
            .filter(|v| v.version < vault.current_version)
        {
            let mut tx = state.store().begin().await?;
            if rows::retire_key(&mut tx, VAULT, old.version).await? {
                audit::append(
                    &mut tx,
                    &system_record(
                        now,
                        AuditEvent::VaultKekRetired {
                            vault: VAULT.to_owned(),
                            version: old.version,
                        },
                    ),
                )
                .await?;
                step.retired.push(old.version);
            }
            tx.commit().await?;
        }
        if !step.retired.is_empty() {
            sealing.reload(state.store()).await?;
        }
    }
    Ok(step)
}

async fn begin(state: &AppState, current: u32, now: OffsetDateTime) -> ApiResult<Option<u32>> {
    let next = KeyVersion::new(current)
        .and_then(KeyVersion::next)
        .ok_or_else(|| ApiError::internal(MissingVault))?;
    let (_, wrapped) = generate_kek(
        VAULT,
        next,
        state.sealing().provider.as_ref(),
        &mut rand::rng(),
    )
    .map_err(ApiError::internal)?;
    let mut tx = state.store().begin().await?;
    if !rows::begin_rotation(&mut tx, VAULT, current, &key_row(next, wrapped, now)).await? {
        return Ok(None);
    }
    audit::append(
        &mut tx,
        &system_record(
            now,
            AuditEvent::VaultKekRotationStarted {
                vault: VAULT.to_owned(),
                version: next.get(),
            },
        ),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        version = next.get(),
        "began rotating the backend's key-encryption key"
    );
    Ok(Some(next.get()))
}

fn system_record(at: OffsetDateTime, event: AuditEvent) -> AuditRecord {
    AuditRecord {
        at,
        actor: None,
        source_ip: None,
        event,
    }
}

/// Re-wraps every sealed value an older version wraps: TOTP secrets and token-signing keys.
/// Returns how many moved, and how many still need it (changed meanwhile: the next step).
async fn rewrap_sealed(state: &AppState, keks: &KekSet) -> ApiResult<(usize, usize)> {
    let mut moved = 0;
    let mut left = 0;
    let mut conn = state.store().acquire().await?;
    let totp = mfa::all_totp_secrets(&mut conn).await?;
    let signing = keys::all_private(&mut conn).await?;
    drop(conn);

    for batch in totp.chunks(BATCH) {
        let mut tx = state.store().begin().await?;
        for (user, stored) in batch {
            if let Some(new) = secrets::rewrap_totp_secret(keks, *user, stored)? {
                if mfa::replace_totp_secret(&mut tx, *user, stored, &new).await? {
                    moved += 1;
                } else {
                    left += 1;
                }
            }
        }
        tx.commit().await?;
    }
    let mut tx = state.store().begin().await?;
    for (kid, stored) in &signing {
        if let Some(new) = secrets::rewrap_signing_key(keks, kid, stored)? {
            if keys::replace_private(&mut tx, kid, stored, &new).await? {
                moved += 1;
            } else {
                left += 1;
            }
        }
    }
    tx.commit().await?;
    if moved > 0 {
        let mut conn = state.store().acquire().await?;
        let current = rows::find(&mut conn, VAULT)
            .await?
            .ok_or_else(|| ApiError::internal(MissingVault))?
            .current_version;
        rows::add_wraps(&mut conn, VAULT, current, moved as u64).await?;
    }
    Ok((moved, left))
}
