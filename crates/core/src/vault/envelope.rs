//! The envelope format and its seal, open and re-wrap operations.
//!
//! # Format, version 1
//!
//! ```text
//! 0x01                      format byte
//! u16 BE  n ‖ n bytes       id of the KEK (and version) that wrapped the DEK
//! u16 BE  m ‖ m bytes       the wrapped DEK (the KEK's own self-describing blob)
//! 12 bytes                  AES-256-GCM nonce of the data (random)
//! rest                      data ciphertext ‖ 16-byte tag
//! ```
//!
//! # Binding
//!
//! The data is encrypted with AAD `"schild-vault-v1" ‖ lp(vault) ‖ lp(item) ‖ lp(purpose)`
//! (`lp` = u16 BE length, then the bytes), so a ciphertext copied to another item, vault or
//! purpose fails to open. The DEK is wrapped with that same AAD followed by `lp(kek id)`, binding
//! the wrapped key to its key version as well: a rotation re-wraps the DEK (new KEK id, new wrap)
//! and leaves the data ciphertext as it is.

use crate::provider::{KeyEncryptionKey, ProviderError, WrappedKey};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rand::CryptoRng;
use zeroize::Zeroizing;

/// The format byte of version 1: the first byte of every envelope.
pub const FORMAT_V1: u8 = 0x01;
/// AES-256-GCM nonce length (NIST SP 800-38D §8.2: 96-bit random IVs).
const NONCE_LEN: usize = 12;
/// AES-256-GCM tag length.
const TAG_LEN: usize = 16;
/// DEK length: AES-256.
const DEK_LEN: usize = 32;
/// Domain separation of the AAD.
const AAD_PREFIX: &[u8] = b"schild-vault-v1";

/// Where an item belongs: every part is bound into its ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemContext<'a> {
    /// The vault's id.
    pub vault: &'a str,
    /// The item's id within the vault.
    pub item: &'a str,
    /// What the secret is for (`totp-secret`, `api-key`, `evidence-key`, …).
    pub purpose: &'a str,
}

impl ItemContext<'_> {
    /// The AAD of the data.
    fn data_aad(&self) -> Result<Vec<u8>, VaultError> {
        let mut aad = AAD_PREFIX.to_vec();
        for part in [self.vault, self.item, self.purpose] {
            push_prefixed(&mut aad, part.as_bytes())?;
        }
        Ok(aad)
    }

    /// The AAD of the wrapped DEK: the data's, and the KEK id.
    fn key_aad(&self, kek_id: &str) -> Result<Vec<u8>, VaultError> {
        let mut aad = self.data_aad()?;
        push_prefixed(&mut aad, kek_id.as_bytes())?;
        Ok(aad)
    }
}

/// Appends `bytes` with a u16 big-endian length in front (the `lp` of the AAD layouts).
pub(crate) fn push_prefixed(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), VaultError> {
    let len = u16::try_from(bytes.len()).map_err(|_| VaultError::FieldTooLong)?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// Why sealing, opening or re-wrapping failed. None of these ever yields other plaintext.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The bytes are not a version-1 envelope (truncated, another format byte, bad lengths):
    /// storage corruption or data that is not an envelope.
    #[error("not a valid vault envelope")]
    Malformed,
    /// An id, purpose or key id is longer than 65,535 bytes: a caller bug.
    #[error("a context field or key id is too long for the envelope")]
    FieldTooLong,
    /// The envelope was wrapped by another KEK than the one given; the caller picked the wrong
    /// key version (see [`Envelope::key_id`]).
    #[error("the envelope was wrapped by {wrapped_by:?}, not by {given:?}")]
    WrongKey {
        /// The KEK given.
        given: String,
        /// The KEK named in the envelope.
        wrapped_by: String,
    },
    /// The envelope names a KEK that this vault does not hold (any more): a version retired too
    /// early, or an envelope from another vault.
    #[error("the envelope was wrapped by {key_id:?}, which this vault does not hold")]
    UnknownKey {
        /// The KEK named in the envelope.
        key_id: String,
    },
    /// Authentication failed: the envelope was altered, or it belongs to another item, vault or
    /// purpose. Tampering, corruption, or a ciphertext copied to the wrong row.
    #[error("the envelope failed authentication (altered, or opened in the wrong context)")]
    Unauthentic,
    /// The KEK's backend failed (device gone, session lost).
    #[error("the key-encryption key failed: {0}")]
    Kek(#[source] ProviderError),
}

impl From<ProviderError> for VaultError {
    fn from(error: ProviderError) -> Self {
        match error {
            ProviderError::Unauthentic => Self::Unauthentic,
            ProviderError::WrongKey { this, wrapped_by } => Self::WrongKey {
                given: this,
                wrapped_by,
            },
            other => Self::Kek(other),
        }
    }
}

/// A parsed envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    wrapped: WrappedKey,
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
}

