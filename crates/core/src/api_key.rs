//! API keys: long-lived bearer credentials for machine clients (scripts, CI jobs, integrations),
//! each owned by a person, limited to a set of scopes and to a lifetime.
//!
//! # Format
//!
//! `schild_<prefix>_<secret>`, for example `schild_k3v9q2xa7mtd_…`:
//!
//! - `schild_` marks the string as a Schild API key, so secret scanners and people recognise it.
//! - `<prefix>` is the key's public id: 12 characters of lower-case base32 (the RFC 4648 §6
//!   alphabet `a–z 2–7`), 60 random bits. It is the key's primary key in the database and the
//!   name listings, audit records and logs use; it is not a secret.
//! - `<secret>` is an [`OpaqueToken`]: 256 bits from the CSPRNG, 43 characters of unpadded
//!   base64url (RFC 4648 §5). It is shown to the owner once, at issue, and never stored.
//!
//! # Storage and verification
//!
//! The server keeps only the SHA-256 digest of the secret ([`TokenHash`]). A fast hash is the
//! right choice here, unlike for passwords: the secret is 256 uniformly random bits, so a stolen
//! digest gives an attacker a 2²⁵⁶ preimage search that no key stretching could make harder, while
//! verification stays cheap enough for every request (NIST SP 800-63B §5.1.1.2 asks for salted,
//! slow hashing only for secrets people choose). The digest is compared in constant time, and
//! [`verify`] checks it *before* looking at revocation or expiry, so a caller without the secret
//! learns nothing about the key's state.
//!
//! # Scopes and lifetime
//!
//! A key's scopes are permissions from the RBAC catalogue, and must be a subset of what its owner
//! holds at issue time: a key never carries more than the person who made it. (Whoever later
//! authenticates a request with the key should also intersect the scopes with the owner's
//! *current* permissions, so narrowing a role narrows the owner's keys too.) Every key expires:
//! [`DEFAULT_LIFETIME`] unless asked otherwise, never later than [`MAX_LIFETIME`].

use crate::audit::AuditEvent;
use crate::ids::UserId;
use crate::rbac::{PermissionSet, Reason, ReasonError};
use crate::refresh::{OpaqueToken, TokenFormatError, TokenHash};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::{Duration, OffsetDateTime};

/// What every key starts with.
pub const KEY_MARKER: &str = "schild_";
/// How long a key lives when the issuer does not say.
pub const DEFAULT_LIFETIME: Duration = Duration::days(90);
/// The longest lifetime a key may have: machine credentials are rotated at least yearly.
pub const MAX_LIFETIME: Duration = Duration::days(365);

/// Why a string is not an API key. None of the variants carries the input, which may be a real
/// key with a typo.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyFormatError {
    /// The string does not start with `schild_`: it is another kind of token, or was cut.
    #[error("not a Schild API key: API keys start with {KEY_MARKER}")]
    NotAnApiKey,
    /// The public id after `schild_` is not 12 characters of `a–z` and `2–7` followed by `_`.
    #[error(
        "an API key's id is {len} characters of a-z and 2-7 after {KEY_MARKER}",
        len = ApiKeyPrefix::LEN
    )]
    BadPrefix,
    /// The secret after the id is not a 256-bit token in canonical base64url.
    #[error("an API key's secret is malformed: {0}")]
    BadSecret(#[source] TokenFormatError),
}

/// A key's public id: 12 characters of lower-case base32 (`a–z 2–7`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ApiKeyPrefix(String);

impl ApiKeyPrefix {
    /// Characters in an id: 60 random bits, so ids of independently issued keys do not collide
    /// in practice (the database's primary key refuses the rare collision, and the issuer draws
    /// again).
    pub const LEN: usize = 12;

    /// Draws a fresh id from `rng`.
    pub fn generate(rng: &mut impl rand::CryptoRng) -> Self {
        let mut bytes = [0u8; 8];
        rng.fill_bytes(&mut bytes);
        // 8 bytes encode to 13 base32 characters; the first 12 carry 60 whole random bits.
        let mut encoded = data_encoding::BASE32_NOPAD.encode(&bytes);
        encoded.truncate(Self::LEN);
        Self(encoded.to_ascii_lowercase())
    }

