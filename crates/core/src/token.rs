//! Signed tokens: short-lived access tokens and MFA challenge tokens as EdDSA (Ed25519) JWTs,
//! the signing-key ring with rotation, and the published JWKS.
//!
//! * Tokens are compact JWS (RFC 7515) carrying JWT claims (RFC 7519), signed with Ed25519
//!   (`alg: EdDSA`, RFC 8037 §3.1). Every other `alg` — `none`, HMAC, RSA, ECDSA — is refused
//!   before any key is touched, which rules out the `alg: none` and the HMAC-with-public-key
//!   confusion attacks (RFC 8725 §2.1, §3.1).
//! * Every token names its key in `kid` (RFC 7515 §4.1.4); the [`KeyRing`] looks the key up among
//!   the active key and retired keys still inside their verification window, so rotation does not
//!   sign anybody out.
//! * Access tokens and MFA challenges cannot be confused (RFC 8725 §3.11, explicit typing): they
//!   differ in header `typ` (`at+jwt` per RFC 9068 §2.1, versus `mfa-challenge+jwt`), in audience
//!   (`<aud>` versus `<aud>:mfa`) and in the `typ` claim (absent versus `mfa`). All three must agree.
//! * Time is a parameter. `exp` is checked against the caller's `now` with no leeway (a token is
//!   dead at its `exp` second, RFC 7519 §4.1.4); `iat` and `nbf` may lie at most [`CLOCK_SKEW`] in
//!   the future. jsonwebtoken's own clock checks are switched off because they read the system
//!   clock.
//!
//! The public keys are published as a JWK Set (RFC 7517 §5) of OKP keys (RFC 8037 §2).

use crate::ids::{SessionId, UserId};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

mod keys;

pub use keys::{Jwk, Jwks, SigningKey, VerifyingKey};

/// Lifetime of an access token. Short, because its claims (the roles) are trusted until it
/// expires; only the session (`sid`) is looked up per request.
pub const ACCESS_TTL: Duration = Duration::minutes(15);

/// Lifetime of an MFA challenge: the time a user has to type the second factor after the password.
pub const MFA_CHALLENGE_TTL: Duration = Duration::minutes(5);

/// How far in the future `iat` or `nbf` may lie, for clocks that disagree between servers.
pub const CLOCK_SKEW: Duration = Duration::seconds(30);

/// How long a key keeps verifying after [`KeyRing::rotate`] retires it: long enough for every
/// token it signed to expire (the longest lifetime, [`ACCESS_TTL`], plus [`CLOCK_SKEW`]).
///
/// A key retired at `t` (for example a row's `retired_at` in the store) verifies until
/// `t + RETIRED_KEY_GRACE`.
pub const RETIRED_KEY_GRACE: Duration =
    Duration::seconds(ACCESS_TTL.whole_seconds() + CLOCK_SKEW.whole_seconds());

// The grace period above assumes no token lives longer than an access token.
const _: () = assert!(ACCESS_TTL.whole_seconds() >= MFA_CHALLENGE_TTL.whole_seconds());

/// Longest token accepted for verification, in bytes. Ours are a few hundred bytes; the limit
/// bounds the work an attacker can cause before the signature check.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Header `typ` of an access token (RFC 9068 §2.1).
const ACCESS_TYP: &str = "at+jwt";
/// Header `typ` of an MFA challenge (an application-specific explicit type, RFC 8725 §3.11).
const MFA_TYP: &str = "mfa-challenge+jwt";
/// Suffix that turns the access audience into the MFA challenge audience.
const MFA_AUDIENCE_SUFFIX: &str = ":mfa";

/// Why a token was not issued or not accepted, or a key not loaded.
///
/// Verification errors say what was wrong with the token; the HTTP layer should still answer every
/// one of them with the same 401, and log the variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a compact JWS (RFC 7515 §7.1) of three base64url parts with a JSON header and JSON
    /// claims of the expected shape, or longer than [`MAX_TOKEN_LEN`]. A client bug or tampering.
    #[error("the token is malformed")]
    Malformed,
    /// The header's `alg` is not `EdDSA` (RFC 8037 §3.1): `none`, `HS256` and every other
    /// algorithm are refused (RFC 8725 §3.1). Tampering.
    #[error("the token's signing algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// The header has no `kid` (RFC 7515 §4.1.4); every token we issue has one. Tampering, or not
    /// our token.
    #[error("the token names no signing key")]
    MissingKeyId,
    /// The `kid` names no key in the ring, or a retired key whose verification window has closed.
    /// An old token from before a rotation, or a forgery.
    #[error("the token's signing key is not known")]
    UnknownKeyId,
    /// The signature does not verify under the named key. Tampering.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// `now` is at or after `exp` (RFC 7519 §4.1.4). Normal: the client refreshes.
    #[error("the token has expired")]
    Expired,
    /// `iat` or `nbf` lies more than [`CLOCK_SKEW`] after `now` (RFC 7519 §4.1.5, §4.1.6). Clocks
    /// far apart between servers, or a forgery.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not this server (RFC 7519 §4.1.1). A token from another deployment.
    #[error("the token was issued by someone else")]
    WrongIssuer,
    /// `aud` is neither our access audience nor our MFA audience (RFC 7519 §4.1.3). A token meant
    /// for another service.
    #[error("the token is meant for another audience")]
    WrongAudience,
    /// One of our tokens, of the other kind: an MFA challenge presented as an access token or the
    /// reverse (RFC 8725 §3.11). A client bug or a confusion attack.
    #[error("the token is of the wrong type")]
    WrongTokenType,
    /// Signing a token failed. A server bug, never the client's fault.
    #[error("signing the token failed")]
    Signing(#[source] jsonwebtoken::errors::Error),
    /// The stored private key is not a PKCS#8 Ed25519 key (RFC 8410 §7), its embedded public key
    /// does not match, or a public key is not a valid curve point. Corrupt key storage.
    #[error("the signing key is not a valid Ed25519 key")]
    InvalidKey,
    /// The stored key id does not match the id derived from the key. Corrupt key storage.
    #[error("the stored key id does not match the key")]
    KeyIdMismatch,
}

