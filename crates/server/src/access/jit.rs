//! Just-in-time access, shared by `/api/v1/access/…` and `schild access …`: requesting a role or
//! a permission for a bounded time, approving, denying and revoking it, listing requests and
//! grants, and recording the expiry of grants whose window has ended.
//!
//! The rules are `schild_core::rbac::jit`'s; this module loads, checks and stores. Every change
//! is one transaction that reads the request, applies the core transition, stores it with a
//! compare-and-set (a lost race is `changed_concurrently`) and appends the transition's audit
//! events; on any error nothing is written.
//!
//! Who may do what: anyone may request access for themselves; deciding needs `access:approve`
//! (checked again inside the transaction against the approver's current permissions) and is
//! never open to the requester; ending a grant early is open to its holder, and to anyone else
//! holding `access:revoke`.

use super::errors::changed_concurrently;
use super::permissions_with;
use crate::auth::Origin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::AuditEvent;
use schild_core::ids::UserId;
use schild_core::rbac::{
    JitError, JitGrant, JitPolicy, JitRequest, JitRequestId, JitStatus, JitTarget, NewJitRequest,
    Permission, PermissionSet, RoleName, resolve,
};
use schild_store::access::{self, JitFilter};
use schild_store::{AnyConnection, audit, users};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use time::{Duration, OffsetDateTime};

/// The most requests or grants one listing returns.
pub const LIST_MAX: u32 = 500;

/// How many grants [`expire_due`] records per transaction.
const EXPIRY_BATCH: u32 = 200;

/// Whose requests a read may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only this person's own (anyone may see their own).
    Own(UserId),
    /// Everyone's (`access:read`).
    Everyone,
}

impl Scope {
    fn requester(self) -> Option<UserId> {
        match self {
            Self::Own(user) => Some(user),
            Self::Everyone => None,
        }
    }
}

/// A request with where it stands now and the sign-in names of everyone it mentions.
#[derive(Debug, Clone)]
pub struct JitRecord {
    /// The request, as stored.
    pub request: JitRequest,
    /// Where it stands at the time it was read (pending requests past the policy's TTL are
    /// `lapsed`, active grants past their window `expired`, whether or not that was recorded).
    pub status: JitStatus,
    usernames: HashMap<UserId, String>,
}

impl JitRecord {
    /// The sign-in name of the requester, an approver, the denier or the revoker.
    pub fn username(&self, user: UserId) -> &str {
        self.usernames.get(&user).map_or("", String::as_str)
    }
}

/// A grant with its holder's sign-in name.
#[derive(Debug, Clone)]
pub struct GrantRecord {
    /// The grant.
    pub grant: JitGrant,
    /// Its holder's sign-in name.
    pub username: String,
    /// Whether it counts at the time it was read.
    pub active: bool,
}

/// What a request asks for, from the two ways of naming it (exactly one is given).
///
/// A role name must be well formed here and is checked against the current catalogue when the
/// request is opened; a permission must be in the catalogue.
pub fn parse_target(role: Option<&str>, permission: Option<&str>) -> ApiResult<JitTarget> {
    match (role, permission) {
        (Some(role), None) => {
            RoleName::parse(role)
                .map(JitTarget::Role)
                .map_err(|error| ApiError::Validation {
                    field: "role",
                    reason: error.to_string(),
                })
        }
        (None, Some(permission)) => Permission::parse(permission)
            .map(JitTarget::Permission)
            .map_err(|error| ApiError::Validation {
                field: "permission",
                reason: error.to_string(),
            }),
        (Some(_), Some(_)) => Err(ApiError::Validation {
            field: "role",
            reason: "ask for a role or for a permission, not both".into(),
        }),
        (None, None) => Err(ApiError::Validation {
            field: "role",
            reason: "name the role or the permission to request".into(),
        }),
    }
}

/// Opens a request by `requester` for `target`, lasting `duration` from its approval, with a
/// reason of 1 to 500 characters. Checked against the role's (or, for a permission, the
/// policy's) maximum, what the requester already holds and separation of duties.
pub async fn request(
    state: &AppState,
    requester: UserId,
    target: JitTarget,
    duration: Duration,
    reason: &str,
    origin: &Origin,
) -> ApiResult<JitRecord> {
    let catalog = state.authz().catalog(state.store()).await?;
    let ctx = state.authz().jit_context(&catalog);
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let assigned = users::role_names(&mut tx, requester).await?;
    let grants = access::active_grants(&mut tx, requester, now).await?;
    // The core checks the roles held (assigned and granted); a permission granted on its own
    // is held too.
    if let JitTarget::Permission(permission) = &target
        && resolve(&catalog, &assigned, &grants, now).has(*permission)
    {
        return Err(JitError::AlreadyHeld.into());
    }
    let held = held_roles(&assigned, grants);
    let new = NewJitRequest {
        id: JitRequestId::new_v7(now, &mut rand::rng()),
        requester,
        target,
        duration,
        reason: reason.to_owned(),
    };
    let (request, event) = JitRequest::open(new, &held, &ctx, now)?;
    access::insert(&mut tx, &request).await?;
    audit::append(&mut tx, &origin.record(now, event)).await?;
    let record = record(&mut tx, request, now, ctx.policy).await?;
    tx.commit().await?;
    Ok(record)
}

