//! PIN/UV auth protocols One and Two (CTAP 2.1 §6.5.6 and §6.5.7), for the authenticator side of
//! the virtual key and the platform side of hmac-secret (`ctap::hmac_secret`).
//!
//! Both protocols agree on a shared secret through P-256 ECDH with the other side's key-agreement
//! key; they differ in the KDF, the IV and the MAC length. The operations are the same on both
//! sides, so one implementation serves both; webauthn-authenticator-rs keeps its own platform
//! side private. Every primitive is RustCrypto's; the known answers below and the library's PIN
//! commands, which drive the virtual key in the PIN tests, check it.

use aes::Aes256;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::NoPadding};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use p256::{PublicKey, SecretKey, elliptic_curve::sec1::FromSec1Point};
use rand::Rng;
use serde_cbor_2::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::status::{CtapResult, Status};

type HmacSha256 = Hmac<Sha256>;
type Aes256CbcEnc = cbc::Encryptor<Aes256>;
type Aes256CbcDec = cbc::Decryptor<Aes256>;

/// COSE algorithm the key-agreement key is labelled with (ECDH-ES+HKDF-256), CTAP 2.1 §6.5.6.
const COSE_ALG_ECDH_ES_HKDF_256: i128 = -25;

/// The PIN/UV auth protocol a request names in `pinUvAuthProtocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum PinProtocol {
    /// CTAP 2.1 §6.5.6: SHA-256(Z), AES-256-CBC with a zero IV, HMAC truncated to 16 bytes.
    One,
    /// CTAP 2.1 §6.5.7: HKDF split keys, AES-256-CBC with a random IV, full 32-byte HMAC.
    Two,
}

impl PinProtocol {
    pub(crate) fn from_number(number: u64) -> CtapResult<Self> {
        match number {
            1 => Ok(Self::One),
            2 => Ok(Self::Two),
            _ => Err(Status::InvalidParameter),
        }
    }

    pub(crate) fn number(self) -> u64 {
        match self {
            Self::One => 1,
            Self::Two => 2,
        }
    }

    /// `ecdh(peerCoseKey)`: the shared secret with the platform, after this protocol's KDF.
    pub(crate) fn shared_secret(
        self,
        own: &SecretKey,
        platform_key: Value,
    ) -> CtapResult<Zeroizing<Vec<u8>>> {
        let platform = parse_cose_p256(platform_key)?;
        let z = p256::ecdh::diffie_hellman(own.to_nonzero_scalar(), platform.as_affine());
        let z = z.raw_secret_bytes();
        Ok(match self {
            Self::One => Zeroizing::new(Sha256::digest(z.as_slice()).to_vec()),
            Self::Two => {
                let hkdf = Hkdf::<Sha256>::new(Some(&[0u8; 32]), z.as_slice());
                let mut out = Zeroizing::new(vec![0u8; 64]);
                hkdf.expand(b"CTAP2 HMAC key", &mut out[..32])
                    .map_err(|_| Status::Other)?;
                hkdf.expand(b"CTAP2 AES key", &mut out[32..])
                    .map_err(|_| Status::Other)?;
                out
            }
        })
    }

    fn aes_key(self, key: &[u8]) -> CtapResult<&[u8]> {
        let aes = match self {
            Self::One => key,
            Self::Two => key.get(32..).ok_or(Status::Other)?,
        };
        if aes.len() == 32 {
            Ok(aes)
        } else {
            Err(Status::Other)
        }
    }

    fn hmac_key(self, key: &[u8]) -> &[u8] {
        match self {
            Self::One => key,
            // Protocol Two: "If key is longer than 32 bytes, discard the excess."
            Self::Two => &key[..key.len().min(32)],
        }
    }

    /// `encrypt(key, plaintext)`; the plaintext must be a whole number of AES blocks.
    pub(crate) fn encrypt(self, key: &[u8], plaintext: &[u8]) -> CtapResult<Vec<u8>> {
        let aes_key = self.aes_key(key)?;
        let mut iv = [0u8; 16];
        if self == Self::Two {
            rand::rng().fill_bytes(&mut iv);
        }
        let mut buffer = plaintext.to_vec();
        let encryptor = Aes256CbcEnc::new_from_slices(aes_key, &iv).map_err(|_| Status::Other)?;
        let ciphertext = encryptor
            .encrypt_padded::<NoPadding>(&mut buffer, plaintext.len())
            .map_err(|_| Status::InvalidLength)?
            .to_vec();
        Ok(match self {
            Self::One => ciphertext,
            Self::Two => [iv.as_slice(), &ciphertext].concat(),
        })
    }

