//! The local key vault's commands: create, unlock, lock, items, unlock methods and rotation with
//! progress events. The vault lives in `local.db` in the data directory; while unlocked its keys
//! stay in this process (never in the webview), and it locks itself after its idle time.

use crate::Desktop;
use crate::error::CommandError;
use crate::keys::{open_key, pin_of};
use schild_core::clock::SystemClock;
use schild_core::provider::KeyEncryptionKey;
use schild_core::vault::{PassphraseParams, RotationPolicy};
use schild_hwkey::ctap::{HmacSecretCredential, HmacSecretKek, enroll_hmac_secret};
use schild_hwkey::hsm::{HsmError, HsmKek, KeyLabel, Module};
use schild_hwkey::keyring::{KeyringBackend, KeyringKek};
use schild_vault::{
    ItemInfo, NewVault, RotationProgress, RotationReport, UnlockParams, UnlockedVault, VaultStatus,
};
use secrecy::SecretString;
use serde::Serialize;
use std::sync::Arc;
use tauri::{Emitter as _, State};
use zeroize::Zeroizing;

/// The desktop's vault id.
pub const VAULT_ID: &str = "desktop";
/// The event carrying [`RotationProgress`] while a rotation runs.
pub const ROTATION_EVENT: &str = "vault-rotation";
/// The keyring service of the vault's keyring methods (the console's `schild-vault` is the
/// same vault format, but this is the desktop's own vault).
const KEYRING_SERVICE: &str = "schild-desktop";
/// The shortest passphrase accepted.
const MIN_PASSPHRASE_CHARS: usize = 12;

/// The vault as the UI shows it.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct VaultView {
    /// Whether a vault exists yet.
    pub created: bool,
    /// Whether it is unlocked in this app now.
    pub unlocked: bool,
    /// Seconds until it locks itself, while unlocked.
    pub locks_in_secs: Option<i64>,
    /// Its state, when it exists.
    pub status: Option<VaultStatus>,
}

fn check_passphrase(passphrase: &str) -> Result<(), CommandError> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(CommandError::new(
            "vault.passphrase_too_short",
            format!("the passphrase is shorter than {MIN_PASSPHRASE_CHARS} characters"),
        )
        .recommend("Use a passphrase of several words."));
    }
    Ok(())
}

/// A new passphrase method's parameters (the thread's generator is dropped here: a command's
/// future must be Send).
fn new_passphrase_params() -> UnlockParams {
    UnlockParams::new_passphrase(PassphraseParams::DESKTOP, &mut rand::rng())
}

/// Derives a passphrase method's key off the async runtime (Argon2id, 64 MiB).
async fn passphrase_key(
    method: &str,
    params: &UnlockParams,
    passphrase: Zeroizing<String>,
) -> Result<schild_core::vault::LocalKek, CommandError> {
    let (method, params) = (method.to_owned(), params.clone());
    tokio::task::spawn_blocking(move || params.passphrase_key(&method, passphrase.as_bytes()))
        .await
        .map_err(|e| CommandError::new("internal", e.to_string()))?
        .map_err(CommandError::from)
}

/// The vault's state, without unlocking it.
#[tauri::command]
pub async fn vault_status(desktop: State<'_, Desktop>) -> Result<VaultView, CommandError> {
    let now = time::OffsetDateTime::now_utc();
    let status = match schild_vault::status(&desktop.local, VAULT_ID, now).await {
        Ok(status) => Some(status),
        Err(schild_vault::Error::NoSuchVault(_)) => None,
        Err(error) => return Err(error.into()),
    };
    let open = desktop.vault.lock().await;
    let unlocked = open.as_ref().is_some_and(UnlockedVault::is_unlocked);
    Ok(VaultView {
        created: status.is_some(),
        unlocked,
        locks_in_secs: open
            .as_ref()
            .filter(|_| unlocked)
            .map(|v| v.locks_in().whole_seconds()),
        status,
    })
}