/// Records `approver`'s approval; the deciding one starts the grant now. The approver's
/// permissions are resolved inside the transaction, so a role removed a moment ago counts.
pub async fn approve(
    state: &AppState,
    id: JitRequestId,
    approver: UserId,
    origin: &Origin,
) -> ApiResult<JitRecord> {
    let catalog = state.authz().catalog(state.store()).await?;
    let ctx = state.authz().jit_context(&catalog);
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let before = load(&mut tx, id).await?;
    let permissions = permissions_with(&catalog, &mut tx, approver, now).await?;
    let mut after = before.clone();
    let events = after.approve(approver, permissions, &ctx, now)?;
    store(&mut tx, &before, &after, events, origin, now).await?;
    let record = record(&mut tx, after, now, ctx.policy).await?;
    tx.commit().await?;
    Ok(record)
}

/// Refuses a pending request, with a reason. The same people may deny as may approve.
pub async fn deny(
    state: &AppState,
    id: JitRequestId,
    by: UserId,
    reason: &str,
    origin: &Origin,
) -> ApiResult<JitRecord> {
    let catalog = state.authz().catalog(state.store()).await?;
    let ctx = state.authz().jit_context(&catalog);
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let before = load(&mut tx, id).await?;
    let permissions = permissions_with(&catalog, &mut tx, by, now).await?;
    let mut after = before.clone();
    let event = after.deny(by, permissions, reason, &ctx, now)?;
    store(&mut tx, &before, &after, vec![event], origin, now).await?;
    let record = record(&mut tx, after, now, ctx.policy).await?;
    tx.commit().await?;
    Ok(record)
}

/// Ends an active grant before its window is over. The holder may end their own grant; anyone
/// else needs `access:revoke` in `by_permissions`. A caller that must only end their own grant
/// passes [`PermissionSet::EMPTY`].
pub async fn revoke(
    state: &AppState,
    id: JitRequestId,
    by: UserId,
    by_permissions: PermissionSet,
    reason: &str,
    origin: &Origin,
) -> ApiResult<JitRecord> {
    let policy = state.authz().policy().jit;
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let before = load(&mut tx, id).await?;
    if before.requester != by && !by_permissions.has(Permission::AccessRevoke) {
        return Err(ApiError::MissingPermission(Permission::AccessRevoke));
    }
    let mut after = before.clone();
    let event = after.revoke(Some(by), reason, now)?;
    store(&mut tx, &before, &after, vec![event], origin, now).await?;
    let record = record(&mut tx, after, now, &policy).await?;
    tx.commit().await?;
    Ok(record)
}

/// One request; with [`Scope::Own`], someone else's is [`ApiError::NotFound`].
pub async fn get(state: &AppState, id: JitRequestId, scope: Scope) -> ApiResult<JitRecord> {
    let policy = state.authz().policy().jit;
    let mut conn = state.store().acquire().await?;
    let request = load(&mut conn, id).await?;
    if scope
        .requester()
        .is_some_and(|user| user != request.requester)
    {
        return Err(ApiError::NotFound);
    }
    record(&mut conn, request, state.now(), &policy).await
}

/// Requests in `scope`, newest first, only those in `status` when given, at most `limit`
/// (capped at [`LIST_MAX`]).
///
/// The status filter is applied to the newest [`LIST_MAX`] requests of the scope (pending ones
/// are filtered in the database), which covers every listing people page through.
pub async fn list(
    state: &AppState,
    scope: Scope,
    status: Option<JitStatus>,
    limit: u32,
) -> ApiResult<Vec<JitRecord>> {
    let policy = state.authz().policy().jit;
    let now = state.now();
    let limit = limit.min(LIST_MAX);
    let mut conn = state.store().acquire().await?;
    let filter = JitFilter {
        requester: scope.requester(),
        pending_only: status == Some(JitStatus::Pending),
        limit: if status.is_some() { LIST_MAX } else { limit },
    };
    let requests = access::list(&mut conn, &filter)
        .await?
        .into_iter()
        .filter(|request| status.is_none_or(|wanted| request.status(now, &policy) == wanted))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect::<Vec<_>>();
    let mut names = Names::default();
    let mut out = Vec::with_capacity(requests.len());
    for request in requests {
        out.push(names.record(&mut conn, request, now, &policy).await?);
    }
    Ok(out)
}

