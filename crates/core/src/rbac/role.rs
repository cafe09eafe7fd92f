//! Roles: named bundles of permissions. Six are built in (their definitions live here, in code,
//! and are seeded into the database at start-up); administrators may add custom roles.

use super::effective::PermissionSet;
use super::permission::Permission;
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use time::Duration;

/// The names of the built-in roles. `admin` and `user` are the names the first release used
/// ([`crate::ids::roles`]), so existing accounts and tokens keep their meaning.
pub mod builtin {
    /// Everything in the catalogue.
    pub const ADMIN: &str = "admin";
    /// Day-to-day security operations: sessions, IP blocks, keys, vault, approvals, reviews.
    pub const SECURITY_OFFICER: &str = "security-officer";
    /// Runs a hardware-key enrollment station.
    pub const ENROLLMENT_OPERATOR: &str = "enrollment-operator";
    /// Handles incidents, with the containment tools that takes.
    pub const INCIDENT_RESPONDER: &str = "incident-responder";
    /// Reads everything, changes nothing.
    pub const AUDITOR: &str = "auditor";
    /// A regular account: its own profile, training and access requests.
    pub const USER: &str = "user";
}

/// Why a [`RoleName`] was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleNameError {
    /// Shorter than [`RoleName::MIN_LEN`].
    #[error("a role name has at least {min} characters", min = RoleName::MIN_LEN)]
    TooShort,
    /// Longer than [`RoleName::MAX_LEN`].
    #[error("a role name has at most {max} characters", max = RoleName::MAX_LEN)]
    TooLong,
    /// Not a lower-case letter first, then letters, digits, `-` or `_`.
    #[error("a role name starts with a letter and contains only letters, digits, - and _")]
    InvalidCharacter,
}

/// A role's name: 2 to 48 ASCII characters, a letter first, then letters, digits, `-` and `_`;
/// folded to lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RoleName(String);

impl RoleName {
    /// The shortest accepted name.
    pub const MIN_LEN: usize = 2;
    /// The longest accepted name.
    pub const MAX_LEN: usize = 48;

