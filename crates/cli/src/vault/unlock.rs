//! Building an unlock method's key from the command line: asking for the passphrase, logging in
//! to the HSM, and choosing which method unlocks.
//!
//! `schild vault unlock` opens a **session**: a fresh random key in the kernel's session keyring
//! (keyutils, Linux) wraps the master key as one more unlock method, so later commands in the same
//! login session need no passphrase. A session ends when the vault has not been used for its
//! auto-lock time (checked from the method's last use, and ended by the next command that
//! finds it so), with `schild vault lock`, or when the login session ends and takes the key
//! with it.

use anyhow::Context;
use schild_core::clock::Clock;
use schild_core::provider::KeyEncryptionKey;
use schild_core::vault::PassphraseParams;
use schild_hwkey::ctap::{Discovery, HmacSecretCredential, HmacSecretKek, enroll_hmac_secret};
use schild_hwkey::hsm::{DEFAULT_MODULE, HsmKek, KeyLabel, Module};
use schild_hwkey::keyring::{KeyringBackend, KeyringKek};
use schild_store::Store;
use schild_vault::{UnlockMethod, UnlockParams, UnlockedVault};
use secrecy::{ExposeSecret as _, SecretString};
use std::path::PathBuf;
use std::sync::Arc;

/// The passphrase that unlocks, for scripts (else it is asked for on the terminal).
const PASSPHRASE_VAR: &str = "SCHILD_VAULT_PASSPHRASE";
/// The passphrase of a new passphrase method, for scripts.
const NEW_PASSPHRASE_VAR: &str = "SCHILD_VAULT_NEW_PASSPHRASE";
/// The security key's PIN, for scripts (as `schild key` reads it).
const KEY_PIN_VAR: &str = "SCHILD_KEY_PIN";
/// The HSM user PIN, for scripts (read by `schild hsm`'s login, which this uses too).
const HSM_PIN_VAR: &str = crate::hsm::PIN_VAR;
/// The shortest passphrase accepted for a vault.
const MIN_PASSPHRASE_CHARS: usize = 12;

/// The kinds of unlock method the command line can add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodKind {
    /// A passphrase (Argon2id, 64 MiB, 3 passes).
    Passphrase,
    /// An AES key in a PKCS#11 HSM (`schild hsm generate --kind aes256`).
    Hsm,
    /// A random key in the OS keyring (the Secret Service on Linux desktops; see --keyring).
    Keyring,
    /// A FIDO2 security key's hmac-secret: a touch (and its PIN, when it has one) unlocks.
    SecurityKey,
}

/// Where security keys are found: the connected hardware, or the virtual key in a file.
#[derive(Debug, Clone, clap::Args)]
pub struct Devices {
    /// Use the virtual security key kept in this file instead of hardware (demo and tests only:
    /// the file holds the key's secrets).
    #[arg(
        long = "virtual-key",
        value_name = "PATH",
        env = "SCHILD_VIRTUAL_KEY",
        global = true
    )]
    virtual_key: Option<PathBuf>,
}

impl Devices {
    fn discovery(&self) -> Discovery {
        Discovery {
            virtual_key: self.virtual_key.clone(),
            ..Discovery::hardware()
        }
    }
}

/// A new unlock method's options.
#[derive(Debug, clap::Args)]
pub struct NewMethodArgs {
    /// What unlocks the vault.
    #[arg(long = "method", value_enum, default_value_t = MethodKind::Passphrase)]
    kind: MethodKind,
    /// The method's id within the vault. Default: its kind.
    #[arg(long = "id")]
    id: Option<String>,
    /// What to call it. Default: its kind.
    #[arg(long)]
    label: Option<String>,
    /// The PKCS#11 module, for --method hsm.
    #[arg(long, env = "SCHILD_PKCS11_MODULE", default_value = DEFAULT_MODULE)]
    hsm_module: PathBuf,
    /// The token's label, for --method hsm.
    #[arg(long, required_if_eq("kind", "hsm"))]
    hsm_token: Option<String>,
    /// The AES key's label on the token, for --method hsm.
    #[arg(long, required_if_eq("kind", "hsm"))]
    hsm_key: Option<String>,
    /// Which keyring, for --method keyring: secret-service, keyutils, apple or windows.
    /// Default: the operating system's usual one.
    #[arg(long)]
    keyring: Option<KeyringBackend>,
}

