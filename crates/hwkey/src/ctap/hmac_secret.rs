//! A security key as a vault unlock method, through the hmac-secret extension (CTAP 2.1 §12.5).
//!
//! At enrollment the key makes a credential with `hmac-secret: true` for [`VAULT_RP_ID`]
//! (authenticatorMakeCredential, §6.1); the key keeps two random CredRandom values inside that
//! credential, one for use with user verification and one without. Schild keeps the credential
//! id and a fresh random salt ([`HmacSecretCredential`]). To unlock, an authenticatorGetAssertion
//! (§6.2) with the touch of the user, and the PIN where the credential was made with it, asks the
//! key for HMAC-SHA-256(CredRandom, salt); the salt travels encrypted, and the answer comes back
//! encrypted, under a shared secret agreed with ECDH (clientPIN getKeyAgreement, §6.5.5.4, PIN/UV
//! auth protocol One or Two). HKDF-SHA-256 (RFC 5869) turns the 32-byte answer into an AES-256
//! key-encryption key ([`HmacSecretKek`]).
//!
//! The secret never exists outside the key until it is asked for, and only that key, holding
//! that credential, can give it: another key, or this key after a factory reset, cannot.
//!
//! webauthn-authenticator-rs 0.6 sends no extensions, so the requests are built here as CBOR (the
//! same `serde_cbor_2` values the library uses) and go through the key's `Token` like the
//! library's own; the PIN/UV auth protocols are the crate's ([`super::virtual_key`]'s, which
//! the library's PIN commands check against in the PIN tests).

use std::fmt;

use hkdf::Hkdf;
use rand::Rng as _;
use schild_core::provider::{KeyEncryptionKey, ProviderError, WrappedKey};
use schild_core::vault::LocalKek;
use serde::{Deserialize, Serialize};
use serde_cbor_2::Value;
use sha2::{Digest, Sha256};
use webauthn_authenticator_rs::{
    error::{CtapError, WebauthnCError},
    transport::Token,
};
use zeroize::Zeroizing;

mod auth_data;
mod requests;

use auth_data::AuthData;
use requests::{
    CLIENT_PIN, GET_ASSERTION, MAKE_CREDENTIAL, PERMISSION_GET_ASSERTION,
    PERMISSION_MAKE_CREDENTIAL, Parameters, int, text,
};

use super::{
    Aaguid, CredentialId, KeyError, KeyInfo, Pin, SecurityKey,
    observer::UiBridge,
    shared::SharedToken,
    virtual_key::pin_protocol::{PinProtocol, cose_key_agreement, new_p256_key, pin_hash},
};

/// The relying party id of vault credentials. Not a domain, so no website can ask for them.
pub const VAULT_RP_ID: &str = "schild-vault";

/// The length of the salt, and of the key's answer (CTAP 2.1 §12.5: salt1 is 32 bytes).
pub const SALT_LENGTH: usize = 32;

/// HKDF's info (RFC 5869 §3.2): names Schild and the purpose, so the key's answer is never used
/// as is, nor for anything else.
const HKDF_INFO: &[u8] = b"Schild vault key-encryption key from FIDO2 hmac-secret, v1";

const EXTENSION: &str = "hmac-secret";

/// What the vault stores to unlock with a security key: the credential made at enrollment and
/// the salt the key's secret is asked for. Not secret on its own (the secret needs the key, its
/// touch and, where [`user_verified`](Self::user_verified), its PIN), but it must be kept
/// unchanged: another salt gives another key. Serialises with the credential id and the salt as
/// base64url.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HmacSecretCredential {
    /// The credential id the key returned (non-discoverable: the key may keep nothing, the id is
    /// the credential).
    pub credential_id: CredentialId,
    /// The relying party id the credential was made for, normally [`VAULT_RP_ID`].
    pub rp_id: String,
    /// The salt, fresh and random for each enrollment.
    #[serde(with = "base64url_salt")]
    pub salt: [u8; SALT_LENGTH],
    /// The model of the key that made the credential (all zeros when it does not say).
    pub aaguid: Aaguid,
    /// Whether the credential was made, and must be used, with the PIN. The key answers with
    /// another CredRandom with user verification than without (CTAP 2.1 §12.5), so unlocking
    /// verifies the user exactly when enrollment did.
    pub user_verified: bool,
}