    /// Parses an id as listings show it.
    pub fn parse(raw: &str) -> Result<Self, ApiKeyFormatError> {
        let valid = raw.len() == Self::LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b));
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ApiKeyFormatError::BadPrefix)
        }
    }

    /// The id as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiKeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ApiKeyPrefix {
    type Err = ApiKeyFormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for ApiKeyPrefix {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A whole key, as issued or as presented by a client. [`Debug`] shows only the public id.
pub struct PresentedApiKey {
    prefix: ApiKeyPrefix,
    secret: OpaqueToken,
}

impl PresentedApiKey {
    /// Parses `schild_<prefix>_<secret>`; surrounding whitespace (a newline from a file or an
    /// environment variable) is ignored.
    pub fn parse(raw: &str) -> Result<Self, ApiKeyFormatError> {
        let rest = raw
            .trim()
            .strip_prefix(KEY_MARKER)
            .ok_or(ApiKeyFormatError::NotAnApiKey)?;
        // The id is base32, so the first `_` after it ends it; the secret (base64url) may itself
        // contain `_`.
        let (prefix, secret) = rest.split_once('_').ok_or(ApiKeyFormatError::BadPrefix)?;
        Ok(Self {
            prefix: ApiKeyPrefix::parse(prefix)?,
            secret: OpaqueToken::parse(secret).map_err(ApiKeyFormatError::BadSecret)?,
        })
    }

    /// The public id, to find the stored key by.
    pub fn prefix(&self) -> &ApiKeyPrefix {
        &self.prefix
    }

    /// The digest of the secret: all the database ever keeps of it.
    pub fn hash(&self) -> TokenHash {
        self.secret.hash()
    }
}

impl fmt::Debug for PresentedApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PresentedApiKey({KEY_MARKER}{}_[REDACTED])", self.prefix)
    }
}

/// A key just issued: the full text is handed to its owner exactly once, then dropped (it is
/// zeroized on drop). [`Debug`] shows only the public id.
pub struct IssuedApiKey {
    prefix: ApiKeyPrefix,
    full: SecretString,
    hash: TokenHash,
}

impl IssuedApiKey {
    /// Draws a fresh id and secret from `rng`.
    pub fn generate(rng: &mut impl rand::CryptoRng) -> Self {
        let prefix = ApiKeyPrefix::generate(rng);
        let secret = OpaqueToken::generate(rng);
        let full = SecretString::from(format!("{KEY_MARKER}{prefix}_{}", secret.expose()));
        Self {
            hash: secret.hash(),
            prefix,
            full,
        }
    }

    /// The public id.
    pub fn prefix(&self) -> &ApiKeyPrefix {
        &self.prefix
    }

    /// The full key, to show to its owner once.
    pub fn expose(&self) -> &str {
        self.full.expose_secret()
    }

    /// The digest to store.
    pub fn hash(&self) -> TokenHash {
        self.hash
    }
}

impl fmt::Debug for IssuedApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuedApiKey({KEY_MARKER}{}_[REDACTED])", self.prefix)
    }
}

/// Why a key could not be issued. Nothing was created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyIssueError {
    /// The label is empty after trimming: every key says what it is for, so its owner and
    /// auditors can tell keys apart.
    #[error("an API key needs a label saying what it is for")]
    LabelEmpty,
    /// The label is longer than [`ApiKey::MAX_LABEL_CHARS`] or contains control characters.
    #[error(
        "an API key's label has at most {max} characters and no control characters",
        max = ApiKey::MAX_LABEL_CHARS
    )]
    LabelInvalid,
    /// No scope was asked for: a key that may do nothing is a mistake.
    #[error("an API key needs at least one scope")]
    NoScopes,
    /// A scope the owner does not hold at issue time.
    #[error("you do not hold {permission}, so no key of yours may have it")]
    ScopeNotHeld {
        /// The first such scope, in catalogue order.
        permission: crate::rbac::Permission,
    },
    /// The lifetime is zero or negative.
    #[error("an API key's lifetime is at least one day")]
    LifetimeNotPositive,
    /// The lifetime is longer than [`MAX_LIFETIME`].
    #[error("an API key lives at most {max_days} days", max_days = MAX_LIFETIME.whole_days())]
    LifetimeTooLong,
}