/// The keyring entry's service name; the entry is named after the vault and method.
const KEYRING_SERVICE: &str = "schild-vault";
/// A method's keyring entry name: the vault and method ids (keyrings refuse '/' and '@').
fn keyring_entry(vault: &str, method: &str) -> String {
    format!("{vault}.{method}")
}

/// The service name of session keys in the kernel's session keyring.
const SESSION_SERVICE: &str = "schild-vault-session";

/// A new method, with its key.
pub struct NewMethod {
    /// Its id.
    pub id: String,
    /// Its label.
    pub label: String,
    /// Its parameters.
    pub params: UnlockParams,
    /// Its key.
    pub key: Arc<dyn KeyEncryptionKey>,
}

/// Builds a new method's key: asks for a passphrase (twice), logs in to the HSM, makes a
/// keyring entry, or makes a credential on the security key (two touches: make, then check).
pub async fn new_method(
    vault: &str,
    args: &NewMethodArgs,
    devices: &Devices,
) -> anyhow::Result<NewMethod> {
    let kind = match args.kind {
        MethodKind::Passphrase => "passphrase",
        MethodKind::Hsm => "hsm",
        MethodKind::Keyring => "keyring",
        MethodKind::SecurityKey => "security-key",
    };
    let id = args.id.clone().unwrap_or_else(|| kind.to_owned());
    let label = args.label.clone().unwrap_or_else(|| kind.to_owned());
    let (params, key) = match args.kind {
        MethodKind::Passphrase => {
            let passphrase = new_passphrase()?;
            let params = UnlockParams::new_passphrase(PassphraseParams::DESKTOP, &mut rand::rng());
            let key = passphrase_key(&id, &params, passphrase).await?;
            (params, key)
        }
        MethodKind::Hsm => {
            let params = UnlockParams::Hsm {
                module: args.hsm_module.display().to_string(),
                token: args.hsm_token.clone().unwrap_or_default(),
                key: args.hsm_key.clone().unwrap_or_default(),
            };
            let key = hsm_key(&params).await?;
            (params, key)
        }
        MethodKind::Keyring => {
            let backend = args
                .keyring
                .unwrap_or_else(KeyringBackend::platform_default);
            let params = UnlockParams::Keyring {
                backend: backend.name().to_owned(),
                service: KEYRING_SERVICE.to_owned(),
                entry: keyring_entry(vault, &id),
            };
            let store = backend.open().map_err(crate::console::explain_keyring)?;
            let kek = KeyringKek::create(&store, KEYRING_SERVICE, &keyring_entry(vault, &id))
                .map_err(crate::console::explain_keyring)?;
            (params, Arc::new(kek) as Arc<dyn KeyEncryptionKey>)
        }
        MethodKind::SecurityKey => {
            let mut key = crate::key::open(&devices.discovery()).await?;
            let pin = if key.info().has_pin() {
                Some(crate::key::prompt::read_pin(
                    KEY_PIN_VAR,
                    "Security key PIN",
                    false,
                )?)
            } else {
                None
            };
            let credential = enroll_hmac_secret(&mut key, pin.as_ref())
                .await
                .map_err(crate::key::explain)?;
            eprintln!("Credential made; once more to check that it unlocks.");
            let kek = HmacSecretKek::unlock(&mut key, &credential, pin.as_ref())
                .await
                .map_err(crate::key::explain)?;
            let params = UnlockParams::SecurityKey {
                credential: serde_json::to_value(&credential)?,
            };
            (params, Arc::new(kek) as Arc<dyn KeyEncryptionKey>)
        }
    };
    Ok(NewMethod {
        id,
        label,
        params,
        key,
    })
}

fn new_passphrase() -> anyhow::Result<SecretString> {
    let passphrase =
        match std::env::var(NEW_PASSPHRASE_VAR).or_else(|_| std::env::var(PASSPHRASE_VAR)) {
            Ok(value) => SecretString::from(value),
            Err(_) => {
                let first =
                rpassword::prompt_password("New vault passphrase: ").with_context(|| {
                    format!(
                        "cannot read the passphrase: set {NEW_PASSPHRASE_VAR} or run in a terminal"
                    )
                })?;
                let second = rpassword::prompt_password("The same passphrase again: ")
                    .context("cannot read the passphrase")?;
                if first != second {
                    anyhow::bail!("the two passphrases differ; nothing was changed");
                }
                SecretString::from(first)
            }
        };
    if passphrase.expose_secret().chars().count() < MIN_PASSPHRASE_CHARS {
        anyhow::bail!(
            "the passphrase is shorter than {MIN_PASSPHRASE_CHARS} characters; nothing was changed"
        );
    }
    Ok(passphrase)
}