impl fmt::Debug for HmacSecretCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacSecretCredential")
            .field("credential_id", &self.credential_id.to_string())
            .field("rp_id", &self.rp_id)
            .field("aaguid", &self.aaguid)
            .field("user_verified", &self.user_verified)
            .finish_non_exhaustive()
    }
}

impl HmacSecretCredential {
    /// The id of the key-encryption key this credential gives:
    /// `fido2-hmac:<aaguid>:<first 16 hex digits of SHA-256(credential id)>`.
    pub fn key_id(&self) -> String {
        let digest = Sha256::digest(self.credential_id.as_bytes());
        let prefix: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("fido2-hmac:{}:{prefix}", self.aaguid)
    }
}

mod base64url_salt {
    use super::SALT_LENGTH;
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    use serde::{Deserialize as _, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(
        salt: &[u8; SALT_LENGTH],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&URL_SAFE_NO_PAD.encode(salt))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<[u8; SALT_LENGTH], D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(D::Error::custom)?;
        bytes
            .try_into()
            .map_err(|bytes: Vec<u8>| D::Error::invalid_length(bytes.len(), &"32 bytes"))
    }
}

/// Makes a vault credential on `key`, which must offer hmac-secret. The key asks for a touch
/// (through the key's observer). A key with a PIN needs it here and at every unlock; `pin` for a
/// key without one is refused ([`KeyError::PinNotSet`]).
///
/// Enrollment derives no secret yet: unlock once with [`HmacSecretKek::unlock`] (a second touch)
/// to get the key-encryption key, which also proves the new credential works.
pub async fn enroll_hmac_secret<T: Token>(
    key: &mut SecurityKey<T>,
    pin: Option<&Pin>,
) -> Result<HmacSecretCredential, KeyError> {
    key.refresh().await?;
    let info = key.info().clone();
    require_hmac_secret(&info)?;
    let pin = match (info.has_pin(), pin) {
        (true, None) => return Err(KeyError::PinRequired),
        (false, Some(_)) => return Err(KeyError::PinNotSet),
        (_, pin) => pin,
    };
    let observer = key.observer();
    let bridge = UiBridge::new(None, &*observer);
    let mut token = key.token().clone();
    let result = make_credential(&mut token, &bridge, &info, pin).await;
    finish(key, result).await
}

/// An AES-256 key-encryption key derived from a security key's hmac-secret, held in memory for
/// as long as the vault is open and wiped on drop. Wrapping happens in this process with
/// AES-256-GCM ([`LocalKek`]).
pub struct HmacSecretKek {
    kek: LocalKek,
}

impl fmt::Debug for HmacSecretKek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacSecretKek")
            .field("key_id", &self.kek.key_id())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl HmacSecretKek {
    /// Asks `key` for the secret of `credential` (a touch; the PIN when the credential was made
    /// with it, [`KeyError::PinRequired`] without) and derives the key-encryption key. The same
    /// key, credential and salt always give the same key-encryption key, under either PIN/UV
    /// auth protocol. A key without the credential fails with
    /// [`KeyError::HmacSecretCredentialMissing`]. A `pin` given for a credential made without
    /// one is not used.
    pub async fn unlock<T: Token>(
        key: &mut SecurityKey<T>,
        credential: &HmacSecretCredential,
        pin: Option<&Pin>,
    ) -> Result<Self, KeyError> {
        key.refresh().await?;
        let info = key.info().clone();
        require_hmac_secret(&info)?;
        let pin = match (credential.user_verified, pin) {
            (true, None) => return Err(KeyError::PinRequired),
            (true, Some(pin)) => Some(pin),
            (false, _) => None,
        };
        let observer = key.observer();
        let bridge = UiBridge::new(None, &*observer);
        let mut token = key.token().clone();
        let result = get_secret(&mut token, &bridge, &info, credential, pin).await;
        let secret = match result {
            Err(Failure::Ctap(WebauthnCError::Ctap(CtapError::Ctap2NoCredentials))) => {
                return Err(KeyError::HmacSecretCredentialMissing);
            }
            other => finish(key, other).await?,
        };
        let kek = LocalKek::new(credential.key_id(), derive_key(&secret)?).map_err(|error| {
            KeyError::Protocol {
                detail: error.to_string(),
            }
        })?;
        Ok(Self { kek })
    }
}