    /// Parses and lower-cases a role name.
    pub fn parse(raw: &str) -> Result<Self, RoleNameError> {
        let raw = raw.trim();
        if raw.len() > Self::MAX_LEN {
            return Err(RoleNameError::TooLong);
        }
        if raw.chars().count() < Self::MIN_LEN {
            return Err(RoleNameError::TooShort);
        }
        let mut chars = raw.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')) {
            return Err(RoleNameError::InvalidCharacter);
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    /// One of the [`builtin`] constants, which are valid by construction (a test checks).
    pub(super) fn builtin_name(name: &'static str) -> Self {
        Self(name.to_owned())
    }

    /// The name as stored, compared and carried in tokens.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is one of the built-in roles' names (which custom roles may not take).
    pub fn is_builtin(&self) -> bool {
        builtin_roles().iter().any(|role| role.name == *self)
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RoleName {
    type Err = RoleNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for RoleName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

// Lets a `RoleCatalog` be searched with the plain strings a token carries. Sound because the
// derived `Ord` of the newtype is the `Ord` of its string.
impl Borrow<str> for RoleName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for RoleName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        RoleName::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Why a role could not be created, changed or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleError {
    /// The description is empty. Every role says what it is for, so reviewers can judge it.
    #[error("a role needs a description")]
    DescriptionEmpty,
    /// The description is longer than [`RoleDefinition::MAX_DESCRIPTION_CHARS`].
    #[error("a role description has at most {max} characters")]
    DescriptionTooLong {
        /// The limit.
        max: usize,
    },
    /// `approvals_required` is neither 1 nor 2.
    #[error("a role needs 1 or 2 approvals for just-in-time access, not {given}")]
    ApprovalsOutOfRange {
        /// What was asked for.
        given: u8,
    },
    /// The just-in-time maximum is zero, negative or longer than [`RoleDefinition::MAX_JIT_CAP`].
    #[error("a role's just-in-time maximum is more than zero and at most {max_hours} hours")]
    JitDurationOutOfRange {
        /// The cap, in hours.
        max_hours: i64,
    },
    /// A custom role tried to take a built-in role's name.
    #[error("{name} is a built-in role's name")]
    ReservedName {
        /// The name.
        name: RoleName,
    },
    /// Built-in roles are defined by the software and cannot be changed or deleted; create a
    /// custom role instead.
    #[error("{name} is a built-in role and cannot be changed or deleted")]
    Builtin {
        /// The role.
        name: RoleName,
    },
    /// A role with this name already exists.
    #[error("a role named {name} already exists")]
    AlreadyExists {
        /// The name.
        name: RoleName,
    },
    /// No role has this name.
    #[error("no role is named {name:?}")]
    UnknownRole {
        /// What was asked for, cut to 64 characters.
        name: String,
    },
}

/// The fields of a custom role, as an administrator submits them; turned into a
/// [`RoleDefinition`] by [`RoleDefinition::custom`], which checks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDraft {
    /// Its name (not a built-in one).
    pub name: RoleName,
    /// What it is for, 1 to 500 characters.
    pub description: String,
    /// What it allows.
    pub permissions: BTreeSet<Permission>,
    /// The longest just-in-time grant of it; `None` means it cannot be requested just in time.
    pub max_jit_duration: Option<Duration>,
    /// How many distinct approvers a just-in-time request for it needs: 1 or 2.
    pub approvals_required: u8,
    /// Marks a privileged role: campaigns scoped to sensitive roles include it, and certifying
    /// an assignment of it in a review needs a written reason.
    pub sensitive: bool,
}

/// A role as the system knows it. Fields are private so that every value has passed the checks
/// of [`RoleDefinition::custom`] or comes from the built-in catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDefinition {
    name: RoleName,
    description: String,
    permissions: BTreeSet<Permission>,
    set: PermissionSet,
    builtin: bool,
    max_jit_duration: Option<Duration>,
    approvals_required: u8,
    sensitive: bool,
}

impl RoleDefinition {
    /// The longest description accepted, in characters.
    pub const MAX_DESCRIPTION_CHARS: usize = 500;
    /// No role may be granted just in time for longer than this.
    pub const MAX_JIT_CAP: Duration = Duration::hours(24);

    /// Checks a custom role.
    pub fn custom(draft: RoleDraft) -> Result<Self, RoleError> {
        if draft.name.is_builtin() {
            return Err(RoleError::ReservedName { name: draft.name });
        }
        Self::checked(draft, false)
    }

    fn checked(draft: RoleDraft, builtin: bool) -> Result<Self, RoleError> {
        let description = draft.description.trim();
        if description.is_empty() {
            return Err(RoleError::DescriptionEmpty);
        }
        if description.chars().count() > Self::MAX_DESCRIPTION_CHARS {
            return Err(RoleError::DescriptionTooLong {
                max: Self::MAX_DESCRIPTION_CHARS,
            });
        }
        if !matches!(draft.approvals_required, 1 | 2) {
            return Err(RoleError::ApprovalsOutOfRange {
                given: draft.approvals_required,
            });
        }
        if draft
            .max_jit_duration
            .is_some_and(|max| max <= Duration::ZERO || max > Self::MAX_JIT_CAP)
        {
            return Err(RoleError::JitDurationOutOfRange {
                max_hours: Self::MAX_JIT_CAP.whole_hours(),
            });
        }
        Ok(Self {
            set: draft.permissions.iter().copied().collect(),
            name: draft.name,
            description: description.to_owned(),
            permissions: draft.permissions,
            builtin,
            max_jit_duration: draft.max_jit_duration,
            approvals_required: draft.approvals_required,
            sensitive: draft.sensitive,
        })
    }

    /// A changed version of this custom role (same name). Built-in roles refuse.
    pub fn update(&self, draft: RoleDraft) -> Result<Self, RoleError> {
        if self.builtin {
            return Err(RoleError::Builtin {
                name: self.name.clone(),
            });
        }
        Self::custom(RoleDraft {
            name: self.name.clone(),
            ..draft
        })
    }

    /// The built-in role with this name, if there is one.
    pub fn builtin(name: &str) -> Option<Self> {
        builtin_roles()
            .into_iter()
            .find(|role| role.name.as_str() == name)
    }

    /// Its name.
    pub fn name(&self) -> &RoleName {
        &self.name
    }

    /// What it is for.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// What it allows.
    pub fn permissions(&self) -> &BTreeSet<Permission> {
        &self.permissions
    }

    /// What it allows, as a bitset for fast checks.
    pub fn permission_set(&self) -> PermissionSet {
        self.set
    }

    /// Whether it is defined by the software (and so cannot be changed or deleted).
    pub fn is_builtin(&self) -> bool {
        self.builtin
    }

    /// The longest just-in-time grant; `None` when it cannot be requested just in time.
    pub fn max_jit_duration(&self) -> Option<Duration> {
        self.max_jit_duration
    }

    /// Distinct approvers a just-in-time request needs (1 or 2).
    pub fn approvals_required(&self) -> u8 {
        self.approvals_required
    }

    /// Whether it is marked privileged (see [`RoleDraft::sensitive`]).
    pub fn is_sensitive(&self) -> bool {
        self.sensitive
    }

    /// Its fields as a draft, to edit and pass back to [`RoleDefinition::update`].
    pub fn to_draft(&self) -> RoleDraft {
        RoleDraft {
            name: self.name.clone(),
            description: self.description.clone(),
            permissions: self.permissions.clone(),
            max_jit_duration: self.max_jit_duration,
            approvals_required: self.approvals_required,
            sensitive: self.sensitive,
        }
    }
}

fn builtin_role(
    name: &str,
    description: &str,
    permissions: &[Permission],
    max_jit_duration: Option<Duration>,
    approvals_required: u8,
    sensitive: bool,
) -> RoleDefinition {
    let set: PermissionSet = permissions.iter().copied().collect();
    // Built from literals below; `builtin_roles_are_valid` checks each passes `checked`.
    RoleDefinition {
        name: RoleName(name.to_owned()),
        description: description.to_owned(),
        permissions: permissions.iter().copied().collect(),
        set,
        builtin: true,
        max_jit_duration,
        approvals_required,
        sensitive,
    }
}

/// The built-in roles, with exactly what each may do.
pub fn builtin_roles() -> Vec<RoleDefinition> {
    use Permission as P;
    // What every signed-in person may do for themselves.
    const SELF_SERVICE: [Permission; 4] = [
        P::ProfileRead,
        P::ProfileManage,
        P::AccessRequest,
        P::TrainingRead,
    ];
    let with_self = |extra: &[Permission]| -> Vec<Permission> {
        extra.iter().copied().chain(SELF_SERVICE).collect()
    };
    vec![
        builtin_role(
            builtin::ADMIN,
            "Full administration of the backend: every permission in the catalogue.",
            Permission::all(),
            Some(Duration::hours(1)),
            2,
            true,
        ),
        builtin_role(
            builtin::SECURITY_OFFICER,
            "Day-to-day security operations: sessions, IP blocks, hardware keys, API keys, the \
             vault and signing keys, just-in-time approvals and access reviews.",
            &with_self(&[
                P::UserRead,
                P::UserUnlock,
                P::SessionRead,
                P::SessionRevoke,
                P::IpblockRead,
                P::IpblockManage,
                P::AuditRead,
                P::AuditExport,
                P::KeyRead,
                P::KeyRevoke,
                P::VaultRead,
                P::VaultRotate,
                P::SigningkeyRotate,
                P::IncidentRead,
                P::IncidentAssign,
                P::RoleRead,
                P::AccessApprove,
                P::AccessRead,
                P::AccessRevoke,
                P::ReviewRead,
                P::ReviewManage,
                P::ReviewDecide,
                P::RiskRead,
                P::MetricsRead,
                P::ApikeyIssue,
                P::ApikeyRead,
                P::ApikeyRevoke,
                P::RetentionRead,
            ]),
            Some(Duration::hours(4)),
            2,
            true,
        ),
        builtin_role(
            builtin::ENROLLMENT_OPERATOR,
            "Runs a hardware-key enrollment station: looks up accounts and enrolls their keys.",
            &with_self(&[P::UserRead, P::KeyRead, P::KeyEnroll]),
            Some(Duration::hours(8)),
            1,
            false,
        ),
        builtin_role(
            builtin::INCIDENT_RESPONDER,
            "Handles incidents, with the containment tools that takes: ending sessions, \
             revoking API keys, blocking addresses and unlocking accounts.",
            &with_self(&[
                P::UserRead,
                P::UserUnlock,
                P::SessionRead,
                P::SessionRevoke,
                P::IpblockRead,
                P::IpblockManage,
                P::AuditRead,
                P::IncidentRead,
                P::IncidentCreate,
                P::IncidentUpdate,
                P::IncidentAssign,
                P::IncidentClose,
                P::RiskRead,
                P::ApikeyRead,
                P::ApikeyRevoke,
            ]),
            Some(Duration::hours(8)),
            1,
            false,
        ),
        builtin_role(
            builtin::AUDITOR,
            "Reads everything and changes nothing: accounts, sessions, the audit trail (and its \
             export), keys, incidents, roles, grants, reviews and retention.",
            &with_self(&[
                P::UserRead,
                P::SessionRead,
                P::IpblockRead,
                P::AuditRead,
                P::AuditExport,
                P::KeyRead,
                P::VaultRead,
                P::IncidentRead,
                P::RoleRead,
                P::AccessRead,
                P::ReviewRead,
                P::RiskRead,
                P::MetricsRead,
                P::ApikeyRead,
                P::RetentionRead,
            ]),
            Some(Duration::hours(8)),
            1,
            false,
        ),
        builtin_role(
            builtin::USER,
            "A regular account: its own profile and sign-in factors, training, and requests for \
             just-in-time access.",
            &SELF_SERVICE,
            None,
            1,
            false,
        ),
    ]
}

/// The current role definitions, by name: what permission checks resolve against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleCatalog {
    roles: BTreeMap<RoleName, RoleDefinition>,
}

impl Default for RoleCatalog {
    /// The built-in roles only.
    fn default() -> Self {
        Self::builtin()
    }
}

impl RoleCatalog {
    /// The built-in roles only.
    pub fn builtin() -> Self {
        Self::from_definitions(builtin_roles())
    }

