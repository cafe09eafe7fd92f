//! How security-key refusals reach a client: a stable code, a title and what to do next.

use crate::access::errors::refused;
use crate::error::ApiError;
use axum::http::StatusCode;
use schild_core::authenticator::PolicyRefusal;
use webauthn_rs_core::error::WebauthnError;

/// The authenticator's answer to a registration did not verify: wrong challenge or origin, a
/// malformed or untrusted attestation, an algorithm not offered. webauthn-rs's words name the
/// check that failed and never carry key material.
pub(super) fn registration_rejected(error: &WebauthnError) -> ApiError {
    refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        "security_key_rejected",
        "The security key's answer could not be verified.",
        "Start the registration again and use the key within five minutes. If it keeps failing, the key may not be supported.",
        error,
    )
}

/// The policy refused the key.
impl From<PolicyRefusal> for ApiError {
    fn from(refusal: PolicyRefusal) -> Self {
        match refusal {
            PolicyRefusal::ModelNotAllowed { .. } => refused(
                StatusCode::FORBIDDEN,
                "security_key_model_not_allowed",
                "This model of security key is not allowed here.",
                "Use a key from your organisation's approved list, or ask your security team.",
                refusal,
            ),
            PolicyRefusal::UserVerificationRequired => refused(
                StatusCode::FORBIDDEN,
                "user_verification_required",
                "This account needs a key with a PIN or fingerprint.",
                "Set a PIN on the key (or enroll a fingerprint) and register it again.",
                refusal,
            ),
            _ => ApiError::internal(std::io::Error::other(refusal.to_string())),
        }
    }
}

/// The credential is registered already.
pub(super) fn already_registered() -> ApiError {
    refused(
        StatusCode::CONFLICT,
        "security_key_already_registered",
        "This security key is registered already.",
        "Use another key, or remove the existing registration first.",
        "the authenticator returned a credential that is already registered",
    )
}

/// A registration ceremony is unknown, used or expired.
pub(super) fn ceremony_expired() -> ApiError {
    refused(
        StatusCode::CONFLICT,
        "ceremony_expired",
        "This registration has expired or was already completed.",
        "Start the registration again.",
        "no open registration with this id for this account",
    )
}

/// The account has no usable security key for the second factor.
pub(super) fn no_security_key() -> ApiError {
    refused(
        StatusCode::CONFLICT,
        "no_security_key",
        "This account has no usable security key.",
        "Sign in with your authenticator app or a backup code instead.",
        "the account has no active security key",
    )
}

/// A credential or key is not in the state the change needs.
pub(super) fn wrong_state(detail: &'static str) -> ApiError {
    refused(
        StatusCode::CONFLICT,
        "security_key_state",
        "The key is not in a state that allows this.",
        "Reload to see the key's current state.",
        detail,
    )
}