    /// `decrypt(key, ciphertext)`: an error for a ciphertext that is not whole blocks.
    pub(crate) fn decrypt(self, key: &[u8], ciphertext: &[u8]) -> CtapResult<Zeroizing<Vec<u8>>> {
        let aes_key = self.aes_key(key)?;
        let (iv, body) = match self {
            Self::One => ([0u8; 16], ciphertext),
            Self::Two => {
                if ciphertext.len() < 16 {
                    return Err(Status::InvalidParameter);
                }
                let (iv, body) = ciphertext.split_at(16);
                let mut iv_array = [0u8; 16];
                iv_array.copy_from_slice(iv);
                (iv_array, body)
            }
        };
        if body.is_empty() || body.len() % 16 != 0 {
            return Err(Status::InvalidParameter);
        }
        let mut buffer = Zeroizing::new(body.to_vec());
        let decryptor = Aes256CbcDec::new_from_slices(aes_key, &iv).map_err(|_| Status::Other)?;
        let plaintext = decryptor
            .decrypt_padded::<NoPadding>(&mut buffer)
            .map_err(|_| Status::InvalidParameter)?;
        Ok(Zeroizing::new(plaintext.to_vec()))
    }

    /// `authenticate(key, message)`: HMAC-SHA-256, truncated to 16 bytes under protocol One.
    pub(crate) fn authenticate(self, key: &[u8], message: &[u8]) -> CtapResult<Vec<u8>> {
        let mut mac = HmacSha256::new_from_slice(self.hmac_key(key)).map_err(|_| Status::Other)?;
        mac.update(message);
        let mut tag = mac.finalize().into_bytes().to_vec();
        if self == Self::One {
            tag.truncate(16);
        }
        Ok(tag)
    }

    /// `verify(key, message, signature)` in constant time.
    ///
    /// `allow_truncated` accepts, under protocol Two, a signature cut to its first 16 bytes: the form
    /// webauthn-authenticator-rs 0.6 sends for bioEnrollment commands, which YubiKey Bio firmware (the
    /// key that library's fingerprint code was developed on) accepts. Only bioEnrollment uses it.
    pub(crate) fn verify(
        self,
        key: &[u8],
        message: &[u8],
        signature: &[u8],
        allow_truncated: bool,
    ) -> CtapResult<()> {
        let expected = self.authenticate(key, message)?;
        let length_ok = signature.len() == expected.len()
            || (allow_truncated && self == Self::Two && signature.len() == 16);
        if !length_ok {
            return Err(Status::PinAuthInvalid);
        }
        if bool::from(expected[..signature.len()].ct_eq(signature)) {
            Ok(())
        } else {
            Err(Status::PinAuthInvalid)
        }
    }
}

/// HMAC-SHA-256 (RFC 2104), for hmac-secret outputs.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> CtapResult<Vec<u8>> {
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| Status::Other)?;
    mac.update(message);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// The authenticator's key-agreement public key as the COSE_Key `getKeyAgreement` returns
/// (CTAP 2.1 §6.5.6 getPublicKey: kty EC2, alg -25, crv P-256).
pub(crate) fn cose_key_agreement(key: &SecretKey) -> CtapResult<Value> {
    let (x, y) = coordinates(&key.public_key())?;
    let mut map = std::collections::BTreeMap::new();
    map.insert(Value::Integer(1), Value::Integer(2));
    map.insert(Value::Integer(3), Value::Integer(COSE_ALG_ECDH_ES_HKDF_256));
    map.insert(Value::Integer(-1), Value::Integer(1));
    map.insert(Value::Integer(-2), Value::Bytes(x));
    map.insert(Value::Integer(-3), Value::Bytes(y));
    Ok(Value::Map(map))
}

/// The affine coordinates of a P-256 public key.
pub(crate) fn coordinates(key: &PublicKey) -> CtapResult<(Vec<u8>, Vec<u8>)> {
    let sec1 = key.to_sec1_bytes();
    // Uncompressed SEC1: 0x04 || X (32) || Y (32).
    if sec1.len() != 65 || sec1[0] != 0x04 {
        return Err(Status::Other);
    }
    Ok((sec1[1..33].to_vec(), sec1[33..65].to_vec()))
}

/// Parses the platform's COSE_Key (kty 2, crv 1) into a point on P-256.
fn parse_cose_p256(value: Value) -> CtapResult<PublicKey> {
    let Value::Map(mut map) = value else {
        return Err(Status::CborUnexpectedType);
    };
    if map.remove(&Value::Integer(1)) != Some(Value::Integer(2))
        || map.remove(&Value::Integer(-1)) != Some(Value::Integer(1))
    {
        return Err(Status::InvalidParameter);
    }
    let x = match map.remove(&Value::Integer(-2)) {
        Some(Value::Bytes(x)) if x.len() == 32 => x,
        Some(_) => return Err(Status::InvalidParameter),
        None => return Err(Status::MissingParameter),
    };
    let y = match map.remove(&Value::Integer(-3)) {
        Some(Value::Bytes(y)) if y.len() == 32 => y,
        Some(_) => return Err(Status::InvalidParameter),
        None => return Err(Status::MissingParameter),
    };
    let sec1 = [&[0x04u8][..], &x, &y].concat();
    let point = p256::Sec1Point::from_bytes(&sec1).map_err(|_| Status::InvalidParameter)?;
    Option::from(PublicKey::from_sec1_point(&point)).ok_or(Status::InvalidParameter)
}