    /// A catalogue of exactly these roles (a later one with the same name wins).
    pub fn from_definitions(roles: impl IntoIterator<Item = RoleDefinition>) -> Self {
        Self {
            roles: roles
                .into_iter()
                .map(|role| (role.name.clone(), role))
                .collect(),
        }
    }

    /// The role with this name.
    pub fn get(&self, name: &str) -> Option<&RoleDefinition> {
        self.roles.get(name)
    }

    /// The role with this name, or [`RoleError::UnknownRole`].
    pub fn require(&self, name: &str) -> Result<&RoleDefinition, RoleError> {
        self.get(name).ok_or_else(|| RoleError::UnknownRole {
            name: name.chars().take(64).collect(),
        })
    }

    /// Adds or replaces a role; returns the one it replaced.
    pub fn insert(&mut self, role: RoleDefinition) -> Option<RoleDefinition> {
        self.roles.insert(role.name.clone(), role)
    }

    /// Removes a role; returns it.
    pub fn remove(&mut self, name: &str) -> Option<RoleDefinition> {
        self.roles.remove(name)
    }

    /// Every role, by name.
    pub fn iter(&self) -> impl Iterator<Item = &RoleDefinition> {
        self.roles.values()
    }

    /// How many roles there are.
    pub fn len(&self) -> usize {
        self.roles.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
    }

