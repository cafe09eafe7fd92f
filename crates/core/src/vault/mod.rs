//! Envelope encryption for secrets at rest, the mechanism behind the key vault: every item is
//! encrypted under its own fresh data key (DEK) with AES-256-GCM, and the DEK is wrapped by a
//! versioned key-encryption key (KEK) behind [`crate::provider::KeyEncryptionKey`] — an HSM key,
//! a key from the OS keyring or a key file ([`LocalKek`]), or one derived from a passphrase.
//!
//! Rotating the KEK re-wraps DEKs ([`envelope::rewrap`]) without touching the data; destroying an
//! item's DEK (deleting its envelope) shreds it.

pub mod envelope;
pub mod local_key;
pub mod passphrase;

pub use envelope::{Envelope, ItemContext, VaultError, open, rewrap, seal};
pub use local_key::LocalKek;
pub use passphrase::{PassphraseError, PassphraseParams, derive_kek};
