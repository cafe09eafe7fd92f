//! Building an unlock method's key from the command line: asking for the passphrase, logging in
//! to the HSM, and choosing which method unlocks.

use anyhow::Context;
use schild_core::clock::Clock;
use schild_core::provider::KeyEncryptionKey;
use schild_core::vault::{PassphraseParams, derive_kek};
use schild_hwkey::hsm::{DEFAULT_MODULE, HsmKek, KeyLabel, Module};
use schild_hwkey::keyring::{KeyringBackend, KeyringError, KeyringKek};
use schild_store::Store;
use schild_vault::{UnlockMethod, UnlockParams, UnlockedVault};
use secrecy::{ExposeSecret as _, SecretString};
use std::path::PathBuf;
use std::sync::Arc;

/// The passphrase that unlocks, for scripts (else it is asked for on the terminal).
const PASSPHRASE_VAR: &str = "SCHILD_VAULT_PASSPHRASE";
/// The passphrase of a new passphrase method, for scripts.
const NEW_PASSPHRASE_VAR: &str = "SCHILD_VAULT_NEW_PASSPHRASE";
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

/// Builds a new method's key: asks for a passphrase (twice), or logs in to the HSM.
pub async fn new_method(vault: &str, args: &NewMethodArgs) -> anyhow::Result<NewMethod> {
    let kind = match args.kind {
        MethodKind::Passphrase => "passphrase",
        MethodKind::Hsm => "hsm",
        MethodKind::Keyring => "keyring",
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
                entry: format!("{vault}/{id}"),
            };
            let store = backend.open().map_err(keyring_error)?;
            let kek = KeyringKek::create(&store, KEYRING_SERVICE, &format!("{vault}/{id}"))
                .map_err(keyring_error)?;
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
    let (salt, cost) = params
        .passphrase_inputs()
        .context("the passphrase method's stored parameters are damaged")?;
    let key_id = format!("passphrase:{method}");
    let kek = tokio::task::spawn_blocking(move || {
        derive_kek(&key_id, passphrase.expose_secret().as_bytes(), &salt, cost)
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
async fn method_key(method: &UnlockMethod) -> anyhow::Result<Arc<dyn KeyEncryptionKey>> {
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
            let store = backend.open().map_err(keyring_error)?;
            let kek = KeyringKek::open(&store, service, entry).map_err(keyring_error)?;
            Ok(Arc::new(kek))
        }
        other => anyhow::bail!(
            "the unlock method {:?} is of kind {}, which this command cannot use; choose another with --unlock-with",
            method.id,
            other.kind()
        ),
    }
}

/// Unlocks the vault with the method named, or the first one usable without typing, or the first.
pub async fn unlock(
    store: Store,
    clock: Arc<dyn Clock>,
    vault: &str,
    method: Option<&str>,
) -> anyhow::Result<UnlockedVault> {
    let methods = schild_vault::unlock_methods(&store, vault)
        .await
        .map_err(super::explain)?;
    let chosen = match method {
        Some(id) => methods.iter().find(|m| m.id == id).with_context(|| {
            format!("the vault has no unlock method {id:?}; see `schild vault status`")
        })?,
        None => methods
            .iter()
            .find(|m| {
                matches!(m.params, UnlockParams::Hsm { .. })
                    && std::env::var_os(HSM_PIN_VAR).is_some()
            })
            .or_else(|| methods.first())
            .context("the vault has no unlock method")?,
    };
    let key = method_key(chosen).await?;
    UnlockedVault::unlock(store, clock, vault, &chosen.id, key.as_ref())
        .await
        .map_err(super::explain)
}

/// One line for the person: what went wrong with the keyring, and what to do.
fn keyring_error(error: KeyringError) -> anyhow::Error {
    anyhow::anyhow!("{error}. {}", error.recommendation())
}
