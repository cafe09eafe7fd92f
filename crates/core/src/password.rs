//! Passwords: a strength policy for new passwords and Argon2id hashing for stored ones.
//!
//! - Hashing is Argon2id v1.3 (RFC 9106) stored as a PHC string
//!   (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), so every hash carries its own
//!   parameters and old hashes keep verifying after the policy is raised.
//! - The cost never drops below the OWASP Password Storage Cheat Sheet minimum for Argon2id
//!   (m = 19 456 KiB, t = 2, p = 1); [`PasswordPolicy::new`] refuses anything weaker.
//! - [`PasswordPolicy::verify`] reports `needs_rehash` when a stored hash is weaker than the
//!   policy, so the caller can upgrade it on the next successful sign-in.
//! - [`PasswordPolicy::verify_dummy`] spends the same time on an unknown user as on a known
//!   one, so the response time does not reveal which user names exist.
//! - New passwords follow NIST SP 800-63B-4 §3.1.1.2: a minimum length, no composition rules,
//!   and a check against guessable choices (zxcvbn, with the user's own details as inputs).

use std::fmt;
use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash as PhcHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Salt length in bytes: the PHC string format's and RFC 9106 §3.1's recommended 16.
const SALT_LEN: usize = 16;

/// Tag (hash output) length in bytes, argon2's default and RFC 9106 §4's recommendation.
const OUTPUT_LEN: usize = 32;

/// [`Argon2Params::OWASP_MINIMUM`] as argon2 parameters, checked at compile time.
const OWASP_ARGON2_PARAMS: Params = match Params::new(
    Argon2Params::OWASP_MINIMUM.memory_kib,
    Argon2Params::OWASP_MINIMUM.iterations,
    Argon2Params::OWASP_MINIMUM.parallelism,
    Some(OUTPUT_LEN),
) {
    Ok(params) => params,
    Err(_) => panic!("the OWASP minimum is valid Argon2 parameters"),
};

/// Words every password is checked against besides the user's own details: a password built
/// around the product's name is an obvious first guess for an attacker.
const SERVICE_WORDS: &[&str] = &["schild"];

/// The password hashed once per policy for [`PasswordPolicy::verify_dummy`]. Its value does not
/// matter: nobody can sign in with it, because it is only ever compared for unknown users.
const DUMMY_PASSWORD: &[u8] = b"schild dummy password for unknown users";

/// A fixed salt for the dummy hash, so building it needs no randomness and cannot fail.
const DUMMY_SALT: &[u8; SALT_LEN] = b"schild-dummy-slt";

/// Why a password was refused or could not be hashed or checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The new password has fewer than `min` characters (Unicode scalar values). The user's
    /// choice; ask for a longer one, a passphrase of a few words is easiest.
    #[error("a password needs at least {min} characters")]
    TooShort {
        /// The minimum length in characters ([`PasswordPolicy::MIN_LEN`]).
        min: usize,
    },
    /// The password is longer than `max` bytes (UTF-8). The user's input, or a client sending
    /// garbage; the cap keeps hashing cost bounded.
    #[error("a password may be at most {max} bytes long")]
    TooLong {
        /// The maximum length in bytes ([`PasswordPolicy::MAX_LEN`]).
        max: usize,
    },
    /// The new password is long enough but easy to guess (zxcvbn score below
    /// [`PasswordPolicy::MIN_SCORE`]). The user's choice; show them the feedback.
    #[error("this password is too easy to guess")]
    TooWeak {
        /// What is wrong with it, e.g. "This is a top-100 common password.", when zxcvbn can say.
        warning: Option<String>,
        /// How to choose a better one, e.g. "Add another word or two. Uncommon words are better."
        /// Never empty.
        suggestions: Vec<String>,
    },
    /// The configured Argon2 parameters are below the OWASP minimum
    /// ([`Argon2Params::OWASP_MINIMUM`]). An operator's configuration mistake.
    #[error(
        "Argon2 parameters are below the OWASP minimum (m={m} KiB, t={t}, p={p})",
        m = Argon2Params::OWASP_MINIMUM.memory_kib,
        t = Argon2Params::OWASP_MINIMUM.iterations,
        p = Argon2Params::OWASP_MINIMUM.parallelism
    )]
    ParamsBelowFloor,
    /// The configured Argon2 parameters are above the floor but argon2 itself refuses them
    /// (e.g. memory below 8 KiB per lane, or more than 2^24 - 1 lanes). An operator's mistake.
    #[error("Argon2 refuses these parameters")]
    InvalidParams(#[source] argon2::Error),
    /// The stored hash is not a PHC string this policy can verify (malformed, truncated, or an
    /// algorithm other than Argon2). A server or data bug, not the user's fault: the user
    /// cannot sign in with a password until an administrator resets it.
    #[error("the stored password hash is corrupt or uses an unsupported algorithm")]
    CorruptHash,
    /// Argon2 failed while hashing a new password. Not expected with validated parameters;
    /// a server bug.
    #[error("hashing the password failed")]
    Hashing(#[source] argon2::password_hash::Error),
}

/// Argon2id cost parameters, in the units of RFC 9106 §3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Argon2Params {
    /// Memory size `m` in KiB.
    pub memory_kib: u32,
    /// Number of passes `t` over the memory.
    pub iterations: u32,
    /// Degree of parallelism `p` (lanes).
    pub parallelism: u32,
}

