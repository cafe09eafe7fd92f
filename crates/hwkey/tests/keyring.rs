//! Key-encryption keys in OS keyrings: the logic against keyring-core's in-memory store, and the
//! same life cycle against this machine's real Secret Service (gnome-keyring on a private bus)
//! and kernel keyutils (a fresh session keyring), each in a sandbox process of its own.

#![cfg(feature = "keyring")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use schild_core::provider::{KeyEncryptionKey, ProviderError, WrappedKey};
use schild_hwkey::keyring::testing::{Sandbox, run_isolated};
use schild_hwkey::keyring::{KeyringBackend, KeyringError, KeyringKek, KeyringStore};
use schild_hwkey::keyring_test;

const DATA_KEY: [u8; 32] = *b"a 256-bit data key for the vault";
const AAD: &[u8] = b"vault/master";

/// Names of this run's own: the keyutils store links keys into the user's persistent keyring,
/// which outlives the sandbox.
fn unique_service() -> String {
    format!("schild-test-{}", uuid::Uuid::new_v4())
}

/// The whole life cycle on one store: create, wrap, reopen, unwrap, refuse to overwrite,
/// delete, and the key is gone.
fn life_cycle(store: &KeyringStore) {
    let service = unique_service();
    let backend = store.backend();
    assert!(matches!(
        KeyringKek::open(store, &service, "master"),
        Err(KeyringError::NoSuchEntry { .. })
    ));

    let kek = KeyringKek::create(store, &service, "master").unwrap();
    assert_eq!(
        kek.key_id(),
        format!("keyring:{}:{service}/master", backend.name())
    );
    assert_eq!(kek.backend(), backend);
    let wrapped = kek.wrap(&DATA_KEY, AAD).unwrap();
    assert!(!wrapped.blob.windows(8).any(|w| w == &DATA_KEY[..8]));
    drop(kek);

    let reopened = KeyringKek::open(store, &service, "master").unwrap();
    assert_eq!(*reopened.unwrap(&wrapped, AAD).unwrap(), DATA_KEY);

    // Creating again would destroy the key that opens `wrapped`: refused, and nothing changes.
    assert_eq!(
        KeyringKek::create(store, &service, "master").err(),
        Some(KeyringError::EntryExists {
            backend,
            service: service.clone(),
            entry: "master".into(),
        })
    );
    let still = KeyringKek::open(store, &service, "master").unwrap();
    assert_eq!(*still.unwrap(&wrapped, AAD).unwrap(), DATA_KEY);

    // Another entry is another key.
    let other = KeyringKek::create(store, &service, "other").unwrap();
    let relabelled = WrappedKey {
        key_id: other.key_id().to_owned(),
        blob: wrapped.blob.clone(),
    };
    assert!(matches!(
        other.unwrap(&relabelled, AAD),
        Err(ProviderError::Unauthentic)
    ));

    KeyringKek::delete(store, &service, "master").unwrap();
    KeyringKek::delete(store, &service, "other").unwrap();
    assert!(matches!(
        KeyringKek::open(store, &service, "master"),
        Err(KeyringError::NoSuchEntry { .. })
    ));
    assert!(matches!(
        KeyringKek::delete(store, &service, "master"),
        Err(KeyringError::NoSuchEntry { .. })
    ));
}

#[test]
fn in_memory_life_cycle() {
    life_cycle(&KeyringBackend::InMemory.open().unwrap());
}

#[test]
fn tampered_or_misattributed_blobs_and_other_contexts_fail() {
    let store = KeyringBackend::InMemory.open().unwrap();
    let kek = KeyringKek::create(&store, "schild-vault", "master").unwrap();
    let wrapped = kek.wrap(&DATA_KEY, AAD).unwrap();

    for index in [0, 1, 13, wrapped.blob.len() - 1] {
        let mut tampered = wrapped.clone();
        tampered.blob[index] ^= 0x01;
        assert!(
            matches!(kek.unwrap(&tampered, AAD), Err(ProviderError::Unauthentic)),
            "byte {index}"
        );
    }
    let mut truncated = wrapped.clone();
    truncated.blob.truncate(20);
    assert!(matches!(
        kek.unwrap(&truncated, AAD),
        Err(ProviderError::Unauthentic)
    ));
    assert!(matches!(
        kek.unwrap(&wrapped, b"vault/other"),
        Err(ProviderError::Unauthentic)
    ));
    assert!(matches!(
        kek.wrap(&DATA_KEY, b""),
        Err(ProviderError::EmptyAad)
    ));
    let mut foreign = wrapped.clone();
    foreign.key_id = "keyring:in-memory:schild-vault/other".into();
    assert!(matches!(
        kek.unwrap(&foreign, AAD),
        Err(ProviderError::WrongKey { .. })
    ));
}

