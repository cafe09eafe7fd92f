//! Test fixtures (cargo features `keyring` and `testing`): this machine's real Linux keyrings,
//! each test in a sandbox of its own, with no mocks.
//!
//! - **Secret Service**: a private D-Bus session bus (`dbus-run-session`) with gnome-keyring's
//!   secrets daemon, its login keyring created and unlocked with a test password, and `HOME` and
//!   the XDG directories in a temporary directory, so the user's own keyring is never touched.
//! - **keyutils**: a fresh anonymous session keyring (`keyctl session -`); the inherited one
//!   refuses access here. The user's persistent keyring is still linked in (the store does so),
//!   so tests use names of their own and delete what they create.
//!
//! Both need the environment set before the process starts (the bus address, `HOME`, the
//! session keyring of the process), and `std::env::set_var` is `unsafe` and forbidden in this
//! workspace. So, as in [`crate::hsm::testing`], each test runs its body in a child process:
//! the test runs the same test binary again under `dbus-run-session` or `keyctl session`,
//! asking libtest for exactly this test, with [`CHILD_VAR`] naming it. A marker file tells the
//! parent that the body really ran. A missing program fails the test with the package to
//! install; it never skips.
//!
//! ```ignore
//! schild_hwkey::keyring_test!(fn keeps_a_key(store) in SecretService {
//!     KeyringKek::create(&store, "schild-test", "k").unwrap();
//! });
//! ```

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{KeyringBackend, KeyringStore};

/// Set in the child process to the name of the test it runs.
pub const CHILD_VAR: &str = "SCHILD_KEYRING_CHILD";
/// Set in the child process to the sandbox directory.
const DIR_VAR: &str = "SCHILD_KEYRING_SANDBOX";
const PASSED_MARKER: &str = "body-passed";
/// The password of the sandbox's gnome-keyring login keyring.
pub const LOGIN_PASSWORD: &str = "schild-test-keyring";
/// How long a child may run before it is killed (a keyring prompting for input would hang).
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);

/// Which real keyring a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sandbox {
    /// gnome-keyring's Secret Service on a private session bus.
    SecretService,
    /// The kernel's keyutils, in a fresh session keyring.
    Keyutils,
    /// No keyring at all: the session bus address names a socket that does not exist, as on a
    /// server without a desktop session.
    NoSessionBus,
}

impl Sandbox {
    /// Opens the sandbox's keyring; meant for the child process.
    ///
    /// # Panics
    /// When the keyring cannot be opened, or for [`Sandbox::NoSessionBus`], which has none.
    pub fn open(self) -> KeyringStore {
        let backend = match self {
            Self::SecretService => KeyringBackend::SecretService,
            Self::Keyutils => KeyringBackend::Keyutils,
            Self::NoSessionBus => panic!("the {self:?} sandbox has no keyring to open"),
        };
        backend
            .open()
            .unwrap_or_else(|error| panic!("cannot open the {self:?} sandbox: {error}"))
    }

    /// The programs the sandbox needs, with the Debian package of each.
    fn programs(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::SecretService => &[
                ("dbus-run-session", "dbus"),
                ("gnome-keyring-daemon", "gnome-keyring"),
            ],
            Self::Keyutils => &[("keyctl", "keyutils")],
            Self::NoSessionBus => &[],
        }
    }
}

