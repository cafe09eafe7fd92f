//! Schild's desktop app: a Tauri 2 shell whose commands only translate to the crates below it —
//! the key vault (schild-vault over a local SQLite database), security keys (schild-hwkey) and
//! the backend (an embedded schild-server in local mode, or a remote one).
//!
//! Modes, from the command line:
//! - **local** (default): no backend configured, so the same schild-server runs in-process on a
//!   loopback port with SQLite in the data directory;
//! - **remote**: `--backend https://schild.example` (or `SCHILD_BACKEND_URL`), optionally with
//!   `--pin SHA256` (or `SCHILD_BACKEND_PIN`) to accept only that certificate;
//! - **enrollment station**: `--kiosk` (or `SCHILD_KIOSK=1`), full screen, the UI shows only the
//!   enrollment flow, and only an administrator's security key ends it ([`kiosk`]).

mod api;
#[cfg(test)]
mod bindings;
mod error;
mod keys;
mod kiosk;
mod local_backend;
mod vault;

pub use error::CommandError;

use schild_store::Store;
use schild_vault::UnlockedVault;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use tauri::Manager as _;

/// Everything the commands share.
pub struct Desktop {
    /// The data directory.
    data_dir: PathBuf,
    /// The local database (the vault, this desktop's own records).
    local: Store,
    /// The vault, while unlocked.
    vault: tokio::sync::Mutex<Option<UnlockedVault>>,
    /// The backend's origin.
    backend_url: String,
    /// Local or remote.
    mode: Mode,
    /// The embedded backend, in local mode (kept so it runs as long as the app).
    local_backend: Option<local_backend::LocalBackend>,
    /// Whether the app runs as an enrollment station (until an administrator ends it).
    kiosk: AtomicBool,
    /// Whether the virtual demo key stands in for hardware.
    demo_key: AtomicBool,
    /// The backend's client, for [`api::backend_fetch`] and the outbox.
    client: schild_client::Client,
    /// The last answers to reads, for showing while offline.
    reads: tokio::sync::Mutex<api::ReadCache>,
    /// Held while the outbox is being sent, so two rounds never overlap.
    syncing: tokio::sync::Mutex<()>,
}

/// Where the backend runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// In this process, on loopback.
    Local,
    /// Elsewhere.
    Remote,
}

impl Desktop {
    fn demo_key_path(&self) -> PathBuf {
        self.data_dir.join("demo-key.json")
    }

    fn demo_key_marker(&self) -> PathBuf {
        self.data_dir.join("demo-key.attached")
    }

    fn demo_key_attached(&self) -> bool {
        self.demo_key.load(Ordering::Relaxed)
    }

    /// The origin this desktop answers WebAuthn ceremonies as: the backend's own, which the
    /// backend accepts by default. WebAuthn knows no IP-address origins, so the loopback address
    /// of local mode becomes `localhost`.
    fn webauthn_origin(&self) -> Result<url::Url, CommandError> {
        let invalid = || {
            CommandError::new(
                "key.origin",
                format!("the backend address {} is not a URL", self.backend_url),
            )
        };
        let mut origin = url::Url::parse(&self.backend_url).map_err(|_| invalid())?;
        let loopback = matches!(origin.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(origin.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
        if loopback {
            origin.set_host(Some("localhost")).map_err(|_| invalid())?;
        }
        origin.set_path("");
        Ok(origin)
    }

    /// Records one of this desktop's actions for Settings' list. Never fails the action: a
    /// record that cannot be written is logged.
    async fn record(&self, action: &str, detail: impl AsRef<str>) {
        let detail = detail.as_ref();
        tracing::info!(action, detail, "desktop action");
        let written = async {
            let mut conn = self.local.acquire().await?;
            schild_store::desktop_actions::record(
                &mut conn,
                time::OffsetDateTime::now_utc(),
                action,
                detail,
            )
            .await
        };
        if let Err(error) = written.await {
            tracing::warn!(%error, action, "could not record a desktop action");
        }
    }

    /// Remembers the choice across starts with a marker file beside the key.
    fn set_demo_key(&self, attached: bool) -> Result<(), CommandError> {
        let marker = self.demo_key_marker();
        let written = if attached {
            std::fs::write(&marker, b"virtual demo key attached\n")
        } else {
            match std::fs::remove_file(&marker) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            }
        };
        written.map_err(|e| {
            CommandError::new("settings.write", format!("cannot save the setting: {e}"))
        })?;
        self.demo_key.store(attached, Ordering::Relaxed);
        Ok(())
    }
}

/// What the UI needs to know at start.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
struct AppInfo {
    version: &'static str,
    mode: Mode,
    backend_url: String,
    kiosk: bool,
    demo_key: bool,
    /// The first-administrator setup token of the local backend, while no account exists.
    setup_token: Option<String>,
    data_dir: String,
}

/// One of this desktop's recorded actions.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
struct DesktopActionView {
    at: String,
    action: String,
    detail: String,
}

/// This desktop's latest actions, newest first.
#[tauri::command]
async fn desktop_actions(
    desktop: tauri::State<'_, Desktop>,
    limit: Option<u32>,
) -> Result<Vec<DesktopActionView>, CommandError> {
    let mut conn = desktop.local.acquire().await.map_err(|e| {
        CommandError::new("settings.read", e.to_string()).recommend("Check the disk.")
    })?;
    let actions = schild_store::desktop_actions::recent(&mut conn, limit.unwrap_or(100).min(500))
        .await
        .map_err(|e| {
            CommandError::new("settings.read", e.to_string()).recommend("Check the disk.")
        })?;
    Ok(actions
        .into_iter()
        .map(|a| DesktopActionView {
            at: a
                .at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            action: a.action,
            detail: a.detail,
        })
        .collect())
}

#[tauri::command]
fn app_info(desktop: tauri::State<'_, Desktop>) -> AppInfo {
    // The UI's first call, just before it mounts: scripts/bench-desktop times start-up by it.
    tracing::info!("the UI is loaded");
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        mode: desktop.mode,
        backend_url: desktop.backend_url.clone(),
        kiosk: desktop.kiosk.load(Ordering::Relaxed),
        demo_key: desktop.demo_key_attached(),
        setup_token: desktop
            .local_backend
            .as_ref()
            .and_then(local_backend::LocalBackend::setup_token),
        data_dir: desktop.data_dir.display().to_string(),
    }
}