impl KeyEncryptionKey for HmacSecretKek {
    fn key_id(&self) -> &str {
        self.kek.key_id()
    }

    fn wrap(&self, data_key: &[u8], aad: &[u8]) -> Result<WrappedKey, ProviderError> {
        self.kek.wrap(data_key, aad)
    }

    fn unwrap(
        &self,
        wrapped: &WrappedKey,
        aad: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, ProviderError> {
        self.kek.unwrap(wrapped, aad)
    }
}

/// HKDF-SHA-256 (RFC 5869) from the key's answer to the key-encryption key, with no salt (the
/// answer is already uniformly random) and [`HKDF_INFO`].
fn derive_key(secret: &[u8; SALT_LENGTH]) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let mut okm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, secret)
        .expand(HKDF_INFO, okm.as_mut())
        .map_err(|_| protocol("HKDF output length"))?;
    Ok(okm)
}

fn require_hmac_secret(info: &KeyInfo) -> Result<(), KeyError> {
    if info.extensions.iter().any(|name| name == EXTENSION) {
        Ok(())
    } else {
        Err(KeyError::HmacSecretUnsupported)
    }
}

/// Protocol Two where the key offers it (HKDF-separated keys, random IVs, full MACs), else One.
/// A key that lists none is a CTAP 2.0 key, whose only protocol is One.
fn choose_protocol(info: &KeyInfo) -> Result<PinProtocol, KeyError> {
    if info.pin_protocols.contains(&2) {
        Ok(PinProtocol::Two)
    } else if info.pin_protocols.is_empty() || info.pin_protocols.contains(&1) {
        Ok(PinProtocol::One)
    } else {
        Err(KeyError::NotSupported {
            operation: "PIN/UV auth protocol 1 or 2",
        })
    }
}

/// A failure inside an operation: the key's own answer (mapped by [`finish`], which can ask
/// the key for its PIN retries) or one already understood.
enum Failure {
    Ctap(WebauthnCError),
    Key(KeyError),
}

impl From<WebauthnCError> for Failure {
    fn from(error: WebauthnCError) -> Self {
        Self::Ctap(error)
    }
}

impl From<KeyError> for Failure {
    fn from(error: KeyError) -> Self {
        Self::Key(error)
    }
}

async fn finish<T: Token, R>(
    key: &mut SecurityKey<T>,
    result: Result<R, Failure>,
) -> Result<R, KeyError> {
    match result {
        Ok(value) => Ok(value),
        Err(Failure::Key(error)) => Err(error),
        Err(Failure::Ctap(error)) => Err(key.pin_error(error).await),
    }
}

fn protocol(detail: &str) -> KeyError {
    KeyError::Protocol {
        detail: detail.to_owned(),
    }
}

fn random_32() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// Sends one command (its byte, then a CBOR map with integer keys) and returns the reply map.
async fn transmit<T: Token>(
    token: &mut SharedToken<T>,
    command: u8,
    parameters: Parameters,
    bridge: &UiBridge<'_>,
) -> Result<Parameters, Failure> {
    let request = requests::encode(command, parameters)?;
    let reply = token.transmit_raw(&request, bridge).await?;
    match serde_cbor_2::from_slice(&reply) {
        Ok(Value::Map(map)) => Ok(map),
        Ok(_) | Err(_) => Err(protocol("the key's reply is not a CBOR map").into()),
    }
}

