//! authenticatorMakeCredential, authenticatorGetAssertion and authenticatorGetNextAssertion
//! (CTAP 2.1 §6.1–§6.3), ES256 only, with the credProtect and hmac-secret extensions (§12.1, §12.5).

use std::{collections::BTreeMap, collections::VecDeque, time::Duration};

use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use serde_cbor_2::Value;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{
    AAGUID,
    cbor::{self, Params, Reply, text_map},
    device::{Device, permission},
    pin_protocol::{coordinates, new_p256_key, random_bytes},
    state::{CredRandom, Credential, MAX_DISCOVERABLE_CREDENTIALS},
    status::{CtapResult, Status},
};

const COSE_ES256: i64 = -7;
const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_AT: u8 = 0x40;
const FLAG_ED: u8 = 0x80;
/// How long getNextAssertion may follow getAssertion (CTAP 2.1 §6.3: 30 seconds).
const NEXT_ASSERTION_WINDOW: Duration = Duration::from_secs(30);

/// The rest of a multi-credential assertion, for authenticatorGetNextAssertion.
pub(crate) struct PendingAssertions {
    client_data_hash: Vec<u8>,
    rp_id: String,
    flags: u8,
    credential_ids: VecDeque<Vec<u8>>,
    started_at: Duration,
}

/// Request options (`rk`, `up`, `uv`).
struct Options {
    rk: bool,
    up: bool,
    uv: bool,
}

fn parse_options(map: Option<BTreeMap<Value, Value>>) -> CtapResult<Options> {
    let mut options = Options {
        rk: false,
        up: true,
        uv: false,
    };
    for (key, value) in map.unwrap_or_default() {
        let key = cbor::into_text(key)?;
        let value = cbor::into_bool(value)?;
        match key.as_str() {
            "rk" => options.rk = value,
            "up" => options.up = value,
            "uv" => options.uv = value,
            _ => {}
        }
    }
    Ok(options)
}

/// The COSE_Key of a credential's public key (kty EC2, alg ES256, crv P-256).
pub(crate) fn cose_public_key(credential: &Credential) -> CtapResult<Value> {
    let secret = p256::SecretKey::from_slice(&credential.private_key).map_err(|_| Status::Other)?;
    let (x, y) = coordinates(&secret.public_key())?;
    let mut map = BTreeMap::new();
    map.insert(Value::Integer(1), Value::Integer(2));
    map.insert(Value::Integer(3), Value::Integer(COSE_ES256.into()));
    map.insert(Value::Integer(-1), Value::Integer(1));
    map.insert(Value::Integer(-2), Value::Bytes(x));
    map.insert(Value::Integer(-3), Value::Bytes(y));
    Ok(Value::Map(map))
}

fn sign(credential: &Credential, parts: &[&[u8]]) -> CtapResult<Vec<u8>> {
    let key = SigningKey::from_slice(&credential.private_key).map_err(|_| Status::Other)?;
    let message = parts.concat();
    let signature: Signature = key.sign(&message);
    Ok(signature.to_der().as_bytes().to_vec())
}

fn rp_id_hash(rp_id: &str) -> [u8; 32] {
    Sha256::digest(rp_id.as_bytes()).into()
}

/// A public-key credential descriptor from an exclude or allow list.
fn descriptor_id(value: Value) -> CtapResult<Option<Vec<u8>>> {
    let mut map = cbor::into_map(value)?;
    let kind = cbor::take_text_key(&mut map, "type").ok_or(Status::MissingParameter)?;
    let id = cbor::take_text_key(&mut map, "id").ok_or(Status::MissingParameter)?;
    let id = cbor::into_bytes(id)?;
    // Descriptors of other types are ignored (CTAP 2.1 §6.1.2 step 8).
    Ok((cbor::into_text(kind)? == "public-key").then_some(id))
}

impl Device {
    /// Zero-length pinUvAuthParam: the platform asks for a touch to pick this key
    /// (CTAP 2.1 §6.1.2 step 1).
    fn selection_probe(&self, prompt: &dyn Fn()) -> Status {
        match self.user_presence(prompt) {
            Ok(()) if self.state.pin.is_some() => Status::PinInvalid,
            Ok(()) => Status::PinNotSet,
            Err(status) => status,
        }
    }

