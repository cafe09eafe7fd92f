//! The CTAP 2.1 requests hmac-secret needs, as CBOR maps with integer keys: clientPIN
//! getKeyAgreement and PIN tokens (§6.5.5), authenticatorMakeCredential (§6.1) and
//! authenticatorGetAssertion (§6.2) with the extension (§12.5). Apart from the extension they
//! encode exactly as webauthn-authenticator-rs's own request types do (the tests compare).

use std::collections::BTreeMap;

use serde_cbor_2::Value;

use super::super::{KeyError, virtual_key::pin_protocol::PinProtocol};
use super::{EXTENSION, VAULT_RP_ID, protocol};

pub(super) const MAKE_CREDENTIAL: u8 = 0x01;
pub(super) const GET_ASSERTION: u8 = 0x02;
pub(super) const CLIENT_PIN: u8 = 0x06;
/// clientPIN subcommands (CTAP 2.1 §6.5.5).
const GET_KEY_AGREEMENT: u8 = 0x02;
const GET_PIN_TOKEN: u8 = 0x05;
const GET_PIN_UV_AUTH_TOKEN_USING_PIN: u8 = 0x09;
/// pinUvAuthToken permissions (CTAP 2.1 §6.5.5.7).
pub(super) const PERMISSION_MAKE_CREDENTIAL: u8 = 0x01;
pub(super) const PERMISSION_GET_ASSERTION: u8 = 0x02;
const COSE_ES256: i64 = -7;

pub(super) type Parameters = BTreeMap<Value, Value>;

/// pinUvAuthParam and the protocol that made it, for a request that proves the PIN.
pub(super) type PinAuth = (Vec<u8>, PinProtocol);

pub(super) fn int(value: impl Into<i128>) -> Value {
    Value::Integer(value.into())
}

pub(super) fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

fn text_map<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}

/// The command byte, then the parameters as a CBOR map (CTAP 2.1 §8.1: keys in canonical order,
/// which `Value`'s ordering gives).
pub(super) fn encode(command: u8, parameters: Parameters) -> Result<Vec<u8>, KeyError> {
    let body = serde_cbor_2::to_vec(&Value::Map(parameters))
        .map_err(|error| protocol(&format!("cannot encode the request: {error}")))?;
    Ok(std::iter::once(command).chain(body).collect())
}

/// clientPIN getKeyAgreement (CTAP 2.1 §6.5.5.4).
pub(super) fn key_agreement(protocol: PinProtocol) -> Parameters {
    BTreeMap::from([
        (int(0x01), int(protocol.number())),
        (int(0x02), int(GET_KEY_AGREEMENT)),
    ])
}

/// getPinUvAuthTokenUsingPinWithPermissions (CTAP 2.1 §6.5.5.7.2) when `scope` names the
/// permissions and relying party, else the CTAP 2.0 getPinToken (§6.5.5.7.1).
pub(super) fn pin_token(
    protocol: PinProtocol,
    platform_key: Value,
    pin_hash_enc: Vec<u8>,
    scope: Option<(u8, &str)>,
) -> Parameters {
    let mut parameters = BTreeMap::from([
        (int(0x01), int(protocol.number())),
        (int(0x03), platform_key),
        (int(0x06), Value::Bytes(pin_hash_enc)),
    ]);
    match scope {
        Some((permissions, rp_id)) => {
            parameters.insert(int(0x02), int(GET_PIN_UV_AUTH_TOKEN_USING_PIN));
            parameters.insert(int(0x09), int(permissions));
            parameters.insert(int(0x0a), text(rp_id));
        }
        None => {
            parameters.insert(int(0x02), int(GET_PIN_TOKEN));
        }
    }
    parameters
}

/// A non-discoverable ES256 credential for [`VAULT_RP_ID`] with `hmac-secret: true`.
pub(super) fn make_credential(
    client_data_hash: &[u8],
    user_id: &[u8],
    auth: Option<PinAuth>,
) -> Parameters {
    let mut parameters = BTreeMap::from([
        (int(0x01), Value::Bytes(client_data_hash.to_vec())),
        (
            int(0x02),
            text_map([("id", text(VAULT_RP_ID)), ("name", text("Schild vault"))]),
        ),
        (
            int(0x03),
            text_map([
                ("id", Value::Bytes(user_id.to_vec())),
                ("name", text("vault")),
                ("displayName", text("Schild vault")),
            ]),
        ),
        (
            int(0x04),
            Value::Array(vec![text_map([
                ("alg", int(COSE_ES256)),
                ("type", text("public-key")),
            ])]),
        ),
        (int(0x06), text_map([(EXTENSION, Value::Bool(true))])),
    ]);
    if let Some((param, protocol)) = auth {
        parameters.insert(int(0x08), Value::Bytes(param));
        parameters.insert(int(0x09), int(protocol.number()));
    }
    parameters
}

/// The hmac-secret extension input (CTAP 2.1 §12.5): keyAgreement, saltEnc, saltAuth, and
/// pinUvAuthProtocol unless it is One, the default and the only one CTAP 2.0 keys know.
pub(super) fn hmac_secret_input(
    protocol: PinProtocol,
    platform_key: Value,
    salt_enc: Vec<u8>,
    salt_auth: Vec<u8>,
) -> Value {
    let mut input = BTreeMap::from([
        (int(0x01), platform_key),
        (int(0x02), Value::Bytes(salt_enc)),
        (int(0x03), Value::Bytes(salt_auth)),
    ]);
    if protocol != PinProtocol::One {
        input.insert(int(0x04), int(protocol.number()));
    }
    Value::Map(input)
}

