//! Unlock methods: the ways a desktop vault's master key is wrapped, each with the public
//! parameters needed to get its key back (stored as JSON beside the wrapped master key).
//!
//! Getting a method's key needs the person or a device (a passphrase typed, a touch on a security
//! key, an HSM login), so this crate never does it itself: the caller builds the method's
//! [`KeyEncryptionKey`](schild_core::provider::KeyEncryptionKey) from these parameters — with
//! `schild_core::vault::derive_kek`, `schild_hwkey`'s keyring, hmac-secret or HSM providers — and
//! hands it over.

use crate::Error;
use schild_core::vault::{LocalKek, PassphraseParams, derive_kek};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// The stored kind of a session method (schild-store's last-method rule knows it too).
const SESSION_KIND: &str = "session";

/// The public parameters of an unlock method, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum UnlockParams {
    /// A passphrase through Argon2id, with this method's own salt.
    Passphrase {
        /// The salt, base64url.
        salt: String,
        /// Argon2id memory in KiB.
        memory_kib: u32,
        /// Argon2id passes.
        passes: u32,
        /// Argon2id lanes.
        lanes: u32,
    },
    /// A random key kept in the OS keyring (Secret Service, keyutils, Keychain, Credential
    /// Manager).
    Keyring {
        /// Which keyring store.
        backend: String,
        /// The entry's service name.
        service: String,
        /// The entry's name.
        entry: String,
    },
    /// A FIDO2 security key's hmac-secret (CTAP 2.1 §12.5): a touch unlocks.
    SecurityKey {
        /// The credential made for the vault, as `schild_hwkey` serialises it (credential id,
        /// RP id, salt, AAGUID).
        #[cfg_attr(feature = "ts", ts(type = "unknown"))]
        credential: serde_json::Value,
    },
    /// A session opened by unlocking: a random key in the kernel's session keyring (keyutils),
    /// which ends with the login session, when the vault has sat idle for its auto-lock time, or
    /// when the vault is locked. Never the only way in: a vault always keeps a lasting method.
    Session {
        /// The entry's service name in the session keyring.
        service: String,
        /// The entry's name.
        entry: String,
    },
    /// An AES key inside a PKCS#11 HSM, which never leaves it.
    Hsm {
        /// The PKCS#11 module's path.
        module: String,
        /// The token's label.
        token: String,
        /// The key's label.
        key: String,
    },
}

impl UnlockParams {
    /// The stored kind: `passphrase`, `keyring`, `security-key`, `session` or `hsm`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Passphrase { .. } => "passphrase",
            Self::Keyring { .. } => "keyring",
            Self::SecurityKey { .. } => "security-key",
            Self::Session { .. } => SESSION_KIND,
            Self::Hsm { .. } => "hsm",
        }
    }

    /// Parameters for a new passphrase method with a fresh 16-byte salt.
    pub fn new_passphrase(params: PassphraseParams, rng: &mut impl rand::CryptoRng) -> Self {
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        Self::Passphrase {
            salt: data_encoding::BASE64URL_NOPAD.encode(&salt),
            memory_kib: params.memory_kib,
            passes: params.passes,
            lanes: params.lanes,
        }
    }

    /// For the passphrase method `method_id`: its key from `passphrase`, by Argon2id with the
    /// stored salt and cost. The key id (`passphrase:<method id>`) is fixed here so that every
    /// program opening the vault (the CLI, the desktop app) derives the same key. Blocks for a
    /// fraction of a second and the cost's memory: async callers use `spawn_blocking`.
    pub fn passphrase_key(&self, method_id: &str, passphrase: &[u8]) -> Result<LocalKek, Error> {
        let (salt, cost) = self.passphrase_inputs().ok_or_else(|| {
            Error::Corrupt(format!(
                "unlock method {method_id:?} is not a passphrase method with a readable salt"
            ))
        })?;
        derive_kek(&format!("passphrase:{method_id}"), passphrase, &salt, cost).map_err(|error| {
            Error::Corrupt(format!(
                "unlock method {method_id:?} has unusable Argon2 parameters: {error}"
            ))
        })
    }

    /// For a passphrase method: its salt and Argon2id cost, to derive its key with
    /// `schild_core::vault::derive_kek`. `None` for other kinds or a damaged salt.
    pub fn passphrase_inputs(&self) -> Option<(Vec<u8>, PassphraseParams)> {
        match self {
            Self::Passphrase {
                salt,
                memory_kib,
                passes,
                lanes,
            } => {
                let salt = data_encoding::BASE64URL_NOPAD
                    .decode(salt.as_bytes())
                    .ok()?;
                let params = PassphraseParams {
                    memory_kib: *memory_kib,
                    passes: *passes,
                    lanes: *lanes,
                };
                Some((salt, params))
            }
            _ => None,
        }
    }
}

