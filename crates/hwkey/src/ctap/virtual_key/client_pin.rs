//! authenticatorClientPIN (CTAP 2.1 §6.5): retries, key agreement, set/change PIN and tokens.

use serde_cbor_2::Value;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{
    cbor::{Params, Reply},
    device::{Device, PinToken, permission},
    pin_protocol::{PinProtocol, cose_key_agreement, new_p256_key, pin_hash, random_bytes},
    state::{MAX_PIN_RETRIES, StoredPin},
    status::{CtapResult, Status},
};

/// Consecutive wrong PINs after which the key wants a power cycle (CTAP 2.1 §6.5.5.5).
const PIN_FAILURES_BEFORE_POWER_CYCLE: u8 = 3;
/// Longest PIN in bytes (CTAP 2.1 §6.5.5.5: the padded PIN block is 64 bytes with a terminator).
const MAX_PIN_BYTES: usize = 63;

mod sub {
    pub(super) const GET_PIN_RETRIES: u64 = 0x01;
    pub(super) const GET_KEY_AGREEMENT: u64 = 0x02;
    pub(super) const SET_PIN: u64 = 0x03;
    pub(super) const CHANGE_PIN: u64 = 0x04;
    pub(super) const GET_PIN_TOKEN: u64 = 0x05;
    pub(super) const GET_TOKEN_USING_UV: u64 = 0x06;
    pub(super) const GET_UV_RETRIES: u64 = 0x07;
    pub(super) const GET_TOKEN_USING_PIN: u64 = 0x09;
}

impl Device {
    pub(crate) fn client_pin(&mut self, body: &[u8], prompt: &dyn Fn()) -> CtapResult<Reply> {
        let mut params = Params::parse(body)?;
        let protocol = params.uint(0x01)?;
        let sub_command = params.uint(0x02)?.ok_or(Status::MissingParameter)?;
        match sub_command {
            sub::GET_PIN_RETRIES => Ok(Reply::new()
                .with(0x03, u64::from(self.state.pin_retries))
                .with(0x04, self.power_cycle_required())),
            sub::GET_UV_RETRIES => Ok(Reply::new().with(0x05, u64::from(self.state.uv_retries))),
            sub::GET_KEY_AGREEMENT => {
                self.protocol(protocol)?;
                Ok(Reply::new().with(0x01, cose_key_agreement(&self.volatile.key_agreement)?))
            }
            sub::SET_PIN => self.set_pin(protocol, params),
            sub::CHANGE_PIN => self.change_pin(protocol, params),
            sub::GET_PIN_TOKEN => {
                // getPinToken (superseded) grants mc and ga (CTAP 2.1 §6.5.5.7.1).
                let permissions = permission::MAKE_CREDENTIAL | permission::GET_ASSERTION;
                self.token_using_pin(protocol, params, permissions, None)
            }
            sub::GET_TOKEN_USING_PIN => {
                let permissions = self.requested_permissions(&mut params)?;
                let rp_id = params.text(0x0a)?;
                self.token_using_pin(protocol, params, permissions, rp_id)
            }
            sub::GET_TOKEN_USING_UV => {
                let permissions = self.requested_permissions(&mut params)?;
                let rp_id = params.text(0x0a)?;
                self.token_using_uv(protocol, params, permissions, rp_id, prompt)
            }
            _ => Err(Status::InvalidSubcommand),
        }
    }

    fn power_cycle_required(&self) -> bool {
        self.volatile.consecutive_pin_failures >= PIN_FAILURES_BEFORE_POWER_CYCLE
    }

