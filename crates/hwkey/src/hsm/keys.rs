//! Keys on a token: the kinds Schild makes, their labels, generating, listing, finding and
//! deleting them.
//!
//! Every key Schild generates is token-resident (`CKA_TOKEN`), private (`CKA_PRIVATE`: visible
//! only after login), sensitive (`CKA_SENSITIVE`) and non-extractable (`CKA_EXTRACTABLE` false):
//! its secret never leaves the device, not even wrapped.

use super::error::HsmError;
use super::token::Token;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use schild_core::provider::SignatureAlgorithm;
use std::fmt;
use std::str::FromStr;

/// DER of the OID prime256v1 / secp256r1 (RFC 5480 §2.1.1.1), the `CKA_EC_PARAMS` of a P-256 key.
const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER of the OID id-Ed25519 (RFC 8410 §3), the `CKA_EC_PARAMS` of an Ed25519 key.
const ED25519_PARAMS: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// DER PrintableString "edwards25519", the other `CKA_EC_PARAMS` PKCS#11 v3.0 §2.3.5 allows.
const ED25519_NAMED_PARAMS: &[u8] = b"\x13\x0cedwards25519";

/// The kinds of key Schild generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// AES-256, to wrap data keys with AES-GCM.
    Aes256,
    /// ECDSA over NIST P-256, to sign.
    P256,
    /// Ed25519, to sign.
    Ed25519,
}

/// What a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyUse {
    /// Wrapping and unwrapping data keys.
    Wrapping,
    /// Signing.
    Signing,
}

impl fmt::Display for KeyUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Wrapping => "wrapping",
            Self::Signing => "signing",
        })
    }
}

impl KeyKind {
    /// Every kind, in a stable order.
    pub const ALL: [KeyKind; 3] = [Self::Aes256, Self::P256, Self::Ed25519];

