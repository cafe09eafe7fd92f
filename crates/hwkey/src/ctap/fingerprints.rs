//! Fingerprints on keys with a sensor (CTAP 2.1 §6.7 authenticatorBioEnrollment).

use std::{fmt, time::Duration};

use webauthn_authenticator_rs::{
    ctap2::BiometricAuthenticator,
    error::{CtapError, WebauthnCError},
    transport::Token,
};

use super::{
    EnrollmentProgress, KeyError, Pin, SecurityKey, key::Authenticator, observer::UiBridge,
};

/// How long the key waits for each fingerprint sample.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The key's identifier for an enrolled fingerprint (its template ID).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FingerprintId(Vec<u8>);

impl FingerprintId {
    /// The raw template ID.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for FingerprintId {
    fn from(id: Vec<u8>) -> Self {
        Self(id)
    }
}

impl std::str::FromStr for FingerprintId {
    type Err = KeyError;
    /// From hexadecimal, as [`Display`](fmt::Display) writes it.
    fn from_str(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let invalid = KeyError::InvalidId {
            what: "fingerprint",
        };
        if text.is_empty() || !text.len().is_multiple_of(2) || !text.is_ascii() {
            return Err(invalid);
        }
        (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).map_err(|_| invalid.clone()))
            .collect::<Result<Vec<u8>, KeyError>>()
            .map(Self)
    }
}

impl fmt::Display for FingerprintId {
    /// Lowercase hexadecimal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// An enrolled fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The key's identifier for it.
    pub id: FingerprintId,
    /// The name the user gave it, if any.
    pub name: Option<String>,
}

fn bio<'c, 'b, 'a, T: Token>(
    authenticator: &'c mut Authenticator<'b, 'a, T>,
) -> Result<&'c mut dyn BiometricAuthenticator, WebauthnCError> {
    authenticator.bio().ok_or(WebauthnCError::NotSupported)
}

/// "No such template" is CTAP2_ERR_INVALID_OPTION for bioEnrollment (CTAP 2.1 §6.7.6, §6.7.7).
fn not_found(result: Result<(), WebauthnCError>) -> Result<(), KeyError> {
    match result {
        Err(WebauthnCError::Ctap(CtapError::Ctap2InvalidOption)) => {
            Err(KeyError::FingerprintNotFound)
        }
        Err(WebauthnCError::NotSupported) => Err(KeyError::NotSupported {
            operation: "fingerprints",
        }),
        other => other.map_err(KeyError::from),
    }
}

impl<T: Token> SecurityKey<T> {
    /// The enrolled fingerprints.
    pub async fn fingerprints(&mut self, pin: &Pin) -> Result<Vec<Fingerprint>, KeyError> {
        let observer = self.observer();
        let bridge = UiBridge::new(Some(pin), &*observer);
        let result = {
            let mut authenticator = self.authenticator(&bridge).await?;
            match bio(&mut authenticator) {
                Ok(bio) => bio.list_fingerprints().await,
                Err(error) => Err(error),
            }
        };
        let templates = self
            .finish(result)
            .await
            .map_err(unsupported("fingerprints"))?;
        Ok(templates
            .into_iter()
            .map(|t| Fingerprint {
                id: FingerprintId(t.id),
                name: t.friendly_name,
            })
            .collect())
    }

    /// Enrolls a fingerprint. The observer hears each sample: how many are still needed and
    /// feedback such as "lift and touch again"; a last event with 0 remaining marks success.
    pub async fn enroll_fingerprint(
        &mut self,
        pin: &Pin,
        name: Option<&str>,
    ) -> Result<FingerprintId, KeyError> {
        let observer = self.observer();
        let bridge = UiBridge::new(Some(pin), &*observer);
        let result = {
            let mut authenticator = self.authenticator(&bridge).await?;
            match bio(&mut authenticator) {
                Ok(bio) => {
                    bio.enroll_fingerprint(SAMPLE_TIMEOUT, name.map(str::to_owned))
                        .await
                }
                Err(error) => Err(error),
            }
        };
        let id = self
            .finish(result)
            .await
            .map_err(unsupported("fingerprints"))?;
        observer.enrollment_progress(&EnrollmentProgress {
            remaining_samples: 0,
            feedback: None,
        });
        Ok(FingerprintId(id))
    }

    /// Renames an enrolled fingerprint.
    pub async fn rename_fingerprint(
        &mut self,
        pin: &Pin,
        id: &FingerprintId,
        name: &str,
    ) -> Result<(), KeyError> {
        let observer = self.observer();
        let bridge = UiBridge::new(Some(pin), &*observer);
        let result = {
            let mut authenticator = self.authenticator(&bridge).await?;
            match bio(&mut authenticator) {
                Ok(bio) => bio.rename_fingerprint(id.0.clone(), name.to_owned()).await,
                Err(error) => Err(error),
            }
        };
        self.finish_fingerprint(result).await
    }

    /// Removes an enrolled fingerprint.
    pub async fn delete_fingerprint(
        &mut self,
        pin: &Pin,
        id: &FingerprintId,
    ) -> Result<(), KeyError> {
        let observer = self.observer();
        let bridge = UiBridge::new(Some(pin), &*observer);
        let result = {
            let mut authenticator = self.authenticator(&bridge).await?;
            match bio(&mut authenticator) {
                Ok(bio) => bio.remove_fingerprint(id.0.clone()).await,
                Err(error) => Err(error),
            }
        };
        self.finish_fingerprint(result).await
    }

    async fn finish_fingerprint(
        &mut self,
        result: Result<(), WebauthnCError>,
    ) -> Result<(), KeyError> {
        match result {
            Err(
                error @ (WebauthnCError::Ctap(CtapError::Ctap2InvalidOption)
                | WebauthnCError::NotSupported),
            ) => not_found(Err(error)),
            other => self.finish(other).await,
        }
    }
}

/// Names the operation in a generic "not supported".
fn unsupported(operation: &'static str) -> impl Fn(KeyError) -> KeyError {
    move |error| match error {
        KeyError::NotSupported { .. } => KeyError::NotSupported { operation },
        other => other,
    }
}