    pub(crate) fn make_credential(&mut self, body: &[u8], prompt: &dyn Fn()) -> CtapResult<Reply> {
        let mut params = Params::parse(body)?;
        let auth_param = params.bytes(0x08)?;
        if auth_param.as_ref().is_some_and(Vec::is_empty) {
            return Err(self.selection_probe(prompt));
        }
        let client_data_hash = params.bytes(0x01)?.ok_or(Status::MissingParameter)?;
        let mut rp = params.map(0x02)?.ok_or(Status::MissingParameter)?;
        let mut user = params.map(0x03)?.ok_or(Status::MissingParameter)?;
        let algorithms = params.array(0x04)?.ok_or(Status::MissingParameter)?;
        let exclude_list = params.array(0x05)?.unwrap_or_default();
        let extensions = params.map(0x06)?.unwrap_or_default();
        let options = parse_options(params.map(0x07)?)?;
        let protocol = params.uint(0x09)?;

        let rp_id =
            cbor::into_text(cbor::take_text_key(&mut rp, "id").ok_or(Status::MissingParameter)?)?;
        let rp_name = cbor::take_text_key(&mut rp, "name")
            .map(cbor::into_text)
            .transpose()?;
        let user_id = cbor::into_bytes(
            cbor::take_text_key(&mut user, "id").ok_or(Status::MissingParameter)?,
        )?;
        if user_id.len() > 64 {
            return Err(Status::InvalidParameter);
        }
        let user_name = cbor::take_text_key(&mut user, "name")
            .map(cbor::into_text)
            .transpose()?;
        let user_display_name = cbor::take_text_key(&mut user, "displayName")
            .map(cbor::into_text)
            .transpose()?;
        let mut es256 = false;
        for algorithm in algorithms {
            let mut algorithm = cbor::into_map(algorithm)?;
            let alg = cbor::into_int(
                cbor::take_text_key(&mut algorithm, "alg").ok_or(Status::MissingParameter)?,
            )?;
            let kind = cbor::into_text(
                cbor::take_text_key(&mut algorithm, "type").ok_or(Status::MissingParameter)?,
            )?;
            es256 |= alg == COSE_ES256 && kind == "public-key";
        }
        if !es256 {
            return Err(Status::UnsupportedAlgorithm);
        }
        if !options.up {
            return Err(Status::InvalidOption);
        }

        let mut user_verified = false;
        if let Some(auth_param) = &auth_param {
            self.check_token(
                protocol,
                auth_param,
                &client_data_hash,
                permission::MAKE_CREDENTIAL,
                Some(&rp_id),
                false,
            )?;
            user_verified = true;
        } else if options.uv {
            self.built_in_uv(prompt)?;
            user_verified = true;
        } else if self.state.is_protected() {
            // No makeCredUvNotRqd: a protected key verifies the user for every new credential.
            return Err(Status::PuatRequired);
        } else if self.state.always_uv {
            return Err(Status::PinNotSet);
        }

        for descriptor in exclude_list {
            let Some(id) = descriptor_id(descriptor)? else {
                continue;
            };
            let excluded = self
                .state
                .credential(&id)
                .is_some_and(|c| c.rp_id == rp_id && (c.cred_protect < 3 || user_verified));
            if excluded {
                self.user_presence(prompt)?;
                return Err(Status::CredentialExcluded);
            }
        }

        let mut cred_protect = 1u8;
        let mut hmac_secret = false;
        for (key, value) in extensions {
            match cbor::into_text(key)?.as_str() {
                "credProtect" => {
                    cred_protect = u8::try_from(cbor::into_uint(value)?)
                        .ok()
                        .filter(|level| (1..=3).contains(level))
                        .ok_or(Status::InvalidOption)?;
                }
                "hmac-secret" => hmac_secret = cbor::into_bool(value)?,
                _ => {}
            }
        }

        self.user_presence(prompt)?;

        let discoverable = options.rk || self.settings.discoverable_by_default;
        if discoverable {
            self.state
                .credentials
                .retain(|c| !(c.discoverable && c.rp_id == rp_id && c.user_id == user_id));
            if self.state.discoverable_count() >= MAX_DISCOVERABLE_CREDENTIALS {
                return Err(Status::KeyStoreFull);
            }
        }
        let serial = self.state.next_serial;
        self.state.next_serial += 1;
        let credential = Credential {
            id: random_bytes(32),
            rp_id,
            rp_name,
            user_id,
            user_name,
            user_display_name,
            private_key: Zeroizing::new(new_p256_key().to_bytes().to_vec()),
            sign_count: 0,
            discoverable,
            cred_protect,
            cred_random: hmac_secret.then(|| CredRandom {
                without_uv: Zeroizing::new(random_bytes(32)),
                with_uv: Zeroizing::new(random_bytes(32)),
            }),
            serial,
        };

        let mut extension_outputs = BTreeMap::new();
        if cred_protect > 1 {
            extension_outputs.insert(
                Value::Text("credProtect".into()),
                Value::Integer(cred_protect.into()),
            );
        }
        if hmac_secret {
            extension_outputs.insert(Value::Text("hmac-secret".into()), Value::Bool(true));
        }
        let mut flags = FLAG_UP | FLAG_AT;
        if user_verified {
            flags |= FLAG_UV;
        }
        if !extension_outputs.is_empty() {
            flags |= FLAG_ED;
        }
        let id_length = u16::try_from(credential.id.len()).map_err(|_| Status::Other)?;
        let mut auth_data = Vec::with_capacity(200);
        auth_data.extend_from_slice(&rp_id_hash(&credential.rp_id));
        auth_data.push(flags);
        auth_data.extend_from_slice(&credential.sign_count.to_be_bytes());
        auth_data.extend_from_slice(AAGUID.as_bytes());
        auth_data.extend_from_slice(&id_length.to_be_bytes());
        auth_data.extend_from_slice(&credential.id);
        auth_data.extend_from_slice(&cbor::canonical(&cose_public_key(&credential)?)?);
        if !extension_outputs.is_empty() {
            auth_data.extend_from_slice(&cbor::canonical(&Value::Map(extension_outputs))?);
        }
        // Packed self attestation (WebAuthn §8.2): signed by the credential key itself.
        let signature = sign(&credential, &[&auth_data, &client_data_hash])?;
        self.state.credentials.push(credential);

        Ok(Reply::new()
            .with(0x01, Value::Text("packed".into()))
            .with(0x02, Value::Bytes(auth_data))
            .with(
                0x03,
                text_map([
                    ("alg", Value::Integer(COSE_ES256.into())),
                    ("sig", Value::Bytes(signature)),
                ]),
            ))
    }

