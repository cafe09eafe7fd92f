//! What a caller may do right now: the union of their assigned roles' permissions and their
//! active just-in-time grants, resolved against the *current* role definitions, so changing a
//! role takes effect on the next request rather than when tokens expire.
//!
//! The result is a [`PermissionSet`], one `u64` with a bit per catalogue entry: the check on
//! every request's hot path is a shift and an AND.

use super::jit::{JitGrant, JitTarget};
use super::permission::Permission;
use super::role::RoleCatalog;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// A set of permissions as a bitset over the catalogue.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PermissionSet(u64);

impl PermissionSet {
    /// No permission at all.
    pub const EMPTY: Self = Self(0);

    /// Every permission in the catalogue.
    pub fn all() -> Self {
        Permission::all().iter().copied().collect()
    }

    /// Whether the set allows `permission`. This is the per-request check.
    #[inline]
    pub const fn has(self, permission: Permission) -> bool {
        self.0 & (1u64 << permission.index()) != 0
    }

    /// Whether every permission of `other` is in this set.
    pub const fn contains_all(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Adds one permission.
    pub fn insert(&mut self, permission: Permission) {
        self.0 |= 1u64 << permission.index();
    }

    /// Removes one permission.
    pub fn remove(&mut self, permission: Permission) {
        self.0 &= !(1u64 << permission.index());
    }

    /// Both sets together.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// What both sets allow.
    #[must_use]
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many permissions it holds.
    pub const fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// The permissions, in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::all()
            .iter()
            .copied()
            .filter(move |permission| self.has(*permission))
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = Self::EMPTY;
        for permission in iter {
            set.insert(permission);
        }
        set
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Permission::as_str))
            .finish()
    }
}

// As a list of names: readable in JSON and stable if the catalogue grows.
impl Serialize for PermissionSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for PermissionSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<Permission>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

/// The effective permissions at `now` of a caller holding the roles `assigned` (role names as
/// the token or the database carries them) and the just-in-time `grants`.
///
/// Grants that have not started, have ended or were revoked at `now` count for nothing; so do
/// role names the catalogue no longer knows.
pub fn resolve<S: AsRef<str>>(
    catalog: &RoleCatalog,
    assigned: impl IntoIterator<Item = S>,
    grants: &[JitGrant],
    now: OffsetDateTime,
) -> PermissionSet {
    grants.iter().filter(|grant| grant.is_active_at(now)).fold(
        catalog.permissions_of(assigned),
        |set, grant| {
            set.union(match &grant.target {
                JitTarget::Role(role) => catalog.permissions_of([role.as_str()]),
                JitTarget::Permission(permission) => [*permission].into_iter().collect(),
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::rbac::JitRequestId;
    use crate::rbac::role::RoleName;
    use time::Duration;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-04 10:00 UTC);

    #[test]
    fn set_operations() {
        let mut set = PermissionSet::EMPTY;
        assert!(set.is_empty());
        set.insert(Permission::UserRead);
        set.insert(Permission::ProfileManage);
        assert!(set.has(Permission::UserRead) && !set.has(Permission::UserCreate));
        assert_eq!(set.len(), 2);
        set.remove(Permission::UserRead);
        assert_eq!(set.iter().collect::<Vec<_>>(), [Permission::ProfileManage]);
        assert_eq!(PermissionSet::all().len() as usize, Permission::all().len());
        assert!(PermissionSet::all().contains_all(set));
        assert!(!set.contains_all(PermissionSet::all()));
        assert_eq!(PermissionSet::all().intersection(set), set);
        assert!(set.intersection(PermissionSet::EMPTY).is_empty());
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(json, r#"["profile:manage"]"#);
        assert_eq!(serde_json::from_str::<PermissionSet>(&json).unwrap(), set);
        assert_eq!(format!("{set:?}"), r#"{"profile:manage"}"#);
    }

    fn grant(target: JitTarget, starts: OffsetDateTime, hours: i64) -> JitGrant {
        JitGrant {
            request: JitRequestId(uuid::Uuid::new_v4()),
            user: UserId(uuid::Uuid::nil()),
            target,
            starts_at: starts,
            ends_at: starts + Duration::hours(hours),
            revoked_at: None,
        }
    }

    #[test]
    fn grants_count_only_inside_their_window() {
        let catalog = RoleCatalog::builtin();
        let grants = [
            grant(JitTarget::Permission(Permission::VaultRotate), T0, 1),
            grant(
                JitTarget::Role(RoleName::parse("incident-responder").unwrap()),
                T0 + Duration::hours(2),
                1,
            ),
        ];
        let at = |t| resolve(&catalog, ["user"], &grants, t);
        assert!(!at(T0 - Duration::seconds(1)).has(Permission::VaultRotate));
        assert!(at(T0).has(Permission::VaultRotate));
        assert!(!at(T0).has(Permission::IncidentClose));
        assert!(
            !at(T0 + Duration::hours(1)).has(Permission::VaultRotate),
            "end is exclusive"
        );
        assert!(at(T0 + Duration::hours(2)).has(Permission::IncidentClose));
        assert!(at(T0 + Duration::hours(4)).contains_all(catalog.permissions_of(["user"])));
        let mut revoked = grants.clone();
        revoked[0].revoked_at = Some(T0 + Duration::minutes(10));
        assert!(
            resolve(&catalog, ["user"], &revoked, T0 + Duration::minutes(5))
                .has(Permission::VaultRotate)
        );
        assert!(
            !resolve(&catalog, ["user"], &revoked, T0 + Duration::minutes(10))
                .has(Permission::VaultRotate)
        );
    }
}