/// Why a key could not be revoked. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyRevokeError {
    /// It was revoked before; the first revocation stands.
    #[error("this API key is already revoked")]
    AlreadyRevoked,
    /// The reason is empty or too long.
    #[error("{0}")]
    Reason(#[from] ReasonError),
}

/// Why a presented key does not authenticate. The caller should answer every variant the same
/// way (a plain 401), so a client learns nothing about which keys exist; the variants are for
/// the audit trail and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyRejection {
    /// The secret does not match the stored key (or the stored key has another id): a guess, a
    /// typo, or an old key whose id was reused.
    #[error("the API key does not match")]
    Mismatch,
    /// The key was revoked.
    #[error("the API key was revoked")]
    Revoked,
    /// The key is past its expiry.
    #[error("the API key has expired")]
    Expired,
}

/// Whether a key may be used at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyStatus {
    /// Usable.
    Active,
    /// Past its expiry.
    Expired,
    /// Revoked (whatever its expiry).
    Revoked,
}

impl ApiKeyStatus {
    /// The stable name: `active`, `expired`, `revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

/// What a person asks for when issuing a key for themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey<'a> {
    /// Whose key it is (and whose permissions bound its scopes).
    pub owner: UserId,
    /// What it is for, 1 to [`ApiKey::MAX_LABEL_CHARS`] characters.
    pub label: &'a str,
    /// What it may do.
    pub scopes: PermissionSet,
    /// How long it lives; `None` for [`DEFAULT_LIFETIME`].
    pub lifetime: Option<Duration>,
}

/// A stored API key: everything but its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The public id.
    pub prefix: ApiKeyPrefix,
    /// Whose it is.
    pub owner: UserId,
    /// What it is for.
    pub label: String,
    /// What it may do (never more than the owner held at issue).
    pub scopes: PermissionSet,
    /// The digest of its secret.
    pub hash: TokenHash,
    /// When it was issued.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// When it last authenticated a request.
    pub last_used_at: Option<OffsetDateTime>,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// Who revoked it; `None` for the console or when not revoked.
    pub revoked_by: Option<UserId>,
    /// Why it was revoked.
    pub revoke_reason: Option<Reason>,
}

impl ApiKey {
    /// The longest label, in characters.
    pub const MAX_LABEL_CHARS: usize = 100;