#[test]
fn bad_names_are_refused_before_the_store_is_asked() {
    let store = KeyringBackend::InMemory.open().unwrap();
    for (service, entry, what) in [
        ("", "master", "service"),
        ("schild/vault", "master", "service"),
        ("schild-vault", "", "entry"),
        ("schild-vault", "a@b", "entry"),
        ("schild-vault", "line\nbreak", "entry"),
    ] {
        for result in [
            KeyringKek::create(&store, service, entry).map(drop),
            KeyringKek::open(&store, service, entry).map(drop),
            KeyringKek::delete(&store, service, entry),
        ] {
            assert!(
                matches!(result, Err(KeyringError::InvalidName { what: w, .. }) if w == what),
                "{service:?} {entry:?}"
            );
        }
    }
}

#[test]
fn neither_debug_nor_errors_show_the_key() {
    let store = KeyringBackend::InMemory.open().unwrap();
    let kek = KeyringKek::create(&store, "schild-vault", "master").unwrap();
    assert_eq!(
        format!("{kek:?}"),
        "KeyringKek { key_id: \"keyring:in-memory:schild-vault/master\", key: \"<redacted>\" }"
    );
    assert_eq!(
        format!("{store:?}"),
        "KeyringStore { backend: InMemory, .. }"
    );
}

keyring_test!(
    fn secret_service_life_cycle(store) in SecretService {
        assert_eq!(store.backend(), KeyringBackend::SecretService);
        life_cycle(&store);
    }
);

keyring_test!(
    fn secret_service_keeps_the_key_across_connections(store) in SecretService {
        let wrapped = {
            let kek = KeyringKek::create(&store, "schild-vault", "master").unwrap();
            kek.wrap(&DATA_KEY, AAD).unwrap()
        };
        drop(store);
        // A new D-Bus connection, as a later run of Schild would make.
        let store = KeyringBackend::SecretService.open().unwrap();
        let kek = KeyringKek::open(&store, "schild-vault", "master").unwrap();
        assert_eq!(*kek.unwrap(&wrapped, AAD).unwrap(), DATA_KEY);
        // gnome-keyring wrote its login keyring into the sandbox's home, nowhere else.
        let data = std::path::PathBuf::from(std::env::var_os("XDG_DATA_HOME").unwrap());
        assert!(data.join("keyrings").is_dir());
    }
);

keyring_test!(
    fn keyutils_life_cycle(store) in Keyutils {
        assert_eq!(store.backend(), KeyringBackend::Keyutils);
        life_cycle(&store);
    }
);

keyring_test!(
    fn keyutils_keeps_the_key_across_stores(store) in Keyutils {
        let service = unique_service();
        let wrapped = {
            let kek = KeyringKek::create(&store, &service, "master").unwrap();
            kek.wrap(&DATA_KEY, AAD).unwrap()
        };
        let store = KeyringBackend::Keyutils.open().unwrap();
        let kek = KeyringKek::open(&store, &service, "master").unwrap();
        assert_eq!(*kek.unwrap(&wrapped, AAD).unwrap(), DATA_KEY);
        KeyringKek::delete(&store, &service, "master").unwrap();
    }
);

#[test]
fn without_a_session_bus_the_secret_service_is_unavailable() {
    // Whatever bus this process inherited, the child's address names no socket.
    run_isolated(
        concat!(
            module_path!(),
            "::without_a_session_bus_the_secret_service_is_unavailable"
        ),
        Sandbox::NoSessionBus,
        || {
            let error = KeyringBackend::SecretService.open().unwrap_err();
            assert_eq!(error.code(), "keyring.unavailable", "{error}");
            assert!(!error.recommendation().is_empty());
        },
    );
}
