//! FIDO2 security keys over CTAP 2.1: discovery, information, PIN, fingerprints, discoverable
//! credentials, always-UV and factory reset, a vault unlock method through the hmac-secret
//! extension ([`enroll_hmac_secret`], [`HmacSecretKek`]), plus a [virtual key](virtual_key) for
//! tests and demos.
//!
//! The protocol work is webauthn-authenticator-rs's (`CtapAuthenticator` and its PIN/UV auth
//! protocols); this module turns it into a small domain API — [`SecurityKey`] — with errors that
//! tell the user what to do ([`KeyError`]), PINs that never leak ([`Pin`]), and progress for a UI
//! ([`KeyObserver`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), schild_hwkey::ctap::KeyError> {
//! use std::sync::Arc;
//! use schild_hwkey::ctap::{Discovery, Pin, PinPolicy, SecurityKey, SilentObserver, the_only_key};
//!
//! let token = the_only_key(&Discovery::hardware()).await?;
//! let mut key = SecurityKey::open(token, Arc::new(SilentObserver)).await?;
//! println!("{:?} {:?}", key.info().model, key.info().pin_retries);
//! key.change_pin(&Pin::new("1234")?, &Pin::new("567890")?, &PinPolicy { min_length: 6 }).await?;
//! # Ok(())
//! # }
//! ```

mod credentials;
mod discovery;
pub mod enrollment;
mod error;
mod fingerprints;
mod hmac_secret;
mod info;
mod key;
mod observer;
mod pin;
mod shared;
pub mod virtual_key;
mod webauthn;

pub use credentials::{
    CredentialId, CredentialProtection, RelyingPartyCredentials, StoredCredential,
};
pub use discovery::{AnyKey, Discovery, connected_keys, the_only_key};
pub use error::KeyError;
pub use fingerprints::{Fingerprint, FingerprintId};
pub use hmac_secret::{
    HmacSecretCredential, HmacSecretKek, SALT_LENGTH, VAULT_RP_ID, enroll_hmac_secret,
};
pub use info::{Aaguid, KeyInfo, KeyOptions, KeyTransport};
pub use key::{RESET_WINDOW, SecurityKey};
pub use observer::{EnrollmentProgress, KeyObserver, SampleFeedback, SilentObserver};
pub use pin::{MAX_PIN_BYTES, Pin, PinPolicy};
