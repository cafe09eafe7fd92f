//! Defensive parsing of untrusted CTAP request maps and encoding of reply maps.
//!
//! Requests arrive from the platform as CTAP2 canonical CBOR (CTAP 2.1 §8 "Message encoding"). Every
//! malformed input maps to a status code — `CTAP2_ERR_INVALID_CBOR`, `CTAP2_ERR_CBOR_UNEXPECTED_TYPE`
//! or `CTAP2_ERR_MISSING_PARAMETER` — never to a panic.

use std::collections::BTreeMap;

use serde_cbor_2::Value;

use super::status::{CtapResult, Status};

/// The largest request the virtual key accepts (its advertised `maxMsgSize`).
pub(crate) const MAX_MESSAGE_SIZE: usize = 1200;

/// A request's parameter map, keyed by small unsigned integers.
#[derive(Debug, Default)]
pub(crate) struct Params(BTreeMap<u64, Value>);

impl Params {
    /// Parses a command body; an empty body is an empty map.
    pub(crate) fn parse(body: &[u8]) -> CtapResult<Self> {
        if body.is_empty() {
            return Ok(Self::default());
        }
        let value: Value = serde_cbor_2::from_slice(body).map_err(|_| Status::InvalidCbor)?;
        let Value::Map(map) = value else {
            return Err(Status::CborUnexpectedType);
        };
        let mut params = BTreeMap::new();
        for (key, value) in map {
            let Value::Integer(key) = key else {
                return Err(Status::CborUnexpectedType);
            };
            let key = u64::try_from(key).map_err(|_| Status::CborUnexpectedType)?;
            params.insert(key, value);
        }
        Ok(Self(params))
    }

    /// Parses a nested map (`subCommandParams`, `rp`, `user`, …) keyed by integers.
    pub(crate) fn from_value(value: Value) -> CtapResult<Self> {
        let Value::Map(map) = value else {
            return Err(Status::CborUnexpectedType);
        };
        let mut params = BTreeMap::new();
        for (key, value) in map {
            let Value::Integer(key) = key else {
                return Err(Status::CborUnexpectedType);
            };
            let key = u64::try_from(key).map_err(|_| Status::CborUnexpectedType)?;
            params.insert(key, value);
        }
        Ok(Self(params))
    }

    pub(crate) fn take(&mut self, key: u64) -> Option<Value> {
        self.0.remove(&key)
    }

    pub(crate) fn bytes(&mut self, key: u64) -> CtapResult<Option<Vec<u8>>> {
        self.take(key).map(into_bytes).transpose()
    }

    pub(crate) fn text(&mut self, key: u64) -> CtapResult<Option<String>> {
        self.take(key).map(into_text).transpose()
    }

    pub(crate) fn uint(&mut self, key: u64) -> CtapResult<Option<u64>> {
        self.take(key).map(into_uint).transpose()
    }

    pub(crate) fn boolean(&mut self, key: u64) -> CtapResult<Option<bool>> {
        self.take(key).map(into_bool).transpose()
    }

    pub(crate) fn array(&mut self, key: u64) -> CtapResult<Option<Vec<Value>>> {
        self.take(key).map(into_array).transpose()
    }

    pub(crate) fn map(&mut self, key: u64) -> CtapResult<Option<BTreeMap<Value, Value>>> {
        self.take(key).map(into_map).transpose()
    }
}

pub(crate) fn into_bytes(value: Value) -> CtapResult<Vec<u8>> {
    match value {
        Value::Bytes(bytes) => Ok(bytes),
        _ => Err(Status::CborUnexpectedType),
    }
}

pub(crate) fn into_text(value: Value) -> CtapResult<String> {
    match value {
        Value::Text(text) => Ok(text),
        _ => Err(Status::CborUnexpectedType),
    }
}

pub(crate) fn into_uint(value: Value) -> CtapResult<u64> {
    match value {
        Value::Integer(i) => u64::try_from(i).map_err(|_| Status::InvalidParameter),
        _ => Err(Status::CborUnexpectedType),
    }
}

