//! Security-key commands: what the connected key (or the demo key) says about itself, and
//! attaching the virtual demo key from Settings. Prompts for touches reach the UI as events.

use crate::Desktop;
use crate::error::CommandError;
use schild_hwkey::ctap::{
    Discovery, EnrollmentProgress, KeyObserver, KeyTransport, SecurityKey, the_only_key,
};
use serde::Serialize;
use std::sync::Arc;
use tauri::{Emitter as _, State};

/// The event telling the person what to do with the key (`touch`, fingerprint progress).
pub const KEY_PROMPT_EVENT: &str = "key-prompt";

/// What the UI is told while the key works.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum KeyPrompt {
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

/// The one connected key (the demo key when attached), or why there is none.
#[tauri::command]
pub async fn key_info(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
) -> Result<KeyView, CommandError> {
    let token = the_only_key(&desktop.discovery()).await?;
    let key = SecurityKey::open(token, Arc::new(WindowObserver(app))).await?;
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
pub fn demo_key_set(desktop: State<'_, Desktop>, attached: bool) -> Result<(), CommandError> {
    desktop.set_demo_key(attached)
}
