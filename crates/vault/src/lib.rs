//! Schild's key vault: secrets kept by the desktop app, the enrollment station and the offline kit
//! (backend credentials, API keys, recovery material, evidence keys), each envelope-encrypted
//! under its own data key (`schild_core::vault`) and stored in a schild-store database.
//!
//! A vault is opened with one of its [unlock methods](method) — a passphrase, the OS keyring, a
//! FIDO2 security key or an HSM key — which unwraps its master key; the master key unwraps the KEK
//! versions, which wrap the items' data keys. An [`UnlockedVault`] locks itself after a time
//! without use, and wipes its keys when it does or when dropped.
//!
//! [Rotation](UnlockedVault::rotate) moves every item to a new KEK version in batches, one
//! transaction each; killed at any moment, the next run resumes where it stopped and every item
//! still opens.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod method;
mod rotation;
mod unlocked;

pub use method::{UnlockMethod, UnlockParams};
pub use rotation::{RotationProgress, RotationReport};
pub use unlocked::{
    ItemInfo, KeyVersionStatus, NewVault, RotationState, UnlockedVault, VaultStatus, end_session,
    status, unlock_methods,
};

use schild_store::StoreError;

/// Why a vault operation failed. No variant carries a secret or an item's value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// There is no vault of this id in this database: a typo, or `init` was never run.
    #[error("there is no vault {0:?}")]
    NoSuchVault(String),
    /// A vault of this id exists already; unlock it, or choose another id.
    #[error("a vault {0:?} exists already")]
    VaultExists(String),
    /// The vault holds no item of this name.
    #[error("the vault holds no item {0:?}")]
    NoSuchItem(String),
    /// The vault holds an item of this name already; remove it first or replace it.
    #[error("the vault holds an item {0:?} already")]
    ItemExists(String),
    /// The vault has no unlock method of this id.
    #[error("the vault has no unlock method {0:?}")]
    NoSuchUnlockMethod(String),
    /// The vault has an unlock method of this id already.
    #[error("the vault has an unlock method {0:?} already")]
    UnlockMethodExists(String),
    /// This is the vault's only lasting unlock method: removing it would leave the vault
    /// unopenable once its sessions end (a session is never the only way in). Add another
    /// method first.
    #[error("this is the vault's only lasting unlock method; add another before removing it")]
    LastUnlockMethod,
    /// The unlock method's key did not open the vault: a wrong passphrase, another security key,
    /// or another keyring entry. Nothing was changed.
    #[error("this key does not unlock the vault (wrong passphrase or another key)")]
    WrongUnlockKey,
    /// A name, id, label or purpose is empty, longer than 200 characters, or has control
    /// characters.
    #[error("invalid {what}: {reason}")]
    InvalidName {
        /// Which field.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The vault locked itself after a time without use, or was locked: unlock it again.
    #[error("the vault is locked; unlock it again")]
    Locked,
    /// An envelope or wrapped key failed to open: storage corruption or tampering. The item is
    /// named where known; nothing was changed.
    #[error("a stored envelope failed to open: {0}")]
    Crypto(#[from] schild_core::vault::VaultError),
    /// A stored row is not what this version of Schild wrote (unparsable parameters, a missing
    /// KEK version).
    #[error("the vault database is damaged: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a caller-given name (item name, vault id, method id, label, purpose).
pub(crate) fn check_name(what: &'static str, value: &str) -> Result<(), Error> {
    let reason = if value.trim().is_empty() {
        Some("it is empty")
    } else if value.chars().count() > 200 {
        Some("it is longer than 200 characters")
    } else if value.chars().any(char::is_control) {
        Some("it contains control characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidName { what, reason }),
        None => Ok(()),
    }
}
