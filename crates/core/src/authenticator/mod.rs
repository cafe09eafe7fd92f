//! FIDO2 authenticators as the backend sees them: which model an AAGUID names, and the policy
//! that decides which keys an account may register and how they must be used.
//!
//! The WebAuthn ceremonies themselves (challenges, attestation and assertion checks) are done by
//! webauthn-rs in `schild-server`; this module holds only the pure rules around them.

pub mod catalogue;
pub mod policy;

pub use catalogue::{VIRTUAL_KEY_AAGUID, VIRTUAL_KEY_MODEL, model_name};
pub use policy::{CounterRegression, ModelAllowlist, PolicyRefusal, SecurityKeyPolicy};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An authenticator's AAGUID (WebAuthn L2 §6.5.1): 16 bytes naming its model, shown as a UUID.
/// All zeros means the authenticator did not say (attestation `none`, privacy-preserving keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Aaguid(pub uuid::Uuid);

impl Aaguid {
    /// The all-zero AAGUID: model not disclosed.
    pub const UNDISCLOSED: Self = Self(uuid::Uuid::nil());

    /// From its 128-bit value (big-endian, as written in a UUID).
    pub const fn from_u128(value: u128) -> Self {
        Self(uuid::Uuid::from_u128(value))
    }

    /// Whether the authenticator withheld its model.
    pub fn is_undisclosed(self) -> bool {
        self.0.is_nil()
    }

    /// The model's name from the bundled catalogue, when known.
    pub fn model(self) -> Option<&'static str> {
        catalogue::model_name(self)
    }

    /// The model's name, or a plain statement that it is not known.
    pub fn model_name(self) -> &'static str {
        match self.model() {
            Some(name) => name,
            None if self.is_undisclosed() => "undisclosed model",
            None => "unknown model",
        }
    }
}

impl fmt::Display for Aaguid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for Aaguid {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self)
    }
}
