//! The backend's root key in the OS keyring (`--kek-keyring`), for real against keyutils in a
//! fresh session keyring: created on first use, used again by the next command, and a backend
//! pointed at another root key refuses to start rather than seal anew.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn admin(data: &Path, provider: &[&str], args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_schild"))
        .arg("admin")
        .args(provider)
        .args(args)
        .env("SCHILD_DATA_DIR", data)
        .env("RUST_LOG", "off")
        .env_remove("SCHILD_DATABASE_URL")
        .env_remove("SCHILD_KEK_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn create_user(data: &Path, provider: &[&str], name: &str) -> Output {
    admin(
        data,
        provider,
        &[
            "create-user",
            name,
            "--display-name",
            name,
            "--role",
            "auditor",
            "--password-stdin",
        ],
        "tangerine orbit lantern violin 7\n",
    )
}

schild_hwkey::keyring_test!(fn the_root_key_lives_in_the_keyring_and_another_is_refused(keyring) in Keyutils {
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let in_keyring = ["--kek-keyring", "keyutils", "--kek-keyring-entry", "test-kek"];
    let first = create_user(data, &in_keyring, "alice");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(schild_hwkey::keyring::KeyringKek::open(&keyring, "schild-server", "test-kek").is_ok());
    assert!(!data.join("server.kek").exists(), "no key file is made beside the keyring key");

    let again = create_user(data, &in_keyring, "bob");
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));

    // The default key file is another root key: the backend refuses it, and changes nothing.
    let other = create_user(data, &[], "carol");
    assert!(!other.status.success());
    let said = String::from_utf8_lossy(&other.stderr);
    assert!(said.contains("does not open the server's key versions"), "{said}");
    // carol was not made: with the right key she can be made now, and bob cannot be made twice.
    let carol = create_user(data, &in_keyring, "carol");
    assert!(carol.status.success(), "{}", String::from_utf8_lossy(&carol.stderr));
    assert!(!create_user(data, &in_keyring, "bob").status.success());

    schild_hwkey::keyring::KeyringKek::delete(&keyring, "schild-server", "test-kek").unwrap();
});
