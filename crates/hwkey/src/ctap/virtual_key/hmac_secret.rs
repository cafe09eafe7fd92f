//! The hmac-secret extension for assertions (CTAP 2.1 §12.5): HMAC-SHA-256 of the platform's
//! salts under the credential's CredRandom, encrypted to the PIN/UV protocol's shared secret.

use serde_cbor_2::Value;
use zeroize::Zeroizing;

use super::{
    cbor::Params,
    device::Device,
    pin_protocol::{PinProtocol, hmac_sha256},
    status::{CtapResult, Status},
};

impl Device {
    /// The hmac-secret extension (CTAP 2.1 §12.5): HMAC-SHA-256 of the platform's salts under the
    /// credential's CredRandom, encrypted to the shared secret.
    pub(super) fn hmac_secret(
        &self,
        credential_id: &[u8],
        input: Value,
        user_verified: bool,
    ) -> CtapResult<Option<Vec<u8>>> {
        let mut input = Params::from_value(input)?;
        let platform_key = input.take(0x01).ok_or(Status::MissingParameter)?;
        let salt_enc = input.bytes(0x02)?.ok_or(Status::MissingParameter)?;
        let salt_auth = input.bytes(0x03)?.ok_or(Status::MissingParameter)?;
        let protocol = match input.uint(0x04)? {
            Some(number) => self.protocol(Some(number))?,
            None => PinProtocol::One,
        };
        let shared = protocol.shared_secret(&self.volatile.key_agreement, platform_key)?;
        protocol.verify(&shared, &salt_enc, &salt_auth, false)?;
        let salts = protocol.decrypt(&shared, &salt_enc)?;
        if salts.len() != 32 && salts.len() != 64 {
            return Err(Status::InvalidLength);
        }
        let Some(credential) = self.state.credential(credential_id) else {
            return Err(Status::NoCredentials);
        };
        let Some(cred_random) = &credential.cred_random else {
            return Ok(None);
        };
        let cred_random = if user_verified {
            &cred_random.with_uv
        } else {
            &cred_random.without_uv
        };
        let mut output = Zeroizing::new(Vec::with_capacity(salts.len()));
        for salt in salts.chunks(32) {
            output.extend_from_slice(&hmac_sha256(cred_random, salt)?);
        }
        Ok(Some(protocol.encrypt(&shared, &output)?))
    }
}
