//! authenticatorGetInfo, authenticatorConfig, authenticatorReset and authenticatorSelection
//! (CTAP 2.1 §6.4, §6.11, §6.6, §6.9).

use std::time::Duration;

use serde_cbor_2::Value;

use super::{
    AAGUID, FIRMWARE_VERSION,
    cbor::{self, MAX_MESSAGE_SIZE, Params, Reply, text_map},
    device::{Device, command, permission},
    state::{KeyState, MAX_DISCOVERABLE_CREDENTIALS},
    status::{CtapResult, Status},
};

/// authenticatorReset is only honoured this soon after power-up (CTAP 2.1 §6.6: 10 seconds).
const RESET_WINDOW: Duration = crate::ctap::RESET_WINDOW;

mod sub {
    pub(super) const ENABLE_ENTERPRISE_ATTESTATION: u64 = 0x01;
    pub(super) const TOGGLE_ALWAYS_UV: u64 = 0x02;
    pub(super) const SET_MIN_PIN_LENGTH: u64 = 0x03;
}

fn text_array(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| Value::Text((*s).to_owned())).collect())
}

impl Device {
    pub(crate) fn get_info(&self) -> CtapResult<Reply> {
        let fingerprints = !self.state.fingerprints.is_empty();
        let options = [
            ("rk", true),
            ("up", true),
            ("plat", false),
            ("clientPin", self.state.pin.is_some()),
            ("credMgmt", true),
            ("authnrCfg", true),
            ("bioEnroll", fingerprints),
            ("uv", fingerprints),
            ("pinUvAuthToken", true),
            ("alwaysUv", self.state.always_uv),
            ("setMinPINLength", true),
        ];
        let options = Value::Map(
            options
                .into_iter()
                .map(|(k, v)| (Value::Text(k.to_owned()), Value::Bool(v)))
                .collect(),
        );
        let protocols = Value::Array(
            self.settings
                .protocols
                .iter()
                .map(|p| Value::Integer(p.number().into()))
                .collect(),
        );
        let remaining =
            MAX_DISCOVERABLE_CREDENTIALS.saturating_sub(self.state.discoverable_count()) as u64;
        let mut reply = Reply::new()
            .with(0x01, text_array(&["FIDO_2_0", "FIDO_2_1"]))
            .with(0x02, text_array(&["credProtect", "hmac-secret"]))
            .with(0x03, Value::Bytes(AAGUID.as_bytes().to_vec()))
            .with(0x04, options)
            .with(0x05, MAX_MESSAGE_SIZE as u64)
            .with(0x06, protocols)
            .with(0x07, 8u64)
            .with(0x08, 64u64)
            .with(0x09, text_array(&["usb"]))
            .with(
                0x0a,
                Value::Array(vec![text_map([
                    ("alg", Value::Integer(-7)),
                    ("type", Value::Text("public-key".into())),
                ])]),
            )
            .with(0x0d, u64::from(self.state.min_pin_length))
            .with(0x0e, u64::from(FIRMWARE_VERSION))
            .with(0x14, remaining);
        if self.state.force_pin_change {
            reply.set(0x0c, true);
        }
        Ok(reply)
    }

    pub(crate) fn config(&mut self, body: &[u8]) -> CtapResult<Reply> {
        let mut params = Params::parse(body)?;
        let sub_command = params.uint(0x01)?.ok_or(Status::MissingParameter)?;
        let sub_params = params.take(0x02);
        let protocol = params.uint(0x03)?;
        let auth_param = params.bytes(0x04)?;

        // A key without any user verification may be configured freely (CTAP 2.1 §6.11 step 4).
        if let Some(auth_param) = auth_param {
            // pinUvAuthParam = authenticate(token, 32×0xff || 0x0d || subCommand || subCommandParams).
            let mut message = vec![0xff; 32];
            message.push(command::CONFIG);
            message.push(u8::try_from(sub_command).map_err(|_| Status::InvalidSubcommand)?);
            if let Some(sub_params) = &sub_params {
                message.extend_from_slice(&cbor::canonical(sub_params)?);
            }
            self.check_token(
                protocol,
                &auth_param,
                &message,
                permission::AUTHENTICATOR_CONFIG,
                None,
                false,
            )?;
        } else if self.state.is_protected() {
            return Err(Status::PuatRequired);
        }

        match sub_command {
            sub::TOGGLE_ALWAYS_UV => {
                self.state.always_uv = !self.state.always_uv;
                Ok(Reply::new())
            }
            sub::SET_MIN_PIN_LENGTH => {
                let mut sub_params = match sub_params {
                    Some(value) => Params::from_value(value)?,
                    None => Params::default(),
                };
                let new_length = sub_params.uint(0x01)?;
                // minPinLengthRPIDs (0x02) is accepted and ignored: the key has no minPinLength extension.
                sub_params.array(0x02)?;
                let force_change = sub_params.boolean(0x03)?.unwrap_or(false);
                if let Some(new_length) = new_length {
                    let new_length = u8::try_from(new_length)
                        .ok()
                        .filter(|length| *length <= 63)
                        .ok_or(Status::PinPolicyViolation)?;
                    if new_length < self.state.min_pin_length {
                        return Err(Status::PinPolicyViolation);
                    }
                    self.state.min_pin_length = new_length;
                }
                if force_change && self.state.pin.is_none() {
                    return Err(Status::PinNotSet);
                }
                let too_short =
                    self.state.pin.as_ref().is_some_and(|pin| {
                        pin.code_points < usize::from(self.state.min_pin_length)
                    });
                if force_change || too_short {
                    self.state.force_pin_change = true;
                }
                Ok(Reply::new())
            }
            sub::ENABLE_ENTERPRISE_ATTESTATION => Err(Status::UnsupportedOption),
            _ => Err(Status::InvalidSubcommand),
        }
    }

    /// Factory reset: only within [`RESET_WINDOW`] of power-up, and only with a touch.
    pub(crate) fn reset(&mut self, prompt: &dyn Fn()) -> CtapResult<Reply> {
        if self.now().saturating_sub(self.volatile.powered_at) > RESET_WINDOW {
            return Err(Status::NotAllowed);
        }
        self.user_presence(prompt)?;
        self.state = KeyState {
            next_serial: self.state.next_serial,
            ..KeyState::default()
        };
        let powered_at = self.volatile.powered_at;
        self.power_cycle();
        // Resetting does not restart the reset window.
        self.volatile.powered_at = powered_at;
        Ok(Reply::new())
    }

    pub(crate) fn selection(&self, prompt: &dyn Fn()) -> CtapResult<Reply> {
        self.user_presence(prompt)?;
        Ok(Reply::new())
    }
}
