//! Backup codes: single-use recovery codes for a user who has lost their authenticator.
//!
//! A set is [`SET_SIZE`] codes of [`CODE_LEN`] characters from Crockford's base32 alphabet in
//! lower case (`0-9 a-z` without `i l o u`), 60 random bits each, shown as `xxxx-xxxx-xxxx`.
//! Crockford's alphabet has no look-alike letters, and reading a code back forgives the usual
//! slips: case, spaces and dashes do not matter, `i` and `l` read as `1` and `o` as `0`.
//!
//! Only SHA-256 hashes of the codes are stored. A fast hash is the right tool here, unlike for
//! passwords: the codes are uniformly random, so there is nothing for a dictionary or a slow
//! hash to protect. Guessing one of a user's ten 60-bit codes from a stolen hash takes about
//! 2^56 SHA-256 evaluations, roughly a GPU-month, and still leaves the attacker needing the
//! password; meanwhile whoever can read these hashes can read the TOTP secrets stored next to
//! them. A slow hash would instead cost the server ten Argon2 runs per attempt, since
//! [`find`] compares against the whole set.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

/// Codes in a set.
pub const SET_SIZE: usize = 10;

/// Characters in a code, without the dashes: 12 × 5 = 60 bits.
pub const CODE_LEN: usize = 12;

/// Characters in the grouped form `xxxx-xxxx-xxxx`.
pub const GROUPED_LEN: usize = CODE_LEN + 2;

/// Characters between dashes in the grouped form.
const GROUP_LEN: usize = 4;

/// Crockford's base32 alphabet, lower case: digits and letters without `i`, `l`, `o`, `u`.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Longest input [`normalise`] looks at; a code with generous spacing fits easily.
const MAX_INPUT: usize = 64;

/// One backup code, to be shown to the user once and then forgotten. Wiped when dropped;
/// `Debug` prints `BackupCode(<redacted>)`.
pub struct BackupCode(SecretString);

impl BackupCode {
    /// The code as shown to the user: `xxxx-xxxx-xxxx`.
    pub fn expose_grouped(&self) -> &str {
        self.0.expose_secret()
    }

    /// The hash that is stored for this code.
    pub fn hash(&self) -> BackupCodeHash {
        match normalise(self.expose_grouped()) {
            Some(normalised) => BackupCodeHash::of_normalised(&normalised),
            // Unreachable: a generated code always normalises. Hashing the grouped form keeps
            // this total without a panic; such a hash would simply never match.
            None => BackupCodeHash::of_normalised(self.expose_grouped()),
        }
    }
}

impl std::fmt::Debug for BackupCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackupCode(<redacted>)")
    }
}

/// SHA-256 of a normalised backup code, as stored. See the module documentation for why a
/// fast hash is right. Equality is constant-time; `Debug` is redacted, because a hash of a
/// 60-bit secret is still worth a brute-force attempt.
#[derive(Clone, Copy)]
pub struct BackupCodeHash([u8; 32]);

impl BackupCodeHash {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// The hash, for storage.
    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// A hash read from storage; `None` unless exactly [`Self::LEN`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        <[u8; Self::LEN]>::try_from(bytes).ok().map(Self)
    }

    fn of_normalised(normalised: &str) -> Self {
        Self(Sha256::digest(normalised.as_bytes()).into())
    }
}

impl ConstantTimeEq for BackupCodeHash {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for BackupCodeHash {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for BackupCodeHash {}

impl std::fmt::Debug for BackupCodeHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackupCodeHash(<redacted>)")
    }
}

/// A fresh set of [`SET_SIZE`] distinct codes and their hashes, in the same order. Show the
/// codes once; store the hashes, replacing any previous set.
pub fn generate_set(rng: &mut impl rand::CryptoRng) -> (Vec<BackupCode>, Vec<BackupCodeHash>) {
    let mut codes = Vec::with_capacity(SET_SIZE);
    let mut hashes: Vec<BackupCodeHash> = Vec::with_capacity(SET_SIZE);
    while codes.len() < SET_SIZE {
        let code = generate_one(rng);
        let hash = code.hash();
        // A repeat is a 1-in-2^60 event, but the store keys codes by (user, hash).
        if !hashes.contains(&hash) {
            codes.push(code);
            hashes.push(hash);
        }
    }
    (codes, hashes)
}

fn generate_one(rng: &mut impl rand::CryptoRng) -> BackupCode {
    let mut bytes = Zeroizing::new([0u8; 8]);
    rng.fill_bytes(bytes.as_mut());
    let value = Zeroizing::new(u64::from_be_bytes(*bytes));
    BackupCode(SecretString::from(grouped(&canonical(*value))))
}

