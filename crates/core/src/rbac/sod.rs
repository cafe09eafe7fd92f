//! Static separation of duties (NIST RBAC, INCITS 359 §5.3.1): pairs of roles one person may not
//! hold together, whether assigned or granted just in time.
//!
//! The other duty that must stay separated, requesting and approving the same access, is
//! enforced by [`JitRequest::approve`](super::JitRequest::approve) (no self-approval) and by
//! [`ReviewCampaign::decide`](super::ReviewCampaign::decide) (no reviewing one's own access).

use super::role::{RoleName, builtin};

/// A refused combination of roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("separation of duties: {held} and {requested} may not be held by one person ({why})")]
pub struct SodViolation {
    /// The role the person already holds.
    pub held: RoleName,
    /// The role that would be added.
    pub requested: RoleName,
    /// Why the pair conflicts.
    pub why: String,
}

/// One conflicting pair, in either order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SodRule {
    /// One role.
    pub a: RoleName,
    /// The other.
    pub b: RoleName,
    /// Why they conflict, shown in the refusal.
    pub why: String,
}

/// The set of conflicting role pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SodPolicy {
    rules: Vec<SodRule>,
}

impl Default for SodPolicy {
    /// [`SodPolicy::builtin`].
    fn default() -> Self {
        Self::builtin()
    }
}

impl SodPolicy {
    /// The rules that ship with Schild: an auditor must be independent of the people whose work
    /// they audit, so `auditor` conflicts with `admin` and with `security-officer`.
    pub fn builtin() -> Self {
        let rule = |a: &'static str, b: &'static str, why: &str| SodRule {
            a: RoleName::builtin_name(a),
            b: RoleName::builtin_name(b),
            why: why.to_owned(),
        };
        Self {
            rules: vec![
                rule(
                    builtin::AUDITOR,
                    builtin::ADMIN,
                    "an auditor must not administer what they audit",
                ),
                rule(
                    builtin::AUDITOR,
                    builtin::SECURITY_OFFICER,
                    "an auditor must not operate the controls they audit",
                ),
            ],
        }
    }

    /// The built-in rules plus `extra`.
    pub fn with_rules(extra: impl IntoIterator<Item = SodRule>) -> Self {
        let mut policy = Self::builtin();
        policy.rules.extend(extra);
        policy
    }

    /// The rules.
    pub fn rules(&self) -> &[SodRule] {
        &self.rules
    }

    /// Whether someone holding `held` may also take `requested`.
    pub fn check_addition<'a>(
        &self,
        held: impl IntoIterator<Item = &'a RoleName>,
        requested: &RoleName,
    ) -> Result<(), SodViolation> {
        for role in held {
            if let Some(rule) = self.rules.iter().find(|rule| {
                (rule.a == *role && rule.b == *requested)
                    || (rule.b == *role && rule.a == *requested)
            }) {
                return Err(SodViolation {
                    held: role.clone(),
                    requested: requested.clone(),
                    why: rule.why.clone(),
                });
            }
        }
        Ok(())
    }

    /// Whether a whole set of roles is allowed together.
    pub fn check<'a>(
        &self,
        roles: impl IntoIterator<Item = &'a RoleName>,
    ) -> Result<(), SodViolation> {
        let roles: Vec<&RoleName> = roles.into_iter().collect();
        for (i, role) in roles.iter().enumerate() {
            self.check_addition(roles[..i].iter().copied(), role)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str) -> RoleName {
        RoleName::parse(name).unwrap()
    }

    #[test]
    fn auditor_and_admin_conflict_in_either_order() {
        let policy = SodPolicy::builtin();
        let err = policy
            .check_addition(&[r("admin"), r("user")], &r("auditor"))
            .unwrap_err();
        assert_eq!(
            (err.held.as_str(), err.requested.as_str()),
            ("admin", "auditor")
        );
        assert!(err.to_string().contains("admin and auditor"), "{err}");
        assert!(policy.check_addition(&[r("auditor")], &r("admin")).is_err());
        assert!(
            policy
                .check_addition(&[r("auditor")], &r("security-officer"))
                .is_err()
        );
        assert!(policy.check_addition(&[r("auditor")], &r("user")).is_ok());
        assert!(
            policy
                .check(&[r("user"), r("admin"), r("incident-responder")])
                .is_ok()
        );
        assert!(
            policy
                .check(&[r("user"), r("admin"), r("auditor")])
                .is_err()
        );
    }

    #[test]
    fn custom_rules_add_to_the_builtin_ones() {
        let policy = SodPolicy::with_rules([SodRule {
            a: r("enrollment-operator"),
            b: r("key-custodian"),
            why: "one person must not both issue and hold spare keys".into(),
        }]);
        assert_eq!(policy.rules().len(), 3);
        assert!(
            policy
                .check_addition(&[r("key-custodian")], &r("enrollment-operator"))
                .is_err()
        );
        assert!(policy.check_addition(&[r("admin")], &r("auditor")).is_err());
    }
}