/// Grants, newest first: those in force now, or with `include_ended` also expired and revoked
/// ones; for one account or everyone; at most `limit` (capped at [`LIST_MAX`]).
pub async fn grants(
    state: &AppState,
    user: Option<UserId>,
    include_ended: bool,
    limit: u32,
) -> ApiResult<Vec<GrantRecord>> {
    let now = state.now();
    let mut conn = state.store().acquire().await?;
    let grants = access::grants(&mut conn, user, include_ended, now, limit.min(LIST_MAX)).await?;
    let mut names = Names::default();
    let mut out = Vec::with_capacity(grants.len());
    for grant in grants {
        let username = names.of(&mut conn, grant.user).await?.to_owned();
        out.push(GrantRecord {
            active: grant.is_active_at(now),
            grant,
            username,
        });
    }
    Ok(out)
}

/// Records the expiry (state and an `access.jit.expired` audit event) of every grant whose
/// window ended at or before `now`, in transactions of at most 200 grants; returns how many.
///
/// A grant stops counting at its end whether or not this has run (permissions are resolved
/// against the clock); this writes the end down once. A grant revoked or expired by someone
/// else meanwhile is skipped. Requests left pending past the policy's TTL need no sweep: the
/// core has no stored state for them, they read as `lapsed` and can no longer be decided.
pub async fn expire_due(state: &AppState, now: OffsetDateTime) -> ApiResult<usize> {
    let origin = Origin::console();
    let mut total = 0;
    loop {
        let mut tx = state.store().begin().await?;
        let due = access::due_for_expiry(&mut tx, now, EXPIRY_BATCH).await?;
        let fetched = due.len();
        let mut recorded = 0;
        for before in due {
            let mut after = before.clone();
            let event = after.expire(now)?;
            if access::update(&mut tx, &before, &after).await? {
                audit::append(&mut tx, &origin.record(now, event)).await?;
                recorded += 1;
            }
        }
        tx.commit().await?;
        total += recorded;
        // A batch that recorded nothing would come back the same: stop rather than spin.
        if fetched < usize::try_from(EXPIRY_BATCH).unwrap_or(usize::MAX) || recorded == 0 {
            return Ok(total);
        }
    }
}

async fn load(conn: &mut AnyConnection, id: JitRequestId) -> ApiResult<JitRequest> {
    access::by_id(conn, id).await?.ok_or(ApiError::NotFound)
}

/// Stores `before → after` as a compare-and-set and appends `events`, in the caller's
/// transaction.
async fn store(
    tx: &mut AnyConnection,
    before: &JitRequest,
    after: &JitRequest,
    events: Vec<AuditEvent>,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<()> {
    if !access::update(tx, before, after).await? {
        return Err(changed_concurrently());
    }
    for event in events {
        audit::append(tx, &origin.record(now, event)).await?;
    }
    Ok(())
}

/// The roles held: assigned, and granted just in time (`grants` are the active ones).
fn held_roles(assigned: &[String], grants: Vec<JitGrant>) -> BTreeSet<RoleName> {
    let granted = grants.into_iter().filter_map(|grant| match grant.target {
        JitTarget::Role(role) => Some(role),
        JitTarget::Permission(_) => None,
    });
    assigned
        .iter()
        .filter_map(|name| RoleName::parse(name).ok())
        .chain(granted)
        .collect()
}

async fn record(
    conn: &mut AnyConnection,
    request: JitRequest,
    now: OffsetDateTime,
    policy: &JitPolicy,
) -> ApiResult<JitRecord> {
    Names::default().record(conn, request, now, policy).await
}

/// Sign-in names looked up once per listing.
#[derive(Default)]
struct Names(HashMap<UserId, String>);

impl Names {
    async fn of(&mut self, conn: &mut AnyConnection, user: UserId) -> ApiResult<&str> {
        match self.0.entry(user) {
            Entry::Occupied(known) => Ok(known.into_mut().as_str()),
            Entry::Vacant(slot) => {
                let name = users::by_id(conn, user)
                    .await?
                    .map(|row| row.username.to_string())
                    .unwrap_or_default();
                Ok(slot.insert(name).as_str())
            }
        }
    }

    async fn record(
        &mut self,
        conn: &mut AnyConnection,
        request: JitRequest,
        now: OffsetDateTime,
        policy: &JitPolicy,
    ) -> ApiResult<JitRecord> {
        let mut people = vec![request.requester];
        people.extend(request.approvals.iter().map(|approval| approval.approver));
        match &request.state {
            schild_core::rbac::JitState::Denied { by, .. } => people.push(*by),
            schild_core::rbac::JitState::Revoked { by: Some(by), .. } => people.push(*by),
            _ => {}
        }
        let mut usernames = HashMap::with_capacity(people.len());
        for user in people {
            let name = self.of(conn, user).await?.to_owned();
            usernames.insert(user, name);
        }
        Ok(JitRecord {
            status: request.status(now, policy),
            request,
            usernames,
        })
    }
}
