//! `schild hsm …` against a real SoftHSM2 token. Each test makes its own token directory and
//! hands it to the `schild` process through `SOFTHSM2_CONF` on that command alone, so tests
//! never touch their own environment.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use schild_hwkey::hsm::testing::{MODULE, SoftHsm, TOKEN_LABEL, USER_PIN};
use std::process::{Command, Output};

/// `schild hsm ARGS` against the fixture's token, with the right PIN unless `pin` says otherwise.
fn schild_hsm(hsm: &SoftHsm, pin: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schild"))
        .arg("hsm")
        .args(args)
        .args(["--module", MODULE])
        .env("SOFTHSM2_CONF", hsm.conf())
        .env("SCHILD_HSM_PIN", pin)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn slots_lists_the_token() {
    let hsm = SoftHsm::new();
    let output = schild_hsm(&hsm, USER_PIN, &["slots"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.starts_with(&format!("Module {MODULE}: SoftHSM")),
        "{out}"
    );
    assert!(
        out.contains(r#": token "schild-test" (SoftHSM project, SoftHSM v2, serial "#),
        "{out}"
    );
    assert!(
        out.contains("initialised, user PIN set, login required"),
        "{out}"
    );
    assert!(
        out.contains(": uninitialised token (SoftHSM project, SoftHSM v2)"),
        "{out}"
    );
}

#[test]
fn the_self_test_passes_and_leaves_nothing_behind() {
    let hsm = SoftHsm::new();
    let output = schild_hsm(&hsm, USER_PIN, &["test", "--token", TOKEN_LABEL]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}{}", stderr(&output));
    for step in [
        "generate AES-256 key",
        "generate P-256 key",
        "generate Ed25519 key",
        "wrap and unwrap a data key",
        "refuse the wrong AAD",
        "refuse a tampered blob",
        "sign and verify with P-256",
        "sign and verify with Ed25519",
        "delete the AES-256 key",
        "delete the P-256 key",
        "delete the Ed25519 key",
    ] {
        let line = out
            .lines()
            .find(|line| line.trim_start().starts_with(step))
            .unwrap_or_else(|| panic!("no step {step:?} in:\n{out}"));
        assert!(line.ends_with(" ok"), "{line}");
    }
    assert!(out.ends_with("All 11 steps passed.\n"), "{out}");

    let output = schild_hsm(&hsm, USER_PIN, &["keys", "--token", TOKEN_LABEL]);
    assert_eq!(stdout(&output), "No keys on token \"schild-test\".\n");
}

#[test]
fn generated_keys_sign_files_that_verify_elsewhere() {
    let hsm = SoftHsm::new();
    let output = schild_hsm(
        &hsm,
        USER_PIN,
        &[
            "generate",
            "--token",
            TOKEN_LABEL,
            "--kind",
            "ed25519",
            "--label",
            "release",
        ],
    );
    let out = stdout(&output);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        out.starts_with("Generated Ed25519 key \"release\" (id "),
        "{out}"
    );
    let public = out
        .lines()
        .find_map(|line| line.strip_prefix("Public key (base64): "))
        .unwrap();
    let public: [u8; 32] = BASE64.decode(public).unwrap().try_into().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("release.tar");
    std::fs::write(&file, b"the release").unwrap();
    let output = schild_hsm(
        &hsm,
        USER_PIN,
        &[
            "sign",
            "--token",
            TOKEN_LABEL,
            "--key",
            "release",
            file.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let signature = BASE64.decode(stdout(&output).trim_end()).unwrap();
    let signature = ed25519_dalek::Signature::from_slice(&signature).unwrap();
    ed25519_dalek::VerifyingKey::from_bytes(&public)
        .unwrap()
        .verify_strict(b"the release", &signature)
        .unwrap();

    let output = schild_hsm(
        &hsm,
        USER_PIN,
        &[
            "generate",
            "--token",
            TOKEN_LABEL,
            "--kind",
            "aes256",
            "--label",
            "release",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: a key labelled \"release\" already exists on this token. Pick another label; keys are never replaced silently.\n"
    );

    let output = schild_hsm(&hsm, USER_PIN, &["keys", "--token", TOKEN_LABEL]);
    let out = stdout(&output);
    assert!(out.starts_with("LABEL "), "{out}");
    assert!(
        out.contains("\nrelease ") && out.contains(" ed25519 "),
        "{out}"
    );
}

#[test]
fn a_wrong_pin_gets_one_clear_line() {
    let hsm = SoftHsm::new();
    let output = schild_hsm(&hsm, "0000", &["keys", "--token", TOKEN_LABEL]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.starts_with("error: wrong user PIN"), "{err}");
    assert!(
        err.ends_with("the token locks the PIN after a few wrong tries.\n"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn an_unknown_token_names_the_ones_present() {
    let hsm = SoftHsm::new();
    let output = schild_hsm(&hsm, USER_PIN, &["test", "--token", "vault"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.starts_with(r#"error: no token is labelled "vault" (tokens present: "schild-test"). Run `schild hsm slots`"#),
        "{err}"
    );
}
