//! Schild's security backend: the HTTP API under `/api/v1` that desktops, enrollment stations and
//! scripts talk to.
//!
//! Layout: [`routes`] translates HTTP to calls into [`auth`], which holds the sign-in, session and
//! administration flows over `schild-store`, [`access`], which decides what a caller may do
//! and runs roles, just-in-time access and reviews, [`api_keys`] for machine clients' keys, and
//! [`retention`] for retention policies, legal holds and the purge; `reports` draws figures into SVG or PNG files (plotters); [`extract`] parses requests (strict JSON, the
//! client address, the signed-in caller and the permission a route needs); [`error`] turns every failure into RFC 9457 problem+json;
//! [`serve`] binds plain HTTP on loopback or TLS 1.3.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod api_keys;
pub mod auth;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod key_file;
pub(crate) mod reports;
pub mod retention;
pub mod routes;
pub mod sealing;
pub mod serve;
pub mod state;

pub use serve::{Backend, ServeError, TlsFiles, Transport};
pub use state::{AppState, Identity};