    pub(crate) fn get_assertion(&mut self, body: &[u8], prompt: &dyn Fn()) -> CtapResult<Reply> {
        let mut params = Params::parse(body)?;
        let auth_param = params.bytes(0x06)?;
        if auth_param.as_ref().is_some_and(Vec::is_empty) {
            return Err(self.selection_probe(prompt));
        }
        let rp_id = params.text(0x01)?.ok_or(Status::MissingParameter)?;
        let client_data_hash = params.bytes(0x02)?.ok_or(Status::MissingParameter)?;
        let allow_list = params.array(0x03)?;
        let extensions = params.map(0x04)?.unwrap_or_default();
        let options = parse_options(params.map(0x05)?)?;
        let protocol = params.uint(0x07)?;
        if options.rk {
            return Err(Status::UnsupportedOption);
        }

        let mut user_verified = false;
        if let Some(auth_param) = &auth_param {
            self.check_token(
                protocol,
                auth_param,
                &client_data_hash,
                permission::GET_ASSERTION,
                Some(&rp_id),
                false,
            )?;
            user_verified = true;
        } else if options.uv {
            self.built_in_uv(prompt)?;
            user_verified = true;
        } else if self.state.always_uv && options.up {
            return Err(if self.state.is_protected() {
                Status::PuatRequired
            } else {
                Status::PinNotSet
            });
        }

        let from_allow_list = allow_list.is_some();
        let mut candidates: Vec<&Credential> = match allow_list {
            Some(list) => {
                let mut ids = Vec::new();
                for descriptor in list {
                    if let Some(id) = descriptor_id(descriptor)? {
                        ids.push(id);
                    }
                }
                self.state
                    .credentials
                    .iter()
                    .filter(|c| c.rp_id == rp_id && ids.contains(&c.id))
                    .collect()
            }
            None => self
                .state
                .credentials
                .iter()
                .filter(|c| c.rp_id == rp_id && c.discoverable)
                .collect(),
        };
        candidates.retain(|c| match c.cred_protect {
            3 => user_verified,
            2 => user_verified || from_allow_list,
            _ => true,
        });
        // Most recently created first (CTAP 2.1 §6.2.2 step 7).
        candidates.sort_by_key(|c| std::cmp::Reverse(c.serial));
        let ids: VecDeque<Vec<u8>> = candidates.iter().map(|c| c.id.clone()).collect();
        if ids.is_empty() {
            return Err(Status::NoCredentials);
        }
        if options.up {
            self.user_presence(prompt)?;
        }

        let mut flags = 0;
        if options.up {
            flags |= FLAG_UP;
        }
        if user_verified {
            flags |= FLAG_UV;
        }
        let mut ids = ids;
        let first = ids.pop_front().ok_or(Status::NoCredentials)?;
        let hmac_secret = extensions
            .into_iter()
            .find(|(key, _)| key == &Value::Text("hmac-secret".into()))
            .map(|(_, value)| value);
        let count = ids.len() + 1;
        let mut reply = self.assertion(
            &first,
            &rp_id,
            &client_data_hash,
            flags,
            !from_allow_list,
            hmac_secret,
        )?;
        if !from_allow_list && count > 1 {
            reply.set(0x05, u64::try_from(count).map_err(|_| Status::Other)?);
            self.volatile.pending.assertions = Some(PendingAssertions {
                client_data_hash,
                rp_id,
                flags,
                credential_ids: ids,
                started_at: self.now(),
            });
        }
        Ok(reply)
    }