impl Argon2Params {
    /// The floor: OWASP Password Storage Cheat Sheet's minimum for Argon2id, m = 19 456 KiB
    /// (19 MiB), t = 2, p = 1. Also argon2's own default.
    pub const OWASP_MINIMUM: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    /// Whether every parameter is at least as costly as the one in `floor`.
    pub fn is_at_least(&self, floor: &Self) -> bool {
        self.memory_kib >= floor.memory_kib
            && self.iterations >= floor.iterations
            && self.parallelism >= floor.parallelism
    }
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self::OWASP_MINIMUM
    }
}

impl fmt::Display for Argon2Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "m={},t={},p={}",
            self.memory_kib, self.iterations, self.parallelism
        )
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Verified {
    /// The password matches.
    Valid {
        /// The stored hash is weaker than the current policy (lower Argon2 parameters, another
        /// Argon2 variant or version, a short salt or tag): hash the password again with
        /// [`PasswordPolicy::hash`] and store the new hash.
        needs_rehash: bool,
    },
    /// The password does not match.
    Invalid,
}

impl Verified {
    /// Whether the password matched.
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid { .. })
    }
}

/// A stored password hash: an Argon2 PHC string. Not secret in the way a password is, but
/// worth an offline guessing attack, so `Debug` shows only the algorithm and its parameters.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// The PHC string, for storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a PHC string read from storage. Not checked here: a malformed string makes
    /// [`PasswordPolicy::verify`] return [`PasswordError::CorruptHash`].
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, by value.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match PhcHash::new(&self.0) {
            Ok(phc) => f
                .debug_struct("PasswordHash")
                .field("algorithm", &phc.algorithm.as_str())
                .field("version", &phc.version)
                .field("params", &phc.params.as_str())
                .finish_non_exhaustive(),
            Err(_) => f.write_str("PasswordHash(<malformed>)"),
        }
    }
}

/// How new passwords are judged and how all passwords are hashed.
///
/// Construct once at start-up and share: the dummy hash for [`Self::verify_dummy`] is made on
/// first use and kept. [`Default`] is the OWASP minimum.
#[derive(Clone)]
pub struct PasswordPolicy {
    params: Argon2Params,
    argon2_params: Params,
    dummy: OnceLock<Option<PasswordHash>>,
}

impl PasswordPolicy {
    /// Shortest accepted new password, in characters (Unicode scalar values). NIST SP 800-63B-4
    /// §3.1.1.2 requires at least 8 for a password used with a second factor and 15 for one used
    /// alone; Schild uses 12 for everyone, with the zxcvbn check on top.
    pub const MIN_LEN: usize = 12;

    /// Longest accepted password, in UTF-8 bytes: long enough for any passphrase or password
    /// manager, short enough that nobody feeds megabytes into the hash.
    pub const MAX_LEN: usize = 1024;

