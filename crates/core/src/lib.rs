//! Schild's pure domain and crypto.
//!
//! Everything here is deterministic given its inputs: time arrives through a [`clock::Clock`] and
//! randomness through a caller-supplied [`rand::CryptoRng`], so every policy can be tested without
//! sleeping or mocking. No I/O, no async runtime, no database: those live in `schild-store` and
//! `schild-server`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api_key;
pub mod audit;
pub mod authenticator;
pub mod backup_codes;
pub mod clock;
pub mod ids;
pub mod lockout;
pub mod password;
pub mod pii;
pub mod provider;
pub mod rbac;
pub mod refresh;
pub mod retention;
pub mod token;
pub mod totp;
pub mod vault;

pub use rand;