    /// Issues a key: checks the label, the scopes against `owner_permissions` (what the owner
    /// holds now) and the lifetime, then draws the key from `rng`. Returns the record to store,
    /// the key to show once, and the audit event to append in the same transaction.
    pub fn issue(
        new: NewApiKey<'_>,
        owner_permissions: PermissionSet,
        now: OffsetDateTime,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<(Self, IssuedApiKey, AuditEvent), ApiKeyIssueError> {
        let label = new.label.trim();
        if label.is_empty() {
            return Err(ApiKeyIssueError::LabelEmpty);
        }
        if label.chars().count() > Self::MAX_LABEL_CHARS || label.chars().any(char::is_control) {
            return Err(ApiKeyIssueError::LabelInvalid);
        }
        if new.scopes.is_empty() {
            return Err(ApiKeyIssueError::NoScopes);
        }
        if let Some(permission) = new
            .scopes
            .iter()
            .find(|&scope| !owner_permissions.has(scope))
        {
            return Err(ApiKeyIssueError::ScopeNotHeld { permission });
        }
        let lifetime = new.lifetime.unwrap_or(DEFAULT_LIFETIME);
        if lifetime <= Duration::ZERO {
            return Err(ApiKeyIssueError::LifetimeNotPositive);
        }
        if lifetime > MAX_LIFETIME {
            return Err(ApiKeyIssueError::LifetimeTooLong);
        }
        let issued = IssuedApiKey::generate(rng);
        let key = Self {
            prefix: issued.prefix().clone(),
            owner: new.owner,
            label: label.to_owned(),
            scopes: new.scopes,
            hash: issued.hash(),
            created_at: now,
            expires_at: now + lifetime,
            last_used_at: None,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
        };
        let event = AuditEvent::ApiKeyIssued {
            key: key.prefix.clone(),
            owner: key.owner,
            label: key.label.clone(),
            scopes: key.scopes.iter().collect(),
            expires_at: key.expires_at,
        };
        Ok((key, issued, event))
    }

    /// Whether it may be used at `now`.
    pub fn status(&self, now: OffsetDateTime) -> ApiKeyStatus {
        if self.revoked_at.is_some() {
            ApiKeyStatus::Revoked
        } else if now >= self.expires_at {
            ApiKeyStatus::Expired
        } else {
            ApiKeyStatus::Active
        }
    }

    /// When it stopped (or will stop) working: its revocation or its expiry, whichever is first.
    /// Retention counts from here.
    pub fn ended_at(&self) -> OffsetDateTime {
        self.revoked_at
            .map_or(self.expires_at, |revoked| revoked.min(self.expires_at))
    }

    /// Revokes it, by `by` (`None`: the console), for `reason`. Returns the revoked key and the
    /// audit event.
    pub fn revoke(
        &self,
        by: Option<UserId>,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<(Self, AuditEvent), ApiKeyRevokeError> {
        let reason = Reason::parse(reason)?;
        if self.revoked_at.is_some() {
            return Err(ApiKeyRevokeError::AlreadyRevoked);
        }
        let event = AuditEvent::ApiKeyRevoked {
            key: self.prefix.clone(),
            owner: self.owner,
            reason: reason.to_string(),
        };
        let revoked = Self {
            revoked_at: Some(now),
            revoked_by: by,
            revoke_reason: Some(reason),
            ..self.clone()
        };
        Ok((revoked, event))
    }
}

/// Checks a presented key against the stored record of its id at `now`; on success returns the
/// key's scopes. The secret's digest is compared first and in constant time, so neither the
/// answer nor its timing tells a caller without the secret whether the key is revoked or
/// expired.
pub fn verify(
    presented: &PresentedApiKey,
    stored: &ApiKey,
    now: OffsetDateTime,
) -> Result<PermissionSet, ApiKeyRejection> {
    let secret_matches = stored.hash == presented.hash();
    if !secret_matches || stored.prefix != presented.prefix {
        return Err(ApiKeyRejection::Mismatch);
    }
    match stored.status(now) {
        ApiKeyStatus::Active => Ok(stored.scopes),
        ApiKeyStatus::Expired => Err(ApiKeyRejection::Expired),
        ApiKeyStatus::Revoked => Err(ApiKeyRejection::Revoked),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::Permission as P;
    use proptest::prelude::*;
    use rand::SeedableRng as _;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-04 10:00 UTC);

    fn rng(seed: u64) -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(seed)
    }

    fn owner() -> UserId {
        UserId(uuid::Uuid::from_u128(7))
    }

    fn held() -> PermissionSet {
        [P::UserRead, P::SessionRead, P::ApikeyIssue]
            .into_iter()
            .collect()
    }

    fn new_key(scopes: &[P], lifetime: Option<Duration>) -> NewApiKey<'static> {
        NewApiKey {
            owner: owner(),
            label: "  nightly export ",
            scopes: scopes.iter().copied().collect(),
            lifetime,
        }
    }

    fn issue_key(seed: u64) -> (ApiKey, IssuedApiKey) {
        let (key, issued, _) =
            ApiKey::issue(new_key(&[P::UserRead], None), held(), T0, &mut rng(seed)).unwrap();
        (key, issued)
    }

