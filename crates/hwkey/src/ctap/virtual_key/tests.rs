//! Protocol-level tests: this module plays the platform with raw CTAP requests, to reach what the
//! management API guards against (short PINs, permissions, extensions, timers).

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use serde_cbor_2::Value;

use super::{
    ManualClock, VirtualKey,
    pin_protocol::{PinProtocol, cose_key_agreement, new_p256_key},
};

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn text_map(entries: &[(&str, Value)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (text(k), v.clone())).collect())
}

fn request(command: u8, entries: &[(i64, Value)]) -> Vec<u8> {
    let map: BTreeMap<Value, Value> = entries.iter().map(|(k, v)| (int(*k), v.clone())).collect();
    let mut out = vec![command];
    out.extend(serde_cbor_2::to_vec(&Value::Map(map)).unwrap());
    out
}

/// Sends a request; returns the status and the reply map.
fn send(key: &VirtualKey, request: &[u8]) -> (u8, BTreeMap<Value, Value>) {
    let reply = key.process(request);
    let map = match reply.get(1..) {
        Some(body) if !body.is_empty() => match serde_cbor_2::from_slice(body).unwrap() {
            Value::Map(map) => map,
            other => panic!("reply is not a map: {other:?}"),
        },
        _ => BTreeMap::new(),
    };
    (reply[0], map)
}

/// The platform side of a PIN/UV auth protocol session.
struct Platform {
    protocol: PinProtocol,
    key_agreement: Value,
    shared: Vec<u8>,
}

impl Platform {
    fn new(key: &VirtualKey, protocol: PinProtocol) -> Self {
        let number = int(protocol.number() as i64);
        let (status, reply) = send(key, &request(0x06, &[(1, number), (2, int(2))]));
        assert_eq!(status, 0);
        let own = new_p256_key();
        let shared = protocol
            .shared_secret(&own, reply[&int(1)].clone())
            .unwrap()
            .to_vec();
        Self {
            protocol,
            key_agreement: cose_key_agreement(&own).unwrap(),
            shared,
        }
    }

    fn padded(pin: &str) -> Vec<u8> {
        let mut padded = pin.as_bytes().to_vec();
        padded.resize(64, 0);
        padded
    }

    fn set_pin(&self, key: &VirtualKey, pin: &str) -> u8 {
        let new_pin_enc = self
            .protocol
            .encrypt(&self.shared, &Self::padded(pin))
            .unwrap();
        let auth = self
            .protocol
            .authenticate(&self.shared, &new_pin_enc)
            .unwrap();
        send(
            key,
            &request(
                0x06,
                &[
                    (1, int(self.protocol.number() as i64)),
                    (2, int(3)),
                    (3, self.key_agreement.clone()),
                    (4, Value::Bytes(auth)),
                    (5, Value::Bytes(new_pin_enc)),
                ],
            ),
        )
        .0
    }

    /// getPinUvAuthTokenUsingPinWithPermissions; the decrypted token on success.
    fn token(&self, key: &VirtualKey, pin: &str, permissions: i64) -> Result<Vec<u8>, u8> {
        let hash = &super::pin_protocol::pin_hash(pin.as_bytes());
        let pin_hash_enc = self.protocol.encrypt(&self.shared, hash).unwrap();
        let (status, reply) = send(
            key,
            &request(
                0x06,
                &[
                    (1, int(self.protocol.number() as i64)),
                    (2, int(9)),
                    (3, self.key_agreement.clone()),
                    (6, Value::Bytes(pin_hash_enc)),
                    (9, int(permissions)),
                ],
            ),
        );
        if status != 0 {
            return Err(status);
        }
        let Value::Bytes(encrypted) = &reply[&int(2)] else {
            panic!("no token");
        };
        Ok(self
            .protocol
            .decrypt(&self.shared, encrypted)
            .unwrap()
            .to_vec())
    }
}

