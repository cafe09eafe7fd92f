//! `schild key …` as an operator uses it: against the virtual key kept in a file (the same code
//! path as a USB or NFC key), and with no key at all.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn schild(data: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_schild"));
    command
        .args(args)
        .env("SCHILD_DATA_DIR", data)
        .env("RUST_LOG", "off")
        .env_remove("SCHILD_VIRTUAL_KEY")
        .env_remove("SCHILD_KEY_PIN")
        .env_remove("SCHILD_KEY_NEW_PIN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn no_key_connected_is_an_error_not_a_panic() {
    let data = tempfile::tempdir().unwrap();
    let out = schild(data.path(), &["key", "list"], &[], "");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn virtual_key_is_managed_and_issued() {
    let data = tempfile::tempdir().unwrap();
    let key = data.path().join("demo-key.json");
    let key = key.to_str().unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["key", "--virtual", key];
        all.extend_from_slice(args);
        schild(data.path(), &all, env, "")
    };

    let out = run(&["list"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Schild virtual key"),
        "{}",
        text(&out.stdout)
    );

    let out = run(&["info"], &[]);
    let info = text(&out.stdout);
    assert!(info.contains("PIN set        no"), "{info}");
    assert!(info.contains("FIDO_2_1"), "{info}");

    let out = run(&["pin", "set"], &[("SCHILD_KEY_NEW_PIN", "12")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("PIN"), "{}", text(&out.stderr));
    let out = run(&["pin", "set"], &[("SCHILD_KEY_NEW_PIN", "4821")]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = run(
        &["pin", "change"],
        &[("SCHILD_KEY_PIN", "0000"), ("SCHILD_KEY_NEW_PIN", "93817")],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("wrong PIN") || stderr.contains("PIN is wrong"),
        "{stderr}"
    );
    assert!(stderr.contains('7'), "retries left are reported: {stderr}");

    let out = run(
        &["fingerprint", "add", "--name", "right index"],
        &[("SCHILD_KEY_PIN", "4821")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["fingerprint", "list"], &[("SCHILD_KEY_PIN", "4821")]);
    assert!(
        text(&out.stdout).contains("right index"),
        "{}",
        text(&out.stdout)
    );

    // Issue the key to a person registered in the local database.
    let out = schild(
        data.path(),
        &[
            "admin",
            "create-user",
            "grace",
            "--display-name",
            "Grace",
            "--password-stdin",
        ],
        &[],
        "tangerine orbit lantern violin 7\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        &[
            "enroll",
            "--user",
            "grace",
            "--serial",
            "VK-7",
            "--station",
            "lab",
            "--fingerprints",
            "0",
        ],
        &[("SCHILD_KEY_PIN", "4821")],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("Registered security key (Schild virtual key (not hardware)) for grace"),
        "{stdout}"
    );
    assert!(stdout.contains("Inventory entry: "), "{stdout}");
    assert!(stdout.contains("no backup key yet"), "{stdout}");

    let out = run(
        &["enroll", "--user", "nobody"],
        &[("SCHILD_KEY_PIN", "4821")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no account is named \"nobody\""),
        "{}",
        text(&out.stderr)
    );
}