/// The 12-character form of the low 60 bits of `value`, most significant symbol first.
fn canonical(value: u64) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(CODE_LEN));
    for position in (0..CODE_LEN).rev() {
        let symbol = (value >> (5 * position)) & 0x1f;
        // `symbol` < 32, so the index is always in range.
        if let Some(&c) = usize::try_from(symbol).ok().and_then(|i| ALPHABET.get(i)) {
            out.push(char::from(c));
        }
    }
    out
}

/// `xxxx-xxxx-xxxx` from the canonical form. Sized exactly, so turning it into a
/// `SecretString` does not leave a reallocated copy behind.
fn grouped(canonical: &str) -> String {
    let mut out = String::with_capacity(GROUPED_LEN);
    for (i, c) in canonical.chars().enumerate() {
        if i > 0 && i % GROUP_LEN == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// The canonical form of a code the user typed: ASCII whitespace and `-` removed, lower case,
/// `i`/`l` read as `1` and `o` as `0`. `None` unless exactly [`CODE_LEN`] characters of the
/// alphabet remain (so `u`, other letters outside it and non-ASCII input are refused).
pub fn normalise(input: &str) -> Option<Zeroizing<String>> {
    if input.len() > MAX_INPUT {
        return None;
    }
    let mut out = Zeroizing::new(String::with_capacity(CODE_LEN));
    for c in input.chars() {
        let c = match c.to_ascii_lowercase() {
            '-' => continue,
            c if c.is_ascii_whitespace() => continue,
            'i' | 'l' => '1',
            'o' => '0',
            c if u8::try_from(c).is_ok_and(|b| ALPHABET.contains(&b)) => c,
            _ => return None,
        };
        if out.len() == CODE_LEN {
            return None;
        }
        out.push(c);
    }
    (out.len() == CODE_LEN).then_some(out)
}

/// The position in `set` of the code the user typed, if it is one of them; remove that hash
/// from storage to use the code up.
///
/// Every entry of the set is compared, in constant time, whichever one matches; input that does
/// not [`normalise`] is refused before any comparison.
pub fn find(input: &str, set: &[BackupCodeHash]) -> Option<usize> {
    let normalised = normalise(input)?;
    let candidate = BackupCodeHash::of_normalised(&normalised);
    let mut index = 0u64;
    let mut found = Choice::from(0);
    for (i, stored) in (0u64..).zip(set) {
        let take = candidate.ct_eq(stored) & !found;
        index.conditional_assign(&i, take);
        found |= take;
    }
    if bool::from(found) {
        usize::try_from(index).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn is_grouped_code(s: &str) -> bool {
        s.len() == GROUPED_LEN
            && s.char_indices().all(|(i, c)| {
                if i == 4 || i == 9 {
                    c == '-'
                } else {
                    ALPHABET.contains(&(c as u8))
                }
            })
    }

    #[test]
    fn a_set_is_ten_distinct_grouped_codes_with_matching_hashes() {
        let (codes, hashes) = generate_set(&mut StdRng::seed_from_u64(7));
        assert_eq!(codes.len(), SET_SIZE);
        assert_eq!(hashes.len(), SET_SIZE);
        for (i, (code, hash)) in codes.iter().zip(&hashes).enumerate() {
            assert!(
                is_grouped_code(code.expose_grouped()),
                "{}",
                code.expose_grouped()
            );
            assert_eq!(code.hash(), *hash);
            assert_eq!(find(code.expose_grouped(), &hashes), Some(i));
            for other in &hashes[..i] {
                assert_ne!(hash, other);
            }
        }
    }

    #[test]
    fn generation_follows_the_rng() {
        let grouped = |seed| {
            let (codes, _) = generate_set(&mut StdRng::seed_from_u64(seed));
            codes
                .iter()
                .map(|c| c.expose_grouped().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(grouped(1), grouped(1));
        assert_ne!(grouped(1), grouped(2));
    }

    #[test]
    fn canonical_encoding_known_values() {
        assert_eq!(canonical(0).as_str(), "000000000000");
        assert_eq!(canonical((1 << 60) - 1).as_str(), "zzzzzzzzzzzz");
        // Only the low 60 bits are used.
        assert_eq!(canonical(u64::MAX).as_str(), "zzzzzzzzzzzz");
        assert_eq!(canonical(0x0123_4567_89ab_cdef).as_str(), "28t5cy4tqkff");
        assert_eq!(grouped("28t5cy4tqkff"), "28t5-cy4t-qkff");
    }

    #[test]
    fn the_hash_is_sha256_of_the_normalised_code() {
        let hash = BackupCodeHash::of_normalised("28t5cy4tqkff");
        // python3 -c "import hashlib; print(hashlib.sha256(b'28t5cy4tqkff').hexdigest())"
        let expected = "53f54919ee237db02fa72385c6ec01f12c135746ff12b50d445e2238fc684ae4";
        let hex: String = hash.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
        assert_eq!(find("28T5-CY4T-QKFF", &[hash]), Some(0));
    }

    #[test]
    fn normalise_forgives_case_separators_and_confusables() {
        for typed in [
            "28t5-cy4t-qkff",
            "28T5-CY4T-QKFF",
            "28t5cy4tqkff",
            " 28t5 cy4t qkff\n",
            "28t5--cy4t--qkff",
        ] {
            assert_eq!(
                normalise(typed).as_deref().map(String::as_str),
                Some("28t5cy4tqkff"),
                "{typed:?}"
            );
        }
        assert_eq!(
            normalise("iL1o-O0ab-cdef").as_deref().map(String::as_str),
            Some("111000abcdef")
        );
    }

    #[test]
    fn normalise_refuses_what_is_not_a_code() {
        for typed in [
            "",
            "14d2-pf2d-5kv",   // 11 characters
            "28t5-cy4t-qkfff", // 13 characters
            "14d2-pf2d-5kvu",  // 'u' is not in the alphabet
            "14d2-pf2d-5kv!",
            "14d2-pf2d-5kvé",
            "１4d2-pf2d-5kvf", // full-width digit
            "14d2_pf2d_5kvf",
        ] {
            assert_eq!(normalise(typed), None, "{typed:?}");
        }
        let padded = format!("{}28t5cy4tqkff", " ".repeat(MAX_INPUT));
        assert_eq!(normalise(&padded), None);
    }

    #[test]
    fn find_misses_cleanly() {
        let (_, hashes) = generate_set(&mut StdRng::seed_from_u64(3));
        assert_eq!(find("0000-0000-0000", &hashes), None);
        assert_eq!(find("not a code", &hashes), None);
        assert_eq!(find("0000-0000-0000", &[]), None);
    }

    #[test]
    fn find_reports_the_first_of_duplicates() {
        let hash = BackupCodeHash::of_normalised("000000000000");
        let other = BackupCodeHash::of_normalised("111111111111");
        assert_eq!(find("0000-0000-0000", &[other, hash, hash]), Some(1));
    }

    #[test]
    fn hash_bytes_round_trip() {
        let hash = BackupCodeHash::of_normalised("28t5cy4tqkff");
        assert_eq!(BackupCodeHash::from_bytes(hash.as_bytes()), Some(hash));
        assert_eq!(BackupCodeHash::from_bytes(&[0u8; 31]), None);
        assert_eq!(BackupCodeHash::from_bytes(&[0u8; 33]), None);
    }

    #[test]
    fn debug_is_redacted() {
        let (codes, hashes) = generate_set(&mut StdRng::seed_from_u64(5));
        let shown = format!("{codes:?} {hashes:?}");
        assert!(!shown.contains(codes[0].expose_grouped()));
        assert!(
            shown.contains("BackupCode(<redacted>)")
                && shown.contains("BackupCodeHash(<redacted>)")
        );
    }

    /// A way a user might type a code back: upper case, dashes dropped or doubled, spaces
    /// around, `1` as `i`/`l` and `0` as `o`.
    fn retype(code: &str, upper: bool, dashes: u8, spaced: bool, confuse: bool) -> String {
        let mut out = String::new();
        if spaced {
            out.push(' ');
        }
        for c in code.chars() {
            let c = match c {
                '-' => {
                    match dashes {
                        0 => {}
                        1 => out.push('-'),
                        _ => out.push_str(" - "),
                    }
                    continue;
                }
                '1' if confuse => 'l',
                '0' if confuse => 'o',
                c => c,
            };
            out.push(if upper { c.to_ascii_uppercase() } else { c });
        }
        if spaced {
            out.push('\t');
        }
        out
    }

    proptest! {
        #[test]
        fn any_retyped_code_normalises_to_its_canonical_form(
            value in any::<u64>(),
            upper in any::<bool>(),
            dashes in 0u8..3,
            spaced in any::<bool>(),
            confuse in any::<bool>(),
        ) {
            let canonical = canonical(value);
            let shown = grouped(&canonical);
            prop_assert!(is_grouped_code(&shown));
            let typed = retype(&shown, upper, dashes, spaced, confuse);
            let normalised = normalise(&typed);
            prop_assert_eq!(normalised.as_deref(), Some(&*canonical));
            let hash = BackupCodeHash::of_normalised(&canonical);
            prop_assert_eq!(find(&typed, &[hash]), Some(0));
        }

        #[test]
        fn normalise_output_is_always_a_canonical_code(input in ".{0,80}") {
            if let Some(code) = normalise(&input) {
                prop_assert_eq!(code.len(), CODE_LEN);
                prop_assert!(code.bytes().all(|b| ALPHABET.contains(&b)));
                let again = normalise(&code);
                prop_assert_eq!(again.as_deref(), Some(&*code));
            }
        }
    }
}