    pub(crate) fn get_next_assertion(&mut self) -> CtapResult<Reply> {
        let mut pending = self
            .volatile
            .pending
            .assertions
            .take()
            .ok_or(Status::NotAllowed)?;
        if self.now().saturating_sub(pending.started_at) > NEXT_ASSERTION_WINDOW {
            return Err(Status::NotAllowed);
        }
        let id = pending
            .credential_ids
            .pop_front()
            .ok_or(Status::NotAllowed)?;
        let reply = self.assertion(
            &id,
            &pending.rp_id,
            &pending.client_data_hash,
            pending.flags,
            true,
            None,
        )?;
        if !pending.credential_ids.is_empty() {
            self.volatile.pending.assertions = Some(pending);
        }
        Ok(reply)
    }

    /// Signs one assertion and bumps the credential's signature counter.
    fn assertion(
        &mut self,
        credential_id: &[u8],
        rp_id: &str,
        client_data_hash: &[u8],
        mut flags: u8,
        include_user: bool,
        hmac_secret: Option<Value>,
    ) -> CtapResult<Reply> {
        let user_verified = flags & FLAG_UV != 0;
        let extension_output = match hmac_secret {
            Some(input) => self.hmac_secret(credential_id, input, user_verified)?,
            None => None,
        };
        let credential = self
            .state
            .credential_mut(credential_id)
            .ok_or(Status::NoCredentials)?;
        credential.sign_count = credential.sign_count.wrapping_add(1);
        let credential = credential.clone();
        if extension_output.is_some() {
            flags |= FLAG_ED;
        }
        let mut auth_data = Vec::with_capacity(128);
        auth_data.extend_from_slice(&rp_id_hash(rp_id));
        auth_data.push(flags);
        auth_data.extend_from_slice(&credential.sign_count.to_be_bytes());
        if let Some(output) = extension_output {
            let map = BTreeMap::from([(Value::Text("hmac-secret".into()), Value::Bytes(output))]);
            auth_data.extend_from_slice(&cbor::canonical(&Value::Map(map))?);
        }
        let signature = sign(&credential, &[&auth_data, client_data_hash])?;
        let mut reply = Reply::new()
            .with(
                0x01,
                text_map([
                    ("id", Value::Bytes(credential.id.clone())),
                    ("type", Value::Text("public-key".into())),
                ]),
            )
            .with(0x02, Value::Bytes(auth_data))
            .with(0x03, Value::Bytes(signature));
        if include_user && credential.discoverable {
            // Names only after user verification (CTAP 2.1 §6.2.2 step 12).
            let mut user = vec![("id", Value::Bytes(credential.user_id.clone()))];
            if user_verified {
                if let Some(name) = &credential.user_name {
                    user.push(("name", Value::Text(name.clone())));
                }
                if let Some(name) = &credential.user_display_name {
                    user.push(("displayName", Value::Text(name.clone())));
                }
            }
            let user = Value::Map(
                user.into_iter()
                    .map(|(k, v)| (Value::Text(k.into()), v))
                    .collect(),
            );
            reply.set(0x04, user);
        }
        Ok(reply)
    }
}
