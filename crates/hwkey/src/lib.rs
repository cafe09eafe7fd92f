//! Schild's hardware security keys.
//!
//! [`ctap`] manages FIDO2 security keys over CTAP 2.1 (USB, NFC, or the in-process virtual key):
//! PINs, fingerprints, discoverable credentials, always-UV and factory reset.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ctap;
