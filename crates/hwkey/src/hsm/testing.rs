//! Test fixtures (cargo feature `testing`): a fresh SoftHSM2 token per test, with no mocks.
//!
//! SoftHSM2 finds its token directory through the `SOFTHSM2_CONF` environment variable, read
//! when the module is initialised, and PKCS#11 initialises a module once per process. Setting the
//! variable from inside a test would need `std::env::set_var`, which is `unsafe` (other threads
//! may read the environment at the same moment) and forbidden in this workspace. So each test
//! runs its body in a child process of its own:
//!
//! 1. The test, started by nextest or `cargo test`, makes a temporary token directory, writes a
//!    `softhsm2.conf` for it and initialises a token with `softhsm2-util` (the variable set on
//!    that `Command` only).
//! 2. It runs the same test binary again, asking libtest for exactly this test, with
//!    `SOFTHSM2_CONF` and [`CHILD_VAR`] set on the child's `Command`.
//! 3. In the child, [`CHILD_VAR`] names the test, so the body runs against the token, in a process
//!    whose environment was right from its first instruction. A marker file tells the parent that
//!    the body really ran (libtest exits 0 when its filter matches nothing).
//!
//! This works the same under nextest (a process per test) and plain `cargo test` (threads in one
//! process: each still gets its own child and token). [`softhsm_test!`](crate::softhsm_test)
//! writes the boilerplate:
//!
//! ```ignore
//! schild_hwkey::softhsm_test!(fn lists_no_keys(hsm) {
//!     let token = hsm.login();
//!     assert!(token.keys().unwrap().is_empty());
//! });
//! ```
//!
//! CLI tests need no child of their own: they set `SOFTHSM2_CONF` on the `schild` command they
//! run, from a [`SoftHsm::new`] made in the test.

use super::{Module, Token};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// The SoftHSM2 module Debian installs (package `softhsm2`).
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The label of the fixture's token.
pub const TOKEN_LABEL: &str = "schild-test";
/// The fixture token's user PIN.
pub const USER_PIN: &str = "4711-user";
/// The fixture token's security officer PIN.
pub const SO_PIN: &str = "0815-officer";
/// Set in the child process to the name of the test it runs.
pub const CHILD_VAR: &str = "SCHILD_SOFTHSM_CHILD";
const PASSED_MARKER: &str = "body-passed";

/// A temporary SoftHSM2 token directory with one initialised token, [`TOKEN_LABEL`].
#[derive(Debug)]
pub struct SoftHsm {
    dir: PathBuf,
    conf: PathBuf,
    // Owned by the process that created the directory; removed when it drops.
    _owned: Option<TempDir>,
}

impl SoftHsm {
    /// Makes a token directory, its configuration file and an initialised token.
    ///
    /// # Panics
    /// When SoftHSM2 is not installed or the token cannot be initialised, saying so.
    pub fn new() -> Self {
        let owned = tempfile::Builder::new()
            .prefix("schild-softhsm-")
            .tempdir()
            .unwrap_or_else(|error| panic!("cannot make a temporary directory: {error}"));
        let dir = owned.path().to_path_buf();
        let tokens = dir.join("tokens");
        std::fs::create_dir(&tokens)
            .unwrap_or_else(|error| panic!("cannot make {}: {error}", tokens.display()));
        let conf = dir.join("softhsm2.conf");
        let text = format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        );
        std::fs::write(&conf, text)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", conf.display()));
        let hsm = Self {
            dir,
            conf,
            _owned: Some(owned),
        };
        hsm.init_token(TOKEN_LABEL);
        hsm
    }

    /// Initialises one more token, labelled `label`, with the fixture's PINs.
    ///
    /// # Panics
    /// When `softhsm2-util` is missing or fails.
    pub fn init_token(&self, label: &str) {
        let output = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label])
            .args(["--so-pin", SO_PIN, "--pin", USER_PIN])
            .env("SOFTHSM2_CONF", &self.conf)
            .output()
            .unwrap_or_else(|error| {
                panic!("cannot run softhsm2-util ({error}); run scripts/install-test-deps")
            });
        assert!(
            output.status.success(),
            "softhsm2-util --init-token failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The configuration file, for `SOFTHSM2_CONF`.
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    /// The fixture token's user PIN.
    pub fn user_pin(&self) -> SecretString {
        SecretString::from(USER_PIN)
    }

    /// Opens the SoftHSM2 module. Only meaningful where `SOFTHSM2_CONF` points at this fixture,
    /// that is inside [`run_isolated`]'s child.
    ///
    /// # Panics
    /// When the module cannot be opened.
    pub fn module(&self) -> Module {
        Module::open(MODULE).unwrap_or_else(|error| panic!("cannot open {MODULE}: {error}"))
    }

    /// Logs in to the fixture token with the user PIN.
    ///
    /// # Panics
    /// When the login fails.
    pub fn login(&self) -> Token {
        self.module()
            .login(TOKEN_LABEL, &self.user_pin())
            .unwrap_or_else(|error| panic!("cannot log in to {TOKEN_LABEL}: {error}"))
    }

    fn in_child(conf: PathBuf) -> Self {
        let dir = conf.parent().map(Path::to_path_buf).unwrap_or_default();
        Self {
            dir,
            conf,
            _owned: None,
        }
    }
}

impl Default for SoftHsm {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `body` against a fresh token in a child process (see the [module docs](self)).
/// `test_path` is the test's full path including the crate, as
/// `concat!(module_path!(), "::", name)` gives it.
///
/// # Panics
/// When the child fails, or never ran the body.
pub fn run_isolated(test_path: &str, body: impl FnOnce(&SoftHsm)) {
    // libtest names tests without the crate.
    let name = test_path
        .split_once("::")
        .map_or(test_path, |(_, name)| name);
    if std::env::var(CHILD_VAR).is_ok_and(|running| running == name) {
        let conf = std::env::var_os("SOFTHSM2_CONF")
            .unwrap_or_else(|| panic!("{CHILD_VAR} is set but SOFTHSM2_CONF is not"));
        let hsm = SoftHsm::in_child(PathBuf::from(conf));
        body(&hsm);
        std::fs::write(hsm.dir.join(PASSED_MARKER), name)
            .unwrap_or_else(|error| panic!("cannot mark the test as passed: {error}"));
        return;
    }
    let hsm = SoftHsm::new();
    let exe = std::env::current_exe()
        .unwrap_or_else(|error| panic!("cannot find the test binary: {error}"));
    let output = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("SOFTHSM2_CONF", hsm.conf())
        .env(CHILD_VAR, name)
        .output()
        .unwrap_or_else(|error| panic!("cannot run the test binary again: {error}"));
    // Shown by the test runner when this test fails.
    print!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "{name} failed in its SoftHSM2 child process ({})",
        output.status
    );
    assert!(
        hsm.dir.join(PASSED_MARKER).exists(),
        "the child process did not run {name}"
    );
}

/// Declares a `#[test]` whose body runs against a fresh SoftHSM2 token in its own process:
/// `softhsm_test!(fn name(hsm) { … })`, with `hsm: &SoftHsm`.
#[macro_export]
macro_rules! softhsm_test {
    ($(#[$meta:meta])* fn $name:ident($hsm:ident) $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            $crate::hsm::testing::run_isolated(
                concat!(module_path!(), "::", stringify!($name)),
                |$hsm: &$crate::hsm::testing::SoftHsm| $body,
            );
        }
    };
}