    fn requested_permissions(&self, params: &mut Params) -> CtapResult<u8> {
        let permissions = params.uint(0x09)?.ok_or(Status::MissingParameter)?;
        let permissions = u8::try_from(permissions).map_err(|_| Status::InvalidParameter)?;
        if permissions == 0 {
            return Err(Status::InvalidParameter);
        }
        // Large-blob write (0x10) is not supported; unknown bits are refused.
        let supported = permission::MAKE_CREDENTIAL
            | permission::GET_ASSERTION
            | permission::CREDENTIAL_MANAGEMENT
            | permission::BIO_ENROLLMENT
            | permission::AUTHENTICATOR_CONFIG;
        if permissions & !supported != 0 {
            return Err(Status::UnauthorizedPermission);
        }
        Ok(permissions)
    }

    /// The shared secret with the platform's `keyAgreement` (parameter 0x03).
    fn shared_secret(
        &self,
        protocol: PinProtocol,
        params: &mut Params,
    ) -> CtapResult<Zeroizing<Vec<u8>>> {
        let platform_key = params.take(0x03).ok_or(Status::MissingParameter)?;
        protocol.shared_secret(&self.volatile.key_agreement, platform_key)
    }

    fn set_pin(&mut self, protocol: Option<u64>, mut params: Params) -> CtapResult<Reply> {
        let protocol = self.protocol(protocol)?;
        let auth_param = params.bytes(0x04)?.ok_or(Status::MissingParameter)?;
        let new_pin_enc = params.bytes(0x05)?.ok_or(Status::MissingParameter)?;
        let shared = self.shared_secret(protocol, &mut params)?;
        if self.state.pin.is_some() {
            return Err(Status::NotAllowed);
        }
        protocol.verify(&shared, &new_pin_enc, &auth_param, false)?;
        let new_pin = self.decrypt_new_pin(protocol, &shared, &new_pin_enc)?;
        self.state.pin = Some(new_pin);
        self.state.pin_retries = MAX_PIN_RETRIES;
        Ok(Reply::new())
    }

    fn change_pin(&mut self, protocol: Option<u64>, mut params: Params) -> CtapResult<Reply> {
        let protocol = self.protocol(protocol)?;
        let auth_param = params.bytes(0x04)?.ok_or(Status::MissingParameter)?;
        let new_pin_enc = params.bytes(0x05)?.ok_or(Status::MissingParameter)?;
        let pin_hash_enc = params.bytes(0x06)?.ok_or(Status::MissingParameter)?;
        let shared = self.shared_secret(protocol, &mut params)?;
        self.check_pin_attempt_allowed()?;
        let message = [new_pin_enc.as_slice(), pin_hash_enc.as_slice()].concat();
        protocol.verify(&shared, &message, &auth_param, false)?;
        self.verify_pin_hash(protocol, &shared, &pin_hash_enc)?;
        let new_pin = self.decrypt_new_pin(protocol, &shared, &new_pin_enc)?;
        self.state.pin = Some(new_pin);
        self.state.force_pin_change = false;
        // A new PIN invalidates every token issued under the old one.
        self.volatile.token = None;
        Ok(Reply::new())
    }

    fn token_using_pin(
        &mut self,
        protocol: Option<u64>,
        mut params: Params,
        permissions: u8,
        rp_id: Option<String>,
    ) -> CtapResult<Reply> {
        let protocol = self.protocol(protocol)?;
        let pin_hash_enc = params.bytes(0x06)?.ok_or(Status::MissingParameter)?;
        let shared = self.shared_secret(protocol, &mut params)?;
        self.check_pin_attempt_allowed()?;
        self.verify_pin_hash(protocol, &shared, &pin_hash_enc)?;
        if self.state.force_pin_change {
            return Err(Status::PinPolicyViolation);
        }
        self.issue_token(protocol, &shared, permissions, rp_id)
    }

