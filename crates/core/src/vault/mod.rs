//! Envelope encryption for secrets at rest, the mechanism behind the key vault: every item is
//! encrypted under its own fresh data key (DEK) with AES-256-GCM, and the DEK is wrapped by a
//! versioned key-encryption key (KEK) behind [`crate::provider::KeyEncryptionKey`] — an HSM key,
//! a key from the OS keyring or a key file ([`LocalKek`]), or one derived from a passphrase.
//!
//! The key hierarchy above the KEK (master key, unlock methods, KEK versions) is in [`keys`];
//! when to rotate and when to lock again is in [`policy`].
//!
//! Rotating the KEK re-wraps DEKs ([`envelope::rewrap`]) without touching the data; destroying an
//! item's DEK (deleting its envelope) shreds it.

pub mod envelope;
pub mod keys;
pub mod local_key;
pub mod passphrase;
pub mod policy;

pub use envelope::{Envelope, ItemContext, VaultError, open, rewrap, seal};
pub use keys::{KekSet, KeyVersion, MasterKey, generate_kek, kek_id, open_kek};
pub use local_key::LocalKek;
pub use passphrase::{PassphraseError, PassphraseParams, derive_kek};
pub use policy::{IdleLock, MAX_WRAPS_PER_KEK, RotationDue, RotationPolicy};