/// An unlock method as listed: never its wrapped key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnlockMethod {
    /// Its id within the vault.
    pub id: String,
    /// What the person calls it ("recovery passphrase", "YubiKey 5 NFC on the keyring").
    pub label: String,
    /// Its parameters.
    pub params: UnlockParams,
    /// When it was added.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub created_at: time::OffsetDateTime,
    /// When it last unlocked the vault.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub last_used_at: Option<time::OffsetDateTime>,
}

impl UnlockMethod {
    /// Whether this is a session method.
    pub fn is_session(&self) -> bool {
        matches!(self.params, UnlockParams::Session { .. })
    }

    /// Whether this session has ended by itself: nothing has used it for `auto_lock` (counted
    /// from its last unlock, or its creation). Always `false` for lasting methods.
    pub fn session_expired(&self, auto_lock: Duration, now: OffsetDateTime) -> bool {
        self.is_session() && self.last_used_at.unwrap_or(self.created_at) + auto_lock <= now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn parameters_round_trip_through_their_stored_json() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let passphrase = UnlockParams::new_passphrase(PassphraseParams::DESKTOP, &mut rng);
        let json = serde_json::to_string(&passphrase).unwrap();
        assert!(json.contains(r#""kind":"passphrase""#));
        assert_eq!(
            serde_json::from_str::<UnlockParams>(&json).unwrap(),
            passphrase
        );
        let (salt, params) = passphrase.passphrase_inputs().unwrap();
        assert_eq!(salt.len(), 16);
        assert_eq!(params, PassphraseParams::DESKTOP);

        let hsm = UnlockParams::Hsm {
            module: "/usr/lib/softhsm/libsofthsm2.so".into(),
            token: "Schild".into(),
            key: "vault".into(),
        };
        assert_eq!(hsm.kind(), "hsm");
        assert_eq!(hsm.passphrase_inputs(), None);
        assert!(matches!(
            hsm.passphrase_key("k", b"x"),
            Err(Error::Corrupt(_))
        ));
    }

    #[test]
    fn a_session_ends_after_its_idle_time_and_lasting_methods_never_do() {
        let at = time::macros::datetime!(2026-12-04 12:00 UTC);
        let session = UnlockMethod {
            id: "session-1".into(),
            label: "session".into(),
            params: UnlockParams::Session {
                service: "schild-vault-session".into(),
                entry: "desktop.session-1".into(),
            },
            created_at: at,
            last_used_at: None,
        };
        let idle = Duration::minutes(5);
        assert!(!session.session_expired(idle, at + Duration::minutes(4)));
        assert!(session.session_expired(idle, at + Duration::minutes(5)));
        let used = UnlockMethod {
            last_used_at: Some(at + Duration::minutes(4)),
            ..session.clone()
        };
        assert!(!used.session_expired(idle, at + Duration::minutes(8)));
        assert!(used.session_expired(idle, at + Duration::minutes(9)));
        let lasting = UnlockMethod {
            params: UnlockParams::Hsm {
                module: "m".into(),
                token: "t".into(),
                key: "k".into(),
            },
            ..session
        };
        assert!(!lasting.session_expired(idle, at + Duration::days(365)));
    }
}
