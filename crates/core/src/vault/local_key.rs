//! A key-encryption key held in memory: loaded from a key file on a server, from the OS keyring
//! on a desktop, or derived from a passphrase. Used where no HSM is configured, and in tests.

use crate::provider::{KeyEncryptionKey, ProviderError, WrappedKey};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rand::Rng as _;
use std::fmt;
use zeroize::Zeroizing;

/// Format byte of a wrapped key: `0x01 ‖ 12-byte nonce ‖ ciphertext ‖ 16-byte tag`.
const WRAP_V1: u8 = 0x01;
const NONCE_LEN: usize = 12;

/// An AES-256 key-encryption key in memory, wiped on drop.
pub struct LocalKek {
    key_id: String,
    key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for LocalKek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKek")
            .field("key_id", &self.key_id)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl LocalKek {
    /// A KEK named `key_id` (which should carry its version, e.g. `keyfile:server;v=3`).
    pub fn new(key_id: impl Into<String>, key: Zeroizing<[u8; 32]>) -> Result<Self, ProviderError> {
        let key_id = key_id.into();
        if key_id.is_empty() {
            return Err(ProviderError::Backend("a key id is needed".into()));
        }
        Ok(Self { key_id, key })
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&Key::<Aes256Gcm>::from(*self.key))
    }
}

impl KeyEncryptionKey for LocalKek {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn wrap(&self, data_key: &[u8], aad: &[u8]) -> Result<WrappedKey, ProviderError> {
        if aad.is_empty() {
            return Err(ProviderError::EmptyAad);
        }
        // The trait takes no RNG (an HSM draws its IVs inside the token); the thread-local CSPRNG,
        // seeded from the operating system, draws this one.
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(&Nonce::from(nonce), Payload { msg: data_key, aad })
            .map_err(|_| ProviderError::Backend("data key too long to wrap".into()))?;
        let mut blob = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        blob.push(WRAP_V1);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        Ok(WrappedKey {
            key_id: self.key_id.clone(),
            blob,
        })
    }

    fn unwrap(
        &self,
        wrapped: &WrappedKey,
        aad: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, ProviderError> {
        if aad.is_empty() {
            return Err(ProviderError::EmptyAad);
        }
        if wrapped.key_id != self.key_id {
            return Err(ProviderError::WrongKey {
                this: self.key_id.clone(),
                wrapped_by: wrapped.key_id.clone(),
            });
        }
        let Some((&WRAP_V1, rest)) = wrapped.blob.split_first() else {
            return Err(ProviderError::Unauthentic);
        };
        if rest.len() < NONCE_LEN {
            return Err(ProviderError::Unauthentic);
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| ProviderError::Unauthentic)?;
        self.cipher()
            .decrypt(&Nonce::from(nonce), Payload { msg: sealed, aad })
            .map(Zeroizing::new)
            .map_err(|_| ProviderError::Unauthentic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_refuses_other_aad_other_keys_and_empty_aad() {
        let kek = LocalKek::new("local:a;v=1", Zeroizing::new([7; 32])).unwrap();
        let wrapped = kek.wrap(&[1; 32], b"item-1").unwrap();
        assert_eq!(
            kek.unwrap(&wrapped, b"item-1").unwrap().as_slice(),
            &[1; 32]
        );
        assert!(matches!(
            kek.unwrap(&wrapped, b"item-2"),
            Err(ProviderError::Unauthentic)
        ));
        assert!(matches!(
            kek.wrap(&[1; 32], b""),
            Err(ProviderError::EmptyAad)
        ));
        let other = LocalKek::new("local:a;v=2", Zeroizing::new([7; 32])).unwrap();
        assert!(matches!(
            other.unwrap(&wrapped, b"item-1"),
            Err(ProviderError::WrongKey { .. })
        ));
        assert!(
            !format!("{kek:?}").contains('7'),
            "the key never reaches Debug"
        );
    }
}