    #[test]
    fn issued_keys_have_the_documented_shape_and_parse_back() {
        let (key, issued) = issue_key(1);
        let text = issued.expose();
        assert_eq!(text.len(), KEY_MARKER.len() + 12 + 1 + 43, "{text}");
        assert!(text.starts_with(&format!("schild_{}_", key.prefix)));
        assert!(
            key.prefix
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        );
        let presented = PresentedApiKey::parse(&format!("  {text}\n")).unwrap();
        assert_eq!(presented.prefix(), &key.prefix);
        assert_eq!(presented.hash(), key.hash);
        assert_eq!(key.label, "nightly export");
        assert_eq!(key.expires_at, T0 + Duration::days(90));
        assert_eq!(key.status(T0), ApiKeyStatus::Active);
    }

    #[test]
    fn secrets_never_reach_debug_output() {
        let (key, issued) = issue_key(2);
        let secret = issued
            .expose()
            .strip_prefix(&format!("schild_{}_", key.prefix))
            .unwrap()
            .to_owned();
        let presented = PresentedApiKey::parse(issued.expose()).unwrap();
        for shown in [
            format!("{issued:?}"),
            format!("{presented:?}"),
            format!("{key:?}"),
        ] {
            assert!(!shown.contains(&secret), "{shown}");
            assert!(shown.contains(key.prefix.as_str()) || shown.contains("TokenHash"));
        }
    }

    #[test]
    fn malformed_keys_are_refused_clearly() {
        let (_, issued) = issue_key(3);
        let good = issued.expose().to_owned();
        let (id, secret) = good
            .strip_prefix("schild_")
            .and_then(|rest| rest.split_once('_'))
            .unwrap();
        let cases = [
            (String::new(), ApiKeyFormatError::NotAnApiKey),
            (
                format!("Schild_{id}_{secret}"),
                ApiKeyFormatError::NotAnApiKey,
            ),
            (format!("schild_{id}"), ApiKeyFormatError::BadPrefix),
            (
                format!("schild_{}_{secret}", id.to_uppercase()),
                ApiKeyFormatError::BadPrefix,
            ),
            (
                format!("schild_{}_{secret}", &id[..11]),
                ApiKeyFormatError::BadPrefix,
            ),
            (
                format!("schild_{id}0_{secret}"),
                ApiKeyFormatError::BadPrefix,
            ),
            (
                format!("schild_{id}_{}", &secret[..42]),
                ApiKeyFormatError::BadSecret(TokenFormatError::WrongLength {
                    expected: 43,
                    found: 42,
                }),
            ),
            (
                format!("schild_{id}_{}!", &secret[..42]),
                ApiKeyFormatError::BadSecret(TokenFormatError::InvalidCharacter),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                PresentedApiKey::parse(&input).map(|_| ()),
                Err(expected),
                "{input}"
            );
        }
        assert!(
            ApiKeyFormatError::BadPrefix
                .to_string()
                .contains("12 characters")
        );
    }

