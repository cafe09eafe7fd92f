//! TOTP known answers: RFC 6238 Appendix B (SHA-1) and a cross-check against `oathtool`
//! (OATH Toolkit), an independent implementation, for several secrets and fixed times.
//!
//! The oathtool check fails rather than skips when the tool is missing, so CI cannot silently
//! lose it: `make test` installs it (`apt-get install oathtool`).

use std::process::Command;

use rand::SeedableRng;
use rand::rngs::StdRng;
use schild_core::totp::{self, TotpError, TotpSecret};
use time::OffsetDateTime;

/// RFC 6238 Appendix B: the SHA-1 key is the ASCII string "12345678901234567890".
const RFC_KEY: &[u8; 20] = b"12345678901234567890";

/// RFC 6238 Appendix B, SHA-1 rows: (unix time, 8-digit TOTP).
const RFC_SHA1: [(u64, &str); 6] = [
    (59, "94287082"),
    (1_111_111_109, "07081804"),
    (1_111_111_111, "14050471"),
    (1_234_567_890, "89005924"),
    (2_000_000_000, "69279037"),
    (20_000_000_000, "65353130"),
];

/// Times for the oathtool comparison: the epoch, step boundaries, the RFC times, today-ish,
/// after 2038 (32-bit overflow) and far in the future.
const TIMES: [u64; 12] = [
    0,
    29,
    30,
    59,
    1_111_111_109,
    1_234_567_890,
    1_700_000_000,
    1_700_000_029,
    2_000_000_000,
    2_147_483_648,
    4_102_444_800,
    20_000_000_000,
];

fn rfc_secret() -> TotpSecret {
    TotpSecret::from_bytes(*RFC_KEY)
}

fn oathtool(base32: &str, unix: u64, digits: u8) -> String {
    let output = Command::new("oathtool")
        .args(["--totp", "-d", &digits.to_string(), "-b", base32, "--now", &format!("@{unix}")])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run oathtool ({e}): install oathtool (make test does), e.g. apt-get install oathtool")
        });
    assert!(
        output.status.success(),
        "oathtool failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn rfc6238_appendix_b_sha1_eight_digits() {
    // The underlying HOTP/TOTP math at the RFC's 8 digits, through the same engine and
    // parameters as schild_core::totp except the digit count.
    let engine = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(8)
        .with_step_duration(totp::STEP_SECONDS)
        .with_secret(totp_rs::Secret::new_stack(*RFC_KEY))
        .build()
        .expect("RFC parameters are valid");
    for (t, expected) in RFC_SHA1 {
        assert_eq!(engine.generate(t).to_string(), expected, "t = {t}");
    }
}

#[test]
fn rfc6238_appendix_b_sha1_through_the_public_api() {
    let secret = rfc_secret();
    for (t, eight) in RFC_SHA1 {
        let six = &eight[eight.len() - totp::DIGITS..];
        assert_eq!(totp::code_at(&secret, t), six, "t = {t}");
        let now = OffsetDateTime::from_unix_timestamp(i64::try_from(t).unwrap()).unwrap();
        let step = totp::verify(&secret, six, now, None).expect("the RFC code verifies");
        assert_eq!(step, t / totp::STEP_SECONDS);
        assert_eq!(
            totp::verify(&secret, six, now, Some(step)),
            Err(TotpError::Replayed)
        );
    }
}

#[test]
fn oathtool_agrees_on_the_rfc_vectors_at_eight_digits() {
    let base32 = rfc_secret().to_base32();
    for (t, expected) in RFC_SHA1 {
        assert_eq!(oathtool(&base32, t, 8), expected, "t = {t}");
    }
}

#[test]
fn oathtool_agrees_for_several_secrets_and_times() {
    let mut rng = StdRng::seed_from_u64(6238);
    let secrets = [
        rfc_secret(),
        TotpSecret::generate(&mut rng),
        TotpSecret::generate(&mut rng),
    ];
    for secret in &secrets {
        let base32 = secret.to_base32();
        for t in TIMES {
            let theirs = oathtool(&base32, t, 6);
            assert_eq!(
                totp::code_at(secret, t),
                theirs,
                "secret {} at t = {t}",
                base32.as_str()
            );
            let now = OffsetDateTime::from_unix_timestamp(i64::try_from(t).unwrap()).unwrap();
            assert_eq!(
                totp::verify(secret, &theirs, now, None),
                Ok(t / totp::STEP_SECONDS)
            );
        }
    }
}

#[test]
fn oathtool_codes_from_the_neighbouring_steps_verify() {
    let secret = rfc_secret();
    let base32 = secret.to_base32();
    let now_unix = 1_700_000_015;
    let now = OffsetDateTime::from_unix_timestamp(now_unix).unwrap();
    let current = 1_700_000_015 / totp::STEP_SECONDS;
    for (t, expected) in [
        (1_700_000_015 - 30, Ok(current - 1)),
        (1_700_000_015 + 30, Ok(current + 1)),
        (1_700_000_015 - 60, Err(TotpError::Wrong)),
        (1_700_000_015 + 60, Err(TotpError::Wrong)),
    ] {
        let code = oathtool(&base32, t, 6);
        assert_eq!(totp::verify(&secret, &code, now, None), expected, "t = {t}");
    }
}