impl Envelope {
    /// Parses version-1 bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, VaultError> {
        let mut rest = bytes;
        let format = take(&mut rest, 1)?;
        if format != [FORMAT_V1] {
            return Err(VaultError::Malformed);
        }
        let key_id = take_prefixed(&mut rest)?;
        let key_id = String::from_utf8(key_id.to_vec()).map_err(|_| VaultError::Malformed)?;
        let blob = take_prefixed(&mut rest)?.to_vec();
        let nonce = take(&mut rest, NONCE_LEN)?
            .try_into()
            .map_err(|_| VaultError::Malformed)?;
        if rest.len() < TAG_LEN {
            return Err(VaultError::Malformed);
        }
        Ok(Self {
            wrapped: WrappedKey { key_id, blob },
            nonce,
            ciphertext: rest.to_vec(),
        })
    }

    /// The id (and version) of the KEK that wrapped this envelope's data key.
    pub fn key_id(&self) -> &str {
        &self.wrapped.key_id
    }

    /// The version-1 bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, VaultError> {
        let mut out = vec![FORMAT_V1];
        push_prefixed(&mut out, self.wrapped.key_id.as_bytes())?;
        push_prefixed(&mut out, &self.wrapped.blob)?;
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.ciphertext);
        Ok(out)
    }
}

fn take<'a>(rest: &mut &'a [u8], len: usize) -> Result<&'a [u8], VaultError> {
    if rest.len() < len {
        return Err(VaultError::Malformed);
    }
    let (head, tail) = rest.split_at(len);
    *rest = tail;
    Ok(head)
}

fn take_prefixed<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], VaultError> {
    let len = take(rest, 2)?;
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    take(rest, len)
}

/// Encrypts `plaintext` for `context` under a fresh data key wrapped by `kek`; returns the
/// version-1 envelope bytes.
pub fn seal(
    kek: &dyn KeyEncryptionKey,
    context: ItemContext<'_>,
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>, VaultError> {
    let mut dek = Zeroizing::new([0u8; DEK_LEN]);
    rng.fill_bytes(dek.as_mut());
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let data_aad = context.data_aad()?;
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*dek));
    let ciphertext = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &data_aad,
            },
        )
        .map_err(|_| VaultError::FieldTooLong)?;
    let wrapped = kek.wrap(dek.as_ref(), &context.key_aad(kek.key_id())?)?;
    Envelope {
        wrapped,
        nonce,
        ciphertext,
    }
    .to_bytes()
}

/// Decrypts an envelope made by [`seal`] for the same `context`, with the KEK that wrapped it.
pub fn open(
    kek: &dyn KeyEncryptionKey,
    context: ItemContext<'_>,
    envelope: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let envelope = Envelope::parse(envelope)?;
    let dek = unwrap_dek(kek, context, &envelope)?;
    decrypt(&dek, context, &envelope)
}

/// Re-wraps an envelope's data key from `old` to `new` (key rotation); the data ciphertext stays
/// as it is. The data key is checked against the data before it is re-wrapped, so a damaged
/// envelope is reported, never carried forward.
pub fn rewrap(
    old: &dyn KeyEncryptionKey,
    new: &dyn KeyEncryptionKey,
    context: ItemContext<'_>,
    envelope: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let mut envelope = Envelope::parse(envelope)?;
    let dek = unwrap_dek(old, context, &envelope)?;
    decrypt(&dek, context, &envelope)?;
    envelope.wrapped = new.wrap(dek.as_ref(), &context.key_aad(new.key_id())?)?;
    envelope.to_bytes()
}

