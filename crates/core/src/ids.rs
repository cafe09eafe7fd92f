//! Identifiers and names that arrive from outside, parsed once at the boundary.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Declares a UUID newtype with time-ordered construction, `Display` and `FromStr`; shared by
/// every identifier in this crate.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub ::uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered identifier (UUIDv7), so rows sort by creation.
            pub fn new_v7(at: ::time::OffsetDateTime, rng: &mut impl ::rand::CryptoRng) -> Self {
                Self($crate::ids::uuid_v7(at, rng))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ::uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}
pub(crate) use uuid_id;

/// A time-ordered UUID (version 7) for `at`, so rows keyed by it sort by creation.
pub fn uuid_v7(at: time::OffsetDateTime, rng: &mut impl rand::CryptoRng) -> uuid::Uuid {
    let millis = u64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let mut random = [0u8; 10];
    rng.fill_bytes(&mut random);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

uuid_id!(
    /// An account on the backend.
    UserId
);
uuid_id!(
    /// One sign-in: the session id carried in every access token (`sid`) and shared by every refresh
    /// token of that sign-in (its refresh family).
    SessionId
);

/// Why a [`Username`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsernameError {
    /// Shorter than [`Username::MIN_LEN`] characters.
    #[error("a username has at least {min} characters", min = Username::MIN_LEN)]
    TooShort,
    /// Longer than [`Username::MAX_LEN`] characters.
    #[error("a username has at most {max} characters", max = Username::MAX_LEN)]
    TooLong,
    /// Contains something other than lower-case letters, digits and `.`, `_`, `-`, `@`.
    #[error("a username may contain only letters, digits and . _ - @")]
    InvalidCharacter,
}

/// A sign-in name: 3 to 64 characters of ASCII letters, digits and `. _ - @`, compared in lower case.
///
/// Case folding happens here, once, so `Alice` and `alice` are the same account everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// The shortest accepted name.
    pub const MIN_LEN: usize = 3;
    /// The longest accepted name.
    pub const MAX_LEN: usize = 64;

    /// Parses and lower-cases a username.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let raw = raw.trim();
        if raw.len() > Self::MAX_LEN {
            return Err(UsernameError::TooLong);
        }
        if raw.chars().count() < Self::MIN_LEN {
            return Err(UsernameError::TooShort);
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        {
            return Err(UsernameError::InvalidCharacter);
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    /// The name as stored and compared.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Username {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Username::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The roles known before the access-control catalogue arrives: `admin` may administer accounts,
/// sessions and IP blocks; `user` may manage only their own sign-in factors.
pub mod roles {
    /// Full administration of the backend.
    pub const ADMIN: &str = "admin";
    /// A regular account.
    pub const USER: &str = "user";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_fold_case_and_refuse_odd_characters() {
        assert_eq!(
            Username::parse(" Alice.Admin ").map(|u| u.0),
            Ok("alice.admin".into())
        );
        assert_eq!(Username::parse("ab"), Err(UsernameError::TooShort));
        assert_eq!(
            Username::parse(&"a".repeat(65)),
            Err(UsernameError::TooLong)
        );
        assert_eq!(
            Username::parse("al ice"),
            Err(UsernameError::InvalidCharacter)
        );
        assert_eq!(
            Username::parse("ålice"),
            Err(UsernameError::InvalidCharacter)
        );
        assert_eq!(
            Username::parse("a'; drop"),
            Err(UsernameError::InvalidCharacter)
        );
    }

    #[test]
    fn v7_ids_sort_by_time() {
        let mut rng = rand::rng();
        let early = UserId::new_v7(
            time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(1),
            &mut rng,
        );
        let late = UserId::new_v7(
            time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(2),
            &mut rng,
        );
        assert!(early < late);
        assert_eq!(early.to_string().parse::<UserId>(), Ok(early));
    }
}
