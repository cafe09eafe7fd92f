//! Security-key commands: what the connected key (or the demo key) says about itself, its PIN,
//! fingerprints, stored credentials and reset, answering the backend's WebAuthn ceremonies (the
//! webview's own `navigator.credentials` does not exist in WebKitGTK), and attaching the virtual
//! demo key from Settings. Prompts for touches and fingerprint samples reach the UI as events.

use crate::Desktop;
use crate::error::CommandError;
use schild_hwkey::ctap::{
    AnyKey, CredentialId, Discovery, EnrollmentProgress, FingerprintId, KeyObserver, KeyTransport,
    Pin, PinPolicy, SecurityKey, the_only_key,
};
use serde::Serialize;
use std::sync::Arc;
use tauri::{Emitter as _, State};
use webauthn_rs_proto::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

/// The event telling the person what to do with the key (`touch`, fingerprint progress).
pub const KEY_PROMPT_EVENT: &str = "key-prompt";

/// What the UI is told while the key works.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "step", rename_all = "snake_case")]
pub(crate) enum KeyPrompt {
    Touch,
    Sample { remaining: u32 },
}

/// Relays the key's prompts to the window.
struct WindowObserver(tauri::AppHandle);

impl KeyObserver for WindowObserver {
    fn touch_requested(&self) {
        let _ = self.0.emit(KEY_PROMPT_EVENT, KeyPrompt::Touch);
    }

    fn enrollment_progress(&self, progress: &EnrollmentProgress) {
        let remaining = progress.remaining_samples;
        let _ = self
            .0
            .emit(KEY_PROMPT_EVENT, KeyPrompt::Sample { remaining });
    }
}

/// A connected key as the UI shows it.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct KeyView {
    /// `USB`, `NFC` or `virtual`.
    pub transport: String,
    /// Whether this is the virtual demo key rather than hardware.
    pub is_virtual: bool,
    /// The model's name, when known.
    pub model: Option<&'static str>,
    /// The model identifier.
    pub aaguid: Option<String>,
    /// CTAP versions.
    pub versions: Vec<String>,
    /// Extensions (`hmac-secret`, …).
    pub extensions: Vec<String>,
    /// Whether a PIN is set.
    pub has_pin: bool,
    /// PIN attempts left.
    pub pin_retries: Option<u32>,
    /// Whether it reads fingerprints.
    pub biometric: bool,
    /// Firmware version.
    pub firmware_version: Option<u64>,
    /// Room for more passkeys, where the key says.
    pub remaining_passkeys: Option<u32>,
}

impl Desktop {
    fn discovery(&self) -> Discovery {
        Discovery {
            virtual_key: self.demo_key_attached().then(|| self.demo_key_path()),
            ..Discovery::hardware()
        }
    }
}

/// Opens the one connected key (the demo key when attached), relaying its prompts to the window.
pub(crate) async fn open_key(
    app: tauri::AppHandle,
    desktop: &Desktop,
) -> Result<SecurityKey<AnyKey>, CommandError> {
    let token = the_only_key(&desktop.discovery()).await?;
    Ok(SecurityKey::open(token, Arc::new(WindowObserver(app))).await?)
}

/// Runs a key operation on a thread of its own, for the operations whose futures cannot move
/// between threads (webauthn-authenticator-rs's fingerprint and credential-management
/// interfaces hold non-`Send` trait objects across awaits, and Tauri's async commands must be
/// `Send`). The key is opened on that thread, so only the plain inputs cross over.
async fn on_key_thread<R, F, Fut>(
    app: tauri::AppHandle,
    desktop: &Desktop,
    work: F,
) -> Result<R, CommandError>
where
    F: FnOnce(SecurityKey<AnyKey>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<R, schild_hwkey::ctap::KeyError>>,
    R: Send + 'static,
{
    let discovery = desktop.discovery();
    tauri::async_runtime::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CommandError::new("internal", e.to_string()))?;
        runtime.block_on(async move {
            let token = the_only_key(&discovery).await?;
            let key = SecurityKey::open(token, Arc::new(WindowObserver(app))).await?;
            Ok(work(key).await?)
        })
    })
    .await
    .map_err(|e| CommandError::new("internal", e.to_string()))?
}

