//! Security keys and passkeys (WebAuthn L2): registering them to accounts, using them as the
//! second factor or alone (passwordless, with discoverable credentials), and managing them and
//! the physical-key inventory.
//!
//! The ceremonies are verified by webauthn-rs-core, the engine under webauthn-rs. Its builder
//! level is used (not webauthn-rs's fixed passkey / security-key profiles) because Schild's policy
//! needs per-account control: user verification required by role, direct attestation so the
//! AAGUID is known and can be checked against an allow list, and resident keys only where the
//! holder asks for passwordless sign-in.

mod assertion;
mod errors;
mod manage;
mod registration;
pub mod roots;

pub(crate) use assertion::verify_second_factor;
pub use assertion::{begin_passwordless, begin_second_factor, finish_passwordless};
pub use manage::{
    list, list_inventory, rename, revoke, revoke_own, unblock, withdraw_hardware_key,
};
pub use registration::{
    Issue, Registered, Registration, begin_own_registration, begin_registration,
    finish_registration,
};

use crate::error::ApiError;
use schild_core::authenticator::{Aaguid, SecurityKeyPolicy};
use schild_store::AnyConnection;
use schild_store::security_keys::{CeremonyPurpose, CeremonyRow};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::{Duration, OffsetDateTime};
use url::Url;
use uuid::Uuid;
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::internals::AuthenticatorData;
use webauthn_rs_core::proto::{
    AttestationCaList, AttestationMetadata, Credential, RegisterPublicKeyCredential,
    Registration as RegistrationCeremony,
};

/// How long a ceremony may take: reading a PIN prompt and touching a key fits easily, a
/// challenge left lying around does not.
pub const CEREMONY_TTL: Duration = Duration::minutes(5);

/// How the backend acts as a WebAuthn relying party.
#[derive(Debug, Clone)]
pub struct SecurityKeySettings {
    /// The relying-party id: the domain the credentials are bound to (WebAuthn L2 §5.1.4).
    pub rp_id: String,
    /// The name authenticators may show.
    pub rp_name: String,
    /// The origins clients may sign from (`https://schild.example.org`; `http://localhost:…` is
    /// the only plain-HTTP origin WebAuthn accepts).
    pub origins: Vec<Url>,
    /// Which keys may be registered and how they must be used.
    pub policy: SecurityKeyPolicy,
    /// Vendor attestation roots: when set, a key is registered only when its attestation chains
    /// to one of them (and, per root, its AAGUID is one the root vouches for).
    pub attestation_roots: Option<AttestationCaList>,
}

impl Default for SecurityKeySettings {
    /// `localhost`, on the default port of `schild serve`, with the default policy.
    fn default() -> Self {
        Self {
            rp_id: "localhost".into(),
            rp_name: "Schild".into(),
            origins: Url::parse("http://localhost:8700").into_iter().collect(),
            policy: SecurityKeyPolicy::default(),
            attestation_roots: None,
        }
    }
}

/// The relying party: webauthn-rs-core configured from [`SecurityKeySettings`].
pub struct RelyingParty {
    core: WebauthnCore,
    policy: SecurityKeyPolicy,
    roots: Option<AttestationCaList>,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl RelyingParty {
    /// Builds the relying party.
    pub fn new(settings: SecurityKeySettings) -> Self {
        let timeout = std::time::Duration::from_secs(CEREMONY_TTL.whole_seconds().unsigned_abs());
        let core = WebauthnCore::new_unsafe_experts_only(
            &settings.rp_name,
            &settings.rp_id,
            settings.origins,
            timeout,
            Some(false),
            Some(false),
        );
        Self {
            core,
            policy: settings.policy,
            roots: settings.attestation_roots,
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &SecurityKeyPolicy {
        &self.policy
    }

    pub(crate) fn core(&self) -> &WebauthnCore {
        &self.core
    }

    pub(crate) fn roots(&self) -> Option<&AttestationCaList> {
        self.roots.as_ref()
    }
}

/// A ceremony handed to the client: its id and the options for `navigator.credentials` (or a
/// CTAP2 client such as webauthn-authenticator-rs).
#[derive(Debug)]
pub struct Ceremony<T> {
    /// Send this back with the authenticator's answer.
    pub id: Uuid,
    /// The WebAuthn options.
    pub options: T,
    /// When it can no longer be completed.
    pub expires_at: OffsetDateTime,
}

/// Stores a ceremony's state and returns its handle.
async fn open_ceremony<T>(
    conn: &mut AnyConnection,
    user: Option<schild_core::ids::UserId>,
    purpose: CeremonyPurpose,
    state: &impl Serialize,
    options: T,
    now: OffsetDateTime,
) -> Result<Ceremony<T>, ApiError> {
    let id = Uuid::new_v4();
    let expires_at = now + CEREMONY_TTL;
    let row = CeremonyRow {
        id,
        user_id: user,
        purpose,
        state: serde_json::to_string(state).map_err(ApiError::internal)?,
        created_at: now,
        expires_at,
    };
    schild_store::security_keys::put_ceremony(conn, &row).await?;
    Ok(Ceremony {
        id,
        options,
        expires_at,
    })
}

/// Reads a ceremony's stored state back.
fn ceremony_state<T: DeserializeOwned>(row: &CeremonyRow) -> Result<T, ApiError> {
    serde_json::from_str(&row.state).map_err(ApiError::internal)
}

/// The AAGUID of a newly registered credential. From the attestation's metadata when it carries
/// one (packed with a certificate, TPM); otherwise from the authenticator data, which a packed
/// self-attestation signs with the credential's own key. Undisclosed when the key sent zeros
/// (attestation `none`) or no attested credential data at all.
fn registered_aaguid(credential: &Credential, answer: &RegisterPublicKeyCredential) -> Aaguid {
    if let AttestationMetadata::Packed { aaguid } | AttestationMetadata::Tpm { aaguid, .. } =
        &credential.attestation.metadata
    {
        return Aaguid(*aaguid);
    }
    let Ok(serde_cbor_2::Value::Map(object)) = serde_cbor_2::from_slice::<serde_cbor_2::Value>(
        answer.response.attestation_object.as_ref(),
    ) else {
        return Aaguid::UNDISCLOSED;
    };
    object
        .get(&serde_cbor_2::Value::Text("authData".into()))
        .and_then(|value| match value {
            serde_cbor_2::Value::Bytes(bytes) => {
                AuthenticatorData::<RegistrationCeremony>::try_from(bytes.as_slice()).ok()
            }
            _ => None,
        })
        .and_then(|data| data.acd)
        .map_or(Aaguid::UNDISCLOSED, |acd| {
            Aaguid(Uuid::from_bytes(acd.aaguid))
        })
}

/// A credential id as stored: base64url without padding.
fn credential_id_text(id: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// An attestation format's name as WebAuthn spells it (`packed`, `tpm`, `none`, …).
fn format_name(format: &webauthn_rs_core::proto::AttestationFormat) -> String {
    serde_json::to_value(format)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}