/// Claims of an access token (RFC 9068 profile: `iss`, `aud`, `sub`, `jti`, `iat`, `exp`, plus
/// the session id and roles).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: this server (RFC 7519 §4.1.1).
    pub iss: String,
    /// Audience: the API (RFC 7519 §4.1.3).
    pub aud: String,
    /// The signed-in user (RFC 7519 §4.1.2).
    pub sub: UserId,
    /// The session; the server checks per request that it is still active.
    pub sid: SessionId,
    /// Unique token id (RFC 7519 §4.1.7).
    pub jti: Uuid,
    /// Issued at, Unix seconds (RFC 7519 §4.1.6).
    pub iat: i64,
    /// Expires at, Unix seconds (RFC 7519 §4.1.4); `iat + ACCESS_TTL`.
    pub exp: i64,
    /// The user's roles at issue time (see [`crate::ids::roles`]).
    pub roles: Vec<String>,
}

/// The `typ` claim of an MFA challenge; serialises as `"mfa"` and accepts nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MfaChallengeType {
    /// The only value.
    #[serde(rename = "mfa")]
    Mfa,
}

/// Claims of an MFA challenge: proof that the password was right, to be exchanged together with a
/// second factor for a session. It grants nothing else.
///
/// The token is a bearer credential for the second step only. The server should accept each `jti`
/// once (the factor check itself is already replay-protected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaChallengeClaims {
    /// Issuer: this server.
    pub iss: String,
    /// Audience: the API's audience with `:mfa` appended, so no access-token check accepts it.
    pub aud: String,
    /// The user whose password was verified.
    pub sub: UserId,
    /// Unique token id.
    pub jti: Uuid,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds; `iat + MFA_CHALLENGE_TTL`.
    pub exp: i64,
    /// Always [`MfaChallengeType::Mfa`].
    pub typ: MfaChallengeType,
}

/// The two kinds of token the ring issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Access,
    MfaChallenge,
}

/// The header fields read before choosing a key. Read by hand rather than through
/// `jsonwebtoken::decode_header`, which cannot represent `alg: none` and would report it as
/// malformed JSON instead of an unsupported algorithm.
///
/// `crit` (RFC 7515 §4.1.11) lists extensions the verifier must understand; this verifier
/// understands none, so any `crit` makes the token malformed. Checked here so the rule does not
/// depend on the JWT library's version.
#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// Claims of either kind, so that a token of the wrong kind is recognised as such instead of
/// failing to parse.
#[derive(Deserialize)]
struct RawClaims {
    iss: String,
    aud: String,
    sub: UserId,
    jti: Uuid,
    iat: i64,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    sid: Option<SessionId>,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    typ: Option<String>,
}

#[derive(Debug, Clone)]
struct RetiredKey {
    key: VerifyingKey,
    verify_until: OffsetDateTime,
}

/// The signing keys of one deployment: one active key that signs, and retired keys that still
/// verify until their `verify_until`, plus the issuer and audience every token carries.
///
/// Invariant: no retired key has the active key's id, and retired key ids are unique.
pub struct KeyRing {
    issuer: String,
    audience: String,
    mfa_audience: String,
    active: SigningKey,
    retired: Vec<RetiredKey>,
    validation: Validation,
}

impl KeyRing {
    /// A ring signing with `active` and verifying also with each retired key until its instant
    /// (for keys loaded from storage: retirement time + [`RETIRED_KEY_GRACE`]).
    ///
    /// Retired keys may be given as [`VerifyingKey`]s or as [`SigningKey`]s; of the latter only
    /// the public half is kept. A retired entry with the active key's id is dropped; of duplicate
    /// retired ids the latest `verify_until` wins.
    pub fn new<K: Into<VerifyingKey>>(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        active: SigningKey,
        retired: Vec<(K, OffsetDateTime)>,
    ) -> Self {
        let issuer = issuer.into();
        let audience = audience.into();
        let mfa_audience = format!("{audience}{MFA_AUDIENCE_SUFFIX}");

        // jsonwebtoken checks the signature, `iss` and `aud` (either of ours; the exact kind is
        // checked afterwards). Its time checks read the system clock, so they are off and ours,
        // against the caller's `now`, run instead.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.validate_aud = true;
        validation.set_issuer(&[issuer.as_str()]);
        validation.set_audience(&[audience.as_str(), mfa_audience.as_str()]);

        let mut ring = Self {
            issuer,
            audience,
            mfa_audience,
            active,
            retired: Vec::with_capacity(retired.len()),
            validation,
        };
        for (key, verify_until) in retired {
            ring.add_retired(key.into(), verify_until);
        }
        ring
    }