fn make_credential(
    rp_id: &str,
    extensions: Option<Value>,
    auth: Option<(Vec<u8>, i64)>,
) -> Vec<u8> {
    let mut entries = vec![
        (1, Value::Bytes(vec![0; 32])),
        (2, text_map(&[("id", text(rp_id))])),
        (
            3,
            text_map(&[("id", Value::Bytes(vec![1])), ("name", text("u"))]),
        ),
        (
            4,
            Value::Array(vec![text_map(&[
                ("alg", int(-7)),
                ("type", text("public-key")),
            ])]),
        ),
        (7, text_map(&[("rk", Value::Bool(true))])),
    ];
    if let Some(extensions) = extensions {
        entries.push((6, extensions));
    }
    if let Some((param, protocol)) = auth {
        entries.push((8, Value::Bytes(param)));
        entries.push((9, int(protocol)));
    }
    request(0x01, &entries)
}

fn get_assertion(rp_id: &str, extensions: Option<Value>) -> Vec<u8> {
    let mut entries = vec![(1, text(rp_id)), (2, Value::Bytes(vec![0; 32]))];
    if let Some(extensions) = extensions {
        entries.push((4, extensions));
    }
    request(0x02, &entries)
}

#[test]
fn the_key_enforces_its_pin_policy() {
    for protocol in [PinProtocol::One, PinProtocol::Two] {
        let key = VirtualKey::new();
        let platform = Platform::new(&key, protocol);
        assert_eq!(
            platform.set_pin(&key, "123"),
            0x37,
            "shorter than minPINLength"
        );
        assert_eq!(
            platform.set_pin(&key, &"9".repeat(64)),
            0x37,
            "no terminator"
        );
        assert_eq!(platform.set_pin(&key, "\u{0}\u{0}\u{0}\u{0}x"), 0x37);
        assert_eq!(platform.set_pin(&key, "1234"), 0x00);
        assert_eq!(platform.set_pin(&key, "5678"), 0x30, "a PIN is already set");
        assert!(platform.token(&key, "1234", 0x01).is_ok());
        assert_eq!(platform.token(&key, "4321", 0x01), Err(0x31));
    }
}

#[test]
fn a_forged_pin_uv_auth_param_is_refused() {
    let key = VirtualKey::new();
    let platform = Platform::new(&key, PinProtocol::Two);
    let new_pin_enc = platform
        .protocol
        .encrypt(&platform.shared, &Platform::padded("1234"))
        .unwrap();
    let (status, _) = send(
        &key,
        &request(
            0x06,
            &[
                (1, int(2)),
                (2, int(3)),
                (3, platform.key_agreement.clone()),
                (4, Value::Bytes(vec![0; 32])),
                (5, Value::Bytes(new_pin_enc)),
            ],
        ),
    );
    assert_eq!(status, 0x33);
}

#[test]
fn tokens_carry_permissions_and_a_raised_minimum_forces_a_pin_change() {
    let key = VirtualKey::new();
    let platform = Platform::new(&key, PinProtocol::Two);
    assert_eq!(platform.set_pin(&key, "1234"), 0);

    // A credential-management token cannot make credentials.
    let token = platform.token(&key, "1234", 0x04).unwrap();
    let param = PinProtocol::Two.authenticate(&token, &[0; 32]).unwrap();
    let (status, _) = send(&key, &make_credential("a.example", None, Some((param, 2))));
    assert_eq!(status, 0x40);

    // setMinPINLength 6 with an acfg token: the 4-digit PIN must now change.
    let token = platform.token(&key, "1234", 0x20).unwrap();
    let params = Value::Map(BTreeMap::from([(int(1), int(6))]));
    let mut message = vec![0xff; 32];
    message.extend([0x0d, 0x03]);
    message.extend(serde_cbor_2::to_vec(&params).unwrap());
    let param = PinProtocol::Two.authenticate(&token, &message).unwrap();
    let (status, _) = send(
        &key,
        &request(
            0x0d,
            &[
                (1, int(3)),
                (2, params),
                (3, int(2)),
                (4, Value::Bytes(param)),
            ],
        ),
    );
    assert_eq!(status, 0);
    let (_, info) = send(&key, &[0x04]);
    assert_eq!(info[&int(0x0d)], int(6));
    assert_eq!(info[&int(0x0c)], Value::Bool(true));
    assert_eq!(platform.token(&key, "1234", 0x01), Err(0x37));
}

