//! FIDO2 security keys over CTAP 2.1.
pub mod virtual_key;