    fn add_retired(&mut self, key: VerifyingKey, verify_until: OffsetDateTime) {
        if key.kid() == self.active.kid() {
            return;
        }
        match self.retired.iter_mut().find(|r| r.key.kid() == key.kid()) {
            Some(existing) => existing.verify_until = existing.verify_until.max(verify_until),
            None => self.retired.push(RetiredKey { key, verify_until }),
        }
    }

    /// Makes `new` the signing key. The previous active key keeps verifying until
    /// `now + RETIRED_KEY_GRACE`, so tokens it signed stay valid until they expire; its private
    /// half is dropped (and zeroized). Rotating to the key that is already active only replaces it.
    pub fn rotate(&mut self, new: SigningKey, now: OffsetDateTime) {
        let previous = std::mem::replace(&mut self.active, new);
        let new_kid = self.active.kid().to_owned();
        self.retired.retain(|r| r.key.kid() != new_kid);
        if previous.kid() != new_kid {
            let verify_until = now
                .checked_add(RETIRED_KEY_GRACE)
                .unwrap_or_else(end_of_time);
            self.add_retired(previous.into(), verify_until);
        }
    }

    /// Forgets retired keys whose window has closed (`verify_until <= now`). Verification ignores
    /// such keys anyway; pruning also removes them from [`Self::jwks`].
    pub fn prune(&mut self, now: OffsetDateTime) {
        self.retired.retain(|r| now < r.verify_until);
    }

    /// The id of the key that signs new tokens.
    pub fn active_kid(&self) -> &str {
        self.active.kid()
    }

    /// The retired keys still held, with the instant each stops verifying.
    pub fn retired(&self) -> impl Iterator<Item = (&VerifyingKey, OffsetDateTime)> {
        self.retired.iter().map(|r| (&r.key, r.verify_until))
    }

    /// The `iss` of every token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `aud` of access tokens (MFA challenges carry it with `:mfa` appended).
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The public keys to publish at the JWKS endpoint: the active key, then every retired key
    /// still held (call [`Self::prune`] first to drop closed ones).
    pub fn jwks(&self) -> Jwks {
        let keys = std::iter::once(self.active.verifying_jwk())
            .chain(self.retired.iter().map(|r| r.key.to_jwk()))
            .collect();
        Jwks { keys }
    }

    /// Issues an access token for a session, valid for [`ACCESS_TTL`] from `now`.
    pub fn issue_access(
        &self,
        sub: UserId,
        sid: SessionId,
        roles: Vec<String>,
        now: OffsetDateTime,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<(String, AccessClaims), TokenError> {
        let iat = now.unix_timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub,
            sid,
            jti: random_uuid(rng),
            iat,
            exp: iat.saturating_add(ACCESS_TTL.whole_seconds()),
            roles,
        };
        let token = self.sign(Kind::Access, &claims)?;
        Ok((token, claims))
    }

