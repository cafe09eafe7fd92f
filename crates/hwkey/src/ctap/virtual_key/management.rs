//! authenticatorCredentialManagement (CTAP 2.1 §6.8): metadata, RP and credential enumeration,
//! deletion and user-information updates for discoverable credentials.

use std::collections::{BTreeMap, VecDeque};

use serde_cbor_2::Value;
use sha2::{Digest, Sha256};

use super::{
    cbor::{self, Params, Reply, text_map},
    credentials::cose_public_key,
    device::{Device, permission},
    state::{Credential, MAX_DISCOVERABLE_CREDENTIALS},
    status::{CtapResult, Status},
};

mod sub {
    pub(super) const GET_CREDS_METADATA: u64 = 0x01;
    pub(super) const ENUMERATE_RPS_BEGIN: u64 = 0x02;
    pub(super) const ENUMERATE_RPS_NEXT: u64 = 0x03;
    pub(super) const ENUMERATE_CREDENTIALS_BEGIN: u64 = 0x04;
    pub(super) const ENUMERATE_CREDENTIALS_NEXT: u64 = 0x05;
    pub(super) const DELETE_CREDENTIAL: u64 = 0x06;
    pub(super) const UPDATE_USER_INFORMATION: u64 = 0x07;
}

fn rp_reply(rp_id: &str, rp_name: Option<&str>) -> Reply {
    let mut rp = vec![("id", Value::Text(rp_id.to_owned()))];
    if let Some(name) = rp_name {
        rp.push(("name", Value::Text(name.to_owned())));
    }
    let rp = Value::Map(
        rp.into_iter()
            .map(|(k, v)| (Value::Text(k.into()), v))
            .collect(),
    );
    Reply::new().with(0x03, rp).with(
        0x04,
        Value::Bytes(Sha256::digest(rp_id.as_bytes()).to_vec()),
    )
}

fn credential_reply(credential: &Credential) -> CtapResult<Reply> {
    let mut user = vec![("id", Value::Bytes(credential.user_id.clone()))];
    if let Some(name) = &credential.user_name {
        user.push(("name", Value::Text(name.clone())));
    }
    if let Some(name) = &credential.user_display_name {
        user.push(("displayName", Value::Text(name.clone())));
    }
    let user = Value::Map(
        user.into_iter()
            .map(|(k, v)| (Value::Text(k.into()), v))
            .collect(),
    );
    Ok(Reply::new()
        .with(0x06, user)
        .with(
            0x07,
            text_map([
                ("id", Value::Bytes(credential.id.clone())),
                ("type", Value::Text("public-key".into())),
            ]),
        )
        .with(0x08, cose_public_key(credential)?)
        .with(0x0a, u64::from(credential.cred_protect)))
}

/// The `id` of a `PublicKeyCredentialDescriptor` in `subCommandParams`.
fn credential_id(params: &mut Params) -> CtapResult<Vec<u8>> {
    let mut descriptor = params.map(0x02)?.ok_or(Status::MissingParameter)?;
    let id = cbor::take_text_key(&mut descriptor, "id").ok_or(Status::MissingParameter)?;
    cbor::into_bytes(id)
}

impl Device {
    pub(crate) fn credential_management(&mut self, body: &[u8]) -> CtapResult<Reply> {
        let mut params = Params::parse(body)?;
        let sub_command = params.uint(0x01)?.ok_or(Status::MissingParameter)?;
        let sub_params = params.take(0x02);
        let protocol = params.uint(0x03)?;
        let auth_param = params.bytes(0x04)?;

        match sub_command {
            sub::ENUMERATE_RPS_NEXT => return self.next_rp(),
            sub::ENUMERATE_CREDENTIALS_NEXT => return self.next_credential(),
            sub::GET_CREDS_METADATA
            | sub::ENUMERATE_RPS_BEGIN
            | sub::ENUMERATE_CREDENTIALS_BEGIN
            | sub::DELETE_CREDENTIAL
            | sub::UPDATE_USER_INFORMATION => {}
            _ => return Err(Status::InvalidSubcommand),
        }
        self.volatile.pending.rps = None;
        self.volatile.pending.credentials = None;

        // pinUvAuthParam = authenticate(token, subCommand || subCommandParams) (CTAP 2.1 §6.8.2).
        let auth_param = auth_param.ok_or(Status::PuatRequired)?;
        let mut message = vec![u8::try_from(sub_command).map_err(|_| Status::Other)?];
        if let Some(sub_params) = &sub_params {
            message.extend_from_slice(&cbor::canonical(sub_params)?);
        }
        // Credential-level subcommands may use a token bound to that credential's RP.
        let rp_scope = match (sub_command, &sub_params) {
            (sub::DELETE_CREDENTIAL | sub::UPDATE_USER_INFORMATION, Some(Value::Map(map))) => {
                peek_credential_id(map)
                    .and_then(|id| self.state.credential(&id).map(|c| c.rp_id.clone()))
            }
            _ => None,
        };
        let mut sub_params = match sub_params {
            Some(value) => Params::from_value(value)?,
            None => Params::default(),
        };
        self.check_token(
            protocol,
            &auth_param,
            &message,
            permission::CREDENTIAL_MANAGEMENT,
            rp_scope.as_deref(),
            false,
        )?;

        match sub_command {
            sub::GET_CREDS_METADATA => {
                let count = self.state.discoverable_count();
                Ok(Reply::new().with(0x01, count as u64).with(
                    0x02,
                    MAX_DISCOVERABLE_CREDENTIALS.saturating_sub(count) as u64,
                ))
            }
            sub::ENUMERATE_RPS_BEGIN => self.begin_rps(),
            sub::ENUMERATE_CREDENTIALS_BEGIN => {
                let hash = sub_params.bytes(0x01)?.ok_or(Status::MissingParameter)?;
                self.begin_credentials(&hash)
            }
            sub::DELETE_CREDENTIAL => {
                let id = credential_id(&mut sub_params)?;
                let before = self.state.credentials.len();
                self.state
                    .credentials
                    .retain(|c| !(c.discoverable && c.id == id));
                if self.state.credentials.len() == before {
                    return Err(Status::NoCredentials);
                }
                Ok(Reply::new())
            }
            _ => self.update_user(&mut sub_params),
        }
    }

