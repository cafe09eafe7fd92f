//! The two interfaces through which the rest of Schild uses keys it cannot see: a
//! [`KeyEncryptionKey`] that wraps data keys (for the envelope-encryption vault) and a [`Signer`]
//! (for signed audit checkpoints).
//!
//! Implementations live elsewhere: `schild-hwkey` puts both in a PKCS#11 HSM, where the private
//! and secret key material never leaves the token. Callers hold an `Arc<dyn KeyEncryptionKey>` or
//! an `Arc<dyn Signer>` and never learn which backend they have. Both traits are synchronous
//! because a hardware call blocks: async callers run them on a blocking thread
//! (`tokio::task::spawn_blocking`).

use zeroize::Zeroizing;

/// A key that wraps (encrypts) and unwraps data keys, with additional authenticated data (AAD)
/// binding each wrapped key to its context: a vault passes, say, the record id it belongs to, so a
/// wrapped key copied onto another record fails to unwrap.
pub trait KeyEncryptionKey: Send + Sync {
    /// A stable name of this key and its version, stored next to every key it wraps so a vault
    /// with several key versions (after a rotation) knows which one to ask. For an HSM this is an
    /// RFC 7512 PKCS#11 URI such as `pkcs11:token=Schild;object=kek-2026;type=secret-key`.
    fn key_id(&self) -> &str;

    /// Wraps `data_key` under this key, authenticating `aad` with it. `aad` must not be empty
    /// ([`ProviderError::EmptyAad`]): a wrapped key always belongs to some context.
    fn wrap(&self, data_key: &[u8], aad: &[u8]) -> Result<WrappedKey, ProviderError>;

    /// Recovers the data key from `wrapped`, given the same `aad` it was wrapped with. Data that
    /// was altered, or the wrong `aad`, gives [`ProviderError::Unauthentic`], never other bytes.
    fn unwrap(&self, wrapped: &WrappedKey, aad: &[u8])
    -> Result<Zeroizing<Vec<u8>>, ProviderError>;
}

/// A data key wrapped by a [`KeyEncryptionKey`], with the id of the key that wrapped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// [`KeyEncryptionKey::key_id`] of the key that made `blob`.
    pub key_id: String,
    /// The backend's self-describing ciphertext (format, nonce, ciphertext and tag); opaque here.
    pub blob: Vec<u8>,
}

/// A key that signs messages, with a public key anyone can verify against without the signer.
pub trait Signer: Send + Sync {
    /// A stable name of this key (see [`KeyEncryptionKey::key_id`]), recorded with signatures so
    /// verifiers know which public key to use.
    fn key_id(&self) -> &str;

    /// The signature algorithm, which fixes the formats of [`Signer::public_key`] and of
    /// signatures.
    fn algorithm(&self) -> SignatureAlgorithm;

    /// The public key, encoded as [`SignatureAlgorithm`] says.
    fn public_key(&self) -> &[u8];

    /// Signs `message` (the whole message: hashing, where the algorithm needs it, is done here).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ProviderError>;
}

/// Signature algorithms a [`Signer`] may use, with the encodings of keys and signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// Ed25519 (RFC 8032 §5.1): 32-byte public key, 64-byte signature.
    Ed25519,
    /// ECDSA over NIST P-256 with SHA-256 (FIPS 186-5): public key as an uncompressed SEC1 point
    /// (65 bytes, SEC 1 §2.3.3), signature as the fixed-size `r ‖ s` (64 bytes, big-endian).
    EcdsaP256Sha256,
}

impl SignatureAlgorithm {
    /// The name used in JOSE (RFC 8037 §3.1, RFC 7518 §3.1): `EdDSA` or `ES256`.
    pub fn jose_name(self) -> &'static str {
        match self {
            Self::Ed25519 => "EdDSA",
            Self::EcdsaP256Sha256 => "ES256",
        }
    }
}

/// Why a [`KeyEncryptionKey`] or [`Signer`] operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The caller passed empty additional authenticated data; a caller bug. Nothing reached the
    /// backend.
    #[error("the additional authenticated data is empty; wrapping needs a context")]
    EmptyAad,

    /// The wrapped key was made by another key than this one (its `key_id` differs); the caller
    /// picked the wrong key version.
    #[error("this key is {this:?}, but the data was wrapped by {wrapped_by:?}")]
    WrongKey {
        /// This key's id.
        this: String,
        /// The id recorded in the wrapped key.
        wrapped_by: String,
    },

    /// The wrapped key failed authentication: it was altered, truncated, or the AAD differs from
    /// the one it was wrapped with. Storage corruption, tampering, or a caller mixing up contexts.
    #[error("the wrapped key failed authentication (altered, or wrapped with another context)")]
    Unauthentic,

    /// The backend failed (device unplugged, session lost, key deleted, …). The source is the
    /// backend's own typed error, such as `schild_hwkey::hsm::HsmError`, with its own advice.
    #[error(transparent)]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jose_names_follow_the_registries() {
        assert_eq!(SignatureAlgorithm::Ed25519.jose_name(), "EdDSA");
        assert_eq!(SignatureAlgorithm::EcdsaP256Sha256.jose_name(), "ES256");
    }

    #[test]
    fn traits_are_object_safe_and_shareable() {
        fn shareable<T: Send + Sync + ?Sized>() {}
        shareable::<dyn KeyEncryptionKey>();
        shareable::<dyn Signer>();
    }
}
