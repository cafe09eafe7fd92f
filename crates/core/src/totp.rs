//! Time-based one-time passwords (RFC 6238) as a second factor: secrets, enrolment URIs and QR
//! codes, and verification with a ±1 step window and replay protection.
//!
//! Parameters are the ones every authenticator app supports: HMAC-SHA-1, 6 digits, 30-second
//! steps (RFC 6238 §4 and §5.2), with a 160-bit secret (RFC 4226 §4 recommends 160 bits).
//!
//! The HOTP/TOTP arithmetic comes from `totp-rs`; this module adds what it leaves to the caller:
//! time as a parameter (`now`, never the system clock), refusing a code for a step that was
//! already accepted (RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the
//! OTP after the successful validation has been issued for the first OTP"), and a comparison
//! that takes the same time whichever step of the window matches.

use data_encoding::BASE32_NOPAD;
use image::ImageEncoder;
use qrcode::{EcLevel, QrCode};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use time::OffsetDateTime;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

/// Length of a time step in seconds (RFC 6238 §5.2 recommends 30).
pub const STEP_SECONDS: u64 = 30;

/// Digits in a code (RFC 4226 §5.3 allows 6 to 8; authenticator apps show 6).
pub const DIGITS: usize = 6;

/// Steps accepted either side of the current one, for clock drift and typing time
/// (RFC 6238 §5.2 recommends at most one).
pub const SKEW_STEPS: u64 = 1;

/// Length of a secret in bytes: 160 bits, RFC 4226 §4's recommendation.
pub const SECRET_LEN: usize = 20;

/// `DIGITS` in the type totp-rs wants; a compile-time check keeps the two equal.
const DIGITS_U8: u8 = 6;
const _: () = assert!(DIGITS_U8 as usize == DIGITS);

/// Longest input [`verify`] looks at. A code with spaces ("123 456") fits easily; anything
/// longer is not a code and is refused before any work is done.
const MAX_CODE_INPUT: usize = 32;

/// Longest input [`TotpSecret::from_base32`] looks at (32 characters, plus room for spaces).
const MAX_SECRET_INPUT: usize = 128;

/// Side length in pixels the QR code is rendered at, at least: large enough to scan from a
/// screen, small enough to embed.
const QR_MIN_PIXELS: u32 = 256;

/// Why a TOTP operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TotpError {
    /// The code is not six digits (spaces aside). The user mistyped or pasted something else.
    #[error("a one-time code is {DIGITS} digits")]
    Malformed,
    /// Six digits, but not the code for the current step or either neighbour. The user mistyped,
    /// read an old code, or their device clock is off by more than 30 seconds.
    #[error("the one-time code is not correct")]
    Wrong,
    /// The code is correct for a step at or before the last one accepted for this user: it has
    /// been used already. The user reused a code (wait for the next one), or someone replays an
    /// observed code.
    #[error("this one-time code has been used already; wait for the next one")]
    Replayed,
    /// Not a base32 (RFC 4648) encoding of exactly 160 bits. Stored data is damaged, or an
    /// import supplied a secret of the wrong length.
    #[error("a TOTP secret is 32 base32 characters (160 bits)")]
    InvalidSecret,
    /// The issuer or account name for an enrolment URI is empty or contains a colon, which the
    /// Key URI format reserves as the separator between them. A configuration or caller bug.
    #[error("issuer and account name must be non-empty and must not contain ':'")]
    InvalidLabel,
    /// The enrolment URI does not fit in a QR code. Caused by an absurdly long issuer or
    /// account name; a caller bug.
    #[error("the enrolment URI is too long for a QR code")]
    UriTooLongForQr,
    /// Encoding the QR code as PNG failed. Not expected when writing to memory; a bug.
    #[error("encoding the QR code as PNG failed")]
    PngEncoding,
    /// `now` lies before 1970, where TOTP is undefined. The server clock is broken.
    #[error("the clock is set before 1970")]
    ClockBeforeEpoch,
}

/// A user's TOTP shared secret: 160 random bits, wiped from memory when dropped.
///
/// `Debug` prints `TotpSecret(<redacted>)`; equality is constant-time.
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<[u8; SECRET_LEN]>);