    fn begin_rps(&mut self) -> CtapResult<Reply> {
        let mut rps: Vec<(String, Option<String>)> = Vec::new();
        for credential in self.state.credentials.iter().filter(|c| c.discoverable) {
            if !rps.iter().any(|(id, _)| id == &credential.rp_id) {
                rps.push((credential.rp_id.clone(), credential.rp_name.clone()));
            }
        }
        rps.sort();
        let total = rps.len() as u64;
        let mut rps = VecDeque::from(rps);
        let (rp_id, rp_name) = rps.pop_front().ok_or(Status::NoCredentials)?;
        self.volatile.pending.rps = Some(rps);
        let mut reply = rp_reply(&rp_id, rp_name.as_deref());
        reply.set(0x05, total);
        Ok(reply)
    }

    fn next_rp(&mut self) -> CtapResult<Reply> {
        let rps = self
            .volatile
            .pending
            .rps
            .as_mut()
            .ok_or(Status::NotAllowed)?;
        let (rp_id, rp_name) = rps.pop_front().ok_or(Status::NotAllowed)?;
        Ok(rp_reply(&rp_id, rp_name.as_deref()))
    }

    fn begin_credentials(&mut self, rp_id_hash: &[u8]) -> CtapResult<Reply> {
        let mut credentials: Vec<&Credential> = self
            .state
            .credentials
            .iter()
            .filter(|c| {
                c.discoverable && Sha256::digest(c.rp_id.as_bytes()).as_slice() == rp_id_hash
            })
            .collect();
        credentials.sort_by_key(|c| c.serial);
        let total = credentials.len() as u64;
        let mut ids: VecDeque<Vec<u8>> = credentials.iter().map(|c| c.id.clone()).collect();
        let first = ids.pop_front().ok_or(Status::NoCredentials)?;
        let credential = self.state.credential(&first).ok_or(Status::NoCredentials)?;
        let mut reply = credential_reply(credential)?;
        reply.set(0x09, total);
        self.volatile.pending.credentials = Some(ids);
        Ok(reply)
    }

    fn next_credential(&mut self) -> CtapResult<Reply> {
        let ids = self
            .volatile
            .pending
            .credentials
            .as_mut()
            .ok_or(Status::NotAllowed)?;
        let id = ids.pop_front().ok_or(Status::NotAllowed)?;
        let credential = self.state.credential(&id).ok_or(Status::NotAllowed)?;
        credential_reply(credential)
    }

    fn update_user(&mut self, params: &mut Params) -> CtapResult<Reply> {
        let id = credential_id(params)?;
        let mut user = params.map(0x03)?.ok_or(Status::MissingParameter)?;
        let user_id = cbor::into_bytes(
            cbor::take_text_key(&mut user, "id").ok_or(Status::MissingParameter)?,
        )?;
        let name = cbor::take_text_key(&mut user, "name")
            .map(cbor::into_text)
            .transpose()?;
        let display_name = cbor::take_text_key(&mut user, "displayName")
            .map(cbor::into_text)
            .transpose()?;
        let credential = self
            .state
            .credential_mut(&id)
            .filter(|c| c.discoverable)
            .ok_or(Status::NoCredentials)?;
        if credential.user_id != user_id {
            return Err(Status::InvalidParameter);
        }
        credential.user_name = name;
        credential.user_display_name = display_name;
        Ok(Reply::new())
    }
}

/// The credential ID in `subCommandParams`, read without consuming the map.
fn peek_credential_id(map: &BTreeMap<Value, Value>) -> Option<Vec<u8>> {
    let Value::Map(descriptor) = map.get(&Value::Integer(2))? else {
        return None;
    };
    match descriptor.get(&Value::Text("id".into()))? {
        Value::Bytes(id) => Some(id.clone()),
        _ => None,
    }
}
