//! What can go wrong with a key in the OS keyring, who is likely at fault, and what to do next.

use schild_core::provider::ProviderError;
use zeroize::Zeroize;

use super::KeyringBackend;

/// Why a keyring operation failed. Each variant names one real failure; [`KeyringError::code`]
/// is stable for UIs and [`KeyringError::recommendation`] says what to do next. No variant ever
/// carries key material: errors from the keyring crates that hold secret bytes are wiped and
/// dropped on the way in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// The service or entry name is empty, too long, or holds a character that would make the
    /// key id or the store's own item name ambiguous (`/`, `@`, control characters). The caller.
    #[error("the keyring {what} name is not usable: {reason}")]
    InvalidName {
        /// `service` or `entry`.
        what: &'static str,
        /// Why, in words.
        reason: String,
    },

    /// No backend has this name. Configuration.
    #[error("no keyring backend is called {name:?}")]
    UnknownBackend {
        /// The name that was asked for.
        name: String,
    },

    /// This backend does not exist on this operating system (the macOS Keychain on Linux, say).
    /// Configuration.
    #[error("the {backend} keyring is not available on this operating system")]
    Unsupported {
        /// The backend asked for.
        backend: KeyringBackend,
    },

    /// The keyring service cannot be reached: no D-Bus session bus, no Secret Service daemon
    /// (gnome-keyring, KeePassXC, KWallet) running, or the daemon went away. The environment.
    #[error("the {backend} keyring is not reachable: {detail}")]
    StoreUnavailable {
        /// The backend.
        backend: KeyringBackend,
        /// What the store said, without secrets.
        detail: String,
    },

    /// The keyring refused access: it is locked and was not unlocked, the user declined a prompt,
    /// or its access rules exclude this program (keyutils outside the user's session keyring).
    /// The environment or the user.
    #[error("the {backend} keyring refused access: {detail}")]
    AccessDenied {
        /// The backend.
        backend: KeyringBackend,
        /// What the store said, without secrets.
        detail: String,
    },

    /// The keyring holds no entry under this name: it was never created, was deleted, or (for
    /// keyutils) did not survive a reboot. Configuration, or the key is gone.
    #[error("the {backend} keyring has no entry {service}/{entry}")]
    NoSuchEntry {
        /// The backend.
        backend: KeyringBackend,
        /// The service name.
        service: String,
        /// The entry name.
        entry: String,
    },

    /// An entry of this name already exists; creating a key never overwrites one, since that
    /// would destroy the key that opens existing data. The caller: pick another name, or delete
    /// the old entry knowingly first.
    #[error("the {backend} keyring already has an entry {service}/{entry}")]
    EntryExists {
        /// The backend.
        backend: KeyringBackend,
        /// The service name.
        service: String,
        /// The entry name.
        entry: String,
    },

    /// Several items in the keyring match this name (Secret Service items with the same
    /// attributes, left by another program), so it names none of them. The keyring's contents.
    #[error("{count} entries in the {backend} keyring match {service}/{entry}")]
    AmbiguousEntry {
        /// The backend.
        backend: KeyringBackend,
        /// The service name.
        service: String,
        /// The entry name.
        entry: String,
        /// How many items match.
        count: usize,
    },

    /// The entry exists but does not hold a 32-byte key: something other than Schild wrote it,
    /// or it was damaged. Its bytes are not shown.
    #[error(
        "the {backend} keyring entry {service}/{entry} is not a key ({length} bytes, 32 expected)"
    )]
    MalformedEntry {
        /// The backend.
        backend: KeyringBackend,
        /// The service name.
        service: String,
        /// The entry name.
        entry: String,
        /// How many bytes it holds.
        length: usize,
    },

    /// The keyring accepted a new key but gave back other bytes when read again (a store that
    /// keeps only text, such as some KWallet versions); the entry was removed again. The store.
    #[error("the {backend} keyring did not keep the key as written")]
    NotKept {
        /// The backend.
        backend: KeyringBackend,
    },

    /// The operating system's random number generator failed, so no key was made. The system.
    #[error("the operating system's random number generator failed: {detail}")]
    NoRandomness {
        /// What the operating system said.
        detail: String,
    },

    /// The keyring failed in a way it does not classify further. The store; its message says more.
    #[error("the {backend} keyring failed: {detail}")]
    StoreFailed {
        /// The backend.
        backend: KeyringBackend,
        /// What the store said, without secrets.
        detail: String,
    },
}

