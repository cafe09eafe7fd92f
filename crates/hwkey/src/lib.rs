//! Schild's hardware keys: keys that live in a device and never leave it.
//!
//! [`ctap`] manages FIDO2 security keys over CTAP 2.1 (USB, NFC, or the in-process virtual key):
//! PINs, fingerprints, discoverable credentials, always-UV, factory reset, answering WebAuthn
//! ceremonies, and the enrollment flow that issues a key to a person.
//!
//! [`hsm`] drives PKCS#11 hardware security modules (YubiHSM 2, Nitrokey HSM through OpenSC, and
//! SoftHSM2 for tests and demos): it generates non-extractable keys on a token, wraps data keys
//! with AES-GCM and signs with P-256 or Ed25519 inside the token, and offers both through
//! `schild-core`'s provider traits ([`schild_core::provider::KeyEncryptionKey`],
//! [`schild_core::provider::Signer`]). Every HSM call blocks on the device: async callers use
//! `spawn_blocking`.
//!
//! [`keyring`] (cargo feature `keyring`) keeps key-encryption keys in the operating system's
//! keyring: the Secret Service or keyutils on Linux, the macOS Keychain, the Windows Credential
//! Manager.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ctap;
pub mod hsm;
#[cfg(feature = "keyring")]
pub mod keyring;
