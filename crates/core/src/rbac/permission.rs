//! The one permission catalogue: every `resource:action` the backend can authorise, with a
//! description each.
//!
//! A permission is a small `Copy` enum whose discriminant is its bit in a
//! [`PermissionSet`](super::PermissionSet), so checking one on every request is a single AND.
//! Names are stable: they appear in tokens' role definitions, in the database and in audit
//! records, so a permission is never renamed, only added.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A name that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown permission {name:?}: permissions are written resource:action, for example user:read"
)]
pub struct UnknownPermission {
    /// What was given, cut to 64 characters.
    pub name: String,
}

macro_rules! catalogue {
    ($($variant:ident = $name:literal, sensitive: $sensitive:literal, $description:literal;)+) => {
        /// One granular permission, written `resource:action`.
        ///
        /// The catalogue is closed: an unknown name does not parse. See [`Permission::all`] for
        /// the full list and [`Permission::description`] for what each allows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        #[repr(u8)]
        pub enum Permission {
            $(
                #[doc = $description]
                $variant,
            )+
        }

        impl Permission {
            const ALL: &'static [Permission] = &[$(Permission::$variant),+];

            /// The stable `resource:action` name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Permission::$variant => $name,)+
                }
            }

            /// What holding it allows, in one sentence for people choosing roles.
            pub const fn description(self) -> &'static str {
                match self {
                    $(Permission::$variant => $description,)+
                }
            }

            /// Whether it is powerful enough that a just-in-time request for it alone needs two
            /// approvers, and that a review must justify keeping it.
            pub const fn is_sensitive(self) -> bool {
                match self {
                    $(Permission::$variant => $sensitive,)+
                }
            }
        }

        /// One zero-sized type per permission, so that a route can name the permission it needs
        /// in its signature (`Authorized<need::UserRead>` in `schild-server`).
        pub mod need {
            $(
                #[doc = concat!("Needs `", $name, "`: ", $description)]
                #[derive(Debug, Clone, Copy)]
                pub struct $variant;

                impl super::Need for $variant {
                    const PERMISSION: super::Permission = super::Permission::$variant;
                }
            )+
        }
    };
}

/// A type standing for one permission: see the [`need`] module.
pub trait Need: Send + Sync + 'static {
    /// The permission it stands for.
    const PERMISSION: Permission;
}

catalogue! {
    UserRead = "user:read", sensitive: false, "List accounts and see their details, roles and status.";
    UserCreate = "user:create", sensitive: true, "Create accounts.";
    UserUpdate = "user:update", sensitive: true, "Change an account's display name or reset its second factor.";
    UserDisable = "user:disable", sensitive: true, "Disable or re-enable an account.";
    UserUnlock = "user:unlock", sensitive: false, "Lift a lockout caused by failed sign-ins.";
    SessionRead = "session:read", sensitive: false, "List anyone's sign-in sessions.";
    SessionRevoke = "session:revoke", sensitive: false, "End anyone's session (forced logout).";
    IpblockRead = "ipblock:read", sensitive: false, "List blocked IP addresses.";
    IpblockManage = "ipblock:manage", sensitive: false, "Block and unblock IP addresses.";
    AuditRead = "audit:read", sensitive: false, "Read the audit trail.";
    AuditExport = "audit:export", sensitive: true, "Export the audit trail and configure SIEM forwarding.";
    KeyRead = "key:read", sensitive: false, "List enrolled hardware keys.";
    KeyEnroll = "key:enroll", sensitive: false, "Enroll a hardware security key for an account at an enrollment station.";
    KeyRevoke = "key:revoke", sensitive: false, "Revoke an enrolled hardware key.";
    VaultRead = "vault:read", sensitive: false, "See the key vault's status and key versions (never key material).";
    VaultRotate = "vault:rotate", sensitive: true, "Rotate the vault's key-encryption key and re-wrap data keys.";
    SigningkeyRotate = "signingkey:rotate", sensitive: true, "Rotate the access-token signing key.";
    IncidentRead = "incident:read", sensitive: false, "Read incidents, their timelines and evidence.";
    IncidentCreate = "incident:create", sensitive: false, "Open an incident.";
    IncidentUpdate = "incident:update", sensitive: false, "Add findings, evidence and playbook progress to an incident.";
    IncidentAssign = "incident:assign", sensitive: false, "Assign an incident to a responder.";
    IncidentClose = "incident:close", sensitive: false, "Close or reopen an incident.";
    RoleRead = "role:read", sensitive: false, "List roles, their permissions and who holds them.";
    RoleManage = "role:manage", sensitive: true, "Create, change and delete custom roles.";
    RoleAssign = "role:assign", sensitive: true, "Assign roles to accounts and remove them.";
    AccessRequest = "access:request", sensitive: false, "Request a role or permission for a limited time (just-in-time access).";
    AccessApprove = "access:approve", sensitive: true, "Approve or deny other people's just-in-time access requests.";
    AccessRead = "access:read", sensitive: false, "List everyone's just-in-time requests and grants.";
    AccessRevoke = "access:revoke", sensitive: false, "End someone's just-in-time grant early.";
    ReviewRead = "review:read", sensitive: false, "See access-review campaigns and their reports.";
    ReviewManage = "review:manage", sensitive: false, "Start, schedule and close access-review campaigns.";
    ReviewDecide = "review:decide", sensitive: false, "Certify or revoke items in an access review.";
    RiskRead = "risk:read", sensitive: false, "See sign-in risk scores, device and location signals.";
    TrainingRead = "training:read", sensitive: false, "Take security-awareness training and see one's own results.";
    TrainingManage = "training:manage", sensitive: false, "Publish training modules and see everyone's results.";
    MetricsRead = "metrics:read", sensitive: false, "Read operational metrics.";
    ProfileRead = "profile:read", sensitive: false, "See one's own account, sessions and sign-in factors.";
    ProfileManage = "profile:manage", sensitive: false, "Manage one's own password, second factors and sessions.";
    ApikeyIssue = "apikey:issue", sensitive: false, "Issue API keys for oneself, scoped to permissions one holds, and list and revoke one's own.";
    ApikeyRead = "apikey:read", sensitive: false, "List everyone's API keys (never their secrets).";
    ApikeyRevoke = "apikey:revoke", sensitive: false, "Revoke anyone's API key.";
    RetentionRead = "retention:read", sensitive: false, "See data-retention policies and legal holds.";
    RetentionManage = "retention:manage", sensitive: true, "Change retention policies, place and release legal holds, and run the purge.";
}

