//! The security-key policy: which authenticators an account may register, when the user must be
//! verified (PIN or fingerprint, not just a touch), how many keys each account should hold, and
//! what a signature counter that goes backwards does.

use super::Aaguid;
use crate::rbac::RoleName;
use crate::rbac::role::builtin;
use std::collections::BTreeSet;

/// Which authenticator models may be registered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ModelAllowlist {
    /// Any model, including ones that withhold their AAGUID.
    #[default]
    Any,
    /// Only these AAGUIDs. A key that withholds its AAGUID is refused.
    Only(BTreeSet<Aaguid>),
}

/// What a signature counter that did not increase does (WebAuthn L2 §7.2 step 21: a sign that
/// the credential's private key may have been cloned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CounterRegression {
    /// Refuse that sign-in and record it; the credential stays usable.
    Flag,
    /// Refuse that sign-in, record it, and block the credential until an administrator acts.
    #[default]
    Block,
}

/// Why the policy refuses a registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyRefusal {
    /// The key's model is not on the allow list (the key holder brought an unapproved key).
    #[error("authenticator model {aaguid} ({model}) is not allowed by policy")]
    ModelNotAllowed {
        /// The key's AAGUID.
        aaguid: Aaguid,
        /// Its model name, or "unknown model".
        model: &'static str,
    },
    /// The account's roles require user verification and the key did not verify the user.
    #[error("this account's roles require a key with a PIN or fingerprint")]
    UserVerificationRequired,
}

/// The rules for security keys and passkeys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityKeyPolicy {
    /// Holders of any of these roles must verify themselves on the key (PIN or biometrics) when
    /// registering and on every sign-in.
    pub uv_required_roles: BTreeSet<RoleName>,
    /// Which models may be registered.
    pub allowed_models: ModelAllowlist,
    /// How many keys an account should have; fewer is reported as a warning (keep a backup key).
    pub minimum_keys: usize,
    /// What a counter regression does.
    pub on_counter_regression: CounterRegression,
}

impl Default for SecurityKeyPolicy {
    /// User verification for `admin` and `security-officer`, any model, two keys, block on
    /// counter regression.
    fn default() -> Self {
        let roles = [builtin::ADMIN, builtin::SECURITY_OFFICER]
            .into_iter()
            .filter_map(|name| RoleName::parse(name).ok())
            .collect();
        Self {
            uv_required_roles: roles,
            allowed_models: ModelAllowlist::Any,
            minimum_keys: 2,
            on_counter_regression: CounterRegression::Block,
        }
    }
}

impl SecurityKeyPolicy {
    /// Whether an account holding `roles` must verify the user on its keys.
    pub fn requires_user_verification<'a>(
        &self,
        roles: impl IntoIterator<Item = &'a RoleName>,
    ) -> bool {
        roles
            .into_iter()
            .any(|role| self.uv_required_roles.contains(role))
    }

    /// Checks a key being registered: its model, and user verification when the roles ask for it.
    pub fn admit(
        &self,
        aaguid: Aaguid,
        user_verified: bool,
        uv_required: bool,
    ) -> Result<(), PolicyRefusal> {
        if let ModelAllowlist::Only(allowed) = &self.allowed_models
            && !allowed.contains(&aaguid)
        {
            return Err(PolicyRefusal::ModelNotAllowed {
                aaguid,
                model: aaguid.model_name(),
            });
        }
        if uv_required && !user_verified {
            return Err(PolicyRefusal::UserVerificationRequired);
        }
        Ok(())
    }

    /// Whether an account with `active_keys` registered keys lacks a backup key.
    pub fn lacks_backup(&self, active_keys: usize) -> bool {
        active_keys < self.minimum_keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str) -> RoleName {
        RoleName::parse(name).unwrap()
    }

    #[test]
    fn admins_must_verify_and_users_need_not() {
        let policy = SecurityKeyPolicy::default();
        assert!(policy.requires_user_verification(&[role("user"), role("admin")]));
        assert!(!policy.requires_user_verification(&[role("user")]));
        assert!(!policy.requires_user_verification(&[]));
    }

    #[test]
    fn allow_list_refuses_other_and_undisclosed_models() {
        let yubikey: Aaguid = "cb69481e-8ff7-4039-93ec-0a2729a154a8".parse().unwrap();
        let titan: Aaguid = "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3".parse().unwrap();
        let policy = SecurityKeyPolicy {
            allowed_models: ModelAllowlist::Only([yubikey].into()),
            ..SecurityKeyPolicy::default()
        };
        assert_eq!(policy.admit(yubikey, false, false), Ok(()));
        assert_eq!(
            policy.admit(titan, true, false),
            Err(PolicyRefusal::ModelNotAllowed {
                aaguid: titan,
                model: "Google Titan Security Key v2"
            })
        );
        assert!(policy.admit(Aaguid::UNDISCLOSED, true, false).is_err());
    }

    #[test]
    fn user_verification_is_enforced_only_when_required() {
        let policy = SecurityKeyPolicy::default();
        let any = Aaguid::from_u128(7);
        assert_eq!(policy.admit(any, false, false), Ok(()));
        assert_eq!(
            policy.admit(any, false, true),
            Err(PolicyRefusal::UserVerificationRequired)
        );
        assert_eq!(policy.admit(any, true, true), Ok(()));
    }

    #[test]
    fn fewer_keys_than_the_minimum_lack_a_backup() {
        let policy = SecurityKeyPolicy::default();
        assert!(policy.lacks_backup(1));
        assert!(!policy.lacks_backup(2));
    }
}
