//! What a key says about itself (authenticatorGetInfo, CTAP 2.1 §6.4), for people.

use std::fmt;

use webauthn_authenticator_rs::ctap2::GetInfoResponse;
use webauthn_rs_proto::AuthenticatorTransport;

pub use schild_core::authenticator::Aaguid;

/// How the key is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyTransport {
    /// USB HID.
    Usb,
    /// NFC through a PC/SC reader.
    Nfc,
    /// Bluetooth Low Energy.
    Ble,
    /// The in-process virtual key.
    Virtual,
    /// Something else.
    Other,
}

impl From<AuthenticatorTransport> for KeyTransport {
    fn from(transport: AuthenticatorTransport) -> Self {
        match transport {
            AuthenticatorTransport::Usb => Self::Usb,
            AuthenticatorTransport::Nfc => Self::Nfc,
            AuthenticatorTransport::Ble => Self::Ble,
            AuthenticatorTransport::Test => Self::Virtual,
            _ => Self::Other,
        }
    }
}

impl fmt::Display for KeyTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Usb => "USB",
            Self::Nfc => "NFC",
            Self::Ble => "Bluetooth",
            Self::Virtual => "virtual",
            Self::Other => "other",
        })
    }
}

/// The feature switches a key reports. `None`: the key does not support the feature;
/// `Some(false)`: supported but not set up; `Some(true)`: set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyOptions {
    /// A PIN is supported (`Some`) and set (`Some(true)`).
    pub client_pin: Option<bool>,
    /// Built-in user verification (fingerprint) is supported and set up.
    pub uv: Option<bool>,
    /// Fingerprint enrollment is supported, and at least one fingerprint is enrolled.
    pub bio_enroll: Option<bool>,
    /// Discoverable credentials can be listed and deleted.
    pub cred_mgmt: bool,
    /// "Always require user verification" is supported and on.
    pub always_uv: Option<bool>,
    /// Authenticator configuration commands (always-UV, minimum PIN length) are supported.
    pub authenticator_config: bool,
    /// The key issues PIN tokens scoped to permissions and a relying party
    /// (getPinUvAuthTokenUsingPinWithPermissions, CTAP 2.1 §6.5.5.7.2); otherwise only the
    /// CTAP 2.0 getPinToken.
    pub pin_uv_auth_token: bool,
}

/// A summary of a key, from authenticatorGetInfo and getPinRetries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// How the key is connected.
    pub transport: KeyTransport,
    /// The model identifier the key claims.
    pub aaguid: Option<Aaguid>,
    /// The model name for the AAGUID, when the bundled table knows it.
    pub model: Option<&'static str>,
    /// CTAP versions (`FIDO_2_0`, `FIDO_2_1`, …).
    pub versions: Vec<String>,
    /// Supported extensions (`credProtect`, `hmac-secret`, …).
    pub extensions: Vec<String>,
    /// PIN/UV auth protocols the key supports, in its order of preference (CTAP 2.1 §6.4
    /// pinUvAuthProtocols: 1 and 2).
    pub pin_protocols: Vec<u32>,
    /// Feature switches.
    pub options: KeyOptions,
    /// Firmware version, where the key reports one.
    pub firmware_version: Option<u64>,
    /// PIN attempts left before the PIN blocks, where the key has a PIN.
    pub pin_retries: Option<u32>,
    /// The key wants to be unplugged before it accepts another PIN.
    pub power_cycle_required: bool,
    /// The key's minimum PIN length in Unicode code points.
    pub min_pin_length: usize,
    /// The key demands a PIN change before use.
    pub force_pin_change: bool,
    /// How many more discoverable credentials fit, where the key says.
    pub remaining_discoverable_credentials: Option<u32>,
}

impl KeyInfo {
    pub(crate) fn new(
        transport: KeyTransport,
        info: &GetInfoResponse,
        pin_retries: Option<u32>,
        power_cycle_required: bool,
    ) -> Self {
        let aaguid = info.aaguid.filter(|a| !a.is_nil()).map(Aaguid);
        Self {
            transport,
            aaguid,
            model: aaguid.and_then(Aaguid::model),
            versions: info.versions.iter().cloned().collect(),
            extensions: info.extensions.clone().unwrap_or_default(),
            pin_protocols: info.pin_protocols.clone().unwrap_or_default(),
            options: KeyOptions {
                client_pin: info.get_option("clientPin"),
                uv: info.get_option("uv"),
                bio_enroll: info
                    .ctap21_biometrics()
                    .or_else(|| info.ctap21pre_biometrics()),
                cred_mgmt: info.ctap21_credential_management()
                    || info.ctap21pre_credential_management(),
                always_uv: info.get_option("alwaysUv"),
                authenticator_config: info.supports_config(),
                pin_uv_auth_token: info.get_option("pinUvAuthToken") == Some(true),
            },
            firmware_version: info.firmware_version.and_then(|v| u64::try_from(v).ok()),
            pin_retries,
            power_cycle_required,
            min_pin_length: info.get_min_pin_length(),
            force_pin_change: info.force_pin_change,
            remaining_discoverable_credentials: info.remaining_discoverable_credentials,
        }
    }

    /// Whether the key has a PIN set.
    pub fn has_pin(&self) -> bool {
        self.options.client_pin == Some(true)
    }
}