    /// Lowest accepted zxcvbn score (0–4) for a new password. 3 means "safely unguessable:
    /// moderate protection from offline slow-hash scenario" (about 10^10 guesses).
    pub const MIN_SCORE: u8 = 3;

    /// A policy hashing with `params`, refused if they are below [`Argon2Params::OWASP_MINIMUM`]
    /// or not valid Argon2 parameters.
    pub fn new(params: Argon2Params) -> Result<Self, PasswordError> {
        if !params.is_at_least(&Argon2Params::OWASP_MINIMUM) {
            return Err(PasswordError::ParamsBelowFloor);
        }
        let argon2_params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(OUTPUT_LEN),
        )
        .map_err(PasswordError::InvalidParams)?;
        Ok(Self {
            params,
            argon2_params,
            dummy: OnceLock::new(),
        })
    }

    /// The Argon2 parameters new hashes are made with.
    pub fn params(&self) -> Argon2Params {
        self.params
    }

    /// Judges a new password: length within [`Self::MIN_LEN`] characters and
    /// [`Self::MAX_LEN`] bytes, then a zxcvbn score of at least [`Self::MIN_SCORE`].
    ///
    /// `user_inputs` are the user's own details (user name, display name, e-mail) so that a
    /// password built from them counts as weak. zxcvbn looks at the first 100 characters only.
    pub fn check_strength(
        &self,
        password: &SecretString,
        user_inputs: &[&str],
    ) -> Result<(), PasswordError> {
        let password = password.expose_secret();
        if password.len() > Self::MAX_LEN {
            return Err(PasswordError::TooLong { max: Self::MAX_LEN });
        }
        if password.chars().count() < Self::MIN_LEN {
            return Err(PasswordError::TooShort { min: Self::MIN_LEN });
        }

        let inputs: Vec<&str> = user_inputs.iter().chain(SERVICE_WORDS).copied().collect();
        let entropy = zxcvbn::zxcvbn(password, &inputs);
        if u8::from(entropy.score()) >= Self::MIN_SCORE {
            return Ok(());
        }

        let warning = entropy
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| w.to_string());
        let mut suggestions: Vec<String> = entropy
            .feedback()
            .map(|f| f.suggestions().iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        if suggestions.is_empty() {
            // zxcvbn has nothing specific to say about some weak passwords (e.g. short random
            // ones); length is then always the way out.
            suggestions.push(zxcvbn::feedback::Suggestion::AddAnotherWordOrTwo.to_string());
        }
        Err(PasswordError::TooWeak {
            warning,
            suggestions,
        })
    }

    /// Hashes a password with a fresh 16-byte salt from the thread-local CSPRNG (ChaCha,
    /// seeded and periodically reseeded from the operating system).
    ///
    /// Does not judge strength: call [`Self::check_strength`] first for a user's new password.
    pub fn hash(&self, password: &SecretString) -> Result<PasswordHash, PasswordError> {
        self.hash_with_rng(password, &mut rand::rng())
    }

    /// [`Self::hash`] with the salt drawn from `rng`, for deterministic tests.
    pub fn hash_with_rng(
        &self,
        password: &SecretString,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<PasswordHash, PasswordError> {
        let password = password.expose_secret().as_bytes();
        if password.len() > Self::MAX_LEN {
            return Err(PasswordError::TooLong { max: Self::MAX_LEN });
        }
        let mut salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut salt);
        let phc = self
            .argon2()
            .hash_password_with_salt(password, &salt)
            .map_err(PasswordError::Hashing)?;
        Ok(PasswordHash(phc.to_string()))
    }

    /// Checks a password against a stored hash, using the parameters recorded in the hash.
    ///
    /// The tag comparison is constant-time (argon2's `Output` equality). A password longer
    /// than [`Self::MAX_LEN`] cannot have been stored and is [`Verified::Invalid`] without
    /// hashing. A hash that is not a verifiable Argon2 PHC string is
    /// [`PasswordError::CorruptHash`].
    pub fn verify(
        &self,
        password: &SecretString,
        stored: &PasswordHash,
    ) -> Result<Verified, PasswordError> {
        let phc = PhcHash::new(stored.as_str()).map_err(|_| PasswordError::CorruptHash)?;
        if phc.salt.is_none() || phc.hash.is_none() {
            // argon2 reports these as a wrong password; they are a broken record.
            return Err(PasswordError::CorruptHash);
        }
        let password = password.expose_secret().as_bytes();
        if password.len() > Self::MAX_LEN {
            return Ok(Verified::Invalid);
        }
        // The hasher's own parameters do not matter: verification reads algorithm, version
        // and parameters from the PHC string.
        match Argon2::default().verify_password(password, &phc) {
            Ok(()) => Ok(Verified::Valid {
                needs_rehash: self.needs_rehash(&phc),
            }),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(Verified::Invalid),
            Err(_) => Err(PasswordError::CorruptHash),
        }
    }

    /// Spends the time of one [`Self::verify`] at this policy's parameters and discards the
    /// result. Call it when the user name is unknown, so that a sign-in for a missing account
    /// takes as long as a wrong password for an existing one.
    ///
    /// The first call also builds the dummy hash; call [`Self::warm_up`] at start-up so the
    /// first unknown-user sign-in is not measurably slower.
    pub fn verify_dummy(&self, password: &SecretString) {
        if let Some(dummy) = self.dummy_hash() {
            let _ = std::hint::black_box(self.verify(password, dummy));
        }
    }

    /// Builds the dummy hash used by [`Self::verify_dummy`] now rather than on first use.
    pub fn warm_up(&self) {
        let _ = self.dummy_hash();
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            self.argon2_params.clone(),
        )
    }

    fn dummy_hash(&self) -> Option<&PasswordHash> {
        self.dummy
            .get_or_init(|| {
                // Cannot fail: the parameters were validated and the salt is long enough.
                let phc = self
                    .argon2()
                    .hash_password_with_salt(DUMMY_PASSWORD, DUMMY_SALT)
                    .ok()?;
                Some(PasswordHash(phc.to_string()))
            })
            .as_ref()
    }

    /// Whether a hash that just verified is weaker than what this policy would produce now.
    fn needs_rehash(&self, phc: &PhcHash) -> bool {
        let Ok(params) = Params::try_from(phc) else {
            return true;
        };
        let stored = Argon2Params {
            memory_kib: params.m_cost(),
            iterations: params.t_cost(),
            parallelism: params.p_cost(),
        };
        phc.algorithm != argon2::ARGON2ID_IDENT
            || phc.version != Some(Version::V0x13.into())
            || !stored.is_at_least(&self.params)
            || phc.salt.as_ref().is_none_or(|salt| salt.len() < SALT_LEN)
            || phc.hash.as_ref().is_none_or(|tag| tag.len() < OUTPUT_LEN)
    }
}