/// A PIN typed in the UI; an empty one means "none given".
pub(crate) fn pin_of(pin: Option<String>) -> Result<Option<Pin>, CommandError> {
    match pin.filter(|p| !p.is_empty()) {
        Some(pin) => Ok(Some(Pin::new(pin)?)),
        None => Ok(None),
    }
}

/// A PIN the operation cannot do without.
fn required_pin(pin: String) -> Result<Pin, CommandError> {
    pin_of(Some(pin))?.ok_or_else(|| schild_hwkey::ctap::KeyError::PinRequired.into())
}

/// The one connected key (the demo key when attached), or why there is none.
#[tauri::command]
pub async fn key_info(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
) -> Result<KeyView, CommandError> {
    let key = open_key(app, &desktop).await?;
    let info = key.info();
    let is_virtual = info.transport == KeyTransport::Virtual;
    Ok(KeyView {
        transport: info.transport.to_string(),
        is_virtual,
        model: info.model,
        aaguid: info.aaguid.map(|a| a.to_string()),
        versions: info.versions.clone(),
        extensions: info.extensions.clone(),
        has_pin: info.has_pin(),
        pin_retries: info.pin_retries,
        biometric: info.options.bio_enroll.is_some(),
        firmware_version: info.firmware_version,
        remaining_passkeys: info.remaining_discoverable_credentials,
    })
}

/// Attaches or detaches the virtual demo key (kept in `demo-key.json` in the data directory).
#[tauri::command]
pub async fn demo_key_set(desktop: State<'_, Desktop>, attached: bool) -> Result<(), CommandError> {
    desktop.set_demo_key(attached)?;
    let action = if attached {
        "demo_key.attached"
    } else {
        "demo_key.detached"
    };
    desktop.record(action, "the virtual demo key").await;
    Ok(())
}

/// How the key is named in this desktop's record: its model and transport.
fn key_name(key: &SecurityKey<AnyKey>) -> String {
    let info = key.info();
    format!(
        "{} ({})",
        info.model.unwrap_or("unknown model"),
        info.transport
    )
}

/// Answers the backend's registration ceremony (`navigator.credentials.create`) with the
/// connected key, as the origin the backend knows this desktop by.
#[tauri::command]
pub async fn key_register(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    options: CreationChallengeResponse,
    pin: Option<String>,
) -> Result<RegisterPublicKeyCredential, CommandError> {
    let pin = pin_of(pin)?;
    let origin = desktop.webauthn_origin()?;
    let mut key = open_key(app, &desktop).await?;
    Ok(key.register(pin.as_ref(), origin, options).await?)
}

/// Answers the backend's sign-in ceremony (`navigator.credentials.get`) with the connected key.
#[tauri::command]
pub async fn key_authenticate(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    options: RequestChallengeResponse,
    pin: Option<String>,
) -> Result<PublicKeyCredential, CommandError> {
    let pin = pin_of(pin)?;
    let origin = desktop.webauthn_origin()?;
    let mut key = open_key(app, &desktop).await?;
    Ok(key.authenticate(pin.as_ref(), origin, options).await?)
}

/// Sets the PIN of a key that has none.
#[tauri::command]
pub async fn key_set_pin(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    pin: String,
) -> Result<(), CommandError> {
    let pin = required_pin(pin)?;
    let mut key = open_key(app, &desktop).await?;
    key.set_pin(&pin, &PinPolicy::default()).await?;
    desktop.record("key.pin_set", key_name(&key)).await;
    Ok(())
}

/// Changes the key's PIN, proving the current one.
#[tauri::command]
pub async fn key_change_pin(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    current: String,
    pin: String,
) -> Result<(), CommandError> {
    let current = required_pin(current)?;
    let pin = required_pin(pin)?;
    let mut key = open_key(app, &desktop).await?;
    Ok(key
        .change_pin(&current, &pin, &PinPolicy::default())
        .await?)
}

/// An enrolled fingerprint as the UI shows it.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FingerprintView {
    /// The key's identifier for it (base64url).
    pub id: String,
    /// Its name.
    pub name: Option<String>,
}

