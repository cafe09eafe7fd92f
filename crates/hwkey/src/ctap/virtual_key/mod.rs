//! A virtual CTAP 2.1 authenticator that lives in the process.
//!
//! [`VirtualKey`] implements webauthn-authenticator-rs's [`Token`] and speaks CTAP2 CBOR on
//! `transmit_raw` — the command byte, then a CBOR map; the reply is a status byte and a CBOR map — so
//! the library's `CtapAuthenticator` drives it through exactly the code that drives a USB or NFC key.
//! Tests, fuzzing and the demo mode use it in place of hardware.
//!
//! It implements authenticatorGetInfo, MakeCredential (ES256, packed self attestation, discoverable
//! credentials, exclude lists, credProtect, hmac-secret), GetAssertion and GetNextAssertion,
//! ClientPIN with PIN/UV auth protocols One and Two, CredentialManagement, BioEnrollment with a
//! simulated fingerprint sensor, Config (toggleAlwaysUv, setMinPINLength), Reset and Selection.
//!
//! The simulated user is a test hook: by default they touch the key whenever asked
//! ([`Presence::Touch`]) and their finger matches; [`VirtualKey::set_presence`] and friends change
//! that. "Power-up" is when the key was built or last [`power_cycled`](VirtualKey::power_cycle),
//! measured on its [`Clock`].
//!
//! # Persistence
//!
//! [`VirtualKey::open`] keeps the state in a JSON file, written atomically (temporary file, fsync,
//! rename) after every change. **The file holds the credentials' private keys and the PIN hash in
//! the clear; it is for demos and tests only** and is created with mode 0600.

mod bio;
mod cbor;
mod client_pin;
mod clock;
mod config;
mod credentials;
mod device;
mod hmac_secret;
mod management;
// Also the platform side of the protocols, for hmac-secret (`ctap::hmac_secret`).
pub(super) mod pin_protocol;
mod state;
mod status;
#[cfg(test)]
mod tests;

use std::{
    collections::VecDeque,
    fmt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
};

use async_trait::async_trait;
use uuid::Uuid;
use webauthn_authenticator_rs::{error::WebauthnCError, transport::Token, ui::UiCallback};
use webauthn_rs_proto::AuthenticatorTransport;

pub use clock::{Clock, ManualClock, SystemClock};

use device::{Device, Settings, UserSimulation};
use pin_protocol::PinProtocol;
use state::KeyState;

/// The virtual key's AAGUID. Chosen at random for Schild (UUID v4); it identifies the model
/// "Schild virtual key" and is not registered in the FIDO Metadata Service.
pub const AAGUID: Uuid = schild_core::authenticator::VIRTUAL_KEY_AAGUID.0;

/// The firmware version the virtual key reports in authenticatorGetInfo (0x0e).
pub const FIRMWARE_VERSION: u32 = 0x0001_0000;

/// Whether the simulated user touches the key when it asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Presence {
    /// The user touches the key whenever asked ("auto touch").
    #[default]
    Touch,
    /// Nobody touches the key: operations that need a touch time out.
    NoTouch,
}

/// The outcome of one fingerprint sample (CTAP 2.1 §6.7.4 lastEnrollSampleStatus).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SampleStatus {
    /// A good sample.
    Good = 0x00,
    /// The finger was too high on the sensor.
    TooHigh = 0x01,
    /// The finger was too low on the sensor.
    TooLow = 0x02,
    /// The sample was of poor quality.
    PoorQuality = 0x07,
    /// The finger did not leave the sensor between samples: lift and touch again.
    NoUserPresenceTransition = 0x0e,
}

/// Why a virtual key file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VirtualKeyError {
    /// The file could not be read or written; check the path and its permissions.
    #[error("virtual key file {path}: {source}")]
    Io {
        /// The virtual key file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not a virtual key state file (or is from an incompatible version); move it
    /// aside to start a fresh key.
    #[error("virtual key file {path} is not valid: {detail}")]
    Corrupt {
        /// The virtual key file.
        path: PathBuf,
        /// What the parser said.
        detail: String,
    },
}

/// Configures a [`VirtualKey`] before it is "plugged in".
#[derive(Debug)]
pub struct VirtualKeyBuilder {
    clock: Arc<dyn Clock>,
    protocols: Vec<PinProtocol>,
    enroll_samples: u8,
    discoverable_by_default: bool,
    path: Option<PathBuf>,
}

impl Default for VirtualKeyBuilder {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock::new()),
            protocols: vec![PinProtocol::Two, PinProtocol::One],
            enroll_samples: 4,
            discoverable_by_default: false,
            path: None,
        }
    }
}

impl VirtualKeyBuilder {
    /// The clock that times the reset window and PIN tokens (default: [`SystemClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Offer only PIN/UV auth protocol One, as CTAP 2.0-era keys do (default: Two, then One).
    pub fn protocol_one_only(mut self) -> Self {
        self.protocols = vec![PinProtocol::One];
        self
    }

    /// How many good samples a fingerprint enrollment needs (default 4, at least 1).
    pub fn enroll_samples(mut self, samples: u8) -> Self {
        self.enroll_samples = samples.max(1);
        self
    }