    /// The union of the named roles' permissions. Unknown names (a role deleted after a token
    /// was issued) contribute nothing: a change to the catalogue takes effect at once.
    pub fn permissions_of<S: AsRef<str>>(
        &self,
        roles: impl IntoIterator<Item = S>,
    ) -> PermissionSet {
        roles
            .into_iter()
            .filter_map(|name| self.roles.get(name.as_ref()))
            .fold(PermissionSet::EMPTY, |set, role| set.union(role.set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission as P;

    fn names(role: &str) -> Vec<&'static str> {
        sorted(
            RoleDefinition::builtin(role)
                .unwrap()
                .permissions()
                .iter()
                .map(|p| p.as_str())
                .collect(),
        )
    }

    fn sorted(mut v: Vec<&'static str>) -> Vec<&'static str> {
        v.sort_unstable();
        v
    }

    #[test]
    fn builtin_roles_are_valid_and_keep_the_first_release_names() {
        for role in builtin_roles() {
            let checked = RoleDefinition::checked(role.to_draft(), true).unwrap();
            assert_eq!(checked, role);
            assert!(role.name().is_builtin());
            assert_eq!(RoleName::parse(role.name().as_str()).unwrap(), *role.name());
        }
        assert_eq!(builtin::ADMIN, crate::ids::roles::ADMIN);
        assert_eq!(builtin::USER, crate::ids::roles::USER);
        assert_eq!(RoleCatalog::builtin().len(), 6);
    }

    // Each built-in role, spelled out: changing one means changing this test on purpose.
    #[test]
    fn each_builtin_role_has_exactly_its_catalogue() {
        let own = [
            "access:request",
            "profile:manage",
            "profile:read",
            "training:read",
        ];
        let with_own =
            |extra: &[&'static str]| sorted(extra.iter().copied().chain(own).collect::<Vec<_>>());
        assert_eq!(
            names("admin"),
            sorted(Permission::all().iter().map(|p| p.as_str()).collect())
        );
        assert_eq!(names("user"), with_own(&[]));
        assert_eq!(
            names("enrollment-operator"),
            with_own(&["key:enroll", "key:read", "user:read"])
        );
        assert_eq!(
            names("incident-responder"),
            with_own(&[
                "apikey:read",
                "apikey:revoke",
                "audit:read",
                "incident:assign",
                "incident:close",
                "incident:create",
                "incident:read",
                "incident:update",
                "ipblock:manage",
                "ipblock:read",
                "risk:read",
                "session:read",
                "session:revoke",
                "user:read",
                "user:unlock",
            ])
        );
        assert_eq!(
            names("auditor"),
            with_own(&[
                "access:read",
                "apikey:read",
                "audit:export",
                "audit:read",
                "incident:read",
                "ipblock:read",
                "key:read",
                "metrics:read",
                "retention:read",
                "review:read",
                "risk:read",
                "role:read",
                "session:read",
                "user:read",
                "vault:read",
            ])
        );
        assert_eq!(
            names("security-officer"),
            with_own(&[
                "access:approve",
                "access:read",
                "access:revoke",
                "apikey:issue",
                "apikey:read",
                "apikey:revoke",
                "audit:export",
                "audit:read",
                "incident:assign",
                "incident:read",
                "ipblock:manage",
                "ipblock:read",
                "key:read",
                "key:revoke",
                "metrics:read",
                "retention:read",
                "review:decide",
                "review:manage",
                "review:read",
                "risk:read",
                "role:read",
                "session:read",
                "session:revoke",
                "signingkey:rotate",
                "user:read",
                "user:unlock",
                "vault:read",
                "vault:rotate",
            ])
        );
        // The auditor changes nothing: every permission it holds is a read or an export, apart
        // from the self-service ones everyone has.
        let auditor = RoleDefinition::builtin("auditor").unwrap();
        for p in auditor.permissions() {
            assert!(
                matches!(p.action(), "read" | "export") || own.contains(&p.as_str()),
                "{p}"
            );
        }
        let admin = RoleDefinition::builtin("admin").unwrap();
        assert_eq!(
            (
                admin.approvals_required(),
                admin.is_sensitive(),
                admin.max_jit_duration()
            ),
            (2, true, Some(Duration::hours(1)))
        );
        assert_eq!(
            RoleDefinition::builtin("user").unwrap().max_jit_duration(),
            None
        );
    }

    #[test]
    fn role_names_are_checked() {
        assert_eq!(
            RoleName::parse(" Security-Officer ").unwrap().as_str(),
            "security-officer"
        );
        assert_eq!(RoleName::parse("a"), Err(RoleNameError::TooShort));
        assert_eq!(
            RoleName::parse(&"a".repeat(49)),
            Err(RoleNameError::TooLong)
        );
        assert_eq!(RoleName::parse("1st"), Err(RoleNameError::InvalidCharacter));
        assert_eq!(
            RoleName::parse("ops team"),
            Err(RoleNameError::InvalidCharacter)
        );
        assert_eq!(
            RoleName::parse("-ops"),
            Err(RoleNameError::InvalidCharacter)
        );
        assert!(serde_json::from_str::<RoleName>("\"no way\"").is_err());
    }

    fn draft(name: &str) -> RoleDraft {
        RoleDraft {
            name: RoleName::parse(name).unwrap(),
            description: "Reads the audit trail during an external audit.".into(),
            permissions: [P::AuditRead].into(),
            max_jit_duration: Some(Duration::hours(2)),
            approvals_required: 1,
            sensitive: false,
        }
    }

    #[test]
    fn custom_roles_are_checked_and_builtins_are_fixed() {
        let role = RoleDefinition::custom(draft("external-auditor")).unwrap();
        assert!(!role.is_builtin());
        assert!(role.permission_set().has(P::AuditRead));
        assert!(!role.permission_set().has(P::AuditExport));

        assert!(matches!(
            RoleDefinition::custom(draft("admin")),
            Err(RoleError::ReservedName { .. })
        ));
        let mut bad = draft("x1");
        bad.description = "  ".into();
        assert_eq!(
            RoleDefinition::custom(bad),
            Err(RoleError::DescriptionEmpty)
        );
        let mut bad = draft("x1");
        bad.description = "d".repeat(501);
        assert_eq!(
            RoleDefinition::custom(bad),
            Err(RoleError::DescriptionTooLong { max: 500 })
        );
        for given in [0, 3] {
            let mut bad = draft("x1");
            bad.approvals_required = given;
            assert_eq!(
                RoleDefinition::custom(bad),
                Err(RoleError::ApprovalsOutOfRange { given })
            );
        }
        for max in [Duration::ZERO, Duration::hours(25)] {
            let mut bad = draft("x1");
            bad.max_jit_duration = Some(max);
            assert_eq!(
                RoleDefinition::custom(bad),
                Err(RoleError::JitDurationOutOfRange { max_hours: 24 })
            );
        }

        let mut changed = role.to_draft();
        changed.permissions.insert(P::AuditExport);
        changed.name = RoleName::parse("ignored").unwrap();
        let updated = role.update(changed).unwrap();
        assert_eq!(updated.name().as_str(), "external-auditor");
        assert!(updated.permission_set().has(P::AuditExport));

        let admin = RoleDefinition::builtin("admin").unwrap();
        assert!(matches!(
            admin.update(admin.to_draft()),
            Err(RoleError::Builtin { .. })
        ));
    }

    #[test]
    fn the_catalogue_resolves_token_role_strings() {
        let mut catalog = RoleCatalog::builtin();
        let set = catalog.permissions_of(["user", "enrollment-operator", "deleted-role"]);
        assert!(set.has(P::KeyEnroll) && set.has(P::ProfileRead));
        assert!(!set.has(P::KeyRevoke));
        assert!(catalog.require("nope").is_err());

        catalog.insert(RoleDefinition::custom(draft("external-auditor")).unwrap());
        assert!(
            catalog
                .permissions_of(["external-auditor"])
                .has(P::AuditRead)
        );
        catalog.remove("external-auditor");
        assert!(catalog.permissions_of(["external-auditor"]).is_empty());
    }
}