// `PermissionSet` is one `u64`: the catalogue must fit.
const _: () = assert!(Permission::ALL.len() <= 64);

impl Permission {
    /// Every permission, in catalogue order.
    pub fn all() -> &'static [Permission] {
        Self::ALL
    }

    /// The position in the catalogue (and the bit in a [`PermissionSet`](super::PermissionSet)).
    pub const fn index(self) -> u8 {
        self as u8
    }

    /// The permission at catalogue position `index`.
    pub fn from_index(index: u8) -> Option<Self> {
        Self::ALL.get(usize::from(index)).copied()
    }

    /// The resource part, for example `user` of `user:read`.
    pub fn resource(self) -> &'static str {
        self.as_str()
            .split_once(':')
            .map_or("", |(resource, _)| resource)
    }

    /// The action part, for example `read` of `user:read`.
    pub fn action(self) -> &'static str {
        self.as_str()
            .split_once(':')
            .map_or("", |(_, action)| action)
    }

    /// Parses a `resource:action` name (exact, lower case).
    pub fn parse(name: &str) -> Result<Self, UnknownPermission> {
        Self::ALL
            .iter()
            .copied()
            .find(|permission| permission.as_str() == name)
            .ok_or_else(|| UnknownPermission {
                name: name.chars().take(64).collect(),
            })
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = UnknownPermission;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_name_round_trips_and_is_resource_colon_action() {
        let mut names = BTreeSet::new();
        for (i, &permission) in Permission::all().iter().enumerate() {
            let name = permission.as_str();
            assert!(names.insert(name), "duplicate name {name}");
            assert_eq!(Permission::parse(name), Ok(permission));
            assert_eq!(name.parse::<Permission>(), Ok(permission));
            assert_eq!(usize::from(permission.index()), i);
            assert_eq!(Permission::from_index(permission.index()), Some(permission));
            assert_eq!(
                format!("{}:{}", permission.resource(), permission.action()),
                name
            );
            assert!(
                permission
                    .resource()
                    .chars()
                    .chain(permission.action().chars())
                    .all(|c| c.is_ascii_lowercase()),
                "{name}"
            );
            assert!(permission.description().ends_with('.'), "{name}");
            let json = serde_json::to_string(&permission).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<Permission>(&json).unwrap(),
                permission
            );
        }
        assert!(Permission::from_index(64).is_none());
    }

    #[test]
    fn unknown_names_are_refused_clearly() {
        for bad in [
            "user:delete",
            "USER:READ",
            "user",
            "",
            " user:read",
            "user:read ",
        ] {
            let err = Permission::parse(bad).unwrap_err();
            assert_eq!(err.name, bad);
            assert!(err.to_string().contains("resource:action"), "{err}");
        }
        let long = "x".repeat(1000);
        assert_eq!(Permission::parse(&long).unwrap_err().name.len(), 64);
        assert!(serde_json::from_str::<Permission>("\"root:all\"").is_err());
    }
}
