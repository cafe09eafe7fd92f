//! `schild apikey …` and `schild retention …` as an operator uses them, one command after the
//! other against the same database: a key is issued once and listed without its secret, scopes
//! stay within what the person holds, a revoked key is listed so; a hold is placed, listed and
//! released; the purge runs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn schild(data: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_schild"))
        .args(args)
        .env("SCHILD_DATA_DIR", data)
        .env("RUST_LOG", "off")
        .env_remove("SCHILD_DATABASE_URL")
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

/// Runs a command that must succeed; returns its standard output.
fn ok(data: &Path, args: &[&str]) -> String {
    let out = schild(data, args, "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must fail; returns its error output.
fn fails(data: &Path, args: &[&str]) -> String {
    let out = schild(data, args, "");
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn api_keys_and_legal_holds_from_the_console() {
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let created = schild(
        data,
        &[
            "admin",
            "create-user",
            "carol",
            "--display-name",
            "Carol",
            "--role",
            "security-officer",
            "--password-stdin",
        ],
        "tangerine orbit lantern violin 7\n",
    );
    assert!(created.status.success(), "{created:?}");

    let issued = ok(
        data,
        &[
            "apikey",
            "issue",
            "--as",
            "carol",
            "--label",
            "nightly export",
            "--scope",
            "user:read",
            "--days",
            "30",
        ],
    );
    let key = issued
        .lines()
        .find(|line| line.starts_with("schild_"))
        .expect("the key is printed")
        .to_owned();
    let (prefix, secret) = key
        .strip_prefix("schild_")
        .and_then(|rest| rest.split_once('_'))
        .unwrap();
    assert!(
        issued.starts_with(&format!("Issued API key {prefix} to carol")),
        "{issued}"
    );

    let listed = ok(data, &["apikey", "list", "--as", "carol"]);
    assert!(
        listed.starts_with(&format!("{prefix}  active ")),
        "{listed}"
    );
    assert!(listed.contains("[user:read]"), "{listed}");
    assert!(!listed.contains(secret), "a listing never shows the secret");

    let refused = fails(
        data,
        &[
            "apikey",
            "issue",
            "--as",
            "carol",
            "--label",
            "too much",
            "--scope",
            "role:manage",
        ],
    );
    assert!(refused.contains("you do not hold role:manage"), "{refused}");

    let revoked = ok(
        data,
        &[
            "apikey",
            "revoke",
            prefix,
            "--as",
            "carol",
            "--reason",
            "left in a CI log",
        ],
    );
    assert_eq!(revoked, format!("Revoked API key {prefix} of carol.\n"));
    let listed = ok(data, &["apikey", "list", "--all", "--as", "carol"]);
    assert!(
        listed.starts_with(&format!("{prefix}  revoked")),
        "{listed}"
    );

    let placed = ok(
        data,
        &[
            "retention",
            "hold",
            "--class",
            "sessions",
            "--user",
            "carol",
            "--reason",
            "matter 2026-17",
        ],
    );
    let id = placed
        .strip_prefix("Placed legal hold ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    assert_eq!(
        placed,
        format!("Placed legal hold {id} on carol's sessions.\n")
    );
    let holds = ok(data, &["retention", "holds"]);
    assert!(
        holds.starts_with(&id) && holds.contains("in force"),
        "{holds}"
    );
    assert_eq!(
        ok(
            data,
            &["retention", "release", &id, "--reason", "matter closed"]
        ),
        format!("Released legal hold {id} on sessions.\n")
    );
    assert_eq!(ok(data, &["retention", "holds"]), "No legal holds.\n");
    assert!(ok(data, &["retention", "holds", "--all"]).contains("released"));
    let again = fails(data, &["retention", "release", &id, "--reason", "twice"]);
    assert!(again.contains("already released"), "{again}");

    let run = ok(data, &["retention", "run"]);
    assert!(run.starts_with("Purged at "), "{run}");
    assert!(
        run.contains("sessions") && run.contains("0 deleted"),
        "{run}"
    );
}