/// LEFT(SHA-256(pin), 16): what the key stores and compares (CTAP 2.1 §6.5.5.5).
pub(crate) fn pin_hash(pin: &[u8]) -> [u8; 16] {
    let digest = Sha256::digest(pin);
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// A fresh P-256 key pair for key agreement or a credential.
pub(crate) fn new_p256_key() -> SecretKey {
    use p256::elliptic_curve::Generate;
    SecretKey::generate_from_rng(&mut rand::rng())
}

/// `n` random bytes from the thread RNG (a CSPRNG).
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    rand::rng().fill_bytes(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answer from the CTAP 2.0 PIN example as reproduced by authenticator-rs and
    /// webauthn-authenticator-rs: shared secret, PIN "1234", newPinEnc and pinAuth (protocol One).
    #[test]
    fn protocol_one_known_answer() {
        let shared = [
            0x82, 0xE3, 0xD8, 0x41, 0xE2, 0x5C, 0x5C, 0x13, 0x46, 0x2C, 0x12, 0x3C, 0xC3, 0xD3,
            0x98, 0x78, 0x65, 0xBA, 0x3D, 0x20, 0x46, 0x74, 0xFB, 0xED, 0xD4, 0x7E, 0xF5, 0xAB,
            0xAB, 0x8D, 0x13, 0x72,
        ];
        let expected_enc_prefix = [
            0x70, 0x66, 0x4B, 0xB5, 0x81, 0xE2, 0x57, 0x45, 0x1A, 0x3A, 0xB9, 0x1B, 0xF1, 0xAA,
            0xD8, 0xE4,
        ];
        let expected_auth = [
            0x8E, 0x7F, 0x01, 0x69, 0x97, 0xF3, 0xB0, 0xA2, 0x7B, 0xA4, 0x34, 0x7A, 0x0E, 0x49,
            0xFD, 0xF5,
        ];
        let mut padded = [0u8; 64];
        padded[..4].copy_from_slice(b"1234");
        let enc = PinProtocol::One.encrypt(&shared, &padded).unwrap();
        assert_eq!(enc.len(), 64);
        assert_eq!(enc[..16], expected_enc_prefix);
        assert_eq!(
            PinProtocol::One.authenticate(&shared, &enc).unwrap(),
            expected_auth
        );
        assert_eq!(
            &PinProtocol::One.decrypt(&shared, &enc).unwrap()[..],
            &padded[..]
        );
        PinProtocol::One
            .verify(&shared, &enc, &expected_auth, false)
            .unwrap();
    }

    #[test]
    fn protocol_two_round_trips_and_rejects_truncation_by_default() {
        let shared = random_bytes(64);
        let plaintext = random_bytes(32);
        let enc = PinProtocol::Two.encrypt(&shared, &plaintext).unwrap();
        assert_eq!(enc.len(), 48);
        assert_eq!(
            &PinProtocol::Two.decrypt(&shared, &enc).unwrap()[..],
            &plaintext[..]
        );
        let tag = PinProtocol::Two.authenticate(&shared, b"message").unwrap();
        assert_eq!(tag.len(), 32);
        PinProtocol::Two
            .verify(&shared, b"message", &tag, false)
            .unwrap();
        assert_eq!(
            PinProtocol::Two.verify(&shared, b"message", &tag[..16], false),
            Err(Status::PinAuthInvalid)
        );
        PinProtocol::Two
            .verify(&shared, b"message", &tag[..16], true)
            .unwrap();
        assert_eq!(
            PinProtocol::Two.verify(&shared, b"other", &tag, false),
            Err(Status::PinAuthInvalid)
        );
    }

    #[test]
    fn both_sides_derive_the_same_secret() {
        let authenticator = new_p256_key();
        let platform = new_p256_key();
        for protocol in [PinProtocol::One, PinProtocol::Two] {
            let a = protocol
                .shared_secret(&authenticator, cose_key_agreement(&platform).unwrap())
                .unwrap();
            let b = protocol
                .shared_secret(&platform, cose_key_agreement(&authenticator).unwrap())
                .unwrap();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn bad_ciphertexts_are_errors_not_panics() {
        let key = random_bytes(64);
        assert!(PinProtocol::Two.decrypt(&key, &[0; 15]).is_err());
        assert!(PinProtocol::Two.decrypt(&key, &[0; 17]).is_err());
        assert!(PinProtocol::One.decrypt(&key[..32], &[]).is_err());
        assert!(PinProtocol::One.decrypt(&key[..32], &[0; 20]).is_err());
    }
}
