//! Assigning roles to accounts, with who granted them, when and why; and the audited changes to
//! the role catalogue itself.

use super::role::{RoleCatalog, RoleDefinition, RoleDraft, RoleError, RoleName};
use super::sod::{SodPolicy, SodViolation};
use super::{Reason, ReasonError};
use crate::audit::AuditEvent;
use crate::ids::UserId;
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// Why an assignment change was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssignmentError {
    /// No role has this name.
    #[error("no role is named {name:?}")]
    UnknownRole {
        /// The name asked for, cut to 64 characters.
        name: String,
    },
    /// The account already holds the role.
    #[error("the account already holds role {role}")]
    AlreadyAssigned {
        /// The role.
        role: RoleName,
    },
    /// The account does not hold the role.
    #[error("the account does not hold role {role}")]
    NotAssigned {
        /// The role.
        role: RoleName,
    },
    /// The role conflicts with one the account holds.
    #[error(transparent)]
    SeparationOfDuties(SodViolation),
    /// The reason is missing or too long.
    #[error(transparent)]
    Reason(ReasonError),
}

/// An assignment as an administrator asks for it (raw role name and reason, checked by
/// [`RoleAssignment::grant`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAssignment<'a> {
    /// The account.
    pub user: UserId,
    /// The role's name.
    pub role: &'a str,
    /// Who assigns it; `None` for the local console.
    pub granted_by: Option<UserId>,
    /// Why, 1 to 500 characters.
    pub reason: &'a str,
}

/// One account holding one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    /// The account.
    pub user: UserId,
    /// The role.
    pub role: RoleName,
    /// Who assigned it; `None` for the local console, setup, or data carried over from before
    /// assignments were recorded.
    pub granted_by: Option<UserId>,
    /// When.
    pub granted_at: OffsetDateTime,
    /// Why.
    pub reason: Reason,
}

impl RoleAssignment {
    /// Assigns `role` to `user`, who currently holds `held` (assigned roles plus roles granted
    /// just in time, so that separation of duties cannot be sidestepped either way).
    pub fn grant(
        new: NewAssignment<'_>,
        held: &BTreeSet<RoleName>,
        catalog: &RoleCatalog,
        sod: &SodPolicy,
        now: OffsetDateTime,
    ) -> Result<(Self, AuditEvent), AssignmentError> {
        let NewAssignment {
            user,
            role,
            granted_by,
            reason,
        } = new;
        let reason = Reason::parse(reason).map_err(AssignmentError::Reason)?;
        let role = RoleName::parse(role)
            .ok()
            .and_then(|name| catalog.get(name.as_str()))
            .ok_or_else(|| AssignmentError::UnknownRole {
                name: role.chars().take(64).collect(),
            })?
            .name()
            .clone();
        if held.contains(&role) {
            return Err(AssignmentError::AlreadyAssigned { role });
        }
        sod.check_addition(held, &role)
            .map_err(AssignmentError::SeparationOfDuties)?;
        let event = AuditEvent::RoleAssigned {
            user,
            role: role.clone(),
            reason: reason.to_string(),
        };
        Ok((
            Self {
                user,
                role,
                granted_by,
                granted_at: now,
                reason,
            },
            event,
        ))
    }

    /// Takes the role away again; the event to append alongside deleting the assignment.
    pub fn revoke(&self, reason: &str) -> Result<AuditEvent, AssignmentError> {
        let reason = Reason::parse(reason).map_err(AssignmentError::Reason)?;
        Ok(AuditEvent::RoleUnassigned {
            user: self.user,
            role: self.role.clone(),
            reason: reason.to_string(),
        })
    }
}

impl RoleCatalog {
    /// Adds a custom role. [`RoleError::AlreadyExists`] when the name is taken.
    pub fn create(&mut self, draft: RoleDraft) -> Result<(RoleDefinition, AuditEvent), RoleError> {
        if self.get(draft.name.as_str()).is_some() {
            return Err(RoleError::AlreadyExists { name: draft.name });
        }
        let role = RoleDefinition::custom(draft)?;
        self.insert(role.clone());
        let event = AuditEvent::RoleCreated {
            role: role.name().clone(),
            permissions: role.permissions().iter().copied().collect(),
        };
        Ok((role, event))
    }

    /// Replaces a custom role's definition (its name stays). Built-in roles refuse.
    pub fn update(&mut self, draft: RoleDraft) -> Result<(RoleDefinition, AuditEvent), RoleError> {
        let role = self.require(draft.name.as_str())?.update(draft)?;
        self.insert(role.clone());
        let event = AuditEvent::RoleUpdated {
            role: role.name().clone(),
            permissions: role.permissions().iter().copied().collect(),
        };
        Ok((role, event))
    }

