//! Opaque bearer tokens (refresh tokens, the one-time setup token, later API keys) and the
//! refresh-rotation decision.
//!
//! An [`OpaqueToken`] is 256 bits from a CSPRNG, written as 43 characters of unpadded base64url
//! (RFC 4648 §5). The server hands the token to the client once and keeps only its
//! [`TokenHash`] (SHA-256), so a copy of the database does not contain usable tokens.
//!
//! Refresh tokens rotate: every successful refresh marks the presented token used and issues a new
//! one in the same session (the refresh family). Presenting a used token again means two parties
//! hold the same family — one of them stole it — so the whole session is revoked
//! ([`RefreshDecision::ReuseDetected`], as in the OAuth 2.0 Security BCP, RFC 9700 §4.14.2).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::str::FromStr;
use subtle::ConstantTimeEq as _;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// How long a refresh family lives: seven days from the sign-in, however often it is refreshed.
///
/// The limit is absolute so that a stolen, continuously refreshed token still dies; the user signs
/// in again at least weekly.
pub const REFRESH_LIFETIME: Duration = Duration::days(7);

/// Why a string is not an [`OpaqueToken`].
///
/// None of the variants carries the input: it may be a real token with a typo.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenFormatError {
    /// The input is not exactly [`OpaqueToken::ENCODED_LEN`] characters long (client error, or a
    /// token of another kind).
    #[error("a token has exactly {expected} characters, this one has {found}")]
    WrongLength {
        /// The only accepted length.
        expected: usize,
        /// The length presented, in bytes.
        found: usize,
    },
    /// The input contains a character outside the base64url alphabet `A-Z a-z 0-9 - _`
    /// (RFC 4648 §5); padding `=` is not accepted either.
    #[error("a token contains only the characters A-Z, a-z, 0-9, - and _")]
    InvalidCharacter,
    /// The last character sets bits that a 32-byte value cannot have. Only the one canonical
    /// spelling of each token is accepted, so two strings never name the same token.
    #[error("the token's last character is not valid for a 32-byte value")]
    NonCanonical,
}

/// A 256-bit random bearer token in its transport form (43 characters of unpadded base64url).
///
/// The secret is zeroized on drop and [`Debug`] prints `[REDACTED]`. Persist only [`Self::hash`].
pub struct OpaqueToken {
    encoded: SecretString,
    bytes: Zeroizing<[u8; OpaqueToken::BYTES]>,
}

impl OpaqueToken {
    /// Random bytes in a token: 256 bits, far beyond guessing or enumerating.
    pub const BYTES: usize = 32;
    /// Characters in the encoded form: ⌈32 · 8 / 6⌉ = 43.
    pub const ENCODED_LEN: usize = 43;

    /// Draws a fresh token from `rng`.
    pub fn generate(rng: &mut impl rand::CryptoRng) -> Self {
        let mut bytes = Zeroizing::new([0u8; Self::BYTES]);
        rng.fill_bytes(bytes.as_mut());
        let encoded = SecretString::from(URL_SAFE_NO_PAD.encode(bytes.as_ref()));
        Self { encoded, bytes }
    }

    /// Parses a token presented by a client: exactly 43 characters of the base64url alphabet in
    /// canonical form. Nothing is trimmed; strip a `Bearer ` prefix or whitespace before calling.
    pub fn parse(input: &str) -> Result<Self, TokenFormatError> {
        if input.len() != Self::ENCODED_LEN {
            return Err(TokenFormatError::WrongLength {
                expected: Self::ENCODED_LEN,
                found: input.len(),
            });
        }
        if !input
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(TokenFormatError::InvalidCharacter);
        }
        let mut bytes = Zeroizing::new([0u8; Self::BYTES]);
        // Length and alphabet are already right, so the only way left to fail is a last character
        // with non-zero trailing bits (the decoder rejects those by default).
        match URL_SAFE_NO_PAD.decode_slice(input, bytes.as_mut()) {
            Ok(Self::BYTES) => {}
            Ok(_) | Err(_) => return Err(TokenFormatError::NonCanonical),
        }
        Ok(Self {
            encoded: SecretString::from(input.to_owned()),
            bytes,
        })
    }

    /// The transport form, to hand to the client exactly once.
    pub fn expose(&self) -> &str {
        self.encoded.expose_secret()
    }

    /// The SHA-256 digest of the 32 token bytes: what the database stores and looks up.
    ///
    /// A plain fast hash is right here (unlike for passwords): the input has 256 bits of entropy,
    /// so there is nothing to brute-force, and lookups must be cheap.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.bytes.as_ref()).into())
    }
}

impl fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpaqueToken([REDACTED])")
    }
}

impl FromStr for OpaqueToken {
    type Err = TokenFormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// SHA-256 of an [`OpaqueToken`]'s bytes: the only form in which tokens are stored.
///
/// Equality is constant-time ([`subtle`]), so comparing a stored hash with a presented token's
/// hash in memory leaks nothing through timing.
#[derive(Clone, Copy)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// The 32 digest bytes, for storing.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads a stored digest; `None` unless `bytes` is exactly 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }

    /// Whether `token` hashes to this digest, in constant time.
    pub fn matches(&self, token: &OpaqueToken) -> bool {
        *self == token.hash()
    }
}

impl From<[u8; 32]> for TokenHash {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl PartialEq for TokenHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for TokenHash {}

impl fmt::Debug for TokenHash {
    /// Shows the first four bytes only: enough to correlate log lines, while a digest is still
    /// never a credential.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, ..] = self.0;
        write!(f, "TokenHash({a:02x}{b:02x}{c:02x}{d:02x}…)")
    }
}

/// What the store knows about a presented refresh token.
///
/// Not `#[non_exhaustive]` on purpose: [`decide_refresh`] must handle every state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefreshState {
    /// No row has this hash: never issued, or its session was deleted.
    Unknown,
    /// Issued and already exchanged once.
    Used,
    /// Issued and not yet exchanged.
    Active,
}

/// What to do with a refresh request.
///
/// Not `#[non_exhaustive]` on purpose: the server's `match` must stay exhaustive, so a new outcome
/// cannot silently fall into a catch-all arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefreshDecision {
    /// Mark the token used (compare-and-set, so only one concurrent request wins), issue a new
    /// refresh token in the same session and a new access token.
    Rotate,
    /// A used token came back for a live session: the family is compromised. Revoke the whole
    /// session and record the event; issue nothing.
    ReuseDetected,
    /// The session outlived [`REFRESH_LIFETIME`] (or its own expiry): refuse; the user signs in
    /// again.
    Expired,
    /// The session was revoked (sign-out, admin action, or earlier reuse detection): refuse.
    Revoked,
    /// The token is not ours: refuse.
    Unknown,
}