/// An assertion by one credential, with the hmac-secret extension; user presence is the default.
pub(super) fn get_assertion(
    rp_id: &str,
    client_data_hash: &[u8],
    credential_id: &[u8],
    hmac_secret_input: Value,
    auth: Option<PinAuth>,
) -> Parameters {
    let mut parameters = BTreeMap::from([
        (int(0x01), text(rp_id)),
        (int(0x02), Value::Bytes(client_data_hash.to_vec())),
        (
            int(0x03),
            Value::Array(vec![text_map([
                ("id", Value::Bytes(credential_id.to_vec())),
                ("type", text("public-key")),
            ])]),
        ),
        (int(0x04), text_map([(EXTENSION, hmac_secret_input)])),
    ]);
    if let Some((param, protocol)) = auth {
        parameters.insert(int(0x06), Value::Bytes(param));
        parameters.insert(int(0x07), int(protocol.number()));
    }
    parameters
}

#[cfg(test)]
mod tests {
    use super::*;
    use webauthn_authenticator_rs::ctap2::{
        CBORCommand,
        commands::{
            ClientPinRequest, ClientPinSubCommand, GetAssertionRequest, MakeCredentialRequest,
            Permissions,
        },
    };
    use webauthn_rs_proto::{AllowCredentials, PubKeyCredParams, RelyingParty, User};

    /// Our request without the given parameter, encoded.
    fn without(command: u8, mut parameters: Parameters, key: i64) -> Vec<u8> {
        parameters.remove(&int(key));
        encode(command, parameters).unwrap()
    }

    #[test]
    fn key_agreement_encodes_as_the_library_does() {
        for protocol in [PinProtocol::One, PinProtocol::Two] {
            let theirs = ClientPinRequest {
                pin_uv_protocol: Some(u32::try_from(protocol.number()).unwrap()),
                sub_command: ClientPinSubCommand::GetKeyAgreement,
                ..Default::default()
            };
            assert_eq!(
                encode(CLIENT_PIN, key_agreement(protocol)).unwrap(),
                theirs.cbor().unwrap()
            );
        }
    }

    #[test]
    fn pin_tokens_encode_as_the_library_does_but_for_the_key_agreement_key() {
        let scoped = ClientPinRequest {
            pin_uv_protocol: Some(2),
            sub_command: ClientPinSubCommand::GetPinUvAuthTokenUsingPinWithPermissions,
            pin_hash_enc: Some(vec![7; 32]),
            permissions: Permissions::GET_ASSERTION,
            rp_id: Some(VAULT_RP_ID.into()),
            ..Default::default()
        };
        let ours = pin_token(
            PinProtocol::Two,
            Value::Null,
            vec![7; 32],
            Some((PERMISSION_GET_ASSERTION, VAULT_RP_ID)),
        );
        assert_eq!(without(CLIENT_PIN, ours, 0x03), scoped.cbor().unwrap());

        let legacy = ClientPinRequest {
            pin_uv_protocol: Some(1),
            sub_command: ClientPinSubCommand::GetPinToken,
            pin_hash_enc: Some(vec![7; 16]),
            ..Default::default()
        };
        let ours = pin_token(PinProtocol::One, Value::Null, vec![7; 16], None);
        assert_eq!(without(CLIENT_PIN, ours, 0x03), legacy.cbor().unwrap());
    }

    #[test]
    fn make_credential_encodes_as_the_library_does_plus_the_extension() {
        let theirs = MakeCredentialRequest {
            client_data_hash: vec![1; 32],
            rp: RelyingParty {
                id: VAULT_RP_ID.into(),
                name: "Schild vault".into(),
            },
            user: User {
                id: vec![2; 16],
                name: "vault".into(),
                display_name: "Schild vault".into(),
            },
            pub_key_cred_params: vec![PubKeyCredParams {
                type_: "public-key".into(),
                alg: COSE_ES256,
            }],
            exclude_list: Vec::new(),
            options: None,
            pin_uv_auth_param: Some(vec![3; 32]),
            pin_uv_auth_proto: Some(2),
            enterprise_attest: None,
        };
        let ours = make_credential(&[1; 32], &[2; 16], Some((vec![3; 32], PinProtocol::Two)));
        assert_eq!(
            ours.get(&int(0x06)),
            Some(&text_map([(EXTENSION, Value::Bool(true))]))
        );
        assert_eq!(without(MAKE_CREDENTIAL, ours, 0x06), theirs.cbor().unwrap());
    }

    #[test]
    fn get_assertion_encodes_as_the_library_does_plus_the_extension() {
        let theirs = GetAssertionRequest {
            rp_id: VAULT_RP_ID.into(),
            client_data_hash: vec![1; 32],
            allow_list: vec![AllowCredentials {
                type_: "public-key".into(),
                id: vec![4; 48],
                transports: None,
            }],
            options: None,
            pin_uv_auth_param: Some(vec![3; 16]),
            pin_uv_auth_proto: Some(1),
        };
        let input = hmac_secret_input(PinProtocol::One, Value::Null, vec![5; 32], vec![6; 16]);
        let Value::Map(fields) = &input else {
            panic!("the input is a map");
        };
        assert!(
            !fields.contains_key(&int(0x04)),
            "protocol One goes unnamed"
        );
        let ours = get_assertion(
            VAULT_RP_ID,
            &[1; 32],
            &[4; 48],
            input,
            Some((vec![3; 16], PinProtocol::One)),
        );
        assert_eq!(without(GET_ASSERTION, ours, 0x04), theirs.cbor().unwrap());
        let Value::Map(two) =
            hmac_secret_input(PinProtocol::Two, Value::Null, vec![5; 48], vec![6; 32])
        else {
            panic!("the input is a map");
        };
        assert_eq!(two.get(&int(0x04)), Some(&int(2)));
    }
}