/// Runs `body` in a child process inside `sandbox` (see the [module docs](self)); the body opens
/// the keyring itself ([`Sandbox::open`]). `test_path` is the test's full path including the
/// crate, as `concat!(module_path!(), "::", name)` gives it.
///
/// # Panics
/// When a program the sandbox needs is missing, or the child fails or never ran the body.
pub fn run_isolated(test_path: &str, sandbox: Sandbox, body: impl FnOnce()) {
    // libtest names tests without the crate.
    let name = test_path
        .split_once("::")
        .map_or(test_path, |(_, name)| name);
    if std::env::var(CHILD_VAR).is_ok_and(|running| running == name) {
        let dir = std::env::var_os(DIR_VAR)
            .map(PathBuf::from)
            .unwrap_or_else(|| panic!("{CHILD_VAR} is set but {DIR_VAR} is not"));
        body();
        std::fs::write(dir.join(PASSED_MARKER), name)
            .unwrap_or_else(|error| panic!("cannot mark the test as passed: {error}"));
        return;
    }

    for (program, package) in sandbox.programs() {
        require(program, package);
    }
    // Owned here, removed when the test ends.
    let sandbox_dir = tempfile::Builder::new()
        .prefix("schild-keyring-")
        .tempdir()
        .unwrap_or_else(|error| panic!("cannot make a temporary directory: {error}"));
    let dir = sandbox_dir.path();
    let exe = std::env::current_exe()
        .unwrap_or_else(|error| panic!("cannot find the test binary: {error}"));
    let test_args = [name, "--exact", "--nocapture", "--test-threads=1"];
    let mut command = match sandbox {
        Sandbox::SecretService => {
            // The daemon creates the login keyring with this password, unlocks it, and becomes
            // the bus's org.freedesktop.secrets; it exits with the bus.
            let script = format!(
                "printf %s '{LOGIN_PASSWORD}' | gnome-keyring-daemon --unlock --components=secrets \
                 >/dev/null || exit 97; exec \"$@\""
            );
            let mut command = Command::new("dbus-run-session");
            command.args(["--", "sh", "-c", &script, "sh"]).arg(&exe);
            command
        }
        Sandbox::Keyutils => {
            let mut command = Command::new("keyctl");
            command.args(["session", "-"]).arg(&exe);
            command
        }
        Sandbox::NoSessionBus => Command::new(&exe),
    };
    command.args(test_args);
    sandbox_environment(&mut command, dir, name);
    if sandbox == Sandbox::NoSessionBus {
        let missing = dir.join("runtime").join("no-bus");
        command.env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", missing.display()),
        );
    }
    let (status, stdout, stderr) = run_with_timeout(command, dir);
    // Shown by the test runner when this test fails.
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(
        status.as_ref().is_ok_and(std::process::ExitStatus::success),
        "{name} failed in its {sandbox:?} sandbox ({status:?})"
    );
    assert!(
        dir.join(PASSED_MARKER).exists(),
        "the child process did not run {name}"
    );
}

/// Fails the test, naming the package, when `program` is not installed.
fn require(program: &str, package: &str) {
    match Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => {}
        Err(error) if error.kind() == ErrorKind::NotFound => panic!(
            "{program} is not installed: the keyring tests need the Debian package {package} \
             (run scripts/install-deps)"
        ),
        Err(error) => panic!("cannot run {program}: {error}"),
    }
}

/// A home of the sandbox's own, so gnome-keyring keeps its files there, and nothing of the
/// caller's session (bus address, keyring sockets) leaks in.
fn sandbox_environment(command: &mut Command, dir: &Path, name: &str) {
    for (var, sub) in [
        ("HOME", "home"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_RUNTIME_DIR", "runtime"),
    ] {
        let path = dir.join(sub);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|error| panic!("cannot make {}: {error}", path.display()));
        command.env(var, path);
    }
    #[cfg(unix)]
    {
        // The XDG base directory specification requires the runtime directory to be 0700.
        use std::os::unix::fs::PermissionsExt;
        let runtime = dir.join("runtime");
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))
            .unwrap_or_else(|error| panic!("cannot restrict {}: {error}", runtime.display()));
    }
    command
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("GNOME_KEYRING_CONTROL")
        .env(CHILD_VAR, name)
        .env(DIR_VAR, dir);
}

/// Runs the child with its output in files, killing it after [`CHILD_TIMEOUT`].
fn run_with_timeout(
    mut command: Command,
    dir: &Path,
) -> (Result<std::process::ExitStatus, String>, String, String) {
    let out_path = dir.join("stdout");
    let err_path = dir.join("stderr");
    let file = |path: &Path| {
        std::fs::File::create(path)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", path.display()))
    };
    command
        .stdin(Stdio::null())
        .stdout(file(&out_path))
        .stderr(file(&err_path));
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start the sandbox: {error}"));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if started.elapsed() > CHILD_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("killed after {CHILD_TIMEOUT:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(error) => break Err(error.to_string()),
        }
    };
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    (status, read(&out_path), read(&err_path))
}

/// Declares a `#[test]` whose body runs against a real keyring in a sandbox process of its own:
/// `keyring_test!(fn name(store) in SecretService { … })` (or `in Keyutils`), with
/// `store: KeyringStore` freshly opened in the child.
#[macro_export]
macro_rules! keyring_test {
    ($(#[$meta:meta])* fn $name:ident($store:ident) in $sandbox:ident $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            let sandbox = $crate::keyring::testing::Sandbox::$sandbox;
            $crate::keyring::testing::run_isolated(
                concat!(module_path!(), "::", stringify!($name)),
                sandbox,
                || {
                    let $store: $crate::keyring::KeyringStore = sandbox.open();
                    $body
                },
            );
        }
    };
}