/// Creates the vault with a recovery passphrase as its first unlock method, and leaves it
/// unlocked.
#[tauri::command]
pub async fn vault_create(
    desktop: State<'_, Desktop>,
    passphrase: String,
) -> Result<(), CommandError> {
    let passphrase = Zeroizing::new(passphrase);
    check_passphrase(&passphrase)?;
    let params = new_passphrase_params();
    let key = passphrase_key("passphrase", &params, passphrase).await?;
    let vault = UnlockedVault::init(
        desktop.local.clone(),
        Arc::new(SystemClock),
        NewVault {
            id: VAULT_ID,
            name: "Desktop vault",
            rotation: RotationPolicy::default(),
            auto_lock: time::Duration::minutes(5),
        },
        "passphrase",
        "recovery passphrase",
        &params,
        &key,
    )
    .await?;
    *desktop.vault.lock().await = Some(vault);
    desktop
        .record("vault.created", "with a recovery passphrase")
        .await;
    Ok(())
}

/// The key of an existing unlock method: from the passphrase, the connected security key (with
/// its PIN when the credential was made with one), or the OS keyring.
async fn method_key(
    app: &tauri::AppHandle,
    desktop: &Desktop,
    method: &schild_vault::UnlockMethod,
    passphrase: Option<String>,
    pin: Option<String>,
) -> Result<Arc<dyn KeyEncryptionKey>, CommandError> {
    match &method.params {
        UnlockParams::Passphrase { .. } => {
            let passphrase = Zeroizing::new(passphrase.unwrap_or_default());
            Ok(Arc::new(
                passphrase_key(&method.id, &method.params, passphrase).await?,
            ))
        }
        UnlockParams::SecurityKey { credential } => {
            let credential: HmacSecretCredential = serde_json::from_value(credential.clone())
                .map_err(|_| {
                    CommandError::new(
                        "vault.damaged",
                        "the security-key method's stored credential is damaged",
                    )
                })?;
            let pin = if credential.user_verified {
                pin_of(pin)?
            } else {
                None
            };
            let mut key = open_key(app.clone(), desktop).await?;
            Ok(Arc::new(
                HmacSecretKek::unlock(&mut key, &credential, pin.as_ref()).await?,
            ))
        }
        UnlockParams::Keyring {
            backend,
            service,
            entry,
        } => {
            let backend: KeyringBackend = backend.parse().map_err(|_| keyring_unavailable())?;
            let store = backend.open().map_err(|_| keyring_unavailable())?;
            Ok(Arc::new(
                KeyringKek::open(&store, service, entry).map_err(|_| keyring_unavailable())?,
            ))
        }
        UnlockParams::Hsm { module, token, key } => {
            hsm_key(module.clone(), token.clone(), key.clone(), pin.unwrap_or_default()).await
        }
        other => Err(CommandError::new(
            "vault.method_unsupported",
            format!(
                "the {} unlock method works from the command line (`schild vault unlock`), not in the app",
                other.kind()
            ),
        )
        .recommend("Choose another unlock method.")),
    }
}

/// Logs in to the HSM token with the user PIN and names its AES key (off the async runtime:
/// PKCS#11 calls block).
async fn hsm_key(
    module: String,
    token: String,
    key: String,
    pin: String,
) -> Result<Arc<dyn KeyEncryptionKey>, CommandError> {
    if pin.is_empty() {
        return Err(CommandError::new(
            "vault.hsm_pin_required",
            "the HSM token's user PIN is needed",
        )
        .recommend("Type the token's user PIN."));
    }
    let pin = SecretString::from(pin);
    tokio::task::spawn_blocking(move || {
        let label: KeyLabel = key.parse().map_err(hsm_error)?;
        let module = Module::open(&module).map_err(hsm_error)?;
        let token = module.login(&token, &pin).map_err(hsm_error)?;
        let kek = HsmKek::new(Arc::new(token), label).map_err(hsm_error)?;
        Ok::<Arc<dyn KeyEncryptionKey>, CommandError>(Arc::new(kek))
    })
    .await
    .map_err(|e| CommandError::new("internal", e.to_string()))?
}

/// An HSM failure as the UI shows it (PKCS#11 errors name no secrets).
fn hsm_error(error: HsmError) -> CommandError {
    CommandError::new("vault.hsm", error.to_string()).recommend(error.recommendation())
}

fn keyring_unavailable() -> CommandError {
    CommandError::new(
        "vault.keyring_unavailable",
        "the OS keyring cannot be reached, or it does not hold this method's key",
    )
    .recommend(
        "Unlock your desktop keyring (or log in to the desktop session), or use another method.",
    )
}

