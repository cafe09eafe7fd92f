//! Custom roles and role assignments, shared by the `/roles` routes and `schild roles …`.
//!
//! Every change is one transaction that re-reads the catalogue and the account's roles inside
//! it, checks the core's rules, writes, and appends the audit event; any refusal leaves the
//! database as it was. Changing a definition drops the cached catalogue, so holders see the
//! change on their next request.

use super::errors::{changed_concurrently, last_admin, self_assignment};
use crate::auth::Origin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::ids::UserId;
use schild_core::rbac::role::builtin;
use schild_core::rbac::{
    JitTarget, NewAssignment, Permission, RoleAssignment, RoleDefinition, RoleDraft, RoleName,
};
use schild_store::{AnyConnection, access, audit, roles, users};
use std::collections::BTreeSet;
use time::{Duration, OffsetDateTime};

/// Most permissions one role definition may list (the catalogue is smaller than this).
pub const MAX_PERMISSIONS: usize = 64;

/// A custom role as submitted, before any check.
#[derive(Debug, Clone)]
pub struct RoleSpec {
    /// Its description.
    pub description: String,
    /// Permission names, `resource:action`.
    pub permissions: Vec<String>,
    /// Longest just-in-time grant in minutes; `None`: not requestable just in time.
    pub max_jit_minutes: Option<u32>,
    /// Approvals a just-in-time request needs (1 or 2).
    pub approvals_required: u8,
    /// Whether the role is privileged.
    pub sensitive: bool,
}

impl RoleSpec {
    fn draft(self, name: RoleName) -> ApiResult<RoleDraft> {
        if self.permissions.len() > MAX_PERMISSIONS {
            return Err(ApiError::Validation {
                field: "permissions",
                reason: format!("at most {MAX_PERMISSIONS} permissions"),
            });
        }
        let permissions = self
            .permissions
            .iter()
            .map(|name| Permission::parse(name))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(|error| ApiError::Validation {
                field: "permissions",
                reason: error.to_string(),
            })?;
        Ok(RoleDraft {
            name,
            description: self.description,
            permissions,
            max_jit_duration: self
                .max_jit_minutes
                .map(|minutes| Duration::minutes(i64::from(minutes))),
            approvals_required: self.approvals_required,
            sensitive: self.sensitive,
        })
    }
}

/// Parses a role name as a client typed it.
pub fn parse_name(raw: &str) -> ApiResult<RoleName> {
    RoleName::parse(raw).map_err(|error| ApiError::Validation {
        field: "name",
        reason: error.to_string(),
    })
}

/// Creates the custom role `name`, or replaces its definition when it exists (then it applies
/// to every holder on their next request). Returns the role and whether it was created.
pub async fn save(
    state: &AppState,
    name: &str,
    spec: RoleSpec,
    origin: &Origin,
) -> ApiResult<(RoleDefinition, bool)> {
    let draft = spec.draft(parse_name(name)?)?;
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let mut catalog = roles::catalog(&mut tx).await?;
    let created = catalog.get(draft.name.as_str()).is_none();
    let (role, event) = if created {
        catalog.create(draft)?
    } else {
        catalog.update(draft)?
    };
    if created {
        roles::insert(&mut tx, &role, now).await?;
    } else {
        roles::update(&mut tx, &role, now).await?;
    }
    audit::append(&mut tx, &origin.record(now, event)).await?;
    tx.commit().await?;
    state.authz().invalidate().await;
    Ok((role, created))
}

/// Deletes a custom role nobody holds.
pub async fn delete(state: &AppState, name: &str, origin: &Origin) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let mut catalog = roles::catalog(&mut tx).await?;
    if catalog.get(name).is_none() {
        return Err(ApiError::NotFound);
    }
    let (_, event) = catalog.delete(name)?;
    roles::delete(&mut tx, name).await?;
    audit::append(&mut tx, &origin.record(now, event)).await?;
    tx.commit().await?;
    state.authz().invalidate().await;
    Ok(())
}

/// The roles `user` holds at `now` for separation-of-duty purposes: assigned ones and those
/// granted just in time, so neither path can combine conflicting roles.
pub async fn held_roles(
    conn: &mut AnyConnection,
    user: UserId,
    now: OffsetDateTime,
) -> ApiResult<BTreeSet<RoleName>> {
    let mut held = BTreeSet::new();
    for name in users::role_names(conn, user).await? {
        // A stored name always parses; one that somehow does not cannot conflict with anything.
        if let Ok(role) = RoleName::parse(&name) {
            held.insert(role);
        }
    }
    for grant in access::active_grants(conn, user, now).await? {
        if let JitTarget::Role(role) = grant.target {
            held.insert(role);
        }
    }
    Ok(held)
}

/// Assigns a role to an account. Nobody assigns roles to themselves: more access for oneself
/// goes through a just-in-time request that someone else approves.
pub async fn assign(
    state: &AppState,
    user: UserId,
    role: &str,
    reason: &str,
    origin: &Origin,
) -> ApiResult<RoleAssignment> {
    if origin.actor == Some(user) {
        return Err(self_assignment());
    }
    let now = state.now();
    let mut tx = state.store().begin().await?;
    users::by_id(&mut tx, user)
        .await?
        .ok_or(ApiError::NotFound)?;
    let catalog = roles::catalog(&mut tx).await?;
    let held = held_roles(&mut tx, user, now).await?;
    let (assignment, event) = RoleAssignment::grant(
        NewAssignment {
            user,
            role,
            granted_by: origin.actor,
            reason,
        },
        &held,
        &catalog,
        &state.authz().policy().sod,
        now,
    )?;
    roles::assign(&mut tx, &assignment).await?;
    audit::append(&mut tx, &origin.record(now, event)).await?;
    tx.commit().await?;
    Ok(assignment)
}

/// Takes a role away from an account; it stops working on the account's next request. The last
/// holder of `admin` keeps it, so the backend can never lose its last administrator.
pub async fn unassign(
    state: &AppState,
    user: UserId,
    role: &str,
    reason: &str,
    origin: &Origin,
) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let assignment = roles::assignments_for(&mut tx, user)
        .await?
        .into_iter()
        .find(|assignment| assignment.role.as_str() == role)
        .ok_or(ApiError::NotFound)?;
    let event = assignment.revoke(reason)?;
    if role == builtin::ADMIN && roles::holders(&mut tx, role).await?.len() <= 1 {
        return Err(last_admin());
    }
    if !roles::unassign(&mut tx, user, role).await? {
        return Err(changed_concurrently());
    }
    audit::append(&mut tx, &origin.record(now, event)).await?;
    tx.commit().await?;
    Ok(())
}