impl KeyringError {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidName { .. } => "keyring.invalid_name",
            Self::UnknownBackend { .. } => "keyring.unknown_backend",
            Self::Unsupported { .. } => "keyring.unsupported",
            Self::StoreUnavailable { .. } => "keyring.unavailable",
            Self::AccessDenied { .. } => "keyring.access_denied",
            Self::NoSuchEntry { .. } => "keyring.no_such_entry",
            Self::EntryExists { .. } => "keyring.entry_exists",
            Self::AmbiguousEntry { .. } => "keyring.ambiguous_entry",
            Self::MalformedEntry { .. } => "keyring.malformed_entry",
            Self::NotKept { .. } => "keyring.not_kept",
            Self::NoRandomness { .. } => "keyring.no_randomness",
            Self::StoreFailed { .. } => "keyring.store_failed",
        }
    }

    /// What the user (or operator) should do next.
    pub fn recommendation(&self) -> &'static str {
        match self {
            Self::InvalidName { .. } => {
                "Use a name of letters, digits and punctuation other than '/' and '@', at most 128 \
                 bytes."
            }
            Self::UnknownBackend { .. } => {
                "Choose one of secret-service, keyutils, apple, windows or in-memory."
            }
            Self::Unsupported { .. } => {
                "Choose this system's keyring: secret-service or keyutils on Linux, apple on \
                 macOS, windows on Windows."
            }
            Self::StoreUnavailable { .. } => {
                "Start a desktop session with a keyring (gnome-keyring, KWallet or KeePassXC with \
                 Secret Service enabled), or on a server without one choose the keyutils keyring \
                 or another unlock method."
            }
            Self::AccessDenied { .. } => {
                "Unlock the keyring (log in to the desktop, or answer its prompt) and allow Schild \
                 to use it, then try again."
            }
            Self::NoSuchEntry { .. } => {
                "Check the service and entry names. If the key is gone, open the vault with \
                 another unlock method and enroll the keyring again."
            }
            Self::EntryExists { .. } => {
                "Choose another entry name, or delete the old entry first if you are sure nothing \
                 still needs the key it holds."
            }
            Self::AmbiguousEntry { .. } => {
                "Remove the duplicate items with the keyring's own tool (Seahorse, KWallet \
                 Manager, KeePassXC), keeping the one Schild created."
            }
            Self::MalformedEntry { .. } => {
                "Another program wrote this entry; choose another name, or restore the entry \
                 from a backup of the keyring."
            }
            Self::NotKept { .. } => {
                "This keyring cannot hold binary keys; use another keyring (keyutils, or another \
                 Secret Service provider) or another unlock method."
            }
            Self::NoRandomness { .. } => {
                "The system's entropy source failed; check the system's health and try again."
            }
            Self::StoreFailed { .. } => {
                "Try again; if it persists, check the keyring service's logs and report the \
                 message."
            }
        }
    }

    /// Translates keyring-core's error for an operation on `service`/`entry`. Errors that carry
    /// the entry's bytes are wiped; errors that carry whole entries (whose `Debug` may show their
    /// secrets) are reduced to a count.
    pub(crate) fn from_store(
        error: keyring_core::Error,
        backend: KeyringBackend,
        service: &str,
        entry: &str,
    ) -> Self {
        use keyring_core::Error as E;
        let names = || (service.to_owned(), entry.to_owned());
        match error {
            E::NoEntry => {
                let (service, entry) = names();
                Self::NoSuchEntry {
                    backend,
                    service,
                    entry,
                }
            }
            E::NoStorageAccess(detail) => Self::AccessDenied {
                backend,
                detail: detail.to_string(),
            },
            E::PlatformFailure(detail) => Self::StoreUnavailable {
                backend,
                detail: detail.to_string(),
            },
            E::BadEncoding(mut bytes) | E::BadDataFormat(mut bytes, _) => {
                let length = bytes.len();
                bytes.zeroize();
                let (service, entry) = names();
                Self::MalformedEntry {
                    backend,
                    service,
                    entry,
                    length,
                }
            }
            E::Ambiguous(entries) => {
                let (service, entry) = names();
                Self::AmbiguousEntry {
                    backend,
                    service,
                    entry,
                    count: entries.len(),
                }
            }
            E::TooLong(attribute, limit) => Self::InvalidName {
                what: "entry",
                reason: format!("the store limits {attribute} to {limit} characters"),
            },
            E::Invalid(attribute, reason) => Self::InvalidName {
                what: "entry",
                reason: format!("the store refused {attribute}: {reason}"),
            },
            other => Self::StoreFailed {
                backend,
                detail: other.to_string(),
            },
        }
    }
}