pub(crate) fn into_int(value: Value) -> CtapResult<i64> {
    match value {
        Value::Integer(i) => i64::try_from(i).map_err(|_| Status::InvalidParameter),
        _ => Err(Status::CborUnexpectedType),
    }
}

pub(crate) fn into_bool(value: Value) -> CtapResult<bool> {
    match value {
        Value::Bool(b) => Ok(b),
        _ => Err(Status::CborUnexpectedType),
    }
}

pub(crate) fn into_array(value: Value) -> CtapResult<Vec<Value>> {
    match value {
        Value::Array(items) => Ok(items),
        _ => Err(Status::CborUnexpectedType),
    }
}

pub(crate) fn into_map(value: Value) -> CtapResult<BTreeMap<Value, Value>> {
    match value {
        Value::Map(map) => Ok(map),
        _ => Err(Status::CborUnexpectedType),
    }
}

/// Removes a text-keyed entry (`"id"`, `"type"`, …) from a map such as `rp` or `user`.
pub(crate) fn take_text_key(map: &mut BTreeMap<Value, Value>, key: &str) -> Option<Value> {
    map.remove(&Value::Text(key.to_owned()))
}

/// Re-encodes a parsed value in canonical form, the bytes a platform MACs over (CTAP 2.1 §6.5.5.7:
/// `subCommand || subCommandParams`). serde_cbor_2 sorts map keys in CTAP2 canonical order, so a
/// canonical request re-encodes to the bytes the platform sent.
pub(crate) fn canonical(value: &Value) -> CtapResult<Vec<u8>> {
    serde_cbor_2::to_vec(value).map_err(|_| Status::InvalidCbor)
}

/// Builds a reply map keyed by integers.
#[derive(Debug, Default)]
pub(crate) struct Reply(BTreeMap<Value, Value>);

impl Reply {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn with(mut self, key: u64, value: impl Into<Value>) -> Self {
        self.0.insert(Value::Integer(key.into()), value.into());
        self
    }

    pub(crate) fn set(&mut self, key: u64, value: impl Into<Value>) {
        self.0.insert(Value::Integer(key.into()), value.into());
    }

    /// The reply as a nested value (for arrays of maps such as `templateInfos`).
    pub(crate) fn into_value(self) -> Value {
        Value::Map(self.0)
    }

    /// Encodes the map; an empty reply has no CBOR body at all.
    pub(crate) fn encode(self) -> CtapResult<Vec<u8>> {
        if self.0.is_empty() {
            return Ok(Vec::new());
        }
        serde_cbor_2::to_vec(&Value::Map(self.0)).map_err(|_| Status::Other)
    }
}

/// A text-keyed map value (`{"id": …, "type": …}`).
pub(crate) fn text_map<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::Text(k.to_owned()), v))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_maps_and_bad_keys() {
        assert_eq!(
            Params::parse(&[0x01]).err(),
            Some(Status::CborUnexpectedType)
        );
        assert_eq!(
            Params::parse(&[0xa1, 0x61, 0x61, 0x01]).err(),
            Some(Status::CborUnexpectedType)
        );
        assert_eq!(
            Params::parse(&[0xa1, 0x20, 0x01]).err(),
            Some(Status::CborUnexpectedType)
        );
        assert_eq!(Params::parse(&[0xa1]).err(), Some(Status::InvalidCbor));
        assert_eq!(
            Params::parse(&[0xff, 0xff]).err(),
            Some(Status::InvalidCbor)
        );
    }

    #[test]
    fn typed_getters_report_unexpected_types() {
        let mut params = Params::parse(&[0xa2, 0x01, 0x61, 0x61, 0x02, 0x41, 0x00]).unwrap();
        assert_eq!(params.bytes(1), Err(Status::CborUnexpectedType));
        assert_eq!(params.bytes(2), Ok(Some(vec![0])));
        assert_eq!(params.bytes(3), Ok(None));
    }
}