    /// Removes a custom role. Built-in roles refuse. Whether it is still assigned is the store's
    /// check (it refuses to delete a role that is).
    pub fn delete(&mut self, name: &str) -> Result<(RoleDefinition, AuditEvent), RoleError> {
        let role = self.require(name)?;
        if role.is_builtin() {
            return Err(RoleError::Builtin {
                name: role.name().clone(),
            });
        }
        let role = role.clone();
        self.remove(name);
        let event = AuditEvent::RoleDeleted {
            role: role.name().clone(),
        };
        Ok((role, event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::Permission;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-04 10:00 UTC);

    fn r(name: &str) -> RoleName {
        RoleName::parse(name).unwrap()
    }

    #[test]
    fn assignments_check_role_duplicates_sod_and_reason() {
        let catalog = RoleCatalog::builtin();
        let sod = SodPolicy::builtin();
        let user = UserId(uuid::Uuid::from_u128(1));
        let held: BTreeSet<_> = [r("user")].into();

        fn new<'a>(user: UserId, role: &'a str, reason: &'a str) -> NewAssignment<'a> {
            NewAssignment {
                user,
                role,
                granted_by: Some(UserId(uuid::Uuid::from_u128(2))),
                reason,
            }
        }
        let (assignment, event) = RoleAssignment::grant(
            new(user, "Auditor", "quarterly audit"),
            &held,
            &catalog,
            &sod,
            T0,
        )
        .unwrap();
        assert_eq!(assignment.role, r("auditor"));
        assert_eq!(event.kind(), "rbac.role.assigned");
        assert_eq!(event.subject(), Some(user));
        assert_eq!(
            assignment.revoke("audit over").unwrap().kind(),
            "rbac.role.unassigned"
        );
        assert!(matches!(
            assignment.revoke(""),
            Err(AssignmentError::Reason(ReasonError::Empty))
        ));

        let grant = |role: &str, held: &BTreeSet<RoleName>, reason: &str| {
            RoleAssignment::grant(new(user, role, reason), held, &catalog, &sod, T0)
        };
        assert!(matches!(
            grant("root", &held, "r"),
            Err(AssignmentError::UnknownRole { .. })
        ));
        assert!(matches!(
            grant("user", &held, "r"),
            Err(AssignmentError::AlreadyAssigned { .. })
        ));
        assert!(matches!(
            grant("auditor", &[r("admin")].into(), "r"),
            Err(AssignmentError::SeparationOfDuties(_))
        ));
        assert!(matches!(
            grant("auditor", &held, &"r".repeat(501)),
            Err(AssignmentError::Reason(ReasonError::TooLong))
        ));
    }

    #[test]
    fn catalogue_changes_are_audited_and_builtins_protected() {
        let mut catalog = RoleCatalog::builtin();
        let draft = RoleDraft {
            name: r("key-custodian"),
            description: "Keeps spare hardware keys.".into(),
            permissions: [Permission::KeyRead].into(),
            max_jit_duration: None,
            approvals_required: 1,
            sensitive: false,
        };
        let (_, event) = catalog.create(draft.clone()).unwrap();
        assert_eq!(event.kind(), "rbac.role.created");
        assert!(matches!(
            catalog.create(draft.clone()),
            Err(RoleError::AlreadyExists { .. })
        ));
        let mut changed = draft.clone();
        changed.permissions.insert(Permission::KeyRevoke);
        let (role, event) = catalog.update(changed).unwrap();
        assert!(role.permission_set().has(Permission::KeyRevoke));
        assert_eq!(event.kind(), "rbac.role.updated");
        assert!(
            catalog
                .permissions_of(["key-custodian"])
                .has(Permission::KeyRevoke)
        );
        let (_, event) = catalog.delete("key-custodian").unwrap();
        assert_eq!(event.kind(), "rbac.role.deleted");
        assert!(catalog.get("key-custodian").is_none());
        assert!(matches!(
            catalog.delete("key-custodian"),
            Err(RoleError::UnknownRole { .. })
        ));
        assert!(matches!(
            catalog.delete("admin"),
            Err(RoleError::Builtin { .. })
        ));
        let mut admin = catalog.get("admin").unwrap().to_draft();
        admin.permissions.clear();
        assert!(matches!(
            catalog.update(admin),
            Err(RoleError::Builtin { .. })
        ));
        assert_eq!(catalog, RoleCatalog::builtin());
    }
}
