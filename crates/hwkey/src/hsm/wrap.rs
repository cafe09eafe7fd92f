//! Wrapping data keys with a token's AES-256 key, in AES-GCM (NIST SP 800-38D) inside the token.
//!
//! A wrapped blob describes itself:
//!
//! ```text
//! format (1 byte, 0x01) ‖ IV (12 bytes) ‖ ciphertext ‖ tag (16 bytes)
//! ```
//!
//! Format `0x01` is AES-256-GCM with a 96-bit IV from the token's random number generator, fresh
//! for every wrap (SP 800-38D §8.2.2), and a 128-bit tag. The AES key itself is named outside the
//! blob (by the caller, or by [`schild_core::provider::WrappedKey::key_id`]). The GCM additional
//! data is the format byte followed by the caller's AAD, so the header is authenticated too.

use super::error::HsmError;
use super::keys::{KeyLabel, KeyUse, key_for};
use super::token::Token;
use cryptoki::error::{Error as Cryptoki, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::ObjectClass;
use cryptoki::types::Ulong;
use zeroize::Zeroizing;

/// The format byte of AES-256-GCM blobs with a 96-bit IV and a 128-bit tag.
pub const FORMAT_AES256_GCM: u8 = 0x01;
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
const TAG_BITS: Ulong = Ulong::new(128);
/// The fixed bytes a wrapped blob adds to the data key's length.
pub const BLOB_OVERHEAD: usize = 1 + IV_LEN + TAG_LEN;

impl Token {
    /// Encrypts `data_key` with the AES-256 key labelled `key`, binding it to `aad`, and returns
    /// the self-describing blob (see the [module docs](self)).
    ///
    /// `aad` must not be empty ([`HsmError::EmptyAad`]; SoftHSM2 crashes on empty GCM AAD, so
    /// the check happens before the module is called).
    pub fn wrap(&self, key: &KeyLabel, data_key: &[u8], aad: &[u8]) -> Result<Vec<u8>, HsmError> {
        if aad.is_empty() {
            return Err(HsmError::EmptyAad);
        }
        let session = self.session();
        let (handle, _) = key_for(&session, key, KeyUse::Wrapping, ObjectClass::SECRET_KEY)?;
        let iv = self.random::<IV_LEN>(&session)?;
        let gcm_aad = gcm_aad(FORMAT_AES256_GCM, aad);
        // The module may write to the IV buffer, so it gets a copy; the blob records `iv`.
        let mut iv_param = iv;
        let params =
            GcmParams::new(&mut iv_param, &gcm_aad, TAG_BITS).map_err(HsmError::Binding)?;
        let sealed = session
            .encrypt(&Mechanism::AesGcm(params), handle, data_key)
            .map_err(HsmError::from_cryptoki)?;
        if sealed.len() != data_key.len() + TAG_LEN {
            return Err(HsmError::UnexpectedKeyData {
                label: key.to_string(),
                reason: "AES-GCM output is not the data plus a 16-byte tag",
            });
        }
        let mut blob = Vec::with_capacity(BLOB_OVERHEAD + data_key.len());
        blob.push(FORMAT_AES256_GCM);
        blob.extend_from_slice(&iv);
        blob.extend_from_slice(&sealed);
        Ok(blob)
    }

    /// Decrypts a blob made by [`Token::wrap`] with the AES-256 key labelled `key` and the same
    /// `aad`. Altered data or another AAD gives [`HsmError::Unauthentic`], never other bytes.
    pub fn unwrap(
        &self,
        key: &KeyLabel,
        blob: &[u8],
        aad: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, HsmError> {
        if aad.is_empty() {
            return Err(HsmError::EmptyAad);
        }
        let (format, rest) = blob.split_first().ok_or(HsmError::MalformedBlob {
            reason: "it is empty",
        })?;
        if *format != FORMAT_AES256_GCM {
            return Err(HsmError::MalformedBlob {
                reason: "unknown format byte",
            });
        }
        if rest.len() < IV_LEN + TAG_LEN {
            return Err(HsmError::MalformedBlob {
                reason: "it is shorter than an IV and a tag",
            });
        }
        let (iv, sealed) = rest.split_at(IV_LEN);
        let mut iv_param = [0u8; IV_LEN];
        iv_param.copy_from_slice(iv);
        let gcm_aad = gcm_aad(*format, aad);
        let session = self.session();
        let (handle, _) = key_for(&session, key, KeyUse::Wrapping, ObjectClass::SECRET_KEY)?;
        let params =
            GcmParams::new(&mut iv_param, &gcm_aad, TAG_BITS).map_err(HsmError::Binding)?;
        match session.decrypt(&Mechanism::AesGcm(params), handle, sealed) {
            Ok(plain) => Ok(Zeroizing::new(plain)),
            Err(Cryptoki::Pkcs11(rv, _)) if failed_authentication(rv) => Err(HsmError::Unauthentic),
            Err(other) => Err(HsmError::from_cryptoki(other)),
        }
    }
}

/// Whether a decryption return code means the tag did not verify. The standard says
/// CKR_ENCRYPTED_DATA_INVALID (CKR_AEAD_DECRYPT_FAILED since v3.0, which cryptoki reports as an
/// unknown code); SoftHSM2 says CKR_GENERAL_ERROR. A device that truly failed here gives the
/// same answer, which is the safe one: nothing is returned.
fn failed_authentication(rv: RvError) -> bool {
    match rv {
        RvError::EncryptedDataInvalid | RvError::EncryptedDataLenRange | RvError::GeneralError => {
            true
        }
        // CKR_AEAD_DECRYPT_FAILED (PKCS#11 v3.0 §5.1).
        RvError::UnknownErrorCode(0x35) => true,
        _ => false,
    }
}

fn gcm_aad(format: u8, aad: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(1 + aad.len());
    full.push(format);
    full.extend_from_slice(aad);
    full
}
