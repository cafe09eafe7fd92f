//! A key-encryption key whose 32 bytes live in an OS keyring entry.

use std::fmt;

use rand::{TryRng as _, rngs::SysRng};
use schild_core::provider::{KeyEncryptionKey, ProviderError, WrappedKey};
use schild_core::vault::LocalKek;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::{KeyringBackend, KeyringError, KeyringStore};

/// The length of a keyring key: AES-256.
pub const KEY_LENGTH: usize = 32;

/// The longest service or entry name accepted, in bytes. Every store takes this much (the
/// Windows Credential Manager's limits are the tightest, at 256 characters and more).
pub const MAX_NAME_BYTES: usize = 128;

/// An AES-256 key-encryption key kept in an OS keyring entry, named by a service and an entry
/// (keyring-core's "service" and "user"). Wrapping happens in this process with AES-256-GCM
/// ([`LocalKek`]); the keyring only keeps the key at rest, protected by the user's login.
///
/// Its [`KeyEncryptionKey::key_id`] is `keyring:<backend>:<service>/<entry>`, such as
/// `keyring:secret-service:schild-vault/master`.
pub struct KeyringKek {
    kek: LocalKek,
    backend: KeyringBackend,
}

impl fmt::Debug for KeyringKek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringKek")
            .field("key_id", &self.kek.key_id())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl KeyringKek {
    /// Makes a fresh key from the operating system's random number generator and stores it as
    /// a new entry. Fails with [`KeyringError::EntryExists`] when the entry already holds
    /// anything, leaving it untouched: a key that may still open data is never overwritten.
    ///
    /// The key is read back after writing; a store that does not return it exactly (some keep
    /// only text) gets the entry deleted again and [`KeyringError::NotKept`]. keyring-core has no
    /// atomic "create if absent", so two processes creating the same entry at the same moment
    /// could both pass the existence check: name entries per installation.
    pub fn create(store: &KeyringStore, service: &str, entry: &str) -> Result<Self, KeyringError> {
        check_name("service", service)?;
        check_name("entry", entry)?;
        let backend = store.backend();
        let handle = store.entry(service, entry)?;
        match handle.get_secret().map(Zeroizing::new) {
            Ok(_) => return Err(exists(backend, service, entry)),
            Err(keyring_core::Error::NoEntry) => {}
            Err(error) => {
                return Err(
                    match KeyringError::from_store(error, backend, service, entry) {
                        // Something is there, even if it is not ours.
                        KeyringError::MalformedEntry { .. } => exists(backend, service, entry),
                        other => other,
                    },
                );
            }
        }

        let mut key = Zeroizing::new([0u8; KEY_LENGTH]);
        SysRng
            .try_fill_bytes(key.as_mut())
            .map_err(|error| KeyringError::NoRandomness {
                detail: error.to_string(),
            })?;
        handle
            .set_secret(key.as_slice())
            .map_err(|error| KeyringError::from_store(error, backend, service, entry))?;

        let kept = handle.get_secret().map(Zeroizing::new);
        let intact = kept
            .as_ref()
            .is_ok_and(|kept| bool::from(kept.as_slice().ct_eq(key.as_slice())));
        if !intact {
            // Leave nothing behind that looks like a key but is not this one.
            let _ = handle.delete_credential();
            return Err(KeyringError::NotKept { backend });
        }
        Self::new(backend, service, entry, key)
    }

    /// Loads the key stored in an existing entry.
    pub fn open(store: &KeyringStore, service: &str, entry: &str) -> Result<Self, KeyringError> {
        check_name("service", service)?;
        check_name("entry", entry)?;
        let backend = store.backend();
        let secret = store
            .entry(service, entry)?
            .get_secret()
            .map(Zeroizing::new)
            .map_err(|error| KeyringError::from_store(error, backend, service, entry))?;
        let key: [u8; KEY_LENGTH] =
            secret
                .as_slice()
                .try_into()
                .map_err(|_| KeyringError::MalformedEntry {
                    backend,
                    service: service.to_owned(),
                    entry: entry.to_owned(),
                    length: secret.len(),
                })?;
        Self::new(backend, service, entry, Zeroizing::new(key))
    }

    /// Deletes the entry, and with it the key: whatever only this key wraps can no longer be
    /// opened. Fails with [`KeyringError::NoSuchEntry`] when there is none. Works on malformed
    /// entries too, so a damaged one can be cleared.
    pub fn delete(store: &KeyringStore, service: &str, entry: &str) -> Result<(), KeyringError> {
        check_name("service", service)?;
        check_name("entry", entry)?;
        store
            .entry(service, entry)?
            .delete_credential()
            .map_err(|error| KeyringError::from_store(error, store.backend(), service, entry))
    }

    /// The key id a key in `backend` under `service`/`entry` has (see [`KeyringKek`]).
    pub fn key_id_for(
        backend: KeyringBackend,
        service: &str,
        entry: &str,
    ) -> Result<String, KeyringError> {
        check_name("service", service)?;
        check_name("entry", entry)?;
        Ok(format!("keyring:{backend}:{service}/{entry}"))
    }

    /// The keyring this key is kept in.
    pub fn backend(&self) -> KeyringBackend {
        self.backend
    }

    fn new(
        backend: KeyringBackend,
        service: &str,
        entry: &str,
        key: Zeroizing<[u8; KEY_LENGTH]>,
    ) -> Result<Self, KeyringError> {
        let key_id = Self::key_id_for(backend, service, entry)?;
        let kek = LocalKek::new(key_id, key).map_err(|error| KeyringError::InvalidName {
            what: "entry",
            reason: error.to_string(),
        })?;
        Ok(Self { kek, backend })
    }
}