    /// Verifies an access token at `now`: algorithm, key, signature, issuer, audience, type and
    /// lifetime, in that order.
    pub fn verify_access(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<AccessClaims, TokenError> {
        let raw = self.verify(token, Kind::Access, now)?;
        let (Some(sid), Some(roles)) = (raw.sid, raw.roles) else {
            return Err(TokenError::Malformed);
        };
        Ok(AccessClaims {
            iss: raw.iss,
            aud: raw.aud,
            sub: raw.sub,
            sid,
            jti: raw.jti,
            iat: raw.iat,
            exp: raw.exp,
            roles,
        })
    }

    /// Issues an MFA challenge for a user whose password was right, valid for
    /// [`MFA_CHALLENGE_TTL`] from `now`.
    pub fn issue_mfa_challenge(
        &self,
        sub: UserId,
        now: OffsetDateTime,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<(String, MfaChallengeClaims), TokenError> {
        let iat = now.unix_timestamp();
        let claims = MfaChallengeClaims {
            iss: self.issuer.clone(),
            aud: self.mfa_audience.clone(),
            sub,
            jti: random_uuid(rng),
            iat,
            exp: iat.saturating_add(MFA_CHALLENGE_TTL.whole_seconds()),
            typ: MfaChallengeType::Mfa,
        };
        let token = self.sign(Kind::MfaChallenge, &claims)?;
        Ok((token, claims))
    }

    /// Verifies an MFA challenge at `now`, with the same checks as [`Self::verify_access`].
    pub fn verify_mfa_challenge(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<MfaChallengeClaims, TokenError> {
        let raw = self.verify(token, Kind::MfaChallenge, now)?;
        Ok(MfaChallengeClaims {
            iss: raw.iss,
            aud: raw.aud,
            sub: raw.sub,
            jti: raw.jti,
            iat: raw.iat,
            exp: raw.exp,
            typ: MfaChallengeType::Mfa,
        })
    }

    fn sign(&self, kind: Kind, claims: &impl Serialize) -> Result<String, TokenError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.active.kid().to_owned());
        header.typ = Some(header_typ(kind).to_owned());
        jsonwebtoken::encode(&header, claims, &self.active.encoding).map_err(TokenError::Signing)
    }

    fn key(&self, kid: &str, now: OffsetDateTime) -> Option<&VerifyingKey> {
        if kid == self.active.kid() {
            return Some(self.active.verifying_key());
        }
        self.retired
            .iter()
            .find(|r| r.key.kid() == kid && now < r.verify_until)
            .map(|r| &r.key)
    }

    fn verify(
        &self,
        token: &str,
        expected: Kind,
        now: OffsetDateTime,
    ) -> Result<RawClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let header = read_header(token)?;
        if header.crit.is_some() {
            return Err(TokenError::Malformed);
        }
        match header.alg.as_deref() {
            Some("EdDSA") => {}
            Some(_) => return Err(TokenError::UnsupportedAlgorithm),
            None => return Err(TokenError::Malformed),
        }
        let kid = header.kid.ok_or(TokenError::MissingKeyId)?;
        let key = self.key(&kid, now).ok_or(TokenError::UnknownKeyId)?;

        let data = jsonwebtoken::decode::<RawClaims>(token, &key.decoding, &self.validation)
            .map_err(|error| from_jsonwebtoken(error.kind()))?;
        let claims = data.claims;

        // Signature verified from here on. jsonwebtoken already checked `iss` and `aud`; check
        // again in our own terms so the guarantee does not rest on library defaults.
        if claims.iss != self.issuer {
            return Err(TokenError::WrongIssuer);
        }
        let actual = if claims.aud == self.audience {
            Kind::Access
        } else if claims.aud == self.mfa_audience {
            Kind::MfaChallenge
        } else {
            return Err(TokenError::WrongAudience);
        };
        let typ_header_ok = data
            .header
            .typ
            .as_deref()
            .is_some_and(|typ| typ.eq_ignore_ascii_case(header_typ(actual)));
        let typ_claim_ok = match actual {
            Kind::Access => claims.typ.is_none(),
            Kind::MfaChallenge => claims.typ.as_deref() == Some("mfa"),
        };
        if actual != expected || !typ_header_ok || !typ_claim_ok {
            return Err(TokenError::WrongTokenType);
        }

        let now = now.unix_timestamp();
        if claims.iat > claims.exp {
            return Err(TokenError::Malformed);
        }
        if now >= claims.exp {
            return Err(TokenError::Expired);
        }
        let latest_start = now.saturating_add(CLOCK_SKEW.whole_seconds());
        if claims.iat > latest_start || claims.nbf.is_some_and(|nbf| nbf > latest_start) {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("active", &self.active)
            .field("retired", &self.retired)
            .finish_non_exhaustive()
    }
}

fn header_typ(kind: Kind) -> &'static str {
    match kind {
        Kind::Access => ACCESS_TYP,
        Kind::MfaChallenge => MFA_TYP,
    }
}

/// Parses the protected header of a compact JWS without trusting it: exactly three dot-separated
/// parts, the first unpadded base64url of a JSON object.
fn read_header(token: &str) -> Result<RawHeader, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_claims), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)
}

fn from_jsonwebtoken(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::UnsupportedAlgorithm => TokenError::UnsupportedAlgorithm,
        _ => TokenError::Malformed,
    }
}

fn random_uuid(rng: &mut impl rand::CryptoRng) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