#[test]
fn exclude_list_cred_protect_and_hmac_secret() {
    let key = VirtualKey::new();
    let extensions = text_map(&[("credProtect", int(3)), ("hmac-secret", Value::Bool(true))]);
    let (status, reply) = send(&key, &make_credential("a.example", Some(extensions), None));
    assert_eq!(status, 0);
    let Value::Bytes(auth_data) = &reply[&int(2)] else {
        panic!("no authData");
    };
    assert_eq!(auth_data[32] & 0xc5, 0xc1, "UP, AT and ED set, UV not");
    let id_length = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
    let credential_id = auth_data[55..55 + id_length].to_vec();

    // credProtect 3: without user verification no assertion reveals it, and an exclude list
    // naming it does not give it away either.
    assert_eq!(send(&key, &get_assertion("a.example", None)).0, 0x2e);
    let with_exclude = |rp_id: &str, id: &[u8]| {
        let mut request = make_credential(rp_id, None, None);
        let mut map: BTreeMap<Value, Value> = serde_cbor_2::from_slice(&request[1..]).unwrap();
        let descriptor = text_map(&[
            ("id", Value::Bytes(id.to_vec())),
            ("type", text("public-key")),
        ]);
        map.insert(int(5), Value::Array(vec![descriptor]));
        request.truncate(1);
        request.extend(serde_cbor_2::to_vec(&Value::Map(map)).unwrap());
        request
    };
    assert_eq!(send(&key, &with_exclude("a.example", &credential_id)).0, 0);

    // An ordinary credential in the exclude list stops a second registration.
    let plain = make_credential(
        "b.example",
        Some(text_map(&[("hmac-secret", Value::Bool(true))])),
        None,
    );
    let (status, reply) = send(&key, &plain);
    assert_eq!(status, 0);
    let Value::Bytes(auth_data) = &reply[&int(2)] else {
        panic!("no authData");
    };
    let plain_id = auth_data[55..55 + 32].to_vec();
    assert_eq!(send(&key, &with_exclude("b.example", &plain_id)).0, 0x19);

    // hmac-secret: the same salt gives the same secret, another salt another one.
    let platform = Platform::new(&key, PinProtocol::Two);
    let secret_for = |salt: [u8; 32]| {
        let salt_enc = platform.protocol.encrypt(&platform.shared, &salt).unwrap();
        let salt_auth = platform
            .protocol
            .authenticate(&platform.shared, &salt_enc)
            .unwrap();
        let mut input = BTreeMap::new();
        input.insert(int(1), platform.key_agreement.clone());
        input.insert(int(2), Value::Bytes(salt_enc));
        input.insert(int(3), Value::Bytes(salt_auth));
        input.insert(int(4), int(2));
        let extensions = text_map(&[("hmac-secret", Value::Map(input))]);
        let (status, reply) = send(&key, &get_assertion("b.example", Some(extensions)));
        assert_eq!(status, 0);
        let Value::Bytes(auth_data) = &reply[&int(2)] else {
            panic!("no authData");
        };
        let outputs: BTreeMap<Value, Value> = serde_cbor_2::from_slice(&auth_data[37..]).unwrap();
        let Value::Bytes(encrypted) = &outputs[&text("hmac-secret")] else {
            panic!("no hmac-secret output");
        };
        platform
            .protocol
            .decrypt(&platform.shared, encrypted)
            .unwrap()
            .to_vec()
    };
    let first = secret_for([1; 32]);
    assert_eq!(first.len(), 32);
    assert_eq!(secret_for([1; 32]), first);
    assert_ne!(secret_for([2; 32]), first);
}

#[test]
fn get_next_assertion_expires() {
    let clock = ManualClock::new();
    let key = VirtualKey::builder().clock(Arc::new(clock.clone())).build();
    for user in [1u8, 2, 3] {
        let mut request = make_credential("a.example", None, None);
        let mut map: BTreeMap<Value, Value> = serde_cbor_2::from_slice(&request[1..]).unwrap();
        map.insert(int(3), text_map(&[("id", Value::Bytes(vec![user]))]));
        request.truncate(1);
        request.extend(serde_cbor_2::to_vec(&Value::Map(map)).unwrap());
        assert_eq!(send(&key, &request).0, 0);
    }
    let (status, reply) = send(&key, &get_assertion("a.example", None));
    assert_eq!(status, 0);
    assert_eq!(reply[&int(5)], int(3));
    assert_eq!(send(&key, &[0x08]).0, 0);
    clock.advance(Duration::from_secs(31));
    assert_eq!(send(&key, &[0x08]).0, 0x30);
}