impl Default for PasswordPolicy {
    /// The OWASP minimum, [`Argon2Params::OWASP_MINIMUM`].
    fn default() -> Self {
        Self {
            params: Argon2Params::OWASP_MINIMUM,
            argon2_params: OWASP_ARGON2_PARAMS,
            dummy: OnceLock::new(),
        }
    }
}

impl fmt::Debug for PasswordPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordPolicy")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    /// A cheap Argon2 hash (far below the floor) for the paths that do not need real cost.
    fn cheap_hash(algorithm: Algorithm, password: &str, m: u32, t: u32, p: u32) -> PasswordHash {
        let params = Params::new(m, t, p, None).unwrap();
        let phc = Argon2::new(algorithm, Version::V0x13, params)
            .hash_password_with_salt(password.as_bytes(), b"0123456789abcdef")
            .unwrap();
        PasswordHash::from_phc(phc.to_string())
    }

    #[test]
    fn default_policy_is_the_owasp_minimum() {
        let policy = PasswordPolicy::default();
        assert_eq!(policy.params(), Argon2Params::OWASP_MINIMUM);
        let p = &policy.argon2_params;
        assert_eq!((p.m_cost(), p.t_cost(), p.p_cost()), (19_456, 2, 1));
        assert_eq!(
            p.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN),
            OUTPUT_LEN
        );
        let built = PasswordPolicy::new(Argon2Params::OWASP_MINIMUM).unwrap();
        assert_eq!(built.argon2_params, policy.argon2_params);
    }

    #[test]
    fn params_below_the_floor_are_refused() {
        let floor = Argon2Params::OWASP_MINIMUM;
        for weaker in [
            Argon2Params {
                memory_kib: floor.memory_kib - 1,
                ..floor
            },
            Argon2Params {
                iterations: 1,
                ..floor
            },
            Argon2Params {
                parallelism: 0,
                ..floor
            },
        ] {
            assert_eq!(
                PasswordPolicy::new(weaker).unwrap_err(),
                PasswordError::ParamsBelowFloor
            );
        }
        let stronger = Argon2Params {
            memory_kib: 65_536,
            iterations: 3,
            parallelism: 2,
        };
        assert_eq!(PasswordPolicy::new(stronger).unwrap().params(), stronger);
    }

    #[test]
    fn params_argon2_refuses_are_invalid() {
        // 19 456 KiB cannot be split into 4 096 lanes of at least 8 KiB each.
        let too_many_lanes = Argon2Params {
            parallelism: 4096,
            ..Argon2Params::OWASP_MINIMUM
        };
        assert!(matches!(
            PasswordPolicy::new(too_many_lanes),
            Err(PasswordError::InvalidParams(_))
        ));
    }

    #[test]
    fn strength_length_limits() {
        let policy = PasswordPolicy::default();
        assert_eq!(
            policy.check_strength(&secret("Tr0ub4dor&3"), &[]),
            Err(PasswordError::TooShort { min: 12 })
        );
        // Twelve characters, more than twelve bytes: length counts characters.
        assert_ne!(
            policy.check_strength(&secret("ĳzerĳzerĳzer"), &[]),
            Err(PasswordError::TooShort { min: 12 })
        );
        let long = "x".repeat(PasswordPolicy::MAX_LEN + 1);
        assert_eq!(
            policy.check_strength(&secret(&long), &[]),
            Err(PasswordError::TooLong { max: 1024 })
        );
    }

    #[test]
    fn strength_refuses_common_passwords_with_feedback() {
        let policy = PasswordPolicy::default();
        match policy.check_strength(&secret("password1234"), &[]) {
            Err(PasswordError::TooWeak {
                warning,
                suggestions,
            }) => {
                assert!(warning.is_some(), "zxcvbn explains a common password");
                assert!(!suggestions.is_empty());
            }
            other => panic!("expected TooWeak, got {other:?}"),
        }
        assert!(matches!(
            policy.check_strength(&secret("qwertyuiopasdf"), &[]),
            Err(PasswordError::TooWeak { .. })
        ));
    }

    #[test]
    fn strength_counts_the_users_own_details_and_the_service_name() {
        let policy = PasswordPolicy::default();
        let built_from_name = "margarethe.vandenberg1";
        assert!(matches!(
            policy.check_strength(
                &secret(built_from_name),
                &["margarethe.vandenberg", "Margarethe van den Berg"]
            ),
            Err(PasswordError::TooWeak { .. })
        ));
        assert!(matches!(
            policy.check_strength(&secret("schildschild2024"), &[]),
            Err(PasswordError::TooWeak { .. })
        ));
    }

    #[test]
    fn strength_accepts_a_passphrase() {
        let policy = PasswordPolicy::default();
        assert_eq!(
            policy.check_strength(&secret("copper kettle wander orbit"), &["alice"]),
            Ok(())
        );
        assert_eq!(
            policy.check_strength(&secret("g7#Vq!2mZr9$Lw"), &[]),
            Ok(())
        );
    }

    #[test]
    fn hash_then_verify_at_policy_params() {
        let policy = PasswordPolicy::default();
        let mut rng = StdRng::seed_from_u64(1);
        let password = secret("copper kettle wander orbit");
        let hash = policy.hash_with_rng(&password, &mut rng).unwrap();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_str()
        );

        assert_eq!(
            policy.verify(&password, &hash),
            Ok(Verified::Valid {
                needs_rehash: false
            })
        );
        assert_eq!(
            policy.verify(&secret("copper kettle wander orbiT"), &hash),
            Ok(Verified::Invalid)
        );
    }

    #[test]
    fn salts_differ_between_hashes() {
        // Cheap parameters: this is about the salt, not the cost.
        let policy = PasswordPolicy {
            argon2_params: Params::new(8, 1, 1, Some(OUTPUT_LEN)).unwrap(),
            ..PasswordPolicy::default()
        };
        let password = secret("same password twice");
        let a = policy.hash(&password).unwrap();
        let b = policy.hash(&password).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn verifies_hashes_from_the_reference_implementation() {
        // Made with the RFC 9106 reference implementation (phc-winner-argon2 CLI):
        // echo -n "correct horse battery staple" | argon2 schildsaltschild -id -t 2 -k 19456 -p 1 -e
        let reference = PasswordHash::from_phc(
            "$argon2id$v=19$m=19456,t=2,p=1$c2NoaWxkc2FsdHNjaGlsZA$KATvyMlOb274pVg+uhdbtBrDX5ASo/Z1maTdZYb7cJw"
                .to_owned(),
        );
        let policy = PasswordPolicy::default();
        assert_eq!(
            policy.verify(&secret("correct horse battery staple"), &reference),
            Ok(Verified::Valid {
                needs_rehash: false
            })
        );
    }

    #[test]
    fn weaker_stored_hashes_need_a_rehash() {
        let policy = PasswordPolicy::default();
        let password = secret("correct horse battery staple");
        // Reference implementation again, at m=64 KiB, t=1: Argon2id and Argon2i.
        let cheap_id = PasswordHash::from_phc(
            "$argon2id$v=19$m=64,t=1,p=1$c2NoaWxkc2FsdHNjaGlsZA$XkSJWBrEFGCGcuPfAB8ClVpBOtxhG3tCu3pt2ORyiko"
                .to_owned(),
        );
        let cheap_i = PasswordHash::from_phc(
            "$argon2i$v=19$m=64,t=1,p=1$c2NoaWxkc2FsdHNjaGlsZA$SEQqgXnAk8tFSwn4OPQJnuACLSE0qsOYDIxJ2DehTPA"
                .to_owned(),
        );
        for stored in [&cheap_id, &cheap_i] {
            assert_eq!(
                policy.verify(&password, stored),
                Ok(Verified::Valid { needs_rehash: true })
            );
            assert_eq!(
                policy.verify(&secret("wrong"), stored),
                Ok(Verified::Invalid)
            );
        }
        // Argon2d, and a stronger policy than the stored hash.
        let d = cheap_hash(Algorithm::Argon2d, "pw", 64, 1, 1);
        assert_eq!(
            policy.verify(&secret("pw"), &d),
            Ok(Verified::Valid { needs_rehash: true })
        );
        let stronger_stored = cheap_hash(Algorithm::Argon2id, "pw", 64, 3, 2);
        let mut strict = PasswordPolicy {
            params: Argon2Params {
                memory_kib: 64,
                iterations: 3,
                parallelism: 2,
            },
            ..PasswordPolicy::default()
        };
        assert_eq!(
            strict.verify(&secret("pw"), &stronger_stored),
            Ok(Verified::Valid {
                needs_rehash: false
            })
        );
        strict.params.iterations = 4;
        assert_eq!(
            strict.verify(&secret("pw"), &stronger_stored),
            Ok(Verified::Valid { needs_rehash: true })
        );
    }

    #[test]
    fn corrupt_stored_hashes_are_a_distinct_error() {
        let policy = PasswordPolicy::default();
        let password = secret("correct horse battery staple");
        for corrupt in [
            "",
            "not a phc string",
            "$argon2id$v=19$m=19456,t=2,p=1",
            "$argon2id$v=19$m=19456,t=2,p=1$c2NoaWxkc2FsdHNjaGlsZA",
            "$argon2id$v=19$m=19456,t=2,p=1$c2NoaWxkc2FsdHNjaGlsZA$KATv!!",
            "$argon2id$v=19$m=1,t=2,p=1$c2NoaWxkc2FsdHNjaGlsZA$KATvyMlOb274pVg+uhdbtBrDX5ASo/Z1maTdZYb7cJw",
            "$argon2id$v=42$m=64,t=1,p=1$c2NoaWxkc2FsdHNjaGlsZA$XkSJWBrEFGCGcuPfAB8ClVpBOtxhG3tCu3pt2ORyiko",
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "$pbkdf2-sha256$29000$N2bMubc2BmDsvXcuRYhxDg$jmB5zp4Y8PhWiTOcqmJjfe2QVdutdmxMdaWuyN5wgOY",
        ] {
            let stored = PasswordHash::from_phc(corrupt.to_owned());
            assert_eq!(
                policy.verify(&password, &stored),
                Err(PasswordError::CorruptHash),
                "{corrupt:?}"
            );
        }
    }

    #[test]
    fn overlong_passwords_never_verify_and_never_hash() {
        let policy = PasswordPolicy::default();
        let stored = cheap_hash(Algorithm::Argon2id, "pw", 64, 1, 1);
        let long = secret(&"x".repeat(PasswordPolicy::MAX_LEN + 1));
        assert_eq!(policy.verify(&long, &stored), Ok(Verified::Invalid));
        assert_eq!(
            policy.hash(&long),
            Err(PasswordError::TooLong { max: 1024 })
        );
    }

    #[test]
    fn dummy_verification_uses_the_policy_params() {
        let policy = PasswordPolicy::default();
        policy.warm_up();
        let dummy = policy.dummy.get().unwrap().as_ref().unwrap();
        assert!(
            dummy
                .as_str()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
        policy.verify_dummy(&secret("whatever an attacker types"));
        assert_eq!(
            policy.verify(&secret(std::str::from_utf8(DUMMY_PASSWORD).unwrap()), dummy),
            Ok(Verified::Valid {
                needs_rehash: false
            })
        );
    }

    #[test]
    fn debug_never_shows_salt_or_tag() {
        let hash = cheap_hash(Algorithm::Argon2id, "pw", 64, 1, 1);
        let shown = format!("{hash:?}");
        assert!(
            shown.contains("argon2id") && shown.contains("m=64,t=1,p=1"),
            "{shown}"
        );
        let salt_and_tag = hash.as_str().rsplitn(3, '$').take(2).collect::<Vec<_>>();
        for part in salt_and_tag {
            assert!(!shown.contains(part), "{shown} leaks {part}");
        }
        assert_eq!(
            format!("{:?}", PasswordHash::from_phc("garbage$secret".into())),
            "PasswordHash(<malformed>)"
        );
        let policy = format!("{:?}", PasswordPolicy::default());
        assert!(!policy.contains('$'), "{policy}");
    }

    /// RFC 9106 §5.3 known answer for Argon2id, pinning the primitive this module relies on.
    #[test]
    fn rfc9106_argon2id_known_answer() {
        let mut builder = argon2::ParamsBuilder::new();
        builder
            .m_cost(32)
            .t_cost(3)
            .p_cost(4)
            .data(argon2::AssociatedData::new(&[0x04; 12]).unwrap());
        let params = builder.build().unwrap();
        let ctx = Argon2::new_with_secret(&[0x03; 8], Algorithm::Argon2id, Version::V0x13, params)
            .unwrap();
        let mut tag = [0u8; 32];
        ctx.hash_password_into(&[0x01; 32], &[0x02; 16], &mut tag)
            .unwrap();
        let expected: [u8; 32] = [
            0x0d, 0x64, 0x0d, 0xf5, 0x8d, 0x78, 0x76, 0x6c, 0x08, 0xc0, 0x37, 0xa3, 0x4a, 0x8b,
            0x53, 0xc9, 0xd0, 0x1e, 0xf0, 0x45, 0x2d, 0x75, 0xb6, 0x5e, 0xb5, 0x25, 0x20, 0xe9,
            0x6b, 0x01, 0xe6, 0x59,
        ];
        assert_eq!(tag, expected);
    }
}