fn decrypt(
    dek: &[u8; DEK_LEN],
    context: ItemContext<'_>,
    envelope: &Envelope,
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    Aes256Gcm::new(&Key::<Aes256Gcm>::from(*dek))
        .decrypt(
            &Nonce::from(envelope.nonce),
            Payload {
                msg: &envelope.ciphertext,
                aad: &context.data_aad()?,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| VaultError::Unauthentic)
}

fn unwrap_dek(
    kek: &dyn KeyEncryptionKey,
    context: ItemContext<'_>,
    envelope: &Envelope,
) -> Result<Zeroizing<[u8; DEK_LEN]>, VaultError> {
    if envelope.key_id() != kek.key_id() {
        return Err(VaultError::WrongKey {
            given: kek.key_id().to_owned(),
            wrapped_by: envelope.key_id().to_owned(),
        });
    }
    let dek = kek.unwrap(&envelope.wrapped, &context.key_aad(kek.key_id())?)?;
    let mut out = Zeroizing::new([0u8; DEK_LEN]);
    if dek.len() != DEK_LEN {
        return Err(VaultError::Unauthentic);
    }
    out.copy_from_slice(&dek);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::LocalKek;
    use proptest::prelude::*;

    fn kek(id: &str, byte: u8) -> LocalKek {
        LocalKek::new(id, Zeroizing::new([byte; 32])).unwrap()
    }

    const CONTEXT: ItemContext<'static> = ItemContext {
        vault: "desktop-1",
        item: "item-42",
        purpose: "api-key",
    };

    #[test]
    fn aes_256_gcm_matches_the_gcm_specification_test_case_16() {
        // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 60-byte
        // plaintext, 20-byte AAD); also cross-checked with Python's `cryptography`.
        let hex = |s: &str| data_encoding::HEXLOWER.decode(s.as_bytes()).unwrap();
        let key: [u8; 32] = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
            .try_into()
            .unwrap();
        let nonce: [u8; 12] = hex("cafebabefacedbaddecaf888").try_into().unwrap();
        let plaintext = hex(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        );
        let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let expected = hex(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b",
        );
        let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(key));
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &plaintext,
                    aad: &aad,
                },
            )
            .unwrap();
        assert_eq!(sealed, expected);
    }

    #[test]
    fn a_checked_in_envelope_still_opens() {
        // Made by an independent implementation of the format above (Python's `cryptography`
        // AESGCM) with this KEK, a DEK of bytes 0..32 and fixed nonces: if this fails, the format
        // changed and existing vaults would no longer open.
        let kek = kek("local:test-vector;v=1", 0x5a);
        let envelope = data_encoding::HEXLOWER
            .decode(include_str!("testdata/envelope-v1.hex").trim().as_bytes())
            .unwrap();
        let plaintext = open(&kek, CONTEXT, &envelope).unwrap();
        assert_eq!(plaintext.as_slice(), b"correct horse battery staple");
    }

    #[test]
    fn rotation_rewraps_the_key_and_keeps_the_data() {
        let (v1, v2) = (kek("local:k;v=1", 1), kek("local:k;v=2", 2));
        let sealed = seal(&v1, CONTEXT, b"secret", &mut rand::rng()).unwrap();
        let rotated = rewrap(&v1, &v2, CONTEXT, &sealed).unwrap();
        assert_eq!(Envelope::parse(&rotated).unwrap().key_id(), "local:k;v=2");
        assert_eq!(open(&v2, CONTEXT, &rotated).unwrap().as_slice(), b"secret");
        assert!(matches!(
            open(&v1, CONTEXT, &rotated),
            Err(VaultError::WrongKey { .. })
        ));
        // The data ciphertext (nonce and all) is unchanged: only the wrapped key moved.
        let tail = |bytes: &[u8]| bytes[bytes.len() - 12 - 6 - 16..].to_vec();
        assert_eq!(tail(&sealed), tail(&rotated));
    }

    #[test]
    fn another_item_vault_or_purpose_cannot_open_it() {
        let key = kek("local:k;v=1", 9);
        let sealed = seal(&key, CONTEXT, b"secret", &mut rand::rng()).unwrap();
        for other in [
            ItemContext {
                item: "item-43",
                ..CONTEXT
            },
            ItemContext {
                vault: "desktop-2",
                ..CONTEXT
            },
            ItemContext {
                purpose: "totp-secret",
                ..CONTEXT
            },
        ] {
            assert!(matches!(
                open(&key, other, &sealed),
                Err(VaultError::Unauthentic)
            ));
        }
    }

    proptest! {
        #[test]
        fn round_trips(plaintext in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let key = kek("local:k;v=1", 3);
            let sealed = seal(&key, CONTEXT, &plaintext, &mut rand::rng()).unwrap();
            let opened = open(&key, CONTEXT, &sealed).unwrap();
            prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        }

        #[test]
        fn any_changed_byte_fails_to_open(
            plaintext in proptest::collection::vec(any::<u8>(), 0..256),
            position in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let key = kek("local:k;v=1", 4);
            let mut sealed = seal(&key, CONTEXT, &plaintext, &mut rand::rng()).unwrap();
            let at = position.index(sealed.len());
            sealed[at] ^= flip;
            // Key id, wrapped key, nonce, ciphertext or tag: whatever changed, no plaintext.
            prop_assert!(open(&key, CONTEXT, &sealed).is_err());
        }

        #[test]
        fn truncation_and_garbage_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let key = kek("local:k;v=1", 5);
            prop_assert!(open(&key, CONTEXT, &bytes).is_err());
        }
    }
}