fn take_bytes(map: &mut Parameters, key: i64, what: &str) -> Result<Vec<u8>, KeyError> {
    match map.remove(&int(key)) {
        Some(Value::Bytes(bytes)) => Ok(bytes),
        _ => Err(protocol(&format!("the reply has no {what}"))),
    }
}

/// The platform's half of a PIN/UV auth protocol session (CTAP 2.1 §6.5.4): its key-agreement
/// key, and the secret shared with the key.
struct Session {
    protocol: PinProtocol,
    platform_key: Value,
    shared: Zeroizing<Vec<u8>>,
}

impl Session {
    /// clientPIN getKeyAgreement, then ECDH with a fresh platform key.
    async fn agree<T: Token>(
        token: &mut SharedToken<T>,
        bridge: &UiBridge<'_>,
        protocol: PinProtocol,
    ) -> Result<Self, Failure> {
        let parameters = requests::key_agreement(protocol);
        let mut reply = transmit(token, CLIENT_PIN, parameters, bridge).await?;
        let key_agreement = reply
            .remove(&int(0x01))
            .ok_or_else(|| protocol_error("getKeyAgreement answered without keyAgreement"))?;
        let own = new_p256_key();
        let shared = protocol
            .shared_secret(&own, key_agreement)
            .map_err(|_| protocol_error("the key's key-agreement key is not a P-256 point"))?;
        let platform_key = cose_key_agreement(&own)
            .map_err(|_| protocol_error("cannot encode the platform's key-agreement key"))?;
        Ok(Self {
            protocol,
            platform_key,
            shared,
        })
    }

    /// A pinUvAuthToken for `permissions` on `rp_id` (CTAP 2.1 §6.5.5.7.2), or, from a key
    /// without permission-scoped tokens, the CTAP 2.0 getPinToken (§6.5.5.7.1).
    async fn pin_token<T: Token>(
        &self,
        token: &mut SharedToken<T>,
        bridge: &UiBridge<'_>,
        info: &KeyInfo,
        pin: &Pin,
        permissions: u8,
        rp_id: &str,
    ) -> Result<Zeroizing<Vec<u8>>, Failure> {
        let pin_hash_enc = self
            .protocol
            .encrypt(&self.shared, &pin_hash(pin.expose().as_bytes()))
            .map_err(|_| protocol_error("cannot encrypt the PIN hash"))?;
        let scope = info
            .options
            .pin_uv_auth_token
            .then_some((permissions, rp_id));
        let parameters = requests::pin_token(
            self.protocol,
            self.platform_key.clone(),
            pin_hash_enc,
            scope,
        );
        let mut reply = transmit(token, CLIENT_PIN, parameters, bridge).await?;
        let encrypted = take_bytes(&mut reply, 0x02, "pinUvAuthToken")?;
        self.protocol
            .decrypt(&self.shared, &encrypted)
            .map_err(|_| protocol_error("cannot decrypt the pinUvAuthToken"))
    }
}

fn protocol_error(detail: &str) -> Failure {
    Failure::Key(protocol(detail))
}