impl TotpSecret {
    /// A fresh secret from `rng`.
    pub fn generate(rng: &mut impl rand::CryptoRng) -> Self {
        let mut bytes = Zeroizing::new([0u8; SECRET_LEN]);
        rng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// A secret from raw bytes, e.g. the RFC 6238 test key.
    pub fn from_bytes(bytes: [u8; SECRET_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Parses the base32 form (RFC 4648 alphabet, as shown by authenticator apps and stored by
    /// Schild). Case, ASCII whitespace and trailing `=` padding are ignored; the result must be
    /// exactly 160 bits.
    pub fn from_base32(encoded: &str) -> Result<Self, TotpError> {
        if encoded.len() > MAX_SECRET_INPUT {
            return Err(TotpError::InvalidSecret);
        }
        let mut canonical = Zeroizing::new(String::with_capacity(encoded.len()));
        canonical.extend(
            encoded
                .trim_end_matches(|c: char| c == '=' || c.is_ascii_whitespace())
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .map(|c| c.to_ascii_uppercase()),
        );
        let input = canonical.as_bytes();
        if BASE32_NOPAD.decode_len(input.len()) != Ok(SECRET_LEN) {
            return Err(TotpError::InvalidSecret);
        }
        let mut bytes = Zeroizing::new([0u8; SECRET_LEN]);
        match BASE32_NOPAD.decode_mut(input, bytes.as_mut()) {
            Ok(SECRET_LEN) => Ok(Self(bytes)),
            _ => Err(TotpError::InvalidSecret),
        }
    }

    /// The base32 form (RFC 4648, upper case, no padding: 32 characters), for storage and for
    /// users who type the secret in instead of scanning the QR code.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE32_NOPAD.encode(self.0.as_ref()))
    }

    /// The raw secret. Needed only to encrypt it for storage; prefer the functions of this
    /// module.
    pub fn expose_bytes(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// A totp-rs engine for this secret with Schild's fixed parameters and no skew of its own
    /// (the window is walked in [`verify`]).
    fn engine(&self) -> Totp {
        // `build_noncompliant` skips checks that cannot fail here: SHA-1, 6 digits, 30-second
        // steps and a 160-bit secret are constants that satisfy RFC 6238 (the tests build the
        // same engine with the checking `build`). The engine wipes its copy of the key on drop.
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS_U8)
            .with_skew(0)
            .with_step_duration(STEP_SECONDS)
            .with_secret(Secret::new_stack(*self.0))
            .build_noncompliant()
    }
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl ConstantTimeEq for TotpSecret {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.as_ref().ct_eq(other.0.as_ref())
    }
}

impl PartialEq for TotpSecret {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for TotpSecret {}

/// The enrolment URI in the Key URI format authenticator apps scan:
/// `otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30`.
///
/// Issuer and account are percent-encoded (RFC 3986, everything but unreserved characters).
/// The parameters are spelled out although they are the defaults, because some apps ignore a
/// missing one differently. The URI contains the secret, hence the `Zeroizing` wrapper.
///
/// totp-rs has `Totp::to_url`, but it omits default parameters, so the URI is built here.
pub fn otpauth_uri(
    secret: &TotpSecret,
    issuer: &str,
    account: &str,
) -> Result<Zeroizing<String>, TotpError> {
    let label_ok = |part: &str| !part.is_empty() && !part.contains(':');
    if !label_ok(issuer) || !label_ok(account) {
        return Err(TotpError::InvalidLabel);
    }
    let base32 = secret.to_base32();
    let mut uri = Zeroizing::new(String::with_capacity(
        96 + base32.len() + 6 * (2 * issuer.len() + account.len()),
    ));
    uri.push_str("otpauth://totp/");
    push_percent_encoded(&mut uri, issuer);
    uri.push(':');
    push_percent_encoded(&mut uri, account);
    uri.push_str("?secret=");
    uri.push_str(&base32);
    uri.push_str("&issuer=");
    push_percent_encoded(&mut uri, issuer);
    uri.push_str("&algorithm=SHA1&digits=");
    uri.push_str(&DIGITS.to_string());
    uri.push_str("&period=");
    uri.push_str(&STEP_SECONDS.to_string());
    Ok(uri)
}

/// Appends `text` with every byte outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`)
/// percent-encoded. Small enough that a dependency (`percent-encoding`) is not worth adding.
fn push_percent_encoded(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// The enrolment URI as a QR code in SVG, for the web UI. Contains the secret.
pub fn qr_svg(uri: &str) -> Result<Zeroizing<String>, TotpError> {
    let code = qr_code(uri)?;
    Ok(Zeroizing::new(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(QR_MIN_PIXELS, QR_MIN_PIXELS)
            .quiet_zone(true)
            .build(),
    ))
}

/// The enrolment URI as a QR code in PNG (8-bit greyscale), for the CLI and the desktop app.
/// Contains the secret.
pub fn qr_png(uri: &str) -> Result<Zeroizing<Vec<u8>>, TotpError> {
    let code = qr_code(uri)?;
    let image = code
        .render::<image::Luma<u8>>()
        .min_dimensions(QR_MIN_PIXELS, QR_MIN_PIXELS)
        .quiet_zone(true)
        .build();
    let (width, height) = image.dimensions();
    let pixels = Zeroizing::new(image.into_raw());
    let mut png = Zeroizing::new(Vec::with_capacity(pixels.len() / 4));
    image::codecs::png::PngEncoder::new(&mut *png)
        .write_image(&pixels, width, height, image::ExtendedColorType::L8)
        .map_err(|_| TotpError::PngEncoding)?;
    Ok(png)
}

/// Medium error correction (15 %): survives a smudged screen without making the code dense.
fn qr_code(uri: &str) -> Result<QrCode, TotpError> {
    QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M)
        .map_err(|_| TotpError::UriTooLongForQr)
}

/// The code for the step containing `unix_seconds` (RFC 6238 §4: T = floor(t / 30)), zero-padded
/// to six digits. For tests, the CLI and end-to-end clients; the server only [`verify`]s.
pub fn code_at(secret: &TotpSecret, unix_seconds: u64) -> String {
    secret.engine().generate(unix_seconds).to_string()
}

/// Checks a code typed by the user at `now` and returns the step it was accepted for.
///
/// - The code is six ASCII digits; spaces (as apps display it, "123 456") are ignored.
/// - It may belong to the current step or to one step either side ([`SKEW_STEPS`]).
/// - It must belong to a step after `last_used_step`, the step returned by the last successful
///   call for this user. Store the returned step as the new `last_used_step` (compare-and-set,
///   so two concurrent sign-ins cannot both use it).
///
/// All steps of the window are computed and compared in constant time, whichever matches.
/// totp-rs's own `Totp::check` stops at the first match and reports only that step, which can
/// make a code that is fresh for a later step look like a replay; hence the walk here.
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    now: OffsetDateTime,
    last_used_step: Option<u64>,
) -> Result<u64, TotpError> {
    let code = parse_code(code)?;
    let now = u64::try_from(now.unix_timestamp()).map_err(|_| TotpError::ClockBeforeEpoch)?;
    let current = now / STEP_SECONDS;
    let engine = secret.engine();

    let mut accepted = 0u64;
    let mut found = Choice::from(0);
    let mut replayed = Choice::from(0);
    for step in current.saturating_sub(SKEW_STEPS)..=current.saturating_add(SKEW_STEPS) {
        let expected = Zeroizing::new(engine.generate(step * STEP_SECONDS).to_string());
        let matches = expected.as_bytes().ct_eq(code.as_ref());
        // Which steps are fresh depends only on `last_used_step`, which is not secret.
        let fresh = Choice::from(u8::from(last_used_step.is_none_or(|last| step > last)));
        // The earliest fresh match wins, so a later step stays available.
        let take = matches & fresh & !found;
        accepted.conditional_assign(&step, take);
        found |= take;
        replayed |= matches & !fresh;
    }

    if bool::from(found) {
        Ok(accepted)
    } else if bool::from(replayed) {
        Err(TotpError::Replayed)
    } else {
        Err(TotpError::Wrong)
    }
}

/// The six digits of a typed code, spaces removed.
fn parse_code(input: &str) -> Result<Zeroizing<[u8; DIGITS]>, TotpError> {
    if input.len() > MAX_CODE_INPUT {
        return Err(TotpError::Malformed);
    }
    let mut digits = Zeroizing::new([0u8; DIGITS]);
    let mut count = 0;
    for byte in input.trim().bytes().filter(|&b| b != b' ') {
        match digits.get_mut(count) {
            Some(slot) if byte.is_ascii_digit() => *slot = byte,
            _ => return Err(TotpError::Malformed),
        }
        count += 1;
    }
    if count == DIGITS {
        Ok(digits)
    } else {
        Err(TotpError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use time::Duration;

    /// The RFC 6238 Appendix B SHA-1 key, "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(*b"12345678901234567890")
    }

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    #[test]
    fn the_engine_parameters_pass_totp_rs_checks() {
        let secret = rfc_secret();
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS_U8)
            .with_skew(0)
            .with_step_duration(STEP_SECONDS)
            .with_secret(Secret::new_stack(*secret.expose_bytes()))
            .build()
            .unwrap();
    }

    #[test]
    fn generate_uses_the_rng_and_is_160_bits() {
        let a = TotpSecret::generate(&mut StdRng::seed_from_u64(1));
        let b = TotpSecret::generate(&mut StdRng::seed_from_u64(1));
        let c = TotpSecret::generate(&mut StdRng::seed_from_u64(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_base32().len(), 32);
    }

    #[test]
    fn base32_round_trip_and_leniency() {
        let secret = rfc_secret();
        let encoded = secret.to_base32();
        assert_eq!(encoded.as_str(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(TotpSecret::from_base32(&encoded).unwrap(), secret);
        assert_eq!(
            TotpSecret::from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap(),
            secret
        );
        assert_eq!(
            TotpSecret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====\n").unwrap(),
            secret
        );
    }

    #[test]
    fn base32_refuses_wrong_length_or_alphabet() {
        for bad in [
            "",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ",   // 31 characters
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQA", // 33 characters
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1",  // '1' is not in the RFC 4648 alphabet
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", // 240 bits
            "ĞEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        ] {
            assert_eq!(
                TotpSecret::from_base32(bad),
                Err(TotpError::InvalidSecret),
                "{bad:?}"
            );
        }
        assert_eq!(
            TotpSecret::from_base32(&"A".repeat(10_000)),
            Err(TotpError::InvalidSecret)
        );
    }

    #[test]
    fn debug_is_redacted() {
        let secret = rfc_secret();
        let shown = format!("{secret:?}");
        assert_eq!(shown, "TotpSecret(<redacted>)");
    }

    #[test]
    fn rfc6238_appendix_b_last_six_digits() {
        // RFC 6238 Appendix B lists 8-digit SHA-1 codes; a 6-digit code is the same value
        // modulo 10^6, i.e. its last six digits. (The 8-digit form is checked in
        // tests/totp_vectors.rs.)
        for (t, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(&rfc_secret(), t), eight[2..], "t = {t}");
        }
    }

    #[test]
    fn verify_accepts_the_current_step_and_returns_it() {
        let secret = rfc_secret();
        let now = at(1_111_111_111);
        let step = 1_111_111_111 / 30;
        assert_eq!(
            verify(&secret, &code_at(&secret, 1_111_111_111), now, None),
            Ok(step)
        );
        assert_eq!(verify(&secret, "050471", now, Some(step - 1)), Ok(step));
    }

    #[test]
    fn verify_allows_one_step_of_skew_each_way_and_no_more() {
        let secret = rfc_secret();
        let now = at(1_700_000_015); // the middle of a step
        let current = 1_700_000_015 / 30;
        for (offset, expected) in [
            (-2, Err(TotpError::Wrong)),
            (-1, Ok(current - 1)),
            (0, Ok(current)),
            (1, Ok(current + 1)),
            (2, Err(TotpError::Wrong)),
        ] {
            let then = (now + Duration::seconds(30 * offset)).unix_timestamp();
            let code = code_at(&secret, u64::try_from(then).unwrap());
            assert_eq!(
                verify(&secret, &code, now, None),
                expected,
                "offset {offset}"
            );
        }
    }

    #[test]
    fn verify_refuses_replays() {
        let secret = rfc_secret();
        let now = at(1_700_000_015);
        let code = code_at(&secret, 1_700_000_015);
        let step = verify(&secret, &code, now, None).unwrap();
        assert_eq!(
            verify(&secret, &code, now, Some(step)),
            Err(TotpError::Replayed)
        );
        // Still a replay half a minute later, while the code is inside the skew window.
        assert_eq!(
            verify(&secret, &code, now + Duration::seconds(30), Some(step)),
            Err(TotpError::Replayed)
        );
        // A code from before the last accepted step is a replay too, not a fresh code.
        let previous = code_at(&secret, 1_700_000_015 - 30);
        assert_eq!(
            verify(&secret, &previous, now, Some(step)),
            Err(TotpError::Replayed)
        );
        // The next step's code is fresh.
        let next = code_at(&secret, 1_700_000_015 + 30);
        assert_eq!(
            verify(&secret, &next, now + Duration::seconds(30), Some(step)),
            Ok(step + 1)
        );
    }

    #[test]
    fn verify_parses_codes_strictly_but_allows_spaces() {
        let secret = rfc_secret();
        let now = at(59);
        assert_eq!(verify(&secret, "287082", now, None), Ok(1));
        assert_eq!(verify(&secret, "287 082", now, None), Ok(1));
        assert_eq!(verify(&secret, " 287082\n", now, None), Ok(1));
        for bad in [
            "",
            "28708",
            "2870820",
            "28708a",
            "+28708",
            "２８７０８２",
            "287-082",
            &"1".repeat(64),
        ] {
            assert_eq!(
                verify(&secret, bad, now, None),
                Err(TotpError::Malformed),
                "{bad:?}"
            );
        }
        assert_eq!(verify(&secret, "000000", now, None), Err(TotpError::Wrong));
    }

    #[test]
    fn verify_near_the_epoch_and_before_it() {
        let secret = rfc_secret();
        // Step 0 has no previous step; the window is steps 0 and 1.
        assert_eq!(verify(&secret, &code_at(&secret, 0), at(0), None), Ok(0));
        assert_eq!(verify(&secret, &code_at(&secret, 30), at(0), None), Ok(1));
        assert_eq!(
            verify(&secret, "123456", at(-1), None),
            Err(TotpError::ClockBeforeEpoch)
        );
    }

    #[test]
    fn otpauth_uri_format() {
        let uri = otpauth_uri(&rfc_secret(), "Schild Test", "alice@example.com").unwrap();
        assert_eq!(
            uri.as_str(),
            "otpauth://totp/Schild%20Test:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Schild%20Test&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn otpauth_uri_parses_back_with_totp_rs() {
        let secret = rfc_secret();
        let uri = otpauth_uri(&secret, "Bücher & Co/Ω", "ünïcode_user.name-1").unwrap();
        let parsed = Totp::from_url(uri.as_str()).unwrap();
        assert_eq!(parsed.issuer(), Some("Bücher & Co/Ω"));
        assert_eq!(parsed.account_name(), "ünïcode_user.name-1");
        assert_eq!(parsed.secret().as_bytes(), secret.expose_bytes());
        assert_eq!(
            (parsed.algorithm(), parsed.digits(), parsed.step()),
            (Algorithm::SHA1, 6, 30)
        );
    }

    #[test]
    fn otpauth_uri_refuses_bad_labels() {
        let secret = rfc_secret();
        for (issuer, account) in [
            ("", "alice"),
            ("Schild", ""),
            ("Sch:ild", "alice"),
            ("Schild", "al:ice"),
        ] {
            assert_eq!(
                otpauth_uri(&secret, issuer, account).unwrap_err(),
                TotpError::InvalidLabel
            );
        }
    }

    #[test]
    fn qr_png_decodes_back_to_the_uri() {
        let uri = otpauth_uri(&rfc_secret(), "Schild", "alice").unwrap();
        let png = qr_png(&uri).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let image = image::load_from_memory(&png).unwrap().to_luma8();
        assert!(image.width() >= QR_MIN_PIXELS);
        let mut prepared = rqrr::PreparedImage::prepare(image);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, uri.as_str());
    }

    #[test]
    fn qr_svg_is_an_svg_document() {
        let uri = otpauth_uri(&rfc_secret(), "Schild", "alice").unwrap();
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"width="#));
    }

    #[test]
    fn qr_refuses_an_overlong_uri() {
        let uri = "x".repeat(4000);
        assert_eq!(qr_png(&uri).unwrap_err(), TotpError::UriTooLongForQr);
        assert_eq!(qr_svg(&uri).unwrap_err(), TotpError::UriTooLongForQr);
    }
}