fn end_of_time() -> OffsetDateTime {
    PrimitiveDateTime::MAX.assume_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{DecodingKey, EncodingKey};
    use proptest::prelude::*;
    use rand::SeedableRng as _;
    use serde_json::json;
    use time::macros::datetime;

    const ISSUER: &str = "https://schild.example";
    const AUDIENCE: &str = "schild-api";

    fn rng(seed: u64) -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(seed)
    }

    fn t0() -> OffsetDateTime {
        datetime!(2025-01-01 00:00 UTC)
    }

    fn key(seed: u64) -> SigningKey {
        SigningKey::generate(&mut rng(seed), t0())
    }

    /// A ring with no retired keys.
    fn lone(issuer: &str, audience: &str, active: SigningKey) -> KeyRing {
        KeyRing::new(
            issuer,
            audience,
            active,
            Vec::<(VerifyingKey, OffsetDateTime)>::new(),
        )
    }

    fn ring() -> KeyRing {
        lone(ISSUER, AUDIENCE, key(1))
    }

    fn user() -> UserId {
        UserId::new_v7(t0(), &mut rng(100))
    }

    fn session() -> SessionId {
        SessionId::new_v7(t0(), &mut rng(101))
    }

    fn access(ring: &KeyRing, now: OffsetDateTime) -> (String, AccessClaims) {
        ring.issue_access(user(), session(), vec!["user".into()], now, &mut rng(7))
            .unwrap()
    }

    fn mfa(ring: &KeyRing, now: OffsetDateTime) -> (String, MfaChallengeClaims) {
        ring.issue_mfa_challenge(user(), now, &mut rng(8)).unwrap()
    }

    fn b64(value: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    }

    fn parts(token: &str) -> Vec<String> {
        token.split('.').map(str::to_owned).collect()
    }

    fn decoded(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    /// Signs arbitrary header and claims with the ring's real active key, to build tokens that
    /// pass the signature check but break some other rule.
    fn sign_raw(ring: &KeyRing, header: &Header, claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(header, claims, &ring.active.encoding).unwrap()
    }

    fn eddsa_header(ring: &KeyRing, typ: &str) -> Header {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(ring.active_kid().to_owned());
        header.typ = Some(typ.to_owned());
        header
    }

    fn access_claims_json(ring: &KeyRing, now: OffsetDateTime) -> serde_json::Value {
        serde_json::to_value(access(ring, now).1).unwrap()
    }

    #[test]
    fn ring_debug_output_hides_the_private_key() {
        let ring = ring();
        let debug = format!("{ring:?}");
        let der = ring.active.to_pkcs8_der();
        assert!(debug.contains(ring.active_kid()));
        assert!(!debug.contains(&URL_SAFE_NO_PAD.encode(&der[16..])));
        assert!(!debug.contains(&format!("{:?}", &der[16..])[1..20]));
    }

    #[test]
    fn access_tokens_round_trip_with_kid_and_explicit_type() {
        let ring = ring();
        let (token, claims) = access(&ring, t0());
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.aud, AUDIENCE);
        assert_eq!(claims.exp - claims.iat, ACCESS_TTL.whole_seconds());
        assert_eq!(claims.iat, t0().unix_timestamp());
        assert_eq!(ring.verify_access(&token, t0()), Ok(claims));

        let header = decoded(&parts(&token)[0]);
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["kid"], ring.active_kid());
        assert_eq!(header["typ"], "at+jwt");
    }

    #[test]
    fn mfa_challenges_round_trip() {
        let ring = ring();
        let (token, claims) = mfa(&ring, t0());
        assert_eq!(claims.aud, "schild-api:mfa");
        assert_eq!(claims.exp - claims.iat, MFA_CHALLENGE_TTL.whole_seconds());
        assert_eq!(decoded(&parts(&token)[1])["typ"], "mfa");
        assert_eq!(decoded(&parts(&token)[0])["typ"], "mfa-challenge+jwt");
        assert_eq!(ring.verify_mfa_challenge(&token, t0()), Ok(claims));
    }

    #[test]
    fn token_ids_are_unique() {
        let ring = ring();
        let mut rng = rng(9);
        let a = ring
            .issue_access(user(), session(), vec![], t0(), &mut rng)
            .unwrap()
            .1;
        let b = ring
            .issue_access(user(), session(), vec![], t0(), &mut rng)
            .unwrap()
            .1;
        assert_ne!(a.jti, b.jti);
        assert_eq!(a.jti.get_version_num(), 4);
    }

    #[test]
    fn access_and_mfa_tokens_never_pass_as_each_other() {
        let ring = ring();
        let (access, _) = access(&ring, t0());
        let (challenge, _) = mfa(&ring, t0());
        assert_eq!(
            ring.verify_mfa_challenge(&access, t0()),
            Err(TokenError::WrongTokenType)
        );
        assert_eq!(
            ring.verify_access(&challenge, t0()),
            Err(TokenError::WrongTokenType)
        );
    }

    #[test]
    fn type_markers_must_all_agree() {
        let ring = ring();
        let access_claims = access_claims_json(&ring, t0());
        // Access audience and claims, MFA header type.
        let token = sign_raw(&ring, &eddsa_header(&ring, MFA_TYP), &access_claims);
        assert_eq!(
            ring.verify_access(&token, t0()),
            Err(TokenError::WrongTokenType)
        );
        // Access header and audience, but a `typ: mfa` claim.
        let mut with_typ = access_claims.clone();
        with_typ["typ"] = json!("mfa");
        let token = sign_raw(&ring, &eddsa_header(&ring, ACCESS_TYP), &with_typ);
        assert_eq!(
            ring.verify_access(&token, t0()),
            Err(TokenError::WrongTokenType)
        );
        assert_eq!(
            ring.verify_mfa_challenge(&token, t0()),
            Err(TokenError::WrongTokenType)
        );
        // No header type at all.
        let mut untyped = eddsa_header(&ring, ACCESS_TYP);
        untyped.typ = None;
        let token = sign_raw(&ring, &untyped, &access_claims);
        assert_eq!(
            ring.verify_access(&token, t0()),
            Err(TokenError::WrongTokenType)
        );
        // Generic "JWT" type.
        let token = sign_raw(&ring, &eddsa_header(&ring, "JWT"), &access_claims);
        assert_eq!(
            ring.verify_access(&token, t0()),
            Err(TokenError::WrongTokenType)
        );
        // MFA audience with MFA header but no `typ` claim.
        let mut mfa_claims = serde_json::to_value(mfa(&ring, t0()).1).unwrap();
        mfa_claims.as_object_mut().unwrap().remove("typ");
        let token = sign_raw(&ring, &eddsa_header(&ring, MFA_TYP), &mfa_claims);
        assert_eq!(
            ring.verify_mfa_challenge(&token, t0()),
            Err(TokenError::WrongTokenType)
        );
    }

    #[test]
    fn expiry_is_checked_against_the_given_now_without_leeway() {
        let ring = ring();
        let (token, claims) = access(&ring, t0());
        let exp = OffsetDateTime::from_unix_timestamp(claims.exp).unwrap();
        assert!(
            ring.verify_access(&token, exp - Duration::seconds(1))
                .is_ok()
        );
        assert_eq!(ring.verify_access(&token, exp), Err(TokenError::Expired));
        assert_eq!(
            ring.verify_access(&token, exp + Duration::days(365)),
            Err(TokenError::Expired)
        );

        let (challenge, claims) = mfa(&ring, t0());
        let exp = OffsetDateTime::from_unix_timestamp(claims.exp).unwrap();
        assert!(
            ring.verify_mfa_challenge(&challenge, exp - Duration::seconds(1))
                .is_ok()
        );
        assert_eq!(
            ring.verify_mfa_challenge(&challenge, exp),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn tokens_from_the_future_are_refused_beyond_the_skew() {
        let ring = ring();
        let (token, _) = access(&ring, t0());
        assert!(ring.verify_access(&token, t0() - CLOCK_SKEW).is_ok());
        assert_eq!(
            ring.verify_access(&token, t0() - CLOCK_SKEW - Duration::seconds(1)),
            Err(TokenError::NotYetValid)
        );

        let mut claims = access_claims_json(&ring, t0());
        claims["nbf"] = json!(t0().unix_timestamp() + 60);
        let token = sign_raw(&ring, &eddsa_header(&ring, ACCESS_TYP), &claims);
        assert_eq!(
            ring.verify_access(&token, t0()),
            Err(TokenError::NotYetValid)
        );
        assert!(
            ring.verify_access(&token, t0() + Duration::seconds(30))
                .is_ok()
        );
    }

    #[test]
    fn wrong_issuer_and_audience_are_refused() {
        let ring = ring();
        let (token, _) = access(&ring, t0());
        let other_issuer = lone("https://evil.example", AUDIENCE, key(1));
        assert_eq!(
            other_issuer.verify_access(&token, t0()),
            Err(TokenError::WrongIssuer)
        );
        let other_audience = lone(ISSUER, "other-api", key(1));
        assert_eq!(
            other_audience.verify_access(&token, t0()),
            Err(TokenError::WrongAudience)
        );
        let (challenge, _) = mfa(&ring, t0());
        assert_eq!(
            other_audience.verify_mfa_challenge(&challenge, t0()),
            Err(TokenError::WrongAudience)
        );

        // An audience array (RFC 7519 allows it) containing ours is still not our shape.
        let mut claims = access_claims_json(&ring, t0());
        claims["aud"] = json!([AUDIENCE, "other-api"]);
        let token = sign_raw(&ring, &eddsa_header(&ring, ACCESS_TYP), &claims);
        assert_eq!(ring.verify_access(&token, t0()), Err(TokenError::Malformed));
    }

    #[test]
    fn alg_none_is_refused() {
        let ring = ring();
        let (token, _) = access(&ring, t0());
        let [_, payload, signature] = <[String; 3]>::try_from(parts(&token)).unwrap();
        for alg in ["none", "None", "NONE", "nOnE", ""] {
            let header = b64(&json!({"alg": alg, "kid": ring.active_kid(), "typ": "at+jwt"}));
            for forged in [
                format!("{header}.{payload}."),
                format!("{header}.{payload}.{signature}"),
            ] {
                assert_eq!(
                    ring.verify_access(&forged, t0()),
                    Err(TokenError::UnsupportedAlgorithm),
                    "alg {alg:?}"
                );
            }
        }
    }

    #[test]
    fn hs256_signed_with_the_public_key_is_refused() {
        let ring = ring();
        let claims = access_claims_json(&ring, t0());
        let jwk_x = ring.jwks().keys()[0].x().to_owned();
        let secrets: [&[u8]; 3] = [
            ring.active.verifying_key().as_bytes(),
            jwk_x.as_bytes(),
            b"schild-api",
        ];
        for secret in secrets {
            for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
                let mut header = Header::new(alg);
                header.kid = Some(ring.active_kid().to_owned());
                header.typ = Some(ACCESS_TYP.to_owned());
                let forged =
                    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret))
                        .unwrap();
                assert_eq!(
                    ring.verify_access(&forged, t0()),
                    Err(TokenError::UnsupportedAlgorithm)
                );
            }
        }
    }

    #[test]
    fn every_other_algorithm_is_refused() {
        let ring = ring();
        let (token, _) = access(&ring, t0());
        let [_, payload, signature] = <[String; 3]>::try_from(parts(&token)).unwrap();
        for alg in [
            "RS256", "PS256", "ES256", "ES384", "Ed25519", "ES256K", "eddsa", "EDDSA",
        ] {
            let header = b64(&json!({"alg": alg, "kid": ring.active_kid(), "typ": "at+jwt"}));
            assert_eq!(
                ring.verify_access(&format!("{header}.{payload}.{signature}"), t0()),
                Err(TokenError::UnsupportedAlgorithm),
                "alg {alg}"
            );
        }
        let header = b64(&json!({"kid": ring.active_kid(), "typ": "at+jwt"}));
        assert_eq!(
            ring.verify_access(&format!("{header}.{payload}.{signature}"), t0()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn missing_and_unknown_key_ids_are_refused() {
        let ring = ring();
        let claims = access_claims_json(&ring, t0());
        let mut header = eddsa_header(&ring, ACCESS_TYP);
        header.kid = None;
        let token = sign_raw(&ring, &header, &claims);
        assert_eq!(
            ring.verify_access(&token, t0()),
            Err(TokenError::MissingKeyId)
        );

        header.kid = Some("not-a-key".into());
        let token = sign_raw(&ring, &header, &claims);
        assert_eq!(
            ring.verify_access(&token, t0()),
            Err(TokenError::UnknownKeyId)
        );

        let stranger = lone(ISSUER, AUDIENCE, key(6));
        let (token, _) = access(&stranger, t0());
        assert_eq!(
            ring.verify_access(&token, t0()),
            Err(TokenError::UnknownKeyId)
        );
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let ring = ring();
        let (token, _) = access(&ring, t0());
        let [header, payload, signature] = <[String; 3]>::try_from(parts(&token)).unwrap();

        // Promote ourselves to admin, keep the signature.
        let mut claims = decoded(&payload);
        claims["roles"] = json!(["admin"]);
        let forged = format!("{header}.{}.{signature}", b64(&claims));
        assert_eq!(
            ring.verify_access(&forged, t0()),
            Err(TokenError::BadSignature)
        );

        // A different key claiming the ring's key id.
        let impostor = lone(ISSUER, AUDIENCE, key(6));
        let mut impostor_header = eddsa_header(&ring, ACCESS_TYP);
        impostor_header.kid = Some(ring.active_kid().to_owned());
        let forged = sign_raw(&impostor, &impostor_header, &decoded(&payload));
        assert_eq!(
            ring.verify_access(&forged, t0()),
            Err(TokenError::BadSignature)
        );

        // A flipped signature byte.
        let mut raw_signature = URL_SAFE_NO_PAD.decode(&signature).unwrap();
        raw_signature[10] ^= 1;
        let forged = format!(
            "{header}.{payload}.{}",
            URL_SAFE_NO_PAD.encode(raw_signature)
        );
        assert_eq!(
            ring.verify_access(&forged, t0()),
            Err(TokenError::BadSignature)
        );

        // No or short signature.
        assert_eq!(
            ring.verify_access(&format!("{header}.{payload}."), t0()),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            ring.verify_access(&format!("{header}.{payload}.AAAA"), t0()),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let ring = ring();
        let (token, _) = access(&ring, t0());
        let [header, payload, signature] = <[String; 3]>::try_from(parts(&token)).unwrap();
        let not_json = URL_SAFE_NO_PAD.encode(b"not json");
        let cases = [
            String::new(),
            "...".into(),
            "a.b".into(),
            format!("{header}.{payload}"),
            format!("{header}.{payload}.{signature}.{signature}"),
            format!("{header}=.{payload}.{signature}"),
            format!("{not_json}.{payload}.{signature}"),
            format!("{}.{payload}.{signature}", URL_SAFE_NO_PAD.encode(b"[]")),
            format!("Bearer {token}"),
            format!("{token} "),
            format!(
                "{header}.{payload}.{signature}{}",
                "A".repeat(MAX_TOKEN_LEN)
            ),
        ];
        for case in &cases {
            assert_eq!(
                ring.verify_access(case, t0()),
                Err(TokenError::Malformed),
                "{case:?}"
            );
        }
        // `crit` names an extension we do not understand (RFC 7515 §4.1.11).
        let mut crit = eddsa_header(&ring, ACCESS_TYP);
        crit.crit = Some(vec!["exp".into()]);
        let token = sign_raw(&ring, &crit, &access_claims_json(&ring, t0()));
        assert_eq!(ring.verify_access(&token, t0()), Err(TokenError::Malformed));
        // Claims missing a field, or `exp` before `iat`.
        let mut claims = access_claims_json(&ring, t0());
        claims.as_object_mut().unwrap().remove("sid");
        let token = sign_raw(&ring, &eddsa_header(&ring, ACCESS_TYP), &claims);
        assert_eq!(ring.verify_access(&token, t0()), Err(TokenError::Malformed));
        let mut claims = access_claims_json(&ring, t0());
        claims["exp"] = json!(t0().unix_timestamp() + 60);
        claims["iat"] = json!(t0().unix_timestamp() + 120);
        let token = sign_raw(&ring, &eddsa_header(&ring, ACCESS_TYP), &claims);
        assert_eq!(ring.verify_access(&token, t0()), Err(TokenError::Malformed));
    }

    #[test]
    fn rotation_keeps_old_tokens_valid_until_they_expire() {
        let mut ring = ring();
        let old_kid = ring.active_kid().to_owned();
        let (old_token, old_claims) = access(&ring, t0());
        let (old_challenge, _) = mfa(&ring, t0());

        let rotated_at = t0() + Duration::minutes(1);
        ring.rotate(key(2), rotated_at);
        assert_ne!(ring.active_kid(), old_kid);
        let (new_token, _) = access(&ring, rotated_at);
        assert_eq!(decoded(&parts(&new_token)[0])["kid"], ring.active_kid());

        let last_second = OffsetDateTime::from_unix_timestamp(old_claims.exp - 1).unwrap();
        assert!(ring.verify_access(&old_token, last_second).is_ok());
        assert!(
            ring.verify_mfa_challenge(&old_challenge, rotated_at)
                .is_ok()
        );
        assert!(ring.verify_access(&new_token, rotated_at).is_ok());

        let kids: Vec<_> = ring
            .jwks()
            .keys()
            .iter()
            .map(|k| k.kid().to_owned())
            .collect();
        assert_eq!(kids, [ring.active_kid().to_owned(), old_kid.clone()]);

        // After the grace period the old key is ignored even before pruning, then pruned.
        let closed = rotated_at + RETIRED_KEY_GRACE;
        let (late_token, _) = access(&lone(ISSUER, AUDIENCE, key(1)), closed);
        assert_eq!(
            ring.verify_access(&late_token, closed),
            Err(TokenError::UnknownKeyId)
        );
        ring.prune(closed - Duration::seconds(1));
        assert_eq!(ring.jwks().keys().len(), 2);
        ring.prune(closed);
        assert_eq!(ring.jwks().keys().len(), 1);
        assert_eq!(ring.retired().count(), 0);
    }

    #[test]
    fn rotating_to_the_active_key_changes_nothing() {
        let mut ring = ring();
        let kid = ring.active_kid().to_owned();
        ring.rotate(key(1), t0());
        assert_eq!(ring.active_kid(), kid);
        assert_eq!(ring.retired().count(), 0);
    }

    #[test]
    fn re_activating_a_retired_key_removes_it_from_the_retired_list() {
        let mut ring = ring();
        let first = ring.active_kid().to_owned();
        ring.rotate(key(2), t0());
        ring.rotate(key(1), t0());
        assert_eq!(ring.active_kid(), first);
        let retired: Vec<_> = ring.retired().map(|(k, _)| k.kid().to_owned()).collect();
        assert_eq!(retired, [key(2).kid().to_owned()]);
    }

    #[test]
    fn new_keeps_the_invariant_on_retired_keys() {
        let active = key(1);
        let active_public = active.verifying_key().clone();
        let other = key(2).verifying_key().clone();
        let ring = KeyRing::new(
            ISSUER,
            AUDIENCE,
            active,
            vec![
                (active_public, t0() + Duration::hours(1)),
                (other.clone(), t0()),
                (other.clone(), t0() + Duration::minutes(10)),
            ],
        );
        let retired: Vec<_> = ring
            .retired()
            .map(|(k, until)| (k.kid().to_owned(), until))
            .collect();
        assert_eq!(
            retired,
            [(other.kid().to_owned(), t0() + Duration::minutes(10))]
        );
    }

    #[test]
    fn loaded_retired_keys_verify_within_their_window() {
        let old = lone(ISSUER, AUDIENCE, key(1));
        let (token, _) = access(&old, t0());
        // As loaded from storage: the retired key arrives as a private key; only its public half
        // is kept.
        let ring = KeyRing::new(
            ISSUER,
            AUDIENCE,
            key(2),
            vec![(key(1), t0() + RETIRED_KEY_GRACE)],
        );
        assert!(
            ring.verify_access(&token, t0() + Duration::minutes(14))
                .is_ok()
        );
    }

    #[test]
    fn jwks_is_usable_by_a_standard_verifier() {
        let mut ring = ring();
        let (old_token, _) = access(&ring, t0());
        ring.rotate(key(2), t0());
        let (new_token, _) = access(&ring, t0());

        let json = serde_json::to_string(&ring.jwks()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value.as_object().unwrap().len(), 1, "{json}");
        assert_eq!(value["keys"].as_array().unwrap().len(), 2);
        let set: JwkSet = serde_json::from_str(&json).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        for token in [old_token, new_token] {
            let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
            let jwk = set.find(&kid).unwrap();
            let key = DecodingKey::from_jwk(jwk).unwrap();
            jsonwebtoken::decode::<AccessClaims>(&token, &key, &validation).unwrap();
        }
        assert!(ring.jwks().find(ring.active_kid()).is_some());
        assert!(ring.jwks().find("nope").is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn claims_round_trip(
            roles in proptest::collection::vec("\\PC{0,12}", 0..4),
            offset in 0i64..(100 * 365 * 86_400),
            age in 0i64..(15 * 60),
        ) {
            let ring = ring();
            let now = t0() + Duration::seconds(offset);
            let (token, claims) = ring
                .issue_access(user(), session(), roles, now, &mut rng(10))
                .unwrap();
            prop_assert_eq!(ring.verify_access(&token, now + Duration::seconds(age)), Ok(claims));
        }

        #[test]
        fn no_single_character_change_is_accepted(position in any::<prop::sample::Index>(), replacement in "[A-Za-z0-9_.=-]") {
            let ring = ring();
            let (token, _) = access(&ring, t0());
            let index = position.index(token.len());
            let mut changed = token.clone().into_bytes();
            changed[index] = replacement.as_bytes()[0];
            let changed = String::from_utf8(changed).unwrap();
            prop_assume!(changed != token);
            // Base64url decoding is canonical, so every change alters the signed bytes.
            prop_assert!(ring.verify_access(&changed, t0()).is_err());
        }
    }
}