/// Derives a passphrase method's key (Argon2id, on a blocking thread: it takes a fraction of a
/// second and 64 MiB).
async fn passphrase_key(
    method: &str,
    params: &UnlockParams,
    passphrase: SecretString,
) -> anyhow::Result<Arc<dyn KeyEncryptionKey>> {
    let (method, params) = (method.to_owned(), params.clone());
    let kek = tokio::task::spawn_blocking(move || {
        params
            .passphrase_key(&method, passphrase.expose_secret().as_bytes())
            .map_err(super::explain)
    })
    .await??;
    Ok(Arc::new(kek))
}

/// Logs in to the HSM token (PIN from SCHILD_HSM_PIN or the terminal) and names its AES key.
async fn hsm_key(params: &UnlockParams) -> anyhow::Result<Arc<dyn KeyEncryptionKey>> {
    let UnlockParams::Hsm { module, token, key } = params.clone() else {
        anyhow::bail!("not an HSM method");
    };
    tokio::task::spawn_blocking(move || {
        let label: KeyLabel = key.parse().map_err(crate::hsm::explain)?;
        let module = Module::open(&module).map_err(crate::hsm::explain)?;
        let token = crate::hsm::login(&module, &token)?;
        let kek = HsmKek::new(Arc::new(token), label).map_err(crate::hsm::explain)?;
        Ok::<Arc<dyn KeyEncryptionKey>, anyhow::Error>(Arc::new(kek))
    })
    .await?
}

/// The key of an existing method.
async fn method_key(
    method: &UnlockMethod,
    devices: &Devices,
) -> anyhow::Result<Arc<dyn KeyEncryptionKey>> {
    match &method.params {
        UnlockParams::Passphrase { .. } => {
            let passphrase = match std::env::var(PASSPHRASE_VAR) {
                Ok(value) => SecretString::from(value),
                Err(_) => rpassword::prompt_password(format!("Passphrase ({}): ", method.label))
                    .map(SecretString::from)
                    .with_context(|| {
                        format!(
                            "cannot read the passphrase: set {PASSPHRASE_VAR} or run in a terminal"
                        )
                    })?,
            };
            passphrase_key(&method.id, &method.params, passphrase).await
        }
        UnlockParams::Hsm { .. } => hsm_key(&method.params).await,
        UnlockParams::Keyring {
            backend,
            service,
            entry,
        } => {
            let backend: KeyringBackend = backend.parse().map_err(|_| {
                anyhow::anyhow!("the keyring method names an unknown keyring {backend:?}")
            })?;
            let store = backend.open().map_err(crate::console::explain_keyring)?;
            let kek = KeyringKek::open(&store, service, entry)
                .map_err(crate::console::explain_keyring)?;
            Ok(Arc::new(kek))
        }
        UnlockParams::Session { service, entry } => {
            let store = KeyringBackend::Keyutils
                .open()
                .map_err(crate::console::explain_keyring)?;
            let kek = KeyringKek::open(&store, service, entry)
                .map_err(crate::console::explain_keyring)?;
            Ok(Arc::new(kek))
        }
        UnlockParams::SecurityKey { credential } => {
            let credential: HmacSecretCredential = serde_json::from_value(credential.clone())
                .context("the security-key method's stored credential is damaged")?;
            let mut key = crate::key::open(&devices.discovery()).await?;
            let pin = if credential.user_verified {
                Some(crate::key::prompt::read_pin(
                    KEY_PIN_VAR,
                    &format!("PIN of the security key ({})", method.label),
                    false,
                )?)
            } else {
                None
            };
            let kek = HmacSecretKek::unlock(&mut key, &credential, pin.as_ref())
                .await
                .map_err(crate::key::explain)?;
            Ok(Arc::new(kek))
        }
        other => anyhow::bail!(
            "the unlock method {:?} is of kind {}, which this command cannot use; choose another with --unlock-with",
            method.id,
            other.kind()
        ),
    }
}

