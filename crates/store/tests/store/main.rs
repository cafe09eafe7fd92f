//! The store's integration tests. Each body is an `async fn(&TestDb)` run twice by
//! `dual_backend_tests!`: on a SQLite file (`<name>::sqlite`) and on a throw-away PostgreSQL schema
//! (`<name>::postgres`; set SCHILD_TEST_SKIP_POSTGRES=1 to skip that half).

// The shared bodies are plain `async fn`s, not `#[test]`s, so clippy's allow-unwrap-in-tests does
// not reach them; a failed unwrap is exactly how a test should fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod api_keys;
mod audit;
mod common;
mod connect;
mod fixture;
mod keys;
mod lockout;
mod mfa;
mod migration;
mod retention;
mod reviews;
mod roles;
mod sessions;
mod setup;
mod users;
