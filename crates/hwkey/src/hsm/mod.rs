//! PKCS#11 (Cryptoki, OASIS PKCS#11 v2.40 / v3.0) hardware security modules.
//!
//! ```no_run
//! use schild_hwkey::hsm::{KeyKind, KeyLabel, Module};
//! use secrecy::SecretString;
//!
//! # fn main() -> Result<(), schild_hwkey::hsm::HsmError> {
//! let module = Module::open(schild_hwkey::hsm::DEFAULT_MODULE)?;
//! let token = module.login("Schild", &SecretString::from("user PIN"))?;
//! let kek = KeyLabel::new("kek-2026")?;
//! token.generate(KeyKind::Aes256, &kek)?;
//! let blob = token.wrap(&kek, b"32 bytes of data key ............", b"record 42")?;
//! let data_key = token.unwrap(&kek, &blob, b"record 42")?;
//! # Ok(()) }
//! ```
//!
//! - [`Module`]: load a module, list its [slots and tokens](SlotSummary), log in to a token found
//!   by label (slot ids are not stable).
//! - [`Token`]: generate, list and delete keys ([`KeyKind`], [`KeyLabel`], [`KeyInfo`]); wrap and
//!   unwrap data keys (the blob format is in [`Token::wrap`]'s module); sign, verify, export
//!   [public keys](PublicKey).
//! - [`HsmKek`] and [`HsmSigner`]: a token's keys behind schild-core's provider traits.
//! - [`HsmError`]: every failure, typed, with a [recommendation](HsmError::recommendation).

mod error;
mod keys;
mod module;
mod provider;
mod sign;
mod token;
mod wrap;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{HsmError, PinRetries};
pub use keys::{KeyInfo, KeyKind, KeyLabel, KeyUse, UnknownKeyKind};
pub use module::{Module, ModuleInfo, SlotSummary, TokenSummary};
pub use provider::{HsmKek, HsmSigner};
pub use sign::PublicKey;
pub use token::Token;
pub use wrap::{BLOB_OVERHEAD, FORMAT_AES256_GCM};

/// Where Debian puts SoftHSM2's module (package `softhsm2`); the CLI's default.
pub const DEFAULT_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