/// The command line.
struct Options {
    backend: Option<String>,
    /// The SHA-256 of the remote backend's certificate, to accept only that one.
    pin: Option<String>,
    kiosk: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        backend: std::env::var("SCHILD_BACKEND_URL")
            .ok()
            .filter(|v| !v.is_empty()),
        pin: std::env::var("SCHILD_BACKEND_PIN")
            .ok()
            .filter(|v| !v.is_empty()),
        kiosk: std::env::var("SCHILD_KIOSK").is_ok_and(|v| v == "1"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--kiosk" => options.kiosk = true,
            "--backend" => {
                options.backend = Some(args.next().ok_or("--backend needs a URL")?);
            }
            "--pin" => {
                options.pin = Some(args.next().ok_or("--pin needs a SHA-256 fingerprint")?);
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?}; use --backend URL, --pin SHA256 or --kiosk"
                ));
            }
        }
    }
    if options.pin.is_some() && options.backend.is_none() {
        return Err("--pin is for a remote backend given with --backend".into());
    }
    Ok(options)
}

async fn prepare(options: Options) -> Result<Desktop, String> {
    let data_dir =
        schild_store::data_dir().ok_or("cannot find a data directory: set SCHILD_DATA_DIR")?;
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let local = Store::connect(&format!("sqlite://{}", data_dir.join("local.db").display()))
        .await
        .map_err(|e| format!("cannot open the local database: {e}"))?;
    let (mode, backend_url, local_backend) = match options.backend {
        Some(url) => (Mode::Remote, url.trim_end_matches('/').to_owned(), None),
        None => {
            let backend = local_backend::start(&data_dir)
                .await
                .map_err(|e| e.to_string())?;
            (Mode::Local, backend.url.clone(), Some(backend))
        }
    };
    let pin = options
        .pin
        .as_deref()
        .map(schild_client::CertificatePin::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let client = schild_client::Client::new(&backend_url, pin)
        .map_err(|e| format!("cannot use the backend {backend_url}: {e}"))?;
    let demo_key = data_dir.join("demo-key.attached").exists();
    Ok(Desktop {
        data_dir,
        local,
        vault: tokio::sync::Mutex::new(None),
        backend_url,
        mode,
        local_backend,
        kiosk: AtomicBool::new(options.kiosk),
        demo_key: AtomicBool::new(demo_key),
        client,
        reads: tokio::sync::Mutex::new(api::ReadCache::default()),
        syncing: tokio::sync::Mutex::new(()),
    })
}

/// Starts the app.
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("schild-desktop: {message}");
            std::process::exit(2);
        }
    };
    let kiosk = options.kiosk;
    let desktop = match tauri::async_runtime::block_on(prepare(options)) {
        Ok(desktop) => desktop,
        Err(message) => {
            eprintln!("schild-desktop: {message}");
            std::process::exit(1);
        }
    };
    let built = tauri::Builder::default()
        .manage(desktop)
        .setup(move |app| {
            if kiosk && let Some(window) = app.get_webview_window("main") {
                window.set_fullscreen(true)?;
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            app_info,
            desktop_actions,
            api::backend_fetch,
            api::outbox_list,
            api::outbox_sync,
            api::outbox_discard,
            vault::vault_status,
            vault::vault_create,
            vault::vault_unlock,
            vault::vault_lock,
            vault::vault_items,
            vault::vault_put,
            vault::vault_reveal,
            vault::vault_remove,
            vault::vault_add_passphrase,
            vault::vault_add_security_key,
            vault::vault_add_keyring,
            vault::vault_add_hsm,
            vault::vault_remove_method,
            vault::vault_rotate,
            keys::key_info,
            keys::key_register,
            keys::key_authenticate,
            keys::key_set_pin,
            keys::key_change_pin,
            keys::key_fingerprints,
            keys::key_fingerprint_enroll,
            keys::key_fingerprint_remove,
            keys::key_credentials,
            keys::key_credential_delete,
            keys::key_reset,
            keys::demo_key_set,
            kiosk::kiosk_leave,
        ])
        .run(tauri::generate_context!());
    if let Err(error) = built {
        eprintln!("schild-desktop: {error}");
        std::process::exit(1);
    }
}
