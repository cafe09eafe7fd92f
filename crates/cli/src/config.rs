//! Where the database lives and how the backend state is opened from the command line.

use anyhow::Context;
use schild_core::provider::KeyEncryptionKey;
use schild_core::vault::RotationPolicy;
use schild_server::AppState;
use schild_server::auth::security_keys::SecurityKeySettings;
use schild_server::sealing::Sealing;
use schild_store::Store;
use std::path::PathBuf;
use std::sync::Arc;

/// Which database to use.
#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`. Default: a SQLite file in the data directory
    /// ($SCHILD_DATA_DIR, else $XDG_DATA_HOME/schild, else ~/.local/share/schild).
    #[arg(long, env = "SCHILD_DATABASE_URL")]
    pub database_url: Option<String>,

    /// The backend's key-encryption key, which seals secrets at rest (TOTP secrets): a file
    /// created (mode 0600) on first use. Every instance sharing one database needs the same file.
    /// Default: server.kek in the data directory.
    #[arg(long, env = "SCHILD_KEK_FILE", conflicts_with_all = ["kek_hsm_key", "kek_keyring"])]
    pub kek_file: Option<PathBuf>,

    /// Instead of a key file, a key kept in this OS keyring (secret-service, keyutils, apple or
    /// windows), under the service "schild-server" and the entry --kek-keyring-entry; created
    /// there on first use.
    #[arg(long, env = "SCHILD_KEK_KEYRING", conflicts_with = "kek_hsm_key")]
    pub kek_keyring: Option<schild_hwkey::keyring::KeyringBackend>,

    /// The keyring entry of --kek-keyring.
    #[arg(long, env = "SCHILD_KEK_KEYRING_ENTRY", default_value = "kek")]
    pub kek_keyring_entry: String,

    /// Instead of a key file, an AES-256 key inside a PKCS#11 HSM (its label; create it with
    /// `schild hsm generate --kind aes256`). The module comes from SCHILD_PKCS11_MODULE and the
    /// user PIN from SCHILD_HSM_PIN.
    #[arg(long, env = "SCHILD_KEK_HSM_KEY", requires = "kek_hsm_token")]
    pub kek_hsm_key: Option<String>,

    /// The label of the HSM token holding --kek-hsm-key.
    #[arg(long, env = "SCHILD_KEK_HSM_TOKEN", requires = "kek_hsm_key")]
    pub kek_hsm_token: Option<String>,

    /// Days after which the key-encryption key versions under that key rotate by themselves.
    #[arg(long, env = "SCHILD_KEK_ROTATION_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub kek_rotation_days: u32,
}

impl DatabaseArgs {
    /// The URL to connect to, creating the default data directory when needed.
    pub fn url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        let dir = schild_store::data_dir()
            .context("cannot find a data directory: set SCHILD_DATA_DIR or --database-url")?;
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        Ok(format!("sqlite://{}", dir.join("server.db").display()))
    }

    /// How secrets at rest are sealed: the root key (HSM, OS keyring, or key file) and the
    /// rotation interval.
    pub fn sealing(&self) -> anyhow::Result<Sealing> {
        let provider = match (&self.kek_hsm_token, &self.kek_hsm_key, self.kek_keyring) {
            (Some(token), Some(key), _) => hsm_kek(token, key)?,
            (_, _, Some(backend)) => keyring_kek(backend, &self.kek_keyring_entry)?,
            _ => self.kek()?,
        };
        Ok(Sealing {
            provider,
            rotation: RotationPolicy {
                interval: time::Duration::days(i64::from(self.kek_rotation_days)),
            },
        })
    }

    /// The key-encryption key, read from its file, or created there on first use.
    pub fn kek(&self) -> anyhow::Result<Arc<dyn KeyEncryptionKey>> {
        let path = match &self.kek_file {
            Some(path) => path.clone(),
            None => {
                let dir = schild_store::data_dir().context(
                    "cannot find a data directory for the key file: set SCHILD_DATA_DIR or --kek-file",
                )?;
                std::fs::create_dir_all(&dir).with_context(|| {
                    format!("cannot create the data directory {}", dir.display())
                })?;
                dir.join("server.kek")
            }
        };
        Ok(schild_server::key_file::load_or_create(&path)?)
    }

    /// The URL with any password removed, for logs.
    pub fn redacted(&self) -> String {
        match self.url() {
            Ok(url) => redact_password(&url),
            Err(_) => "(none)".into(),
        }
    }
}

/// Logs in to the HSM token and names its AES key as the backend's root key.
fn hsm_kek(token: &str, key: &str) -> anyhow::Result<Arc<dyn KeyEncryptionKey>> {
    use schild_hwkey::hsm::{DEFAULT_MODULE, HsmKek, KeyLabel, Module};
    let module = std::env::var_os("SCHILD_PKCS11_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_MODULE));
    let pin = std::env::var("SCHILD_HSM_PIN")
        .map(secrecy::SecretString::from)
        .context("set SCHILD_HSM_PIN to the token's user PIN to use an HSM key-encryption key")?;
    let label: KeyLabel = key.parse().map_err(crate::hsm::explain)?;
    let token = Module::open(&module)
        .and_then(|module| module.login(token, &pin))
        .map_err(crate::hsm::explain)?;
    let kek = HsmKek::new(Arc::new(token), label).map_err(crate::hsm::explain)?;
    Ok(Arc::new(kek))
}

/// The keyring service of the backend's root key.
const KEYRING_SERVICE: &str = "schild-server";

/// Opens the backend's root key in the OS keyring, creating it there on first use.
fn keyring_kek(
    backend: schild_hwkey::keyring::KeyringBackend,
    entry: &str,
) -> anyhow::Result<Arc<dyn KeyEncryptionKey>> {
    use schild_hwkey::keyring::{KeyringError, KeyringKek};
    let explain = crate::console::explain_keyring;
    let store = backend.open().map_err(explain)?;
    let kek = match KeyringKek::open(&store, KEYRING_SERVICE, entry) {
        Err(KeyringError::NoSuchEntry { .. }) => {
            let kek = KeyringKek::create(&store, KEYRING_SERVICE, entry).map_err(explain)?;
            tracing::info!(backend = %backend, entry, "created the backend's root key in the OS keyring");
            kek
        }
        other => other.map_err(explain)?,
    };
    Ok(Arc::new(kek))
}

/// Drops the password from `scheme://user:password@host/...`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Connects to the database (running migrations) and builds the backend state.
pub async fn open_state(database: &DatabaseArgs) -> anyhow::Result<AppState> {
    open_state_with(database, SecurityKeySettings::default()).await
}

/// [`open_state`], acting as the given WebAuthn relying party (`schild serve`).
pub async fn open_state_with(
    database: &DatabaseArgs,
    security_keys: SecurityKeySettings,
) -> anyhow::Result<AppState> {
    let url = database.url()?;
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database {}", redact_password(&url)))?;
    let state = AppState::with_default_policies(store, security_keys, database.sealing()?)
        .await
        .context("cannot load the token-signing keys")?;
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_password("postgres://app:hunter2@db/schild"),
            "postgres://app:***@db/schild"
        );
        assert_eq!(
            redact_password("postgres://app@db/schild"),
            "postgres://app@db/schild"
        );
        assert_eq!(
            redact_password("sqlite:///var/lib/schild.db"),
            "sqlite:///var/lib/schild.db"
        );
    }
}