/// A keyring failure seen through [`schild_core::provider::KeyEncryptionKey`]: the typed error
/// stays inside [`ProviderError::Backend`], with its code and advice.
impl From<KeyringError> for ProviderError {
    fn from(error: KeyringError) -> Self {
        ProviderError::Backend(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<KeyringError> {
        let backend = KeyringBackend::InMemory;
        let (service, entry) = (String::from("s"), String::from("e"));
        vec![
            KeyringError::InvalidName {
                what: "service",
                reason: "x".into(),
            },
            KeyringError::UnknownBackend { name: "x".into() },
            KeyringError::Unsupported { backend },
            KeyringError::StoreUnavailable {
                backend,
                detail: "x".into(),
            },
            KeyringError::AccessDenied {
                backend,
                detail: "x".into(),
            },
            KeyringError::NoSuchEntry {
                backend,
                service: service.clone(),
                entry: entry.clone(),
            },
            KeyringError::EntryExists {
                backend,
                service: service.clone(),
                entry: entry.clone(),
            },
            KeyringError::AmbiguousEntry {
                backend,
                service: service.clone(),
                entry: entry.clone(),
                count: 2,
            },
            KeyringError::MalformedEntry {
                backend,
                service,
                entry,
                length: 3,
            },
            KeyringError::NotKept { backend },
            KeyringError::NoRandomness { detail: "x".into() },
            KeyringError::StoreFailed {
                backend,
                detail: "x".into(),
            },
        ]
    }

    #[test]
    fn codes_are_unique_and_recommendations_present() {
        let mut codes = std::collections::HashSet::new();
        for error in all() {
            assert!(codes.insert(error.code()), "duplicate {}", error.code());
            assert!(error.code().starts_with("keyring."));
            assert!(!error.recommendation().is_empty());
        }
    }

    #[test]
    fn secret_bytes_in_store_errors_never_reach_the_message() {
        let secret = b"do-not-show-this-secret".to_vec();
        let error = KeyringError::from_store(
            keyring_core::Error::BadEncoding(secret),
            KeyringBackend::InMemory,
            "svc",
            "ent",
        );
        assert_eq!(
            error,
            KeyringError::MalformedEntry {
                backend: KeyringBackend::InMemory,
                service: "svc".into(),
                entry: "ent".into(),
                length: 23,
            }
        );
        for text in [format!("{error}"), format!("{error:?}")] {
            assert!(!text.contains("do-not-show"), "{text}");
        }
    }

    #[test]
    fn store_errors_map_to_their_failures() {
        let map = |error| {
            KeyringError::from_store(error, KeyringBackend::SecretService, "svc", "ent").code()
        };
        assert_eq!(map(keyring_core::Error::NoEntry), "keyring.no_such_entry");
        assert_eq!(
            map(keyring_core::Error::NoStorageAccess("locked".into())),
            "keyring.access_denied"
        );
        assert_eq!(
            map(keyring_core::Error::PlatformFailure("no bus".into())),
            "keyring.unavailable"
        );
        assert_eq!(
            map(keyring_core::Error::Ambiguous(Vec::new())),
            "keyring.ambiguous_entry"
        );
        assert_eq!(
            map(keyring_core::Error::TooLong("user".into(), 10)),
            "keyring.invalid_name"
        );
        assert_eq!(
            map(keyring_core::Error::NotSupportedByStore("x".into())),
            "keyring.store_failed"
        );
    }

    #[test]
    fn converts_into_a_typed_provider_error() {
        let ProviderError::Backend(source) = ProviderError::from(KeyringError::NotKept {
            backend: KeyringBackend::InMemory,
        }) else {
            panic!("a keyring failure is the backend's");
        };
        assert!(matches!(
            source.downcast_ref::<KeyringError>(),
            Some(KeyringError::NotKept { .. })
        ));
    }
}