/// Unlocks the vault with the method named; else with a session of this login session that is
/// still open; else the first method usable without typing (an HSM with its PIN set); else the
/// first lasting method. Sessions found idle past the auto-lock time are ended on the way.
/// Returns the vault and the method that opened it.
pub async fn unlock(
    store: Store,
    clock: Arc<dyn Clock>,
    vault: &str,
    method: Option<&str>,
    devices: &Devices,
) -> anyhow::Result<(UnlockedVault, UnlockMethod)> {
    let status = schild_vault::status(&store, vault, clock.now())
        .await
        .map_err(super::explain)?;
    let methods = status.unlock_methods;
    let auto_lock = time::Duration::seconds(i64::from(status.auto_lock_secs));
    if let Some(id) = method {
        let chosen = methods.iter().find(|m| m.id == id).with_context(|| {
            format!("the vault has no unlock method {id:?}; see `schild vault status`")
        })?;
        if chosen.session_expired(auto_lock, clock.now()) {
            end_session(&store, vault, chosen).await?;
            anyhow::bail!("the session {id:?} has ended (the vault sat idle); unlock again");
        }
        return open_with(store, clock, vault, chosen, devices).await;
    }

    for session in methods.iter().filter(|m| m.is_session()) {
        if session.session_expired(auto_lock, clock.now()) {
            end_session(&store, vault, session).await?;
            continue;
        }
        // A key missing here belongs to another login session: leave that session alone.
        let Ok(key) = method_key(session, devices).await else {
            continue;
        };
        match UnlockedVault::unlock(
            store.clone(),
            clock.clone(),
            vault,
            &session.id,
            key.as_ref(),
        )
        .await
        {
            Ok(opened) => return Ok((opened, session.clone())),
            // Its key does not fit: it is not this session's any more.
            Err(schild_vault::Error::WrongUnlockKey) => end_session(&store, vault, session).await?,
            Err(error) => return Err(super::explain(error)),
        }
    }
    let lasting = || methods.iter().filter(|m| !m.is_session());
    let chosen = lasting()
        .find(|m| {
            matches!(m.params, UnlockParams::Hsm { .. }) && std::env::var_os(HSM_PIN_VAR).is_some()
        })
        .or_else(|| lasting().next())
        .context("the vault has no unlock method")?;
    open_with(store, clock, vault, chosen, devices).await
}

async fn open_with(
    store: Store,
    clock: Arc<dyn Clock>,
    vault: &str,
    method: &UnlockMethod,
    devices: &Devices,
) -> anyhow::Result<(UnlockedVault, UnlockMethod)> {
    let key = method_key(method, devices).await?;
    let opened = UnlockedVault::unlock(store, clock, vault, &method.id, key.as_ref())
        .await
        .map_err(super::explain)?;
    Ok((opened, method.clone()))
}

/// Opens a session for this login session (see the module docs); returns its method id.
pub async fn open_session(opened: &UnlockedVault) -> anyhow::Result<String> {
    let mut suffix = [0u8; 6];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut suffix);
    let id = format!("session-{}", data_encoding::HEXLOWER.encode(&suffix));
    let entry = keyring_entry(opened.id(), &id);
    let params = UnlockParams::Session {
        service: SESSION_SERVICE.to_owned(),
        entry: entry.clone(),
    };
    let store = KeyringBackend::Keyutils
        .open()
        .map_err(crate::console::explain_keyring)?;
    let kek = KeyringKek::create(&store, SESSION_SERVICE, &entry)
        .map_err(crate::console::explain_keyring)?;
    if let Err(error) = opened
        .add_unlock_method(&id, "login session", &params, &kek)
        .await
    {
        let _ = KeyringKek::delete(&store, SESSION_SERVICE, &entry);
        return Err(super::explain(error));
    }
    Ok(id)
}

/// Ends a session: removes its method, then deletes its key where this login session can see
/// it (a key in another login session's keyring dies with that session).
pub async fn end_session(store: &Store, vault: &str, session: &UnlockMethod) -> anyhow::Result<()> {
    schild_vault::end_session(store, vault, &session.id)
        .await
        .map_err(super::explain)?;
    if let UnlockParams::Session { service, entry } = &session.params
        && let Ok(keyring) = KeyringBackend::Keyutils.open()
    {
        let _ = KeyringKek::delete(&keyring, service, entry);
    }
    Ok(())
}