impl KeyEncryptionKey for KeyringKek {
    fn key_id(&self) -> &str {
        self.kek.key_id()
    }

    fn wrap(&self, data_key: &[u8], aad: &[u8]) -> Result<WrappedKey, ProviderError> {
        self.kek.wrap(data_key, aad)
    }

    fn unwrap(
        &self,
        wrapped: &WrappedKey,
        aad: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, ProviderError> {
        self.kek.unwrap(wrapped, aad)
    }
}

fn exists(backend: KeyringBackend, service: &str, entry: &str) -> KeyringError {
    KeyringError::EntryExists {
        backend,
        service: service.to_owned(),
        entry: entry.to_owned(),
    }
}

/// Names are parsed before anything reaches a store: `/` would make the key id ambiguous, `@`
/// the keyutils description (`keyring:entry@service`), and control characters unreadable.
fn check_name(what: &'static str, name: &str) -> Result<(), KeyringError> {
    let reason = if name.is_empty() {
        "it is empty".to_owned()
    } else if name.len() > MAX_NAME_BYTES {
        format!("it is longer than {MAX_NAME_BYTES} bytes")
    } else if let Some(bad) = name
        .chars()
        .find(|c| c.is_control() || matches!(c, '/' | '@'))
    {
        format!("it contains {bad:?}")
    } else {
        return Ok(());
    };
    Err(KeyringError::InvalidName { what, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("service", "schild-vault").is_ok());
        assert!(check_name("entry", "master key 2026.1").is_ok());
        for bad in ["", "a/b", "a@b", "tab\there", &"x".repeat(129)] {
            assert!(
                matches!(
                    check_name("entry", bad),
                    Err(KeyringError::InvalidName { what: "entry", .. })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            KeyringKek::key_id_for(KeyringBackend::Keyutils, "schild-vault", "master").unwrap(),
            "keyring:keyutils:schild-vault/master"
        );
    }

    fn in_memory() -> KeyringStore {
        KeyringBackend::InMemory.open().unwrap()
    }

    #[test]
    fn a_wrong_length_entry_is_malformed_blocks_create_and_can_be_deleted() {
        for length in [0, 1, 31, 33, 64] {
            let store = in_memory();
            let raw = store.entry("schild-vault", "master").unwrap();
            raw.set_secret(&vec![0x5a; length]).unwrap();
            assert_eq!(
                KeyringKek::open(&store, "schild-vault", "master").err(),
                Some(KeyringError::MalformedEntry {
                    backend: KeyringBackend::InMemory,
                    service: "schild-vault".into(),
                    entry: "master".into(),
                    length,
                })
            );
            assert!(matches!(
                KeyringKek::create(&store, "schild-vault", "master"),
                Err(KeyringError::EntryExists { .. })
            ));
            assert_eq!(raw.get_secret().unwrap(), vec![0x5a; length], "untouched");
            KeyringKek::delete(&store, "schild-vault", "master").unwrap();
            KeyringKek::create(&store, "schild-vault", "master").unwrap();
        }
    }

    #[test]
    fn create_stores_exactly_the_key_it_wraps_with() {
        let store = in_memory();
        let kek = KeyringKek::create(&store, "schild-vault", "master").unwrap();
        let stored = store
            .entry("schild-vault", "master")
            .unwrap()
            .get_secret()
            .unwrap();
        assert_eq!(stored.len(), KEY_LENGTH);
        let twin = LocalKek::new(
            kek.key_id().to_owned(),
            Zeroizing::new(stored.as_slice().try_into().unwrap()),
        )
        .unwrap();
        let wrapped = kek.wrap(&[9; 32], b"ctx").unwrap();
        assert_eq!(*twin.unwrap(&wrapped, b"ctx").unwrap(), [9; 32]);
        // Two creations never share a key.
        let other = KeyringKek::create(&store, "schild-vault", "other").unwrap();
        let other_stored = store
            .entry("schild-vault", "other")
            .unwrap()
            .get_secret()
            .unwrap();
        assert_ne!(stored, other_stored);
        assert_ne!(other.key_id(), kek.key_id());
    }

    #[test]
    fn a_locked_store_is_access_denied_and_changes_nothing() {
        let store = in_memory();
        KeyringKek::create(&store, "schild-vault", "master").unwrap();
        let raw = store.entry("schild-vault", "master").unwrap();
        let mock: &keyring_core::mock::Cred = raw.as_any().downcast_ref().unwrap();
        mock.set_error(keyring_core::Error::NoStorageAccess(
            "collection is locked".into(),
        ));
        let error = KeyringKek::open(&store, "schild-vault", "master").unwrap_err();
        assert_eq!(error.code(), "keyring.access_denied");
        assert!(error.to_string().contains("collection is locked"));
        KeyringKek::open(&store, "schild-vault", "master").unwrap();
    }

    /// A store that keeps secrets as text only, as some Secret Service providers do.
    mod text_only {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex};

        use keyring_core::api::{CredentialApi, CredentialStoreApi};
        use keyring_core::{Credential, Entry, Error, Result};

        #[derive(Debug, Default)]
        pub(super) struct Store(Arc<Mutex<HashMap<(String, String), String>>>);

        #[derive(Debug)]
        struct Cred {
            store: Arc<Mutex<HashMap<(String, String), String>>>,
            name: (String, String),
        }

        impl CredentialApi for Cred {
            fn set_secret(&self, secret: &[u8]) -> Result<()> {
                let text = String::from_utf8_lossy(secret).into_owned();
                self.store.lock().unwrap().insert(self.name.clone(), text);
                Ok(())
            }
            fn get_secret(&self) -> Result<Vec<u8>> {
                let store = self.store.lock().unwrap();
                let text = store.get(&self.name).ok_or(Error::NoEntry)?;
                Ok(text.as_bytes().to_vec())
            }
            fn delete_credential(&self) -> Result<()> {
                let removed = self.store.lock().unwrap().remove(&self.name);
                removed.map(drop).ok_or(Error::NoEntry)
            }
            fn get_credential(&self) -> Result<Option<Arc<Credential>>> {
                Ok(None)
            }
            fn get_specifiers(&self) -> Option<(String, String)> {
                Some(self.name.clone())
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
        }

        impl CredentialStoreApi for Store {
            fn vendor(&self) -> String {
                "text only".into()
            }
            fn id(&self) -> String {
                "text only".into()
            }
            fn build(
                &self,
                service: &str,
                user: &str,
                _: Option<&HashMap<&str, &str>>,
            ) -> Result<Entry> {
                Ok(Entry::new_with_credential(Arc::new(Cred {
                    store: Arc::clone(&self.0),
                    name: (service.into(), user.into()),
                })))
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
        }
    }

    #[test]
    fn a_store_that_mangles_the_key_is_refused_and_left_clean() {
        let store = KeyringStore::with_inner(
            KeyringBackend::SecretService,
            std::sync::Arc::new(text_only::Store::default()),
        );
        // 32 random bytes are valid UTF-8 (which the store would keep) with a probability far
        // below one in a million: a byte of 0x80 or above must start or continue a valid
        // sequence, and all 32 below 0x80 has a probability of 2^-32.
        assert_eq!(
            KeyringKek::create(&store, "schild-vault", "master").unwrap_err(),
            KeyringError::NotKept {
                backend: KeyringBackend::SecretService
            }
        );
        assert!(matches!(
            KeyringKek::open(&store, "schild-vault", "master"),
            Err(KeyringError::NoSuchEntry { .. })
        ));
    }
}
