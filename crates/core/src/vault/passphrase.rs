//! A key-encryption key derived from a passphrase with Argon2id (RFC 9106), for a vault that
//! unlocks by something its holder knows (a recovery passphrase, or the offline kit without a
//! keyring or HSM).
//!
//! The parameters are desktop strength, well above the sign-in floor: a vault is unlocked rarely
//! and its passphrase, unlike a server-side password hash, is attacked offline once the vault
//! file is taken. Each vault has its own random salt, stored beside its envelopes.

use super::LocalKek;
use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

/// How hard deriving the key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassphraseParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub passes: u32,
    /// Lanes.
    pub lanes: u32,
}

impl PassphraseParams {
    /// The vault default: 64 MiB, 3 passes, 1 lane (RFC 9106 §4's second recommended option,
    /// about 0.2 s on this project's reference machine).
    pub const DESKTOP: Self = Self {
        memory_kib: 64 * 1024,
        passes: 3,
        lanes: 1,
    };
}

/// Why a passphrase key could not be derived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PassphraseError {
    /// The passphrase is empty: the holder must type one.
    #[error("the passphrase is empty")]
    Empty,
    /// The salt is shorter than 16 bytes (RFC 9106 §3.1 asks for 128 bits): a caller bug.
    #[error("the salt must be at least 16 bytes")]
    SaltTooShort,
    /// The parameters are outside what Argon2 accepts: a configuration mistake.
    #[error("invalid Argon2 parameters: {0}")]
    Parameters(String),
}

/// Derives the vault's KEK, named `key_id`, from `passphrase` and the vault's `salt`. The same
/// inputs always give the same key; a wrong passphrase gives another key, which then fails to
/// unwrap (never opens anything).
pub fn derive_kek(
    key_id: &str,
    passphrase: &[u8],
    salt: &[u8],
    params: PassphraseParams,
) -> Result<LocalKek, PassphraseError> {
    if passphrase.is_empty() {
        return Err(PassphraseError::Empty);
    }
    if salt.len() < 16 {
        return Err(PassphraseError::SaltTooShort);
    }
    let params = Params::new(params.memory_kib, params.passes, params.lanes, Some(32))
        .map_err(|error| PassphraseError::Parameters(error.to_string()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase, salt, key.as_mut())
        .map_err(|error| PassphraseError::Parameters(error.to_string()))?;
    LocalKek::new(key_id, key).map_err(|error| PassphraseError::Parameters(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::KeyEncryptionKey;
    use crate::vault::{ItemContext, open, seal};

    const CONTEXT: ItemContext<'static> = ItemContext {
        vault: "kit-7",
        item: "evidence-key",
        purpose: "evidence",
    };

    #[test]
    fn derivation_matches_an_independent_argon2id() {
        // argon2-cffi 25.1 (libargon2): hash_secret_raw(b"correct horse battery staple",
        // bytes(range(16)), time_cost=3, memory_cost=65536, parallelism=1, hash_len=32,
        // type=ID) = 0d1a3c65…3c2e. The derived KEK must wrap like a LocalKek with that key.
        let salt: Vec<u8> = (0u8..16).collect();
        let derived = derive_kek(
            "passphrase:kit-7;v=1",
            b"correct horse battery staple",
            &salt,
            PassphraseParams::DESKTOP,
        )
        .unwrap();
        let expected: [u8; 32] = data_encoding::HEXLOWER
            .decode(b"0d1a3c6523c8f06e4e0af9c515aa5b5448cfebd6838f2d52c3d8b6ef8ddc3c2e")
            .unwrap()
            .try_into()
            .unwrap();
        let reference = LocalKek::new("passphrase:kit-7;v=1", Zeroizing::new(expected)).unwrap();
        let sealed = seal(&derived, CONTEXT, b"evidence", &mut rand::rng()).unwrap();
        assert_eq!(
            open(&reference, CONTEXT, &sealed).unwrap().as_slice(),
            b"evidence"
        );
    }

    #[test]
    fn a_wrong_passphrase_opens_nothing_and_bad_inputs_are_refused() {
        let params = PassphraseParams {
            memory_kib: 8 * 1024,
            passes: 1,
            lanes: 1,
        };
        let salt = [9u8; 16];
        let right = derive_kek("p;v=1", b"the right one", &salt, params).unwrap();
        let wrong = derive_kek("p;v=1", b"the wrong one", &salt, params).unwrap();
        let sealed = seal(&right, CONTEXT, b"x", &mut rand::rng()).unwrap();
        assert!(open(&wrong, CONTEXT, &sealed).is_err());
        assert_eq!(right.key_id(), "p;v=1");
        assert_eq!(
            derive_kek("p;v=1", b"", &salt, params).err(),
            Some(PassphraseError::Empty)
        );
        assert_eq!(
            derive_kek("p;v=1", b"pass", &[0; 8], params).err(),
            Some(PassphraseError::SaltTooShort)
        );
        let silly = PassphraseParams {
            memory_kib: 1,
            ..params
        };
        assert!(matches!(
            derive_kek("p;v=1", b"pass", &salt, silly),
            Err(PassphraseError::Parameters(_))
        ));
    }
}