    #[test]
    fn scopes_never_exceed_what_the_owner_holds() {
        let refused = ApiKey::issue(
            new_key(&[P::UserRead, P::UserCreate, P::RoleManage], None),
            held(),
            T0,
            &mut rng(4),
        );
        assert_eq!(
            refused.map(|_| ()),
            Err(ApiKeyIssueError::ScopeNotHeld {
                permission: P::UserCreate
            })
        );
        assert_eq!(
            ApiKey::issue(new_key(&[], None), held(), T0, &mut rng(4)).map(|_| ()),
            Err(ApiKeyIssueError::NoScopes)
        );
        let (key, _, event) = ApiKey::issue(
            new_key(&[P::UserRead, P::SessionRead], None),
            held(),
            T0,
            &mut rng(4),
        )
        .unwrap();
        assert!(held().contains_all(key.scopes));
        match event {
            AuditEvent::ApiKeyIssued {
                key: prefix,
                owner: who,
                scopes,
                expires_at,
                ..
            } => {
                assert_eq!((prefix, who), (key.prefix.clone(), owner()));
                assert_eq!(scopes, [P::UserRead, P::SessionRead]);
                assert_eq!(expires_at, key.expires_at);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn labels_and_lifetimes_are_bounded() {
        let issue = |label: &'static str, lifetime| {
            ApiKey::issue(
                NewApiKey {
                    label,
                    ..new_key(&[P::UserRead], lifetime)
                },
                held(),
                T0,
                &mut rng(5),
            )
            .map(|(key, _, _)| key.expires_at)
        };
        assert_eq!(issue(" \t", None), Err(ApiKeyIssueError::LabelEmpty));
        assert_eq!(issue("a\u{7}b", None), Err(ApiKeyIssueError::LabelInvalid));
        let long: &'static str = "x".repeat(101).leak();
        assert_eq!(issue(long, None), Err(ApiKeyIssueError::LabelInvalid));
        assert_eq!(
            issue("ok", Some(Duration::ZERO)),
            Err(ApiKeyIssueError::LifetimeNotPositive)
        );
        assert_eq!(
            issue("ok", Some(Duration::days(366))),
            Err(ApiKeyIssueError::LifetimeTooLong)
        );
        assert_eq!(
            issue("ok", Some(Duration::days(365))),
            Ok(T0 + Duration::days(365))
        );
    }

    #[test]
    fn verification_accepts_only_the_right_secret_while_active() {
        let (key, issued) = issue_key(6);
        let presented = PresentedApiKey::parse(issued.expose()).unwrap();
        assert_eq!(verify(&presented, &key, T0), Ok(key.scopes));
        assert_eq!(
            verify(&presented, &key, key.expires_at - Duration::milliseconds(1)),
            Ok(key.scopes)
        );
        assert_eq!(
            verify(&presented, &key, key.expires_at),
            Err(ApiKeyRejection::Expired)
        );

        // Another key's secret under this id, and this secret under another id.
        let (other, other_issued) = issue_key(7);
        let wrong_secret = PresentedApiKey::parse(
            &other_issued
                .expose()
                .replace(other.prefix.as_str(), key.prefix.as_str()),
        )
        .unwrap();
        assert_eq!(
            verify(&wrong_secret, &key, T0),
            Err(ApiKeyRejection::Mismatch)
        );
        assert_eq!(
            verify(&presented, &other, T0),
            Err(ApiKeyRejection::Mismatch)
        );

        let (revoked, event) = key.revoke(Some(owner()), "leaked in a CI log", T0).unwrap();
        assert_eq!(
            verify(&presented, &revoked, T0),
            Err(ApiKeyRejection::Revoked)
        );
        // Without the secret, a revoked key looks like any other mismatch.
        assert_eq!(
            verify(&wrong_secret, &revoked, T0),
            Err(ApiKeyRejection::Mismatch)
        );
        assert_eq!(event.kind(), "apikey.revoked");
        assert_eq!(revoked.ended_at(), T0);
        assert_eq!(
            revoked.revoke(None, "again", T0).map(|_| ()),
            Err(ApiKeyRevokeError::AlreadyRevoked)
        );
        assert_eq!(
            key.revoke(None, " ", T0).map(|_| ()),
            Err(ApiKeyRevokeError::Reason(ReasonError::Empty))
        );
    }

    proptest! {
        #[test]
        fn every_issued_key_round_trips_and_ids_are_well_formed(seed in any::<u64>()) {
            let (key, issued) = issue_key(seed);
            let presented = PresentedApiKey::parse(issued.expose()).unwrap();
            prop_assert_eq!(verify(&presented, &key, T0), Ok(key.scopes));
            prop_assert_eq!(ApiKeyPrefix::parse(key.prefix.as_str()), Ok(key.prefix.clone()));
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(input in ".{0,120}") {
            let _ = PresentedApiKey::parse(&input);
        }
    }
}
