//! What the virtual key remembers across power cycles (and, with a file, across runs).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Maximum PIN retries (CTAP 2.1 §6.5.2.2: `pinRetries` starts at a maximum of 8).
pub(crate) const MAX_PIN_RETRIES: u8 = 8;
/// Maximum built-in UV (fingerprint) retries before UV is blocked.
pub(crate) const MAX_UV_RETRIES: u8 = 8;
/// The default minimum PIN length in Unicode code points (CTAP 2.1 §6.4: 4).
pub(crate) const DEFAULT_MIN_PIN_LENGTH: u8 = 4;
/// How many discoverable credentials fit on the key.
pub(crate) const MAX_DISCOVERABLE_CREDENTIALS: usize = 50;
/// How many fingerprints fit on the key.
pub(crate) const MAX_FINGERPRINTS: usize = 5;

/// The persistent state: secrets included. Stored as JSON when the key has a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct KeyState {
    /// Format version of the file.
    pub(crate) version: u32,
    /// LEFT(SHA-256(PIN), 16) and the PIN's length in code points, once a PIN is set.
    pub(crate) pin: Option<StoredPin>,
    pub(crate) pin_retries: u8,
    pub(crate) uv_retries: u8,
    pub(crate) min_pin_length: u8,
    pub(crate) force_pin_change: bool,
    pub(crate) always_uv: bool,
    pub(crate) credentials: Vec<Credential>,
    pub(crate) fingerprints: Vec<Fingerprint>,
    /// Creation order for credentials, so the newest comes first in assertions.
    pub(crate) next_serial: u64,
}

impl Default for KeyState {
    fn default() -> Self {
        Self {
            version: 1,
            pin: None,
            pin_retries: MAX_PIN_RETRIES,
            uv_retries: MAX_UV_RETRIES,
            min_pin_length: DEFAULT_MIN_PIN_LENGTH,
            force_pin_change: false,
            always_uv: false,
            credentials: Vec::new(),
            fingerprints: Vec::new(),
            next_serial: 0,
        }
    }
}

impl KeyState {
    /// Whether some form of user verification protects the key (CTAP 2.1 "protected by UV").
    pub(crate) fn is_protected(&self) -> bool {
        self.pin.is_some() || !self.fingerprints.is_empty()
    }

    pub(crate) fn discoverable_count(&self) -> usize {
        self.credentials.iter().filter(|c| c.discoverable).count()
    }

    pub(crate) fn credential(&self, id: &[u8]) -> Option<&Credential> {
        self.credentials.iter().find(|c| c.id == id)
    }

    pub(crate) fn credential_mut(&mut self, id: &[u8]) -> Option<&mut Credential> {
        self.credentials.iter_mut().find(|c| c.id == id)
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct StoredPin {
    pub(crate) hash: [u8; 16],
    pub(crate) code_points: usize,
}

impl std::fmt::Debug for StoredPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredPin(<redacted>)")
    }
}

/// One credential. Discoverable ones are listed by credential management; others are only usable
/// through an allow list (a real key would wrap their private key into the credential ID instead).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Credential {
    pub(crate) id: Vec<u8>,
    pub(crate) rp_id: String,
    pub(crate) rp_name: Option<String>,
    pub(crate) user_id: Vec<u8>,
    pub(crate) user_name: Option<String>,
    pub(crate) user_display_name: Option<String>,
    /// The P-256 private scalar, big-endian.
    pub(crate) private_key: Zeroizing<Vec<u8>>,
    pub(crate) sign_count: u32,
    pub(crate) discoverable: bool,
    /// credProtect level (CTAP 2.1 §12.1): 1 optional, 2 optional with credential ID list, 3 required.
    pub(crate) cred_protect: u8,
    /// hmac-secret CredRandom values, when the credential was made with hmac-secret.
    pub(crate) cred_random: Option<CredRandom>,
    pub(crate) serial: u64,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("rp_id", &self.rp_id)
            .field("discoverable", &self.discoverable)
            .field("sign_count", &self.sign_count)
            .finish_non_exhaustive()
    }
}

/// hmac-secret's per-credential secrets (CTAP 2.1 §12.5): one for assertions without user
/// verification, one for assertions with it.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct CredRandom {
    pub(crate) without_uv: Zeroizing<Vec<u8>>,
    pub(crate) with_uv: Zeroizing<Vec<u8>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Fingerprint {
    pub(crate) template_id: Vec<u8>,
    pub(crate) friendly_name: Option<String>,
}