/// Unlocks with the method `method` (default: `passphrase`) — a passphrase, the connected
/// security key (with its PIN) or the OS keyring — then finishes or starts a rotation that is
/// due, reporting progress.
#[tauri::command]
pub async fn vault_unlock(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    method: Option<String>,
    passphrase: Option<String>,
    pin: Option<String>,
) -> Result<(), CommandError> {
    let method = method.unwrap_or_else(|| "passphrase".to_owned());
    let methods = schild_vault::unlock_methods(&desktop.local, VAULT_ID).await?;
    let chosen = methods
        .iter()
        .find(|m| m.id == method)
        .ok_or_else(|| schild_vault::Error::NoSuchUnlockMethod(method.clone()))?;
    let key = method_key(&app, &desktop, chosen, passphrase, pin).await?;
    let vault = UnlockedVault::unlock(
        desktop.local.clone(),
        Arc::new(SystemClock),
        VAULT_ID,
        &chosen.id,
        key.as_ref(),
    )
    .await?;
    if vault.status().await?.needs_rotation() {
        rotate(&app, &vault).await?;
    }
    *desktop.vault.lock().await = Some(vault);
    desktop
        .record("vault.unlocked", format!("with {}", chosen.label))
        .await;
    Ok(())
}

/// Locks the vault: its keys are wiped from memory.
#[tauri::command]
pub async fn vault_lock(desktop: State<'_, Desktop>) -> Result<(), CommandError> {
    if let Some(vault) = desktop.vault.lock().await.take() {
        vault.lock();
        desktop.record("vault.locked", "by hand").await;
    }
    Ok(())
}

/// Runs `f` on the unlocked vault; [`schild_vault::Error::Locked`] when it is not.
macro_rules! with_vault {
    ($desktop:expr, |$vault:ident| $body:expr) => {{
        let guard = $desktop.vault.lock().await;
        let $vault = guard.as_ref().ok_or(schild_vault::Error::Locked)?;
        $body
    }};
}

/// The items, never their values.
#[tauri::command]
pub async fn vault_items(desktop: State<'_, Desktop>) -> Result<Vec<ItemInfo>, CommandError> {
    with_vault!(desktop, |vault| Ok(vault.list().await?))
}

/// Stores a text value under `name`.
#[tauri::command]
pub async fn vault_put(
    desktop: State<'_, Desktop>,
    name: String,
    purpose: String,
    value: String,
    replace: bool,
) -> Result<(), CommandError> {
    let value = Zeroizing::new(value);
    if value.is_empty() {
        return Err(CommandError::new("vault.empty_value", "the value is empty"));
    }
    with_vault!(desktop, |vault| vault
        .put(&name, &purpose, value.as_bytes(), replace)
        .await)?;
    desktop.record("vault.item_stored", &name).await;
    Ok(())
}

/// An item's value, for showing once on request.
#[tauri::command]
pub async fn vault_reveal(
    desktop: State<'_, Desktop>,
    name: String,
) -> Result<String, CommandError> {
    let shown = with_vault!(desktop, |vault| {
        let value = vault.get(&name).await?;
        String::from_utf8(value.to_vec()).map_err(|_| {
            CommandError::new("vault.binary_item", "the item holds binary data")
                .recommend("Read it with `schild vault get` on the command line.")
        })
    })?;
    desktop.record("vault.item_shown", &name).await;
    Ok(shown)
}

/// Removes an item: its data key and ciphertext are destroyed.
#[tauri::command]
pub async fn vault_remove(desktop: State<'_, Desktop>, name: String) -> Result<(), CommandError> {
    with_vault!(desktop, |vault| vault.remove(&name).await)?;
    desktop.record("vault.item_removed", &name).await;
    Ok(())
}

/// Adds a passphrase unlock method.
#[tauri::command]
pub async fn vault_add_passphrase(
    desktop: State<'_, Desktop>,
    id: String,
    label: String,
    passphrase: String,
) -> Result<(), CommandError> {
    let passphrase = Zeroizing::new(passphrase);
    check_passphrase(&passphrase)?;
    let params = new_passphrase_params();
    let key = passphrase_key(&id, &params, passphrase).await?;
    with_vault!(desktop, |vault| vault
        .add_unlock_method(&id, &label, &params, &key)
        .await)?;
    desktop
        .record("vault.method_added", format!("{label} (passphrase)"))
        .await;
    Ok(())
}

