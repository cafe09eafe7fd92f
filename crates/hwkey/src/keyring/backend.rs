//! Which OS keyring holds the keys, and an open connection to it.

use std::{fmt, str::FromStr, sync::Arc};

use keyring_core::{CredentialStore, Entry};

use super::KeyringError;

/// An operating-system keyring, reached through keyring-core and one store crate per platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyringBackend {
    /// The freedesktop.org Secret Service API over the D-Bus session bus (gnome-keyring, KWallet,
    /// KeePassXC): encrypted at rest, unlocked with the desktop login. Linux.
    SecretService,
    /// The Linux kernel's key retention service (keyutils, `keyctl(2)`): in kernel memory only,
    /// linked into the session and the user's persistent keyring, gone after a reboot. For
    /// servers without a desktop session. Linux.
    Keyutils,
    /// The macOS login Keychain (legacy keychain API, Security framework).
    Apple,
    /// The Windows Credential Manager (generic credentials).
    Windows,
    /// keyring-core's in-memory mock store: nothing outlives the process. Tests and demos.
    InMemory,
}

impl KeyringBackend {
    /// Every backend, in the order UIs list them.
    pub const ALL: [Self; 5] = [
        Self::SecretService,
        Self::Keyutils,
        Self::Apple,
        Self::Windows,
        Self::InMemory,
    ];

    /// The keyring a desktop user of this operating system expects: the Keychain on macOS, the
    /// Credential Manager on Windows, the Secret Service elsewhere.
    pub fn platform_default() -> Self {
        if cfg!(target_os = "macos") {
            Self::Apple
        } else if cfg!(target_os = "windows") {
            Self::Windows
        } else {
            Self::SecretService
        }
    }

    /// The backend's stable name, used in key ids and configuration: `secret-service`,
    /// `keyutils`, `apple`, `windows` or `in-memory`.
    pub fn name(self) -> &'static str {
        match self {
            Self::SecretService => "secret-service",
            Self::Keyutils => "keyutils",
            Self::Apple => "apple",
            Self::Windows => "windows",
            Self::InMemory => "in-memory",
        }
    }

    /// Whether this build can use the backend on this operating system at all (whether its
    /// service runs is only known by [`KeyringBackend::open`]).
    pub fn is_supported(self) -> bool {
        match self {
            Self::SecretService | Self::Keyutils => cfg!(target_os = "linux"),
            Self::Apple => cfg!(target_os = "macos"),
            Self::Windows => cfg!(target_os = "windows"),
            Self::InMemory => true,
        }
    }

    /// Connects to the keyring. For the Secret Service this opens a D-Bus connection and fails
    /// with [`KeyringError::StoreUnavailable`] when there is no session bus or no daemon; the
    /// other stores only check later, per entry. Every call blocks: async callers use
    /// `spawn_blocking`. Each [`KeyringBackend::InMemory`] store is a new, empty one.
    pub fn open(self) -> Result<KeyringStore, KeyringError> {
        let unavailable = |error: keyring_core::Error| KeyringError::StoreUnavailable {
            backend: self,
            detail: error.to_string(),
        };
        let inner: Arc<CredentialStore> = match self {
            Self::InMemory => keyring_core::mock::Store::new().map_err(unavailable)?,
            #[cfg(target_os = "linux")]
            Self::SecretService => {
                zbus_secret_service_keyring_store::Store::new().map_err(unavailable)?
            }
            #[cfg(target_os = "linux")]
            Self::Keyutils => linux_keyutils_keyring_store::Store::new().map_err(unavailable)?,
            #[cfg(target_os = "macos")]
            Self::Apple => {
                apple_native_keyring_store::keychain::Store::new().map_err(unavailable)?
            }
            #[cfg(target_os = "windows")]
            Self::Windows => windows_native_keyring_store::Store::new().map_err(unavailable)?,
            // The arms above cover every backend this platform has.
            #[allow(unreachable_patterns)]
            backend => return Err(KeyringError::Unsupported { backend }),
        };
        Ok(KeyringStore {
            backend: self,
            inner,
        })
    }
}

impl fmt::Display for KeyringBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyringBackend {
    type Err = KeyringError;

    /// From [`KeyringBackend::name`].
    fn from_str(name: &str) -> Result<Self, KeyringError> {
        Self::ALL
            .into_iter()
            .find(|backend| backend.name() == name)
            .ok_or_else(|| KeyringError::UnknownBackend {
                name: name.to_owned(),
            })
    }
}

/// An open keyring. Clones share the connection (and, for [`KeyringBackend::InMemory`], the
/// contents).
#[derive(Clone)]
pub struct KeyringStore {
    backend: KeyringBackend,
    inner: Arc<CredentialStore>,
}

impl fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The store's own Debug may list entries (the mock store prints their secrets).
        f.debug_struct("KeyringStore")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl KeyringStore {
    /// Which keyring this is.
    pub fn backend(&self) -> KeyringBackend {
        self.backend
    }

    /// A store around a given keyring-core store, for tests of failures real stores rarely show.
    #[cfg(test)]
    pub(crate) fn with_inner(backend: KeyringBackend, inner: Arc<CredentialStore>) -> Self {
        Self { backend, inner }
    }

    /// The store's handle for one entry; nothing is read or written yet.
    pub(crate) fn entry(&self, service: &str, entry: &str) -> Result<Entry, KeyringError> {
        let result = match self.backend {
            // A label for the keyring's own UI (Seahorse, KeePassXC); the default would be
            // `keyring:entry@service`.
            KeyringBackend::SecretService => {
                let label = format!("Schild key-encryption key {service}/{entry}");
                let modifiers = std::collections::HashMap::from([("label", label.as_str())]);
                self.inner.build(service, entry, Some(&modifiers))
            }
            _ => self.inner.build(service, entry, None),
        };
        result.map_err(|error| KeyringError::from_store(error, self.backend, service, entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for backend in KeyringBackend::ALL {
            assert_eq!(backend.name().parse::<KeyringBackend>(), Ok(backend));
            assert_eq!(backend.to_string(), backend.name());
        }
        assert_eq!(
            "gnome".parse::<KeyringBackend>(),
            Err(KeyringError::UnknownBackend {
                name: "gnome".into()
            })
        );
    }

    #[test]
    fn the_platform_default_is_supported_here() {
        assert!(KeyringBackend::platform_default().is_supported());
        assert!(KeyringBackend::InMemory.is_supported());
    }

    #[test]
    fn another_platforms_keyring_is_refused() {
        let foreign = if cfg!(target_os = "macos") {
            KeyringBackend::Windows
        } else {
            KeyringBackend::Apple
        };
        assert!(!foreign.is_supported());
        assert_eq!(
            foreign.open().err(),
            Some(KeyringError::Unsupported { backend: foreign })
        );
    }

    #[test]
    fn in_memory_stores_are_separate_and_clones_shared() {
        let first = KeyringBackend::InMemory.open().unwrap();
        let second = KeyringBackend::InMemory.open().unwrap();
        first.entry("s", "e").unwrap().set_secret(b"x").unwrap();
        let clone = first.clone();
        assert_eq!(clone.entry("s", "e").unwrap().get_secret().unwrap(), b"x");
        assert!(matches!(
            second.entry("s", "e").unwrap().get_secret(),
            Err(keyring_core::Error::NoEntry)
        ));
        assert_eq!(
            format!("{first:?}"),
            "KeyringStore { backend: InMemory, .. }"
        );
    }
}