async fn make_credential<T: Token>(
    token: &mut SharedToken<T>,
    bridge: &UiBridge<'_>,
    info: &KeyInfo,
    pin: Option<&Pin>,
) -> Result<HmacSecretCredential, Failure> {
    let client_data_hash = random_32();
    let mut auth = None;
    if let Some(pin) = pin {
        let protocol = choose_protocol(info)?;
        let session = Session::agree(token, bridge, protocol).await?;
        let pin_token = session
            .pin_token(
                token,
                bridge,
                info,
                pin,
                PERMISSION_MAKE_CREDENTIAL,
                VAULT_RP_ID,
            )
            .await?;
        let param = protocol
            .authenticate(&pin_token, &client_data_hash)
            .map_err(|_| protocol_error("cannot authenticate with the pinUvAuthToken"))?;
        auth = Some((param, protocol));
    }
    // The vault's "user": random, since a non-discoverable credential never shows it.
    let user_id = random_32();
    let parameters = requests::make_credential(&client_data_hash, &user_id[..16], auth);
    let mut reply = transmit(token, MAKE_CREDENTIAL, parameters, bridge).await?;
    let auth_data = take_bytes(&mut reply, 0x02, "authData")?;
    let auth_data = AuthData::parse(&auth_data)?;
    auth_data.check(VAULT_RP_ID, pin.is_some())?;
    let Some((aaguid, credential_id)) = auth_data.attested else {
        return Err(protocol_error(
            "makeCredential answered without a credential",
        ));
    };
    if auth_data.extensions.get(&text(EXTENSION)) != Some(&Value::Bool(true)) {
        return Err(KeyError::HmacSecretUnsupported.into());
    }
    let mut salt = [0u8; SALT_LENGTH];
    rand::rng().fill_bytes(&mut salt);
    Ok(HmacSecretCredential {
        credential_id: CredentialId::from(credential_id),
        rp_id: VAULT_RP_ID.to_owned(),
        salt,
        aaguid: Aaguid(uuid::Uuid::from_bytes(aaguid)),
        user_verified: pin.is_some(),
    })
}

async fn get_secret<T: Token>(
    token: &mut SharedToken<T>,
    bridge: &UiBridge<'_>,
    info: &KeyInfo,
    credential: &HmacSecretCredential,
    pin: Option<&Pin>,
) -> Result<Zeroizing<[u8; SALT_LENGTH]>, Failure> {
    let protocol = choose_protocol(info)?;
    let session = Session::agree(token, bridge, protocol).await?;
    let unexpected = |_| protocol_error("the PIN/UV auth protocol failed on our side");
    let salt_enc = protocol
        .encrypt(&session.shared, &credential.salt)
        .map_err(unexpected)?;
    let salt_auth = protocol
        .authenticate(&session.shared, &salt_enc)
        .map_err(unexpected)?;
    let input =
        requests::hmac_secret_input(protocol, session.platform_key.clone(), salt_enc, salt_auth);
    let client_data_hash = random_32();
    let mut auth = None;
    if let Some(pin) = pin {
        let pin_token = session
            .pin_token(
                token,
                bridge,
                info,
                pin,
                PERMISSION_GET_ASSERTION,
                &credential.rp_id,
            )
            .await?;
        let param = protocol
            .authenticate(&pin_token, &client_data_hash)
            .map_err(unexpected)?;
        auth = Some((param, protocol));
    }
    let parameters = requests::get_assertion(
        &credential.rp_id,
        &client_data_hash,
        credential.credential_id.as_bytes(),
        input,
        auth,
    );
    let mut reply = transmit(token, GET_ASSERTION, parameters, bridge).await?;
    let auth_data = take_bytes(&mut reply, 0x02, "authData")?;
    let auth_data = AuthData::parse(&auth_data)?;
    auth_data.check(&credential.rp_id, pin.is_some())?;
    let Some(Value::Bytes(encrypted)) = auth_data.extensions.get(&text(EXTENSION)) else {
        return Err(KeyError::HmacSecretUnsupported.into());
    };
    let output = protocol
        .decrypt(&session.shared, encrypted)
        .map_err(|_| protocol_error("cannot decrypt the hmac-secret output"))?;
    let secret: [u8; SALT_LENGTH] = output
        .as_slice()
        .try_into()
        .map_err(|_| protocol_error("the hmac-secret output is not 32 bytes"))?;
    Ok(Zeroizing::new(secret))
}