    /// The short name used on the command line: `aes256`, `p256`, `ed25519`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aes256 => "aes256",
            Self::P256 => "p256",
            Self::Ed25519 => "ed25519",
        }
    }

    /// The name people read: `AES-256`, `P-256`, `Ed25519`.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Aes256 => "AES-256",
            Self::P256 => "P-256",
            Self::Ed25519 => "Ed25519",
        }
    }

    /// What keys of this kind are for.
    pub fn usage(self) -> KeyUse {
        match self {
            Self::Aes256 => KeyUse::Wrapping,
            Self::P256 | Self::Ed25519 => KeyUse::Signing,
        }
    }

    /// The signature algorithm of a signing kind.
    pub fn signature_algorithm(self) -> Option<SignatureAlgorithm> {
        match self {
            Self::Aes256 => None,
            Self::P256 => Some(SignatureAlgorithm::EcdsaP256Sha256),
            Self::Ed25519 => Some(SignatureAlgorithm::Ed25519),
        }
    }

    /// The mechanisms a token must offer to generate and use this kind, with what they are for.
    fn mechanisms(self) -> [(MechanismType, &'static str); 2] {
        match self {
            Self::Aes256 => [
                (MechanismType::AES_KEY_GEN, "CKM_AES_KEY_GEN (AES keys)"),
                (MechanismType::AES_GCM, "CKM_AES_GCM (AES-GCM wrapping)"),
            ],
            Self::P256 => [
                (
                    MechanismType::ECC_KEY_PAIR_GEN,
                    "CKM_EC_KEY_PAIR_GEN (P-256 keys)",
                ),
                (MechanismType::ECDSA, "CKM_ECDSA (P-256 signatures)"),
            ],
            Self::Ed25519 => [
                (
                    MechanismType::ECC_EDWARDS_KEY_PAIR_GEN,
                    "CKM_EC_EDWARDS_KEY_PAIR_GEN (Ed25519 keys)",
                ),
                (MechanismType::EDDSA, "CKM_EDDSA (Ed25519 signatures)"),
            ],
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyKind {
    type Err = UnknownKeyKind;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or(UnknownKeyKind)
    }
}

/// A name that is not one of [`KeyKind::as_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown key kind (expected aes256, p256 or ed25519)")]
pub struct UnknownKeyKind;

/// A key's label (`CKA_LABEL`): 1 to 64 characters, none of them control characters. Keys are
/// found by label, so a label names at most one key on a token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyLabel(String);

impl KeyLabel {
    /// The longest label, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Checks `label` and wraps it.
    pub fn new(label: impl Into<String>) -> Result<Self, HsmError> {
        let label = label.into();
        let reason = if label.is_empty() {
            Some("it is empty")
        } else if label.chars().count() > Self::MAX_CHARS {
            Some("it is longer than 64 characters")
        } else if label.chars().any(char::is_control) {
            Some("it contains control characters")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(HsmError::InvalidKeyLabel { reason }),
            None => Ok(Self(label)),
        }
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for KeyLabel {
    type Err = HsmError;

    fn from_str(label: &str) -> Result<Self, Self::Err> {
        Self::new(label)
    }
}

/// A key on a token, as [`Token::keys`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Its label (empty for an unlabelled key made by another tool).
    pub label: String,
    /// Its `CKA_ID` (Schild sets two random bytes; other tools set what they like).
    pub id: Vec<u8>,
    /// Its kind, or `None` for a kind Schild does not use.
    pub kind: Option<KeyKind>,
}

impl KeyInfo {
    /// The id in lower-case hex.
    pub fn id_hex(&self) -> String {
        self.id.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

impl Token {
    /// Generates a new key of `kind` labelled `label`, refusing a label already in use and a kind
    /// the token does not offer. Returns what was made.
    pub fn generate(&self, kind: KeyKind, label: &KeyLabel) -> Result<KeyInfo, HsmError> {
        for (mechanism, name) in kind.mechanisms() {
            if !self.offers(mechanism)? {
                return Err(HsmError::UnsupportedMechanism { mechanism: name });
            }
        }
        let session = self.session();
        if !objects_labelled(&session, label)?.is_empty() {
            return Err(HsmError::DuplicateLabel {
                label: label.to_string(),
            });
        }
        // Two bytes, because a YubiHSM 2 maps CKA_ID to its 16-bit object id; keys are found by
        // label, so the id only has to be unlikely to collide.
        let id = self.random::<2>(&session)?.to_vec();
        let name = label.as_str().as_bytes().to_vec();
        let secret = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Label(name.clone()),
            Attribute::Id(id.clone()),
        ];
        let result = match kind {
            KeyKind::Aes256 => {
                let mut template = secret.to_vec();
                template.extend([
                    Attribute::ValueLen(32.into()),
                    Attribute::Encrypt(true),
                    Attribute::Decrypt(true),
                ]);
                session
                    .generate_key(&Mechanism::AesKeyGen, &template)
                    .map(drop)
            }
            KeyKind::P256 | KeyKind::Ed25519 => {
                let (mechanism, params) = match kind {
                    KeyKind::P256 => (Mechanism::EccKeyPairGen, P256_PARAMS),
                    _ => (Mechanism::EccEdwardsKeyPairGen, ED25519_PARAMS),
                };
                let public = [
                    Attribute::Token(true),
                    Attribute::Private(false),
                    Attribute::Verify(true),
                    Attribute::EcParams(params.to_vec()),
                    Attribute::Label(name.clone()),
                    Attribute::Id(id.clone()),
                ];
                let mut private = secret.to_vec();
                private.push(Attribute::Sign(true));
                session
                    .generate_key_pair(&mechanism, &public, &private)
                    .map(drop)
            }
        };
        result.map_err(|error| match error {
            cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::MechanismInvalid
                | cryptoki::error::RvError::CurveNotSupported,
                _,
            ) => HsmError::UnsupportedMechanism {
                mechanism: kind.mechanisms()[0].1,
            },
            other => HsmError::from_cryptoki(other),
        })?;
        Ok(KeyInfo {
            label: label.to_string(),
            id,
            kind: Some(kind),
        })
    }

    /// Every secret and private key on the token, sorted by label. Public halves of key pairs are
    /// not listed separately.
    pub fn keys(&self) -> Result<Vec<KeyInfo>, HsmError> {
        let session = self.session();
        let mut keys = Vec::new();
        for class in [ObjectClass::SECRET_KEY, ObjectClass::PRIVATE_KEY] {
            let handles = session
                .find_objects(&[Attribute::Class(class)])
                .map_err(HsmError::from_cryptoki)?;
            for handle in handles {
                let mut info = KeyInfo {
                    label: String::new(),
                    id: Vec::new(),
                    kind: kind_of(&session, handle, class)?,
                };
                for attribute in session
                    .get_attributes(handle, &[AttributeType::Label, AttributeType::Id])
                    .map_err(HsmError::from_cryptoki)?
                {
                    match attribute {
                        Attribute::Label(label) => {
                            info.label = String::from_utf8_lossy(&label).into_owned();
                        }
                        Attribute::Id(id) => info.id = id,
                        _ => {}
                    }
                }
                keys.push(info);
            }
        }
        keys.sort_by(|a, b| a.label.cmp(&b.label).then_with(|| a.id.cmp(&b.id)));
        Ok(keys)
    }

    /// Destroys every object labelled `label`: the secret key, or both halves of a key pair.
    /// Whatever it protected is lost for good.
    pub fn delete_key(&self, label: &KeyLabel) -> Result<(), HsmError> {
        let session = self.session();
        let handles = objects_labelled(&session, label)?;
        if handles.is_empty() {
            return Err(HsmError::KeyNotFound {
                label: label.to_string(),
            });
        }
        for handle in handles {
            session
                .destroy_object(handle)
                .map_err(HsmError::from_cryptoki)?;
        }
        Ok(())
    }

    /// The kind of the key labelled `label`, from its secret or private object.
    pub fn key_kind(&self, label: &KeyLabel) -> Result<Option<KeyKind>, HsmError> {
        let session = self.session();
        for class in [ObjectClass::SECRET_KEY, ObjectClass::PRIVATE_KEY] {
            if let Some(handle) = one_object(&session, label, class)? {
                return kind_of(&session, handle, class);
            }
        }
        Err(HsmError::KeyNotFound {
            label: label.to_string(),
        })
    }
}

/// The one object of `class` labelled `label`, if there is one.
pub(super) fn one_object(
    session: &Session,
    label: &KeyLabel,
    class: ObjectClass,
) -> Result<Option<ObjectHandle>, HsmError> {
    let mut handles = session
        .find_objects(&[
            Attribute::Class(class),
            Attribute::Label(label.as_str().as_bytes().to_vec()),
        ])
        .map_err(HsmError::from_cryptoki)?;
    match handles.len() {
        0 => Ok(None),
        1 => Ok(handles.pop()),
        count => Err(HsmError::AmbiguousKey {
            label: label.to_string(),
            count,
        }),
    }
}

/// The key of kind `needed` labelled `label`, as an object of `class`: its secret key, private
/// key or public key. A key of another kind under that label is a [`HsmError::WrongKeyKind`].
pub(super) fn key_for(
    session: &Session,
    label: &KeyLabel,
    needed: KeyUse,
    class: ObjectClass,
) -> Result<(ObjectHandle, KeyKind), HsmError> {
    let owner = match needed {
        KeyUse::Wrapping => ObjectClass::SECRET_KEY,
        KeyUse::Signing => ObjectClass::PRIVATE_KEY,
    };
    let other = match needed {
        KeyUse::Wrapping => ObjectClass::PRIVATE_KEY,
        KeyUse::Signing => ObjectClass::SECRET_KEY,
    };
    let wrong = |found| HsmError::WrongKeyKind {
        label: label.to_string(),
        needed,
        found,
    };
    let Some(owner_handle) = one_object(session, label, owner)? else {
        return match one_object(session, label, other)? {
            Some(handle) => Err(wrong(kind_of(session, handle, other)?)),
            None => Err(HsmError::KeyNotFound {
                label: label.to_string(),
            }),
        };
    };
    let kind = match kind_of(session, owner_handle, owner)? {
        Some(kind) if kind.usage() == needed => kind,
        found => return Err(wrong(found)),
    };
    if class == owner {
        return Ok((owner_handle, kind));
    }
    match one_object(session, label, class)? {
        Some(handle) => Ok((handle, kind)),
        None => Err(HsmError::UnexpectedKeyData {
            label: label.to_string(),
            reason: "the private key has no public key object beside it",
        }),
    }
}

/// Every object labelled `label`, of any class.
fn objects_labelled(session: &Session, label: &KeyLabel) -> Result<Vec<ObjectHandle>, HsmError> {
    session
        .find_objects(&[Attribute::Label(label.as_str().as_bytes().to_vec())])
        .map_err(HsmError::from_cryptoki)
}

/// The kind of a secret or private key object, from its key type, length and curve.
fn kind_of(
    session: &Session,
    handle: ObjectHandle,
    class: ObjectClass,
) -> Result<Option<KeyKind>, HsmError> {
    let key_type = session
        .get_attributes(handle, &[AttributeType::KeyType])
        .map_err(HsmError::from_cryptoki)?
        .into_iter()
        .find_map(|attribute| match attribute {
            Attribute::KeyType(key_type) => Some(key_type),
            _ => None,
        });
    let detail = match key_type {
        Some(KeyType::AES) if class == ObjectClass::SECRET_KEY => AttributeType::ValueLen,
        Some(KeyType::EC | KeyType::EC_EDWARDS) if class == ObjectClass::PRIVATE_KEY => {
            AttributeType::EcParams
        }
        _ => return Ok(None),
    };
    let detail = session
        .get_attributes(handle, &[detail])
        .map_err(HsmError::from_cryptoki)?;
    Ok(detail.into_iter().find_map(|attribute| match attribute {
        Attribute::ValueLen(len) if usize::from(len) == 32 => Some(KeyKind::Aes256),
        Attribute::EcParams(params) if params == P256_PARAMS => Some(KeyKind::P256),
        Attribute::EcParams(params)
            if params == ED25519_PARAMS || params == ED25519_NAMED_PARAMS =>
        {
            Some(KeyKind::Ed25519)
        }
        _ => None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in KeyKind::ALL {
            assert_eq!(kind.as_str().parse::<KeyKind>(), Ok(kind));
        }
        assert_eq!("rsa".parse::<KeyKind>(), Err(UnknownKeyKind));
    }

    #[test]
    fn labels_are_checked() {
        assert!(KeyLabel::new("kek-2026").is_ok());
        assert!(KeyLabel::new("é".repeat(64)).is_ok());
        for bad in [String::new(), "x".repeat(65), "a\nb".to_owned()] {
            assert!(matches!(
                KeyLabel::new(bad),
                Err(HsmError::InvalidKeyLabel { .. })
            ));
        }
    }
}