    fn token_using_uv(
        &mut self,
        protocol: Option<u64>,
        mut params: Params,
        permissions: u8,
        rp_id: Option<String>,
        prompt: &dyn Fn(),
    ) -> CtapResult<Reply> {
        let protocol = self.protocol(protocol)?;
        let shared = self.shared_secret(protocol, &mut params)?;
        if self.state.fingerprints.is_empty() {
            return Err(Status::NotAllowed);
        }
        // Without uvBioEnroll / uvAcfg, fingerprints cannot grant be or acfg (CTAP 2.1 §6.5.5.7.3).
        if permissions & (permission::BIO_ENROLLMENT | permission::AUTHENTICATOR_CONFIG) != 0 {
            return Err(Status::UnauthorizedPermission);
        }
        self.built_in_uv(prompt)?;
        self.issue_token(protocol, &shared, permissions, rp_id)
    }

    fn issue_token(
        &mut self,
        protocol: PinProtocol,
        shared: &[u8],
        permissions: u8,
        rp_id: Option<String>,
    ) -> CtapResult<Reply> {
        // A fresh token each time invalidates the previous one (CTAP 2.1 §6.5.2.1 resetPinUvAuthToken).
        let secret = Zeroizing::new(random_bytes(32));
        let encrypted = protocol.encrypt(shared, &secret)?;
        self.volatile.token = Some(PinToken {
            secret,
            permissions,
            rp_id,
            issued_at: self.now(),
        });
        Ok(Reply::new().with(0x02, Value::Bytes(encrypted)))
    }

    fn check_pin_attempt_allowed(&self) -> CtapResult<()> {
        if self.state.pin.is_none() {
            return Err(Status::PinNotSet);
        }
        if self.state.pin_retries == 0 {
            return Err(Status::PinBlocked);
        }
        if self.power_cycle_required() {
            return Err(Status::PinAuthBlocked);
        }
        Ok(())
    }

    /// CTAP 2.1 §6.5.5.5 steps for `pinHashEnc`: spend a retry first, then compare in constant time.
    fn verify_pin_hash(
        &mut self,
        protocol: PinProtocol,
        shared: &[u8],
        pin_hash_enc: &[u8],
    ) -> CtapResult<()> {
        self.state.pin_retries = self.state.pin_retries.saturating_sub(1);
        let presented = protocol.decrypt(shared, pin_hash_enc)?;
        let matches = match &self.state.pin {
            Some(stored) => presented.len() == 16 && bool::from(stored.hash.ct_eq(&presented[..])),
            None => false,
        };
        if matches {
            self.state.pin_retries = MAX_PIN_RETRIES;
            self.volatile.consecutive_pin_failures = 0;
            return Ok(());
        }
        // A wrong PIN also rotates the key-agreement key, so the platform must start over.
        self.volatile.key_agreement = new_p256_key();
        self.volatile.consecutive_pin_failures =
            self.volatile.consecutive_pin_failures.saturating_add(1);
        Err(if self.state.pin_retries == 0 {
            Status::PinBlocked
        } else if self.power_cycle_required() {
            Status::PinAuthBlocked
        } else {
            Status::PinInvalid
        })
    }

    /// Decrypts `newPinEnc` and applies the PIN policy: 64-byte padded block, at least
    /// `minPINLength` code points, at most 63 bytes, valid UTF-8.
    fn decrypt_new_pin(
        &self,
        protocol: PinProtocol,
        shared: &[u8],
        new_pin_enc: &[u8],
    ) -> CtapResult<StoredPin> {
        let padded = protocol.decrypt(shared, new_pin_enc)?;
        if padded.len() != 64 {
            return Err(Status::InvalidParameter);
        }
        let length = padded.iter().position(|&b| b == 0).unwrap_or(padded.len());
        if length > MAX_PIN_BYTES {
            return Err(Status::PinPolicyViolation);
        }
        let pin = &padded[..length];
        let text = std::str::from_utf8(pin).map_err(|_| Status::PinPolicyViolation)?;
        let code_points = text.chars().count();
        if code_points < usize::from(self.state.min_pin_length) {
            return Err(Status::PinPolicyViolation);
        }
        Ok(StoredPin {
            hash: pin_hash(pin),
            code_points,
        })
    }
}