/// The fingerprints enrolled on a biometric key.
#[tauri::command]
pub async fn key_fingerprints(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    pin: String,
) -> Result<Vec<FingerprintView>, CommandError> {
    let pin = required_pin(pin)?;
    let fingerprints = on_key_thread(app, &desktop, move |mut key| async move {
        key.fingerprints(&pin).await
    })
    .await?;
    Ok(fingerprints
        .into_iter()
        .map(|f| FingerprintView {
            id: f.id.to_string(),
            name: f.name,
        })
        .collect())
}

/// Enrolls a fingerprint; each sample is reported as a `key-prompt` event.
#[tauri::command]
pub async fn key_fingerprint_enroll(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    pin: String,
    name: String,
) -> Result<FingerprintView, CommandError> {
    let pin = required_pin(pin)?;
    let name = Some(name.trim().to_owned()).filter(|n| !n.is_empty());
    let label = name.clone();
    let id = on_key_thread(app, &desktop, move |mut key| async move {
        key.enroll_fingerprint(&pin, label.as_deref()).await
    })
    .await?;
    desktop
        .record(
            "key.fingerprint_enrolled",
            name.as_deref().unwrap_or("unnamed"),
        )
        .await;
    Ok(FingerprintView {
        id: id.to_string(),
        name,
    })
}

/// Removes an enrolled fingerprint.
#[tauri::command]
pub async fn key_fingerprint_remove(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    pin: String,
    id: String,
) -> Result<(), CommandError> {
    let pin = required_pin(pin)?;
    let id: FingerprintId = id.parse()?;
    on_key_thread(app, &desktop, move |mut key| async move {
        key.delete_fingerprint(&pin, &id).await
    })
    .await?;
    desktop
        .record("key.fingerprint_removed", "one fingerprint")
        .await;
    Ok(())
}

/// A credential stored on the key, as the UI shows it.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StoredCredentialView {
    /// Its id (base64url), for deleting it.
    pub id: String,
    /// The account name the site gave.
    pub user_name: Option<String>,
    /// The display name the site gave.
    pub user_display_name: Option<String>,
}

/// The credentials one site keeps on the key.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SiteCredentialsView {
    /// The site (relying party id).
    pub rp_id: Option<String>,
    /// Its name.
    pub rp_name: Option<String>,
    /// Its credentials.
    pub credentials: Vec<StoredCredentialView>,
}

/// The discoverable credentials (passkeys) stored on the key, by site.
#[tauri::command]
pub async fn key_credentials(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    pin: String,
) -> Result<Vec<SiteCredentialsView>, CommandError> {
    let pin = required_pin(pin)?;
    let sites = on_key_thread(app, &desktop, move |mut key| async move {
        key.credentials(&pin).await
    })
    .await?;
    Ok(sites
        .into_iter()
        .map(|site| SiteCredentialsView {
            rp_id: site.rp_id,
            rp_name: site.rp_name,
            credentials: site
                .credentials
                .into_iter()
                .map(|c| StoredCredentialView {
                    id: c.id.to_string(),
                    user_name: c.user_name,
                    user_display_name: c.user_display_name,
                })
                .collect(),
        })
        .collect())
}

/// Deletes one stored credential from the key.
#[tauri::command]
pub async fn key_credential_delete(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    pin: String,
    id: String,
) -> Result<(), CommandError> {
    let pin = required_pin(pin)?;
    let id: CredentialId = id.parse()?;
    on_key_thread(app, &desktop, move |mut key| async move {
        key.delete_credential(&pin, &id).await
    })
    .await?;
    desktop
        .record("key.credential_deleted", "one stored passkey")
        .await;
    Ok(())
}

/// Factory-resets the key: every credential, fingerprint and the PIN are erased. The UI asks
/// for a typed confirmation first; the key itself accepts it only just after being plugged in.
#[tauri::command]
pub async fn key_reset(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
) -> Result<(), CommandError> {
    let mut key = open_key(app, &desktop).await?;
    let name = key_name(&key);
    key.reset().await?;
    desktop.record("key.reset", name).await;
    Ok(())
}
