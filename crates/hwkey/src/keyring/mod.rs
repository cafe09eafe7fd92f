//! Key-encryption keys kept in the operating system's keyring (cargo feature `keyring`): the
//! Secret Service or keyutils on Linux, the Keychain on macOS, the Credential Manager on Windows.
//!
//! A vault unlock method for desktops and single-user servers: the keyring keeps 32 random bytes
//! at rest under the user's login, and [`KeyringKek`] wraps data keys with them through
//! schild-core's [`KeyEncryptionKey`](schild_core::provider::KeyEncryptionKey) (AES-256-GCM in
//! this process, as [`LocalKek`](schild_core::vault::LocalKek) does).
//!
//! ```no_run
//! use schild_core::provider::KeyEncryptionKey;
//! use schild_hwkey::keyring::{KeyringBackend, KeyringKek};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = KeyringBackend::platform_default().open()?;
//! let kek = KeyringKek::create(&store, "schild-vault", "master")?;
//! let wrapped = kek.wrap(&[7; 32], b"vault/master")?;
//! // Later, in another process:
//! let kek = KeyringKek::open(&store, "schild-vault", "master")?;
//! assert_eq!(*kek.unwrap(&wrapped, b"vault/master")?, [7; 32]);
//! # Ok(()) }
//! ```
//!
//! Stores come from keyring-core and its store crates; every call blocks (D-Bus, a system call,
//! the Security framework), so async callers use `spawn_blocking`.

mod backend;
mod error;
mod kek;

#[cfg(feature = "testing")]
pub mod testing;

pub use backend::{KeyringBackend, KeyringStore};
pub use error::KeyringError;
pub use kek::{KEY_LENGTH, KeyringKek, MAX_NAME_BYTES};