/// Decides a refresh request from the token's state and its session's facts.
///
/// Precedence, first match wins:
/// 1. [`RefreshState::Unknown`] → [`RefreshDecision::Unknown`] (there is no session to consult;
///    the other arguments are ignored).
/// 2. The session is revoked → [`RefreshDecision::Revoked`], even for a used token: the family is
///    already dead, so reuse adds nothing to act on.
/// 3. [`RefreshState::Used`] → [`RefreshDecision::ReuseDetected`], even after expiry, so a replay
///    of a stolen token is still recorded as theft.
/// 4. `now >= session_expires_at` → [`RefreshDecision::Expired`] (the expiry instant itself is
///    already too late).
/// 5. Otherwise → [`RefreshDecision::Rotate`].
#[must_use]
pub fn decide_refresh(
    token: RefreshState,
    session_revoked: bool,
    session_expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> RefreshDecision {
    match token {
        RefreshState::Unknown => RefreshDecision::Unknown,
        _ if session_revoked => RefreshDecision::Revoked,
        RefreshState::Used => RefreshDecision::ReuseDetected,
        RefreshState::Active if now >= session_expires_at => RefreshDecision::Expired,
        RefreshState::Active => RefreshDecision::Rotate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng as _;

    fn rng(seed: u64) -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(seed)
    }

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::seconds(seconds)
    }

    #[test]
    fn generated_tokens_parse_back_to_the_same_hash() {
        let token = OpaqueToken::generate(&mut rng(1));
        assert_eq!(token.expose().len(), OpaqueToken::ENCODED_LEN);
        let parsed = OpaqueToken::parse(token.expose()).unwrap();
        assert_eq!(parsed.hash(), token.hash());
        assert!(token.hash().matches(&parsed));
        assert_ne!(OpaqueToken::generate(&mut rng(2)).hash(), token.hash());
    }

    #[test]
    fn hash_is_sha256_of_the_raw_bytes() {
        // 32 zero bytes encode to 43 'A's; SHA-256 of 32 zero bytes is well known.
        let token = OpaqueToken::parse(&"A".repeat(43)).unwrap();
        let expected: [u8; 32] = [
            0x66, 0x68, 0x7a, 0xad, 0xf8, 0x62, 0xbd, 0x77, 0x6c, 0x8f, 0xc1, 0x8b, 0x8e, 0x9f,
            0x8e, 0x20, 0x08, 0x97, 0x14, 0x85, 0x6e, 0xe2, 0x33, 0xb3, 0x90, 0x2a, 0x59, 0x1d,
            0x0d, 0x5f, 0x29, 0x25,
        ];
        assert_eq!(token.hash().as_bytes(), &expected);
    }

    #[test]
    fn parse_refuses_wrong_length_alphabet_and_non_canonical_forms() {
        let good = OpaqueToken::generate(&mut rng(3)).expose().to_owned();
        assert_eq!(
            OpaqueToken::parse(&good[..42]).unwrap_err(),
            TokenFormatError::WrongLength {
                expected: 43,
                found: 42
            }
        );
        assert_eq!(
            OpaqueToken::parse(&format!("{good}A")).unwrap_err(),
            TokenFormatError::WrongLength {
                expected: 43,
                found: 44
            }
        );
        assert!(matches!(
            OpaqueToken::parse(&format!(" {}", &good[1..])),
            Err(TokenFormatError::InvalidCharacter)
        ));
        for bad in ["+", "/", "=", ".", "é"] {
            let candidate = format!("{bad}{}", &good[bad.len()..]);
            assert!(
                matches!(
                    OpaqueToken::parse(&candidate),
                    Err(TokenFormatError::InvalidCharacter | TokenFormatError::WrongLength { .. })
                ),
                "{bad:?} accepted"
            );
        }
        // 'B' as the 43rd character sets one of the two bits past the 256th.
        let non_canonical = format!("{}B", "A".repeat(42));
        assert_eq!(
            OpaqueToken::parse(&non_canonical).unwrap_err(),
            TokenFormatError::NonCanonical
        );
        assert!(OpaqueToken::parse(&format!("{}E", "A".repeat(42))).is_ok());
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let token = OpaqueToken::generate(&mut rng(4));
        let debug = format!("{token:?}");
        assert_eq!(debug, "OpaqueToken([REDACTED])");
        assert!(!debug.contains(token.expose()));
        let hash = format!("{:?}", token.hash());
        assert!(hash.starts_with("TokenHash(") && hash.len() < 24, "{hash}");
    }

    #[test]
    fn token_hash_round_trips_through_bytes() {
        let hash = OpaqueToken::generate(&mut rng(5)).hash();
        assert_eq!(TokenHash::from_bytes(hash.as_bytes()), Some(hash));
        assert_eq!(TokenHash::from_bytes(&hash.as_bytes()[..31]), None);
        assert_eq!(TokenHash::from_bytes(&[0; 33]), None);
    }

    #[test]
    fn refresh_decisions_follow_the_documented_precedence() {
        let expires = at(1_000);
        let live = at(999);
        let late = at(1_000);
        use RefreshDecision as D;
        use RefreshState as S;
        assert_eq!(decide_refresh(S::Active, false, expires, live), D::Rotate);
        assert_eq!(decide_refresh(S::Active, false, expires, late), D::Expired);
        assert_eq!(decide_refresh(S::Active, true, expires, live), D::Revoked);
        assert_eq!(
            decide_refresh(S::Used, false, expires, live),
            D::ReuseDetected
        );
        assert_eq!(
            decide_refresh(S::Used, false, expires, late),
            D::ReuseDetected
        );
        assert_eq!(decide_refresh(S::Used, true, expires, live), D::Revoked);
        assert_eq!(decide_refresh(S::Unknown, false, expires, live), D::Unknown);
        assert_eq!(decide_refresh(S::Unknown, true, expires, late), D::Unknown);
    }

    fn any_state() -> impl Strategy<Value = RefreshState> {
        prop_oneof![
            Just(RefreshState::Unknown),
            Just(RefreshState::Used),
            Just(RefreshState::Active)
        ]
    }

    proptest! {
        #[test]
        fn rotation_only_for_an_active_token_of_a_live_session(
            state in any_state(),
            revoked: bool,
            expires in -1_000_000i64..1_000_000,
            now in -1_000_000i64..1_000_000,
        ) {
            let decision = decide_refresh(state, revoked, at(expires), at(now));
            prop_assert_eq!(
                decision == RefreshDecision::Rotate,
                state == RefreshState::Active && !revoked && now < expires
            );
            prop_assert_eq!(decision == RefreshDecision::Unknown, state == RefreshState::Unknown);
            prop_assert_eq!(
                decision == RefreshDecision::ReuseDetected,
                state == RefreshState::Used && !revoked
            );
            prop_assert_eq!(
                decision == RefreshDecision::Revoked,
                state != RefreshState::Unknown && revoked
            );
        }

        #[test]
        fn time_only_ever_takes_rotation_away(
            state in any_state(),
            revoked: bool,
            expires in -1_000_000i64..1_000_000,
            now in -1_000_000i64..1_000_000,
            later in 0i64..1_000_000,
        ) {
            let before = decide_refresh(state, revoked, at(expires), at(now));
            let after = decide_refresh(state, revoked, at(expires), at(now + later));
            if before != RefreshDecision::Rotate {
                prop_assert_ne!(after, RefreshDecision::Rotate);
            }
            if before == RefreshDecision::Expired {
                prop_assert_eq!(after, RefreshDecision::Expired);
            }
        }

        #[test]
        fn any_32_bytes_round_trip(bytes: [u8; 32]) {
            let encoded = URL_SAFE_NO_PAD.encode(bytes);
            let token = OpaqueToken::parse(&encoded).unwrap();
            prop_assert_eq!(token.expose(), encoded.as_str());
            let expected: [u8; 32] = Sha256::digest(bytes).into();
            prop_assert_eq!(*token.hash().as_bytes(), expected);
        }

        #[test]
        fn parse_accepts_exactly_the_canonical_encodings(input in "[A-Za-z0-9_-]{43}") {
            let canonical = URL_SAFE_NO_PAD
                .decode(&input)
                .is_ok_and(|bytes| URL_SAFE_NO_PAD.encode(bytes) == input);
            prop_assert_eq!(OpaqueToken::parse(&input).is_ok(), canonical);
        }

        #[test]
        fn parse_never_panics(input in "\\PC{0,64}") {
            let _ = OpaqueToken::parse(&input);
        }
    }
}
