//! Signing inside the token, verifying, and exporting public keys for verifiers without the HSM.
//!
//! - P-256: ECDSA with SHA-256 (FIPS 186-5 §6.4). The message is hashed here with `sha2` and the
//!   token signs the digest with `CKM_ECDSA`, because not every module offers
//!   `CKM_ECDSA_SHA256` (SoftHSM2 2.6 does not). Signatures are `r ‖ s`, 32 bytes each
//!   (PKCS#11 v2.40 curr. mech. §2.3.1), the JOSE ES256 form; public keys are uncompressed SEC1
//!   points (65 bytes).
//! - Ed25519: `CKM_EDDSA` over the whole message (RFC 8032 §5.1.6); 64-byte signatures and 32-byte
//!   public keys.

use super::error::HsmError;
use super::keys::{KeyKind, KeyLabel, KeyUse, key_for};
use super::token::Token;
use cryptoki::error::{Error as Cryptoki, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use schild_core::provider::SignatureAlgorithm;
use sha2::{Digest, Sha256};

/// The public half of a signing key, in the encoding its [`SignatureAlgorithm`] names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The algorithm.
    pub algorithm: SignatureAlgorithm,
    /// SEC1 uncompressed point (P-256, 65 bytes) or the raw key (Ed25519, 32 bytes).
    pub bytes: Vec<u8>,
}

const SIGNATURE_LEN: usize = 64;

impl Token {
    /// Signs `message` with the P-256 or Ed25519 key labelled `key`; see the
    /// [module docs](self) for the formats.
    pub fn sign(&self, key: &KeyLabel, message: &[u8]) -> Result<Vec<u8>, HsmError> {
        let session = self.session();
        let (handle, kind) = key_for(&session, key, KeyUse::Signing, ObjectClass::PRIVATE_KEY)?;
        let signature = match kind {
            KeyKind::P256 => session.sign(&Mechanism::Ecdsa, handle, &Sha256::digest(message)),
            _ => session.sign(&eddsa(), handle, message),
        }
        .map_err(|error| mechanism_error(error, kind))?;
        if signature.len() != SIGNATURE_LEN {
            return Err(HsmError::UnexpectedKeyData {
                label: key.to_string(),
                reason: "the token's signature is not 64 bytes",
            });
        }
        Ok(signature)
    }

    /// Checks `signature` over `message` with the public half of the key labelled `key`, inside
    /// the token. A mismatch is [`HsmError::BadSignature`].
    pub fn verify(&self, key: &KeyLabel, message: &[u8], signature: &[u8]) -> Result<(), HsmError> {
        let session = self.session();
        let (handle, kind) = key_for(&session, key, KeyUse::Signing, ObjectClass::PUBLIC_KEY)?;
        let outcome = match kind {
            KeyKind::P256 => session.verify(
                &Mechanism::Ecdsa,
                handle,
                &Sha256::digest(message),
                signature,
            ),
            _ => session.verify(&eddsa(), handle, message, signature),
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(Cryptoki::Pkcs11(RvError::SignatureInvalid | RvError::SignatureLenRange, _)) => {
                Err(HsmError::BadSignature)
            }
            Err(other) => Err(mechanism_error(other, kind)),
        }
    }

    /// The public half of the signing key labelled `key`, for verifiers without the HSM.
    pub fn public_key(&self, key: &KeyLabel) -> Result<PublicKey, HsmError> {
        let session = self.session();
        let (handle, kind) = key_for(&session, key, KeyUse::Signing, ObjectClass::PUBLIC_KEY)?;
        let point = session
            .get_attributes(handle, &[AttributeType::EcPoint])
            .map_err(HsmError::from_cryptoki)?
            .into_iter()
            .find_map(|attribute| match attribute {
                Attribute::EcPoint(point) => Some(point),
                _ => None,
            });
        let unexpected = |reason| HsmError::UnexpectedKeyData {
            label: key.to_string(),
            reason,
        };
        let point = point.ok_or_else(|| unexpected("the public key has no CKA_EC_POINT"))?;
        let bytes = public_key_bytes(&point, kind)
            .ok_or_else(|| unexpected("the public point has an unexpected encoding"))?;
        let algorithm = kind
            .signature_algorithm()
            .ok_or_else(|| unexpected("the key is not a signing key"))?;
        Ok(PublicKey { algorithm, bytes })
    }
}

fn eddsa() -> Mechanism<'static> {
    Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure))
}

fn mechanism_error(error: Cryptoki, kind: KeyKind) -> HsmError {
    match error {
        Cryptoki::Pkcs11(RvError::MechanismInvalid, _) => HsmError::UnsupportedMechanism {
            mechanism: match kind {
                KeyKind::P256 => "CKM_ECDSA (P-256 signatures)",
                _ => "CKM_EDDSA (Ed25519 signatures)",
            },
        },
        other => HsmError::from_cryptoki(other),
    }
}

/// The public key from `CKA_EC_POINT`. The standard wraps the point in a DER OCTET STRING
/// (PKCS#11 v2.40 curr. mech. §2.3.3, v3.0 §2.3.6); some modules return it bare, so both are
/// accepted, told apart by length.
fn public_key_bytes(point: &[u8], kind: KeyKind) -> Option<Vec<u8>> {
    let len = match kind {
        KeyKind::P256 => 65,
        KeyKind::Ed25519 => 32,
        KeyKind::Aes256 => return None,
    };
    let bare = match point {
        [0x04, inner_len, inner @ ..] if usize::from(*inner_len) == len && inner.len() == len => {
            inner
        }
        _ if point.len() == len => point,
        _ => return None,
    };
    if kind == KeyKind::P256 && bare.first() != Some(&0x04) {
        return None;
    }
    Some(bare.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_points_are_read_wrapped_or_bare() {
        let mut p256 = vec![0x04];
        p256.extend([7u8; 64]);
        let mut wrapped = vec![0x04, 65];
        wrapped.extend(&p256);
        assert_eq!(
            public_key_bytes(&wrapped, KeyKind::P256),
            Some(p256.clone())
        );
        assert_eq!(public_key_bytes(&p256, KeyKind::P256), Some(p256.clone()));
        assert_eq!(public_key_bytes(&p256[..64], KeyKind::P256), None);

        let ed = [0x04u8; 32];
        let mut wrapped = vec![0x04, 32];
        wrapped.extend(ed);
        assert_eq!(
            public_key_bytes(&wrapped, KeyKind::Ed25519),
            Some(ed.to_vec())
        );
        assert_eq!(public_key_bytes(&ed, KeyKind::Ed25519), Some(ed.to_vec()));
        assert_eq!(public_key_bytes(&[1, 2, 3], KeyKind::Ed25519), None);
    }
}
