//! Unlocking `schild vault` without typing a passphrase:
//! - `schild vault unlock` opens a session in the kernel's session keyring: later commands need no
//!   passphrase until the vault sits idle for its auto-lock time or `schild vault lock` ends it.
//!   Runs for real against keyutils, in a fresh session keyring of its own.
//! - A security key's hmac-secret unlocks with a touch (the virtual key here, as `schild key`
//!   uses it); another key does not.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const PASSPHRASE: &str = "a long enough test passphrase";

/// Runs `schild vault …` with stdin closed, so a passphrase prompt fails instead of waiting.
fn vault(dir: &Path, passphrase: bool, args: &[&str], stdin: Option<&str>) -> Output {
    vault_with(dir, passphrase, args, stdin, &[])
}

fn vault_with(
    dir: &Path,
    passphrase: bool,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &Path)],
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_schild"));
    command
        .arg("vault")
        .args(args)
        .env("SCHILD_DATA_DIR", dir)
        .env_remove("SCHILD_VAULT_PASSPHRASE")
        .env_remove("SCHILD_VAULT_NEW_PASSPHRASE")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if passphrase {
        command.env("SCHILD_VAULT_PASSPHRASE", PASSPHRASE);
    }
    let mut child = command.spawn().unwrap();
    let input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        std::io::Write::write_all(&mut &input, text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn sessions(dir: &Path) -> Vec<serde_json::Value> {
    let status = vault(dir, false, &["status", "--json"], None);
    assert!(status.status.success(), "{}", text(&status));
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    status["unlock_methods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["params"]["kind"] == "session")
        .cloned()
        .collect()
}

schild_hwkey::keyring_test!(fn a_session_unlocks_later_commands_until_locked_or_idle(keyring) in Keyutils {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let init = vault(dir, true, &["init", "--auto-lock-secs", "3"], None);
    assert!(init.status.success(), "{}", text(&init));
    let put = vault(dir, true, &["put", "token"], Some("s3cret"));
    assert!(put.status.success(), "{}", text(&put));

    // Without a session, no passphrase means no access.
    let refused = vault(dir, false, &["get", "token"], None);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("cannot read the passphrase"), "{}", text(&refused));

    let unlock = vault(dir, true, &["unlock"], None);
    assert!(unlock.status.success(), "{}", text(&unlock));
    assert!(text(&unlock).contains("unlocked for this login session"), "{}", text(&unlock));
    let open = sessions(dir);
    assert_eq!(open.len(), 1, "{open:?}");
    let entry = open[0]["params"]["entry"].as_str().unwrap().to_owned();
    assert!(schild_hwkey::keyring::KeyringKek::open(&keyring, "schild-vault-session", &entry).is_ok());

    let got = vault(dir, false, &["get", "token"], None);
    assert!(got.status.success(), "{}", text(&got));
    assert_eq!(got.stdout, b"s3cret");

    // The session cannot be the last way in.
    let remove = vault(dir, false, &["remove-unlock", "passphrase"], None);
    assert!(!remove.status.success());
    assert!(text(&remove).contains("only lasting unlock method"), "{}", text(&remove));

    // `lock` ends it: the method and its key are gone, and the passphrase is needed again.
    let lock = vault(dir, false, &["lock"], None);
    assert!(lock.status.success(), "{}", text(&lock));
    assert!(text(&lock).contains("1 session(s) ended"), "{}", text(&lock));
    assert!(sessions(dir).is_empty());
    assert!(schild_hwkey::keyring::KeyringKek::open(&keyring, "schild-vault-session", &entry).is_err());
    assert!(!vault(dir, false, &["get", "token"], None).status.success());

    // Idle past the auto-lock time, a session ends by itself at the next command.
    let unlock = vault(dir, true, &["unlock"], None);
    assert!(unlock.status.success(), "{}", text(&unlock));
    assert_eq!(sessions(dir).len(), 1);
    std::thread::sleep(Duration::from_secs(4));
    let idle = vault(dir, false, &["get", "token"], None);
    assert!(!idle.status.success(), "{}", text(&idle));
    assert!(sessions(dir).is_empty());
    let with_passphrase = vault(dir, true, &["get", "token"], None);
    assert_eq!(with_passphrase.stdout, b"s3cret", "{}", text(&with_passphrase));

    // A lasting key in the keyring (keyutils here) unlocks without typing too.
    let add = vault(dir, true, &["add-unlock", "--method", "keyring", "--keyring", "keyutils"], None);
    assert!(add.status.success(), "{}", text(&add));
    let by_keyring = vault(dir, false, &["--unlock-with", "keyring", "get", "token"], None);
    assert_eq!(by_keyring.stdout, b"s3cret", "{}", text(&by_keyring));
    schild_hwkey::keyring::KeyringKek::delete(&keyring, "schild-vault", "desktop.keyring").unwrap();
});

#[test]
fn a_security_key_unlocks_with_a_touch_and_another_key_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let key = dir.join("virtual-key.json");
    let other = dir.join("other-key.json");
    let with_key = [("SCHILD_VIRTUAL_KEY", key.as_path())];
    let init = vault(dir, true, &["init"], None);
    assert!(init.status.success(), "{}", text(&init));
    let put = vault(dir, true, &["put", "token"], Some("s3cret"));
    assert!(put.status.success(), "{}", text(&put));

    let add = vault_with(
        dir,
        true,
        &[
            "add-unlock",
            "--method",
            "security-key",
            "--label",
            "desk key",
        ],
        None,
        &with_key,
    );
    assert!(add.status.success(), "{}", text(&add));
    assert!(text(&add).contains("Touch the key now."), "{}", text(&add));

    // No passphrase: the key's touch opens the vault.
    let got = vault_with(
        dir,
        false,
        &["--unlock-with", "security-key", "get", "token"],
        None,
        &with_key,
    );
    assert!(got.status.success(), "{}", text(&got));
    assert_eq!(got.stdout, b"s3cret");

    // Another key has no such credential: refused with a clear message, nothing opened.
    let refused = vault_with(
        dir,
        false,
        &["--unlock-with", "security-key", "get", "token"],
        None,
        &[("SCHILD_VIRTUAL_KEY", other.as_path())],
    );
    assert!(!refused.status.success());
    assert!(refused.stdout.is_empty());
    assert!(!text(&refused).contains("s3cret"));
    let status = vault(dir, false, &["status", "--json"], None);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let kinds: Vec<_> = status["unlock_methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["params"]["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["passphrase", "security-key"]);
}
