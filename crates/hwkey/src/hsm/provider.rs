//! The HSM behind schild-core's provider traits: [`HsmKek`] is a
//! [`KeyEncryptionKey`] and [`HsmSigner`] a [`Signer`].

use super::error::HsmError;
use super::keys::{KeyKind, KeyLabel, KeyUse};
use super::sign::PublicKey;
use super::token::Token;
use schild_core::provider::{
    KeyEncryptionKey, ProviderError, SignatureAlgorithm, Signer, WrappedKey,
};
use std::sync::Arc;
use zeroize::Zeroizing;

/// An AES-256 key on a token as a [`KeyEncryptionKey`]: data keys are wrapped and unwrapped
/// inside the token (see [`Token::wrap`]).
#[derive(Debug, Clone)]
pub struct HsmKek {
    token: Arc<Token>,
    key: KeyLabel,
    key_id: String,
}

impl HsmKek {
    /// The AES-256 key labelled `key` on `token`; fails unless that key exists and is AES-256.
    pub fn new(token: Arc<Token>, key: KeyLabel) -> Result<Self, HsmError> {
        expect_kind(&token, &key, KeyUse::Wrapping)?;
        let key_id = pkcs11_uri(token.label(), &key, "secret-key");
        Ok(Self { token, key, key_id })
    }
}

impl KeyEncryptionKey for HsmKek {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn wrap(&self, data_key: &[u8], aad: &[u8]) -> Result<WrappedKey, ProviderError> {
        let blob = self
            .token
            .wrap(&self.key, data_key, aad)
            .map_err(provider_error)?;
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
        if wrapped.key_id != self.key_id {
            return Err(ProviderError::WrongKey {
                this: self.key_id.clone(),
                wrapped_by: wrapped.key_id.clone(),
            });
        }
        self.token
            .unwrap(&self.key, &wrapped.blob, aad)
            .map_err(provider_error)
    }
}

/// A P-256 or Ed25519 key on a token as a [`Signer`]. The public key is read once, here.
#[derive(Debug, Clone)]
pub struct HsmSigner {
    token: Arc<Token>,
    key: KeyLabel,
    key_id: String,
    public_key: PublicKey,
}

impl HsmSigner {
    /// The signing key labelled `key` on `token`; fails unless it exists and is P-256 or Ed25519.
    pub fn new(token: Arc<Token>, key: KeyLabel) -> Result<Self, HsmError> {
        expect_kind(&token, &key, KeyUse::Signing)?;
        let public_key = token.public_key(&key)?;
        let key_id = pkcs11_uri(token.label(), &key, "private");
        Ok(Self {
            token,
            key,
            key_id,
            public_key,
        })
    }
}

impl Signer for HsmSigner {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.public_key.algorithm
    }

    fn public_key(&self) -> &[u8] {
        &self.public_key.bytes
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ProviderError> {
        self.token.sign(&self.key, message).map_err(provider_error)
    }
}

fn expect_kind(token: &Token, key: &KeyLabel, needed: KeyUse) -> Result<KeyKind, HsmError> {
    match token.key_kind(key)? {
        Some(kind) if kind.usage() == needed => Ok(kind),
        found => Err(HsmError::WrongKeyKind {
            label: key.to_string(),
            needed,
            found,
        }),
    }
}

/// The HSM's own failures stay typed inside [`ProviderError::Backend`]; the two the trait knows
/// by name are lifted out.
fn provider_error(error: HsmError) -> ProviderError {
    match error {
        HsmError::EmptyAad => ProviderError::EmptyAad,
        HsmError::Unauthentic => ProviderError::Unauthentic,
        other => ProviderError::Backend(Box::new(other)),
    }
}

/// An RFC 7512 PKCS#11 URI naming the key: `pkcs11:token=…;object=…;type=…`. Every byte outside
/// the unreserved set is percent-encoded, which §2.3 always allows.
fn pkcs11_uri(token: &str, key: &KeyLabel, object_type: &str) -> String {
    format!(
        "pkcs11:token={};object={};type={object_type}",
        percent_encode(token),
        percent_encode(key.as_str())
    )
}

fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_pkcs11_uris() -> Result<(), HsmError> {
        let key = KeyLabel::new("kek 2026/1")?;
        assert_eq!(
            pkcs11_uri("Schild Vault", &key, "secret-key"),
            "pkcs11:token=Schild%20Vault;object=kek%202026%2F1;type=secret-key"
        );
        Ok(())
    }

    #[test]
    fn named_failures_keep_their_names() {
        assert!(matches!(
            provider_error(HsmError::Unauthentic),
            ProviderError::Unauthentic
        ));
        assert!(matches!(
            provider_error(HsmError::EmptyAad),
            ProviderError::EmptyAad
        ));
        let ProviderError::Backend(source) = provider_error(HsmError::PinLocked) else {
            panic!("a locked PIN is the backend's failure");
        };
        assert!(matches!(
            source.downcast_ref::<HsmError>(),
            Some(HsmError::PinLocked)
        ));
    }
}