/// Adds the connected security key as an unlock method: an hmac-secret credential is made on it
/// (with its PIN when it has one) and checked with a second touch before it is added.
#[tauri::command]
pub async fn vault_add_security_key(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    id: String,
    label: String,
    pin: Option<String>,
) -> Result<(), CommandError> {
    let pin = pin_of(pin)?;
    let mut key = open_key(app, &desktop).await?;
    let credential = enroll_hmac_secret(&mut key, pin.as_ref()).await?;
    let kek = HmacSecretKek::unlock(&mut key, &credential, pin.as_ref()).await?;
    let params = UnlockParams::SecurityKey {
        credential: serde_json::to_value(&credential)
            .map_err(|e| CommandError::new("internal", e.to_string()))?,
    };
    with_vault!(desktop, |vault| vault
        .add_unlock_method(&id, &label, &params, &kek)
        .await)?;
    desktop
        .record("vault.method_added", format!("{label} (security key)"))
        .await;
    Ok(())
}

/// Adds an AES key inside a PKCS#11 HSM (made with `schild hsm generate --kind aes256`) as an
/// unlock method: the vault's master key is wrapped inside the token and never leaves it.
#[tauri::command]
pub async fn vault_add_hsm(
    desktop: State<'_, Desktop>,
    id: String,
    label: String,
    module: String,
    token: String,
    key: String,
    pin: String,
) -> Result<(), CommandError> {
    let params = UnlockParams::Hsm {
        module: module.trim().to_owned(),
        token: token.trim().to_owned(),
        key: key.trim().to_owned(),
    };
    let kek = hsm_key(
        module.trim().to_owned(),
        token.trim().to_owned(),
        key.trim().to_owned(),
        pin,
    )
    .await?;
    with_vault!(desktop, |vault| vault
        .add_unlock_method(&id, &label, &params, kek.as_ref())
        .await)?;
    desktop
        .record(
            "vault.method_added",
            format!("{label} (HSM token {})", token.trim()),
        )
        .await;
    Ok(())
}

/// Adds a random key kept in this system's OS keyring as an unlock method.
#[tauri::command]
pub async fn vault_add_keyring(
    desktop: State<'_, Desktop>,
    id: String,
    label: String,
) -> Result<(), CommandError> {
    let backend = KeyringBackend::platform_default();
    let entry = format!("{VAULT_ID}.{id}");
    let params = UnlockParams::Keyring {
        backend: backend.name().to_owned(),
        service: KEYRING_SERVICE.to_owned(),
        entry: entry.clone(),
    };
    let store = backend.open().map_err(|_| keyring_unavailable())?;
    let kek =
        KeyringKek::create(&store, KEYRING_SERVICE, &entry).map_err(|_| keyring_unavailable())?;
    with_vault!(desktop, |vault| vault
        .add_unlock_method(&id, &label, &params, &kek)
        .await)?;
    desktop
        .record("vault.method_added", format!("{label} (OS keyring)"))
        .await;
    Ok(())
}

/// Removes an unlock method (never the last lasting one).
#[tauri::command]
pub async fn vault_remove_method(
    desktop: State<'_, Desktop>,
    id: String,
) -> Result<(), CommandError> {
    with_vault!(desktop, |vault| vault.remove_unlock_method(&id).await)?;
    desktop.record("vault.method_removed", &id).await;
    Ok(())
}

/// Rotates the KEK now (or resumes an unfinished rotation), emitting [`ROTATION_EVENT`].
#[tauri::command]
pub async fn vault_rotate(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
) -> Result<RotationReport, CommandError> {
    let report = with_vault!(desktop, |vault| rotate(&app, vault).await)?;
    desktop
        .record(
            "vault.rotated",
            format!(
                "to KEK v{}, {} items re-wrapped",
                report.version, report.rewrapped
            ),
        )
        .await;
    Ok(report)
}

async fn rotate(
    app: &tauri::AppHandle,
    vault: &UnlockedVault,
) -> Result<RotationReport, CommandError> {
    let report = vault
        .rotate(500, |progress: RotationProgress| {
            let _ = app.emit(ROTATION_EVENT, progress);
        })
        .await?;
    Ok(report)
}