    /// Store every new credential as discoverable, as passkey-first authenticators do. Clients that
    /// never send `rk: true` (webauthn-authenticator-rs 0.6) can then create discoverable ones.
    pub fn discoverable_by_default(mut self, enabled: bool) -> Self {
        self.discoverable_by_default = enabled;
        self
    }

    /// A key without a file: its state ends with the process.
    pub fn build(self) -> VirtualKey {
        self.build_with_state(KeyState::default())
    }

    /// A key whose state lives in `path` (created if missing). See the module docs: the file holds
    /// private keys and is for demos and tests only.
    pub fn open(mut self, path: impl AsRef<Path>) -> Result<VirtualKey, VirtualKeyError> {
        let path = path.as_ref().to_path_buf();
        let state = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|error| VirtualKeyError::Corrupt {
                    path: path.clone(),
                    detail: error.to_string(),
                })?
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let state = KeyState::default();
                let bytes = serde_json::to_vec_pretty(&state).map_err(|error| {
                    VirtualKeyError::Corrupt {
                        path: path.clone(),
                        detail: error.to_string(),
                    }
                })?;
                device::write_atomically(&path, &bytes).map_err(|source| VirtualKeyError::Io {
                    path: path.clone(),
                    source,
                })?;
                state
            }
            Err(source) => return Err(VirtualKeyError::Io { path, source }),
        };
        self.path = Some(path);
        Ok(self.build_with_state(state))
    }

    fn build_with_state(self, state: KeyState) -> VirtualKey {
        let settings = Settings {
            protocols: self.protocols,
            enroll_samples: self.enroll_samples,
            discoverable_by_default: self.discoverable_by_default,
        };
        let user = UserSimulation {
            presence: Presence::Touch,
            finger_matches: true,
            enrollment_feedback: VecDeque::new(),
        };
        let device = Device::new(state, settings, user, self.clock, self.path.clone());
        VirtualKey {
            device: Arc::new(Mutex::new(device)),
            path: self.path,
        }
    }
}

/// A virtual CTAP 2.1 security key. Clones are handles to the same key, so a test can keep one to
/// play the user (touch, power cycle) while `CtapAuthenticator` owns another.
#[derive(Clone)]
pub struct VirtualKey {
    device: Arc<Mutex<Device>>,
    path: Option<PathBuf>,
}

impl fmt::Debug for VirtualKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualKey")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Default for VirtualKey {
    fn default() -> Self {
        Self::new()
    }
}

impl VirtualKey {
    /// A fresh in-memory key with default settings.
    pub fn new() -> Self {
        VirtualKeyBuilder::default().build()
    }

    /// Configure a key before building it.
    pub fn builder() -> VirtualKeyBuilder {
        VirtualKeyBuilder::default()
    }

    /// A key kept in `path` with default settings; see [`VirtualKeyBuilder::open`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, VirtualKeyError> {
        VirtualKeyBuilder::default().open(path)
    }

    /// The file backing this key, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn device(&self) -> MutexGuard<'_, Device> {
        // Commands never panic while holding the lock; recover the state if one ever did.
        self.device
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs one raw CTAP command (command byte + CBOR map) and returns the raw reply (status byte +
    /// CBOR map). Any input, however malformed, yields a status byte, never a panic: this is the
    /// entry point the fuzz target feeds.
    pub fn process(&self, request: &[u8]) -> Vec<u8> {
        self.device().handle(request, &|| {})
    }

    /// Unplugs the key and plugs it in again: PIN tokens and the key-agreement key are renewed,
    /// the wrong-PIN power-cycle block lifts, and the reset window reopens.
    pub fn power_cycle(&self) {
        self.device().power_cycle();
    }

    /// Whether the simulated user touches the key when asked.
    pub fn set_presence(&self, presence: Presence) {
        self.device().user.presence = presence;
    }

    /// Whether the simulated finger matches an enrolled one (default: yes).
    pub fn set_finger_matches(&self, matches: bool) {
        self.device().user.finger_matches = matches;
    }

    /// Queues outcomes for the next fingerprint samples (then every sample is good); a non-good
    /// sample does not count towards the enrollment.
    pub fn queue_sample_feedback(&self, feedback: impl IntoIterator<Item = SampleStatus>) {
        self.device().user.enrollment_feedback.extend(feedback);
    }
}

#[async_trait]
impl Token for VirtualKey {
    type Id = Option<PathBuf>;

    fn get_transport(&self) -> AuthenticatorTransport {
        AuthenticatorTransport::Test
    }

    async fn transmit_raw<U>(&mut self, cbor: &[u8], ui: &U) -> Result<Vec<u8>, WebauthnCError>
    where
        U: UiCallback,
    {
        let reply = self.device().handle(cbor, &|| ui.request_touch());
        // Like the USB and NFC transports: a failure status becomes `WebauthnCError::Ctap`, success
        // leaves only the CBOR body.
        match reply.split_first() {
            Some((0, body)) => Ok(body.to_vec()),
            Some((&status, _)) => Err(WebauthnCError::Ctap(status.into())),
            None => Err(WebauthnCError::MessageTooShort),
        }
    }

    async fn cancel(&mut self) -> Result<(), WebauthnCError> {
        self.device().volatile.pending.enrollment = None;
        Ok(())
    }

    async fn init(&mut self) -> Result<(), WebauthnCError> {
        Ok(())
    }

    async fn close(&mut self) -> Result<(), WebauthnCError> {
        Ok(())
    }
}
