//! Access control at run time: what a caller may do right now, and the services behind the role,
//! just-in-time and review routes (shared with the `schild roles|access|review` console
//! commands, so both apply exactly the same rules).
//!
//! A caller's permissions are resolved on every request from the *current* role definitions,
//! the account's *current* assignments and its active just-in-time grants. The roles inside an
//! access token are only a hint for clients: a role removed, a definition narrowed or a grant
//! revoked takes effect on the very next request, not at token expiry.

pub mod errors;
pub mod jit;
pub mod reviews;
pub mod roles;
pub mod sweep;

use crate::error::ApiResult;
use schild_core::ids::UserId;
use schild_core::rbac::review::ReviewPolicy;
use schild_core::rbac::{JitContext, JitPolicy, Permission, PermissionSet, RoleCatalog, SodPolicy};
use schild_store::{AnyConnection, Store, access, usage, users};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};
use tokio::sync::RwLock;

/// The rules access control runs by, beyond the role definitions themselves.
#[derive(Debug, Clone, Default)]
pub struct AccessPolicy {
    /// Limits of just-in-time requests for single permissions, and how long a request waits.
    pub jit: JitPolicy,
    /// Conflicting role pairs.
    pub sod: SodPolicy,
    /// Deadlines, escalation and automatic revocation of review campaigns.
    pub review: ReviewPolicy,
}

/// How stale the cached role catalogue may get when another instance changes a role. Changes
/// made through this instance refresh the cache at once.
const CATALOG_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// A permission's last use is written at most this often per account, which keeps writes off
/// nearly every request; reviews flag assignments unused for months, so an hour is precise
/// enough.
const USE_RECORD_INTERVAL: Duration = Duration::hours(1);

/// Beyond this many remembered (account, permission) pairs the memory is cleared, bounding it
/// whatever the number of accounts; the cost is one extra write per pair.
const USE_MEMORY_MAX: usize = 100_000;

/// Resolves callers' permissions and remembers when each was last used.
pub struct Authorizer {
    policy: AccessPolicy,
    catalog: RwLock<Option<(Arc<RoleCatalog>, std::time::Instant)>>,
    recorded: Mutex<HashMap<(UserId, Permission), OffsetDateTime>>,
}

impl Authorizer {
    /// An authoriser with these rules and an empty cache.
    pub fn new(policy: AccessPolicy) -> Self {
        Self {
            policy,
            catalog: RwLock::new(None),
            recorded: Mutex::new(HashMap::new()),
        }
    }

    /// The rules in force.
    pub fn policy(&self) -> &AccessPolicy {
        &self.policy
    }

    /// The current role definitions (cached for a few seconds).
    pub async fn catalog(&self, store: &Store) -> ApiResult<Arc<RoleCatalog>> {
        if let Some((catalog, loaded)) = self.catalog.read().await.as_ref()
            && loaded.elapsed() < CATALOG_TTL
        {
            return Ok(Arc::clone(catalog));
        }
        let mut conn = store.acquire().await?;
        let fresh = Arc::new(schild_store::roles::catalog(&mut conn).await?);
        *self.catalog.write().await = Some((Arc::clone(&fresh), std::time::Instant::now()));
        Ok(fresh)
    }

    /// Drops the cached catalogue; call after changing a role definition.
    pub async fn invalidate(&self) {
        *self.catalog.write().await = None;
    }

    /// What `user` may do at `now`: its assigned roles plus its active grants, resolved against
    /// the current definitions.
    pub async fn permissions_of(
        &self,
        store: &Store,
        user: UserId,
        now: OffsetDateTime,
    ) -> ApiResult<PermissionSet> {
        let catalog = self.catalog(store).await?;
        let mut conn = store.acquire().await?;
        permissions_with(&catalog, &mut conn, user, now).await
    }

    /// The context every just-in-time transition is checked against.
    pub fn jit_context<'a>(&'a self, catalog: &'a RoleCatalog) -> JitContext<'a> {
        JitContext {
            catalog,
            policy: &self.policy.jit,
            sod: &self.policy.sod,
        }
    }

    /// Records that `user` exercised `permission`, at most once an hour per pair. A failed
    /// write is logged, never fails the request: usage feeds reviews, not authorisation.
    pub async fn note_use(
        &self,
        store: &Store,
        user: UserId,
        permission: Permission,
        now: OffsetDateTime,
    ) {
        if !self.use_record_due(user, permission, now) {
            return;
        }
        let written = async {
            let mut conn = store.acquire().await?;
            usage::record_use(&mut conn, user, permission, now).await
        }
        .await;
        if let Err(error) = written {
            tracing::warn!(%error, %permission, "could not record a permission's use");
        }
    }

    fn use_record_due(&self, user: UserId, permission: Permission, now: OffsetDateTime) -> bool {
        let Ok(mut recorded) = self.recorded.lock() else {
            return true;
        };
        if recorded
            .get(&(user, permission))
            .is_some_and(|at| now - *at < USE_RECORD_INTERVAL && now >= *at)
        {
            return false;
        }
        if recorded.len() >= USE_MEMORY_MAX {
            recorded.clear();
        }
        recorded.insert((user, permission), now);
        true
    }
}

/// What `user` may do at `now` against `catalog`, read on `conn` (inside a transaction when the
/// answer guards a write).
pub async fn permissions_with(
    catalog: &RoleCatalog,
    conn: &mut AnyConnection,
    user: UserId,
    now: OffsetDateTime,
) -> ApiResult<PermissionSet> {
    let roles = users::role_names(conn, user).await?;
    let grants = access::active_grants(conn, user, now).await?;
    Ok(schild_core::rbac::resolve(catalog, &roles, &grants, now))
}
