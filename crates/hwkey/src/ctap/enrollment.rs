//! Issuing a security key to a person, as one function the console and the desktop's enrollment
//! station both call: read the key → set a PIN if it has none → enroll fingerprints on a
//! biometric key when asked → register it with the backend for the person → the backend records
//! it in the inventory and the audit trail. A second pass with a spare key makes the backup key.
//!
//! Where the key is registered is the caller's [`EnrollmentBackend`]: the server's own functions
//! on the backend's host, or its HTTP API from the desktop.

use async_trait::async_trait;
use url::Url;
use webauthn_authenticator_rs::transport::Token;
use webauthn_rs_proto::{CreationChallengeResponse, RegisterPublicKeyCredential};

use super::{FingerprintId, KeyError, KeyInfo, Pin, PinPolicy, SecurityKey};

/// A registration the backend opened.
#[derive(Debug)]
pub struct OpenedRegistration {
    /// The ceremony to answer.
    pub ceremony: uuid::Uuid,
    /// The WebAuthn creation options.
    pub options: CreationChallengeResponse,
}

/// What the backend recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The registered credential's id on the backend.
    pub credential: uuid::Uuid,
    /// The inventory entry of the physical key.
    pub hardware_key: Option<uuid::Uuid>,
    /// The model the backend recognised.
    pub model: String,
    /// Whether the person still has fewer keys than the policy asks (no backup key yet).
    pub lacks_backup: bool,
}

/// Why the backend refused or failed; its message is meant for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BackendError {
    /// The backend's stable code (`security_key_model_not_allowed`, `not_found`, …).
    pub code: String,
    /// What happened, in the backend's words.
    pub message: String,
}

/// The backend side of an enrollment.
#[async_trait]
pub trait EnrollmentBackend: Send + Sync {
    /// Opens a registration for `holder` (a username); `passwordless` asks for a discoverable
    /// credential with user verification.
    async fn begin(
        &self,
        holder: &str,
        passwordless: bool,
    ) -> Result<OpenedRegistration, BackendError>;

    /// Completes it with the key's answer and what the inventory records.
    async fn finish(
        &self,
        holder: &str,
        opened: uuid::Uuid,
        request: &KeyIssue,
        answer: RegisterPublicKeyCredential,
    ) -> Result<Registered, BackendError>;
}

/// How a key is issued.
#[derive(Debug, Clone)]
pub struct KeyIssue {
    /// The key's name on the account ("primary key", "backup key").
    pub name: String,
    /// The key's serial number, where the operator can read it.
    pub serial: Option<String>,
    /// The enrollment station's name.
    pub station: Option<String>,
    /// A discoverable credential, for passwordless sign-in.
    pub passwordless: bool,
    /// Fingerprints to enroll on a biometric key (0: none).
    pub fingerprints: u8,
}

/// What an enrollment did.
#[derive(Debug)]
pub struct Enrolled {
    /// The key as it was read at the start.
    pub info: KeyInfo,
    /// Whether this enrollment set the key's PIN.
    pub pin_set: bool,
    /// Fingerprints enrolled now.
    pub fingerprints: Vec<FingerprintId>,
    /// What the backend recorded.
    pub registered: Registered,
}

/// Why an enrollment stopped. Nothing is registered when it stops before the backend step; a PIN
/// set or a fingerprint enrolled before the stop stays on the key (the holder chose them).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnrollmentError {
    /// The key refused or failed an operation.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The backend refused or failed.
    #[error("the backend refused: {0}")]
    Backend(#[from] BackendError),
}

/// Issues `key` to `holder`. `pin` is the key's PIN (set first when the key has none); `origin` is
/// the origin the backend accepts for WebAuthn.
pub async fn enroll<T: Token>(
    key: &mut SecurityKey<T>,
    backend: &dyn EnrollmentBackend,
    holder: &str,
    pin: &Pin,
    policy: &PinPolicy,
    origin: Url,
    issue: &KeyIssue,
) -> Result<Enrolled, EnrollmentError> {
    let info = key.refresh().await?.clone();
    let pin_set = match info.options.client_pin {
        Some(true) => false,
        Some(false) => {
            key.set_pin(pin, policy).await?;
            true
        }
        None => return Err(KeyError::NotSupported { operation: "a PIN" }.into()),
    };
    let mut fingerprints = Vec::new();
    if info.options.bio_enroll.is_some() {
        for n in 0..issue.fingerprints {
            let name = format!("finger {}", n + 1);
            fingerprints.push(key.enroll_fingerprint(pin, Some(&name)).await?);
        }
    }
    let opened = backend.begin(holder, issue.passwordless).await?;
    let answer = key.register(Some(pin), origin, opened.options).await?;
    let registered = backend
        .finish(holder, opened.ceremony, issue, answer)
        .await?;
    Ok(Enrolled {
        info,
        pin_set,
        fingerprints,
        registered,
    })
}
