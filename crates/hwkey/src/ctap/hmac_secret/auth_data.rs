//! Authenticator data (WebAuthn L2 §6.1), as far as hmac-secret needs it: the relying party,
//! the flags, the attested credential's AAGUID and id, and the extension outputs.

use std::collections::BTreeMap;

use serde::Deserialize as _;
use serde_cbor_2::Value;
use sha2::{Digest, Sha256};

use super::super::KeyError;
use super::protocol;

/// authenticatorData flags (WebAuthn L2 §6.1).
const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_AT: u8 = 0x40;
const FLAG_ED: u8 = 0x80;

/// The parts of authenticator data (WebAuthn L2 §6.1) this module reads. Parsed strictly: every
/// byte accounted for.
#[derive(Debug, PartialEq)]
pub(super) struct AuthData {
    rp_id_hash: [u8; 32],
    flags: u8,
    /// AAGUID and credential id, when attested credential data is present (§6.5.1).
    pub(super) attested: Option<([u8; 16], Vec<u8>)>,
    pub(super) extensions: BTreeMap<Value, Value>,
}

impl AuthData {
    pub(super) fn parse(bytes: &[u8]) -> Result<Self, KeyError> {
        let malformed = || protocol("the key's authenticator data is malformed");
        let rp_id_hash: [u8; 32] = bytes
            .get(..32)
            .and_then(|hash| hash.try_into().ok())
            .ok_or_else(malformed)?;
        let flags = *bytes.get(32).ok_or_else(malformed)?;
        // The signature counter (4 bytes) is of no use here.
        let mut rest = bytes.get(37..).ok_or_else(malformed)?;
        let attested = if flags & FLAG_AT != 0 {
            let aaguid: [u8; 16] = rest
                .get(..16)
                .and_then(|aaguid| aaguid.try_into().ok())
                .ok_or_else(malformed)?;
            let length = rest
                .get(16..18)
                .map(|length| usize::from(u16::from_be_bytes([length[0], length[1]])))
                .ok_or_else(malformed)?;
            let id = rest.get(18..18 + length).ok_or_else(malformed)?.to_vec();
            if id.is_empty() {
                return Err(malformed());
            }
            rest = &rest[18 + length..];
            // The credential public key: one CBOR item, skipped.
            let (_, used) = cbor_item(rest).ok_or_else(malformed)?;
            rest = &rest[used..];
            Some((aaguid, id))
        } else {
            None
        };
        let extensions = if flags & FLAG_ED != 0 {
            let (value, used) = cbor_item(rest).ok_or_else(malformed)?;
            rest = &rest[used..];
            match value {
                Value::Map(map) => map,
                _ => return Err(malformed()),
            }
        } else {
            BTreeMap::new()
        };
        if !rest.is_empty() {
            return Err(malformed());
        }
        Ok(Self {
            rp_id_hash,
            flags,
            attested,
            extensions,
        })
    }

    /// The data is for `rp_id`, the user was present, and verified exactly when a PIN was used.
    pub(super) fn check(&self, rp_id: &str, user_verified: bool) -> Result<(), KeyError> {
        if self.rp_id_hash[..] != Sha256::digest(rp_id.as_bytes())[..] {
            return Err(protocol("the key answered for another relying party"));
        }
        if self.flags & FLAG_UP == 0 {
            return Err(protocol("the key answered without the user's touch"));
        }
        if (self.flags & FLAG_UV != 0) != user_verified {
            return Err(protocol(if user_verified {
                "the key did not verify the PIN"
            } else {
                "the key verified the user unasked"
            }));
        }
        Ok(())
    }
}

/// The first CBOR item of `bytes`, and how many bytes it took.
fn cbor_item(bytes: &[u8]) -> Option<(Value, usize)> {
    let mut deserializer = serde_cbor_2::Deserializer::from_slice(bytes);
    let value = Value::deserialize(&mut deserializer).ok()?;
    Some((value, deserializer.byte_offset()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(rp_id: &str, flags: u8) -> Vec<u8> {
        let mut bytes = Sha256::digest(rp_id.as_bytes()).to_vec();
        bytes.push(flags);
        bytes.extend_from_slice(&7u32.to_be_bytes());
        bytes
    }

    fn extensions(output: Value) -> Vec<u8> {
        let map = BTreeMap::from([(Value::Text("hmac-secret".into()), output)]);
        serde_cbor_2::to_vec(&Value::Map(map)).unwrap()
    }

    fn attested(id: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xab; 16];
        bytes.extend_from_slice(&u16::try_from(id.len()).unwrap().to_be_bytes());
        bytes.extend_from_slice(id);
        let key = BTreeMap::from([
            (Value::Integer(1), Value::Integer(2)),
            (Value::Integer(-2), Value::Bytes(vec![1; 32])),
        ]);
        bytes.extend(serde_cbor_2::to_vec(&Value::Map(key)).unwrap());
        bytes
    }

    #[test]
    fn registration_data_gives_aaguid_id_and_extensions() {
        let mut bytes = header("schild-vault", FLAG_UP | FLAG_AT | FLAG_ED);
        bytes.extend(attested(&[9; 40]));
        bytes.extend(extensions(Value::Bool(true)));
        let data = AuthData::parse(&bytes).unwrap();
        assert_eq!(data.attested, Some(([0xab; 16], vec![9; 40])));
        assert_eq!(
            data.extensions.get(&Value::Text("hmac-secret".into())),
            Some(&Value::Bool(true))
        );
        data.check("schild-vault", false).unwrap();
        assert!(data.check("other", false).is_err());
        assert!(data.check("schild-vault", true).is_err(), "UV flag missing");
    }

    #[test]
    fn assertion_data_needs_presence_and_the_right_verification() {
        let mut bytes = header("schild-vault", FLAG_UP | FLAG_UV | FLAG_ED);
        bytes.extend(extensions(Value::Bytes(vec![1; 48])));
        let data = AuthData::parse(&bytes).unwrap();
        assert_eq!(data.attested, None);
        data.check("schild-vault", true).unwrap();
        assert!(data.check("schild-vault", false).is_err(), "UV unasked");
        let no_touch = AuthData::parse(&header("schild-vault", 0)).unwrap();
        assert!(no_touch.check("schild-vault", false).is_err());
    }

    #[test]
    fn truncated_padded_or_inconsistent_data_is_refused() {
        let mut full = header("schild-vault", FLAG_UP | FLAG_AT | FLAG_ED);
        full.extend(attested(&[9; 16]));
        full.extend(extensions(Value::Bool(true)));
        for length in 0..full.len() {
            assert!(AuthData::parse(&full[..length]).is_err(), "cut at {length}");
        }
        let mut padded = full.clone();
        padded.push(0);
        assert!(AuthData::parse(&padded).is_err());
        // Extensions that are not a map, and an empty credential id.
        let mut not_a_map = header("schild-vault", FLAG_UP | FLAG_ED);
        not_a_map.extend(serde_cbor_2::to_vec(&Value::Bool(true)).unwrap());
        assert!(AuthData::parse(&not_a_map).is_err());
        let mut empty_id = header("schild-vault", FLAG_UP | FLAG_AT);
        empty_id.extend(attested(&[]));
        assert!(AuthData::parse(&empty_id).is_err());
        // A length that runs past the end.
        let mut overlong = header("schild-vault", FLAG_UP | FLAG_AT);
        overlong.extend(vec![0; 16]);
        overlong.extend(u16::MAX.to_be_bytes());
        assert!(AuthData::parse(&overlong).is_err());
    }
}
