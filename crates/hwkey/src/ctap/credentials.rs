//! Discoverable credentials (passkeys) stored on a key (CTAP 2.1 §6.8
//! authenticatorCredentialManagement), grouped by relying party.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use webauthn_authenticator_rs::{
    ctap2::{
        CredentialManagementAuthenticator,
        commands::{DiscoverableCredential, PublicKeyCredentialDescriptorCM},
    },
    error::{CtapError, WebauthnCError},
    transport::Token,
};
use webauthn_rs_proto::CredentialProtectionPolicy;

use super::{KeyError, Pin, SecurityKey, observer::UiBridge};

/// A credential ID, as relying parties see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialId(Vec<u8>);

impl CredentialId {
    /// The raw credential ID.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for CredentialId {
    fn from(id: Vec<u8>) -> Self {
        Self(id)
    }
}

impl std::str::FromStr for CredentialId {
    type Err = KeyError;
    /// From base64url (with or without padding), as [`Display`](fmt::Display) writes it.
    fn from_str(text: &str) -> Result<Self, KeyError> {
        URL_SAFE_NO_PAD
            .decode(text.trim().trim_end_matches('='))
            .ok()
            .filter(|bytes| !bytes.is_empty())
            .map(Self)
            .ok_or(KeyError::InvalidId { what: "credential" })
    }
}

impl fmt::Display for CredentialId {
    /// Base64url without padding, the form WebAuthn uses (WebAuthn §5.1 `id`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(&self.0))
    }
}

impl serde::Serialize for CredentialId {
    /// As [`Display`](fmt::Display) writes it: base64url without padding.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for CredentialId {
    /// From base64url, as [`FromStr`](std::str::FromStr) parses it.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// When a credential may be used without user verification (CTAP 2.1 §12.1 credProtect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialProtection {
    /// Usable with a touch alone.
    UserVerificationOptional,
    /// Usable with a touch alone when the site names the credential.
    UserVerificationOptionalWithCredentialIdList,
    /// Always needs PIN or fingerprint.
    UserVerificationRequired,
}

/// One discoverable credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// The credential ID.
    pub id: CredentialId,
    /// The relying party's user handle.
    pub user_id: Vec<u8>,
    /// The account name, e.g. an e-mail address.
    pub user_name: Option<String>,
    /// The name to show for the account.
    pub user_display_name: Option<String>,
    /// The credential's protection level, where the key reports it.
    pub protection: Option<CredentialProtection>,
}

/// The credentials a key holds for one relying party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingPartyCredentials {
    /// The RP ID (a domain), when the key reports it.
    pub rp_id: Option<String>,
    /// The RP's display name, when the key reports it.
    pub rp_name: Option<String>,
    /// The credentials, oldest first where the key keeps order.
    pub credentials: Vec<StoredCredential>,
}

fn stored(credential: DiscoverableCredential) -> Option<StoredCredential> {
    let id = credential.credential_id?.id;
    let user = credential.user;
    Some(StoredCredential {
        id: CredentialId(id),
        user_id: user.as_ref().map(|u| u.id.clone()).unwrap_or_default(),
        user_name: user.as_ref().and_then(|u| u.name.clone()),
        user_display_name: user.and_then(|u| u.display_name),
        protection: credential.cred_protect.map(|policy| match policy {
            CredentialProtectionPolicy::UserVerificationOptional => {
                CredentialProtection::UserVerificationOptional
            }
            CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIDList => {
                CredentialProtection::UserVerificationOptionalWithCredentialIdList
            }
            CredentialProtectionPolicy::UserVerificationRequired => {
                CredentialProtection::UserVerificationRequired
            }
        }),
    })
}

impl<T: Token> SecurityKey<T> {
    /// Every discoverable credential on the key, grouped by relying party.
    pub async fn credentials(
        &mut self,
        pin: &Pin,
    ) -> Result<Vec<RelyingPartyCredentials>, KeyError> {
        let observer = self.observer();
        let bridge = UiBridge::new(Some(pin), &*observer);
        let result = {
            let mut authenticator = self.authenticator(&bridge).await?;
            match authenticator.credential_management() {
                Some(management) => list(management).await,
                None => Err(WebauthnCError::NotSupported),
            }
        };
        self.finish(result).await.map_err(|error| match error {
            KeyError::NotSupported { .. } => KeyError::NotSupported {
                operation: "credential management",
            },
            other => other,
        })
    }

    /// Deletes one discoverable credential.
    pub async fn delete_credential(
        &mut self,
        pin: &Pin,
        id: &CredentialId,
    ) -> Result<(), KeyError> {
        let observer = self.observer();
        let bridge = UiBridge::new(Some(pin), &*observer);
        let result = {
            let mut authenticator = self.authenticator(&bridge).await?;
            match authenticator.credential_management() {
                Some(management) => {
                    management
                        .delete_credential(PublicKeyCredentialDescriptorCM::from(id.0.clone()))
                        .await
                }
                None => Err(WebauthnCError::NotSupported),
            }
        };
        match result {
            Err(WebauthnCError::Ctap(CtapError::Ctap2NoCredentials)) => {
                Err(KeyError::CredentialNotFound)
            }
            Err(WebauthnCError::NotSupported) => Err(KeyError::NotSupported {
                operation: "credential management",
            }),
            other => self.finish(other).await,
        }
    }
}

async fn list(
    management: &mut dyn CredentialManagementAuthenticator,
) -> Result<Vec<RelyingPartyCredentials>, WebauthnCError> {
    let mut out = Vec::new();
    for rp in management.enumerate_rps().await? {
        let credentials = match (&rp.id, rp.hash) {
            (Some(id), _) => management.enumerate_credentials_by_rpid(id).await?,
            (None, Some(hash)) => management.enumerate_credentials_by_hash(hash).await?,
            (None, None) => Vec::new(),
        };
        out.push(RelyingPartyCredentials {
            rp_id: rp.id,
            rp_name: rp.name,
            credentials: credentials.into_iter().filter_map(stored).collect(),
        });
    }
    Ok(out)
}
