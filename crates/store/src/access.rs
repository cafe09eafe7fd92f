//! Just-in-time access: `jit_requests(id, requester, target_kind, target, duration_ms, reason,
//! approvals_required, requested_at, state, approval_count, decided_by, decided_at,
//! decision_reason)`, `jit_approvals(request_id, approver, approved_at)` and `jit_grants(
//! request_id, user_id, target_kind, target, starts_at, ends_at, revoked_at, revoked_by,
//! revoke_reason)`.
//!
//! The state machine is `schild_core::rbac::jit`; this module stores its values. A transition is
//! stored with [`update`], a compare-and-set on the request's state and approval count as they
//! were when it was loaded: of two racing approvals (or an approval racing a denial) exactly one
//! is stored, and the loser gets `false`, reloads, and sees the request as decided.

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use schild_core::ids::UserId;
use schild_core::rbac::jit::Approval;
use schild_core::rbac::{JitGrant, JitRequest, JitRequestId, JitState, JitTarget, Reason};
use sqlx::Connection as _;
use sqlx::any::AnyRow;
use time::{Duration, OffsetDateTime};

fn target_columns(target: &JitTarget) -> (&'static str, String) {
    match target {
        JitTarget::Role(role) => ("role", role.to_string()),
        JitTarget::Permission(permission) => ("permission", permission.to_string()),
    }
}

fn target_from(c: &Cols<'_>, kind_col: &str, col: &str) -> Result<JitTarget, StoreError> {
    match c.text(kind_col)?.as_str() {
        "role" => Ok(JitTarget::Role(c.parse(col)?)),
        "permission" => Ok(JitTarget::Permission(c.parse(col)?)),
        _ => Err(c.corrupt(kind_col)),
    }
}

fn reason(c: &Cols<'_>, col: &str) -> Result<Reason, StoreError> {
    Reason::parse(&c.text(col)?).map_err(|_| c.corrupt(col))
}

fn state_name(state: &JitState) -> &'static str {
    match state {
        JitState::Pending => "pending",
        JitState::Denied { .. } => "denied",
        JitState::Active { .. } => "active",
        JitState::Expired { .. } => "expired",
        JitState::Revoked { .. } => "revoked",
    }
}

/// The request columns, then the grant's (NULL when there is none), for a LEFT JOIN.
macro_rules! select_requests {
    ($tail:literal) => {
        concat!(
            "SELECT r.id AS id, r.requester AS requester, r.target_kind AS target_kind, \
             r.target AS target, r.duration_ms AS duration_ms, r.reason AS reason, \
             r.approvals_required AS approvals_required, r.requested_at AS requested_at, \
             r.state AS state, r.decided_by AS decided_by, r.decided_at AS decided_at, \
             r.decision_reason AS decision_reason, g.starts_at AS starts_at, \
             g.ends_at AS ends_at, g.revoked_at AS revoked_at, g.revoked_by AS revoked_by, \
             g.revoke_reason AS revoke_reason \
             FROM jit_requests r LEFT JOIN jit_grants g ON g.request_id = r.id ",
            $tail
        )
    };
}

fn request_from_row(row: &AnyRow) -> Result<JitRequest, StoreError> {
    let c = Cols::new(row, "jit_requests");
    let window = || -> Result<(OffsetDateTime, OffsetDateTime), StoreError> {
        Ok((
            c.opt_time("starts_at")?
                .ok_or_else(|| c.corrupt("starts_at"))?,
            c.opt_time("ends_at")?.ok_or_else(|| c.corrupt("ends_at"))?,
        ))
    };
    let state = match c.text("state")?.as_str() {
        "pending" => JitState::Pending,
        "denied" => JitState::Denied {
            by: c
                .opt_parse("decided_by")?
                .ok_or_else(|| c.corrupt("decided_by"))?,
            at: c
                .opt_time("decided_at")?
                .ok_or_else(|| c.corrupt("decided_at"))?,
            reason: reason(&c, "decision_reason")?,
        },
        "active" => {
            let (starts_at, ends_at) = window()?;
            JitState::Active { starts_at, ends_at }
        }
        "expired" => {
            let (starts_at, ends_at) = window()?;
            JitState::Expired { starts_at, ends_at }
        }
        "revoked" => {
            let (starts_at, ends_at) = window()?;
            JitState::Revoked {
                starts_at,
                ends_at,
                at: c
                    .opt_time("revoked_at")?
                    .ok_or_else(|| c.corrupt("revoked_at"))?,
                by: c.opt_parse("revoked_by")?,
                reason: reason(&c, "revoke_reason")?,
            }
        }
        _ => return Err(c.corrupt("state")),
    };
    Ok(JitRequest {
        id: c.parse("id")?,
        requester: c.parse("requester")?,
        target: target_from(&c, "target_kind", "target")?,
        duration: Duration::milliseconds(c.int("duration_ms")?),
        reason: reason(&c, "reason")?,
        requested_at: c.time("requested_at")?,
        approvals_required: u8::try_from(c.int("approvals_required")?)
            .map_err(|_| c.corrupt("approvals_required"))?,
        approvals: Vec::new(),
        state,
    })
}

async fn load_approvals(
    conn: &mut AnyConnection,
    request: &mut JitRequest,
) -> Result<(), StoreError> {
    request.approvals = sqlx::query(
        "SELECT approver, approved_at FROM jit_approvals WHERE request_id = $1 ORDER BY position",
    )
    .bind(request.id.to_string())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "jit_approvals");
        Ok(Approval {
            approver: c.parse("approver")?,
            at: c.time("approved_at")?,
        })
    })
    .collect::<Result<_, StoreError>>()?;
    Ok(())
}

async fn complete(
    conn: &mut AnyConnection,
    rows: Vec<AnyRow>,
) -> Result<Vec<JitRequest>, StoreError> {
    let mut requests = rows
        .iter()
        .map(request_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    for request in &mut requests {
        load_approvals(conn, request).await?;
    }
    Ok(requests)
}

/// Stores a new request (as [`JitRequest::open`] made it), with any approvals and grant it
/// already has.
pub async fn insert(conn: &mut AnyConnection, request: &JitRequest) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    let (kind, target) = target_columns(&request.target);
    let (decided_by, decided_at, decision_reason) = decision_columns(&request.state);
    sqlx::query(
        "INSERT INTO jit_requests (id, requester, target_kind, target, duration_ms, reason, \
         approvals_required, requested_at, state, approval_count, decided_by, decided_at, \
         decision_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(request.id.to_string())
    .bind(request.requester.to_string())
    .bind(kind)
    .bind(target)
    .bind(crate::roles::duration_ms(request.duration))
    .bind(request.reason.as_str())
    .bind(i64::from(request.approvals_required))
    .bind(millis(request.requested_at))
    .bind(state_name(&request.state))
    .bind(approval_count(request))
    .bind(decided_by)
    .bind(decided_at)
    .bind(decision_reason)
    .execute(&mut *tx)
    .await?;
    write_approvals(&mut tx, request, &[]).await?;
    write_grant(&mut tx, request, false).await?;
    tx.commit().await?;
    Ok(())
}

fn approval_count(request: &JitRequest) -> i64 {
    i64::try_from(request.approvals.len()).unwrap_or(i64::MAX)
}

fn decision_columns(state: &JitState) -> (Option<String>, Option<i64>, Option<String>) {
    match state {
        JitState::Denied { by, at, reason } => (
            Some(by.to_string()),
            Some(millis(*at)),
            Some(reason.to_string()),
        ),
        _ => (None, None, None),
    }
}

async fn write_approvals(
    conn: &mut AnyConnection,
    request: &JitRequest,
    already: &[Approval],
) -> Result<(), StoreError> {
    for (position, approval) in request.approvals.iter().enumerate().skip(already.len()) {
        sqlx::query(
            "INSERT INTO jit_approvals (request_id, position, approver, approved_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(request.id.to_string())
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(approval.approver.to_string())
        .bind(millis(approval.at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Inserts the grant (when `existed` is false) or updates its revocation.
async fn write_grant(
    conn: &mut AnyConnection,
    request: &JitRequest,
    existed: bool,
) -> Result<(), StoreError> {
    let Some(grant) = request.grant() else {
        return Ok(());
    };
    let (revoked_by, revoke_reason) = match &request.state {
        JitState::Revoked { by, reason, .. } => {
            (by.map(|id| id.to_string()), Some(reason.to_string()))
        }
        _ => (None, None),
    };
    let (kind, target) = target_columns(&grant.target);
    if existed {
        sqlx::query(
            "UPDATE jit_grants SET revoked_at = $2, revoked_by = $3, revoke_reason = $4 \
             WHERE request_id = $1",
        )
        .bind(request.id.to_string())
        .bind(grant.revoked_at.map(millis))
        .bind(revoked_by)
        .bind(revoke_reason)
        .execute(&mut *conn)
        .await?;
    } else {
        sqlx::query(
            "INSERT INTO jit_grants (request_id, user_id, target_kind, target, starts_at, \
             ends_at, revoked_at, revoked_by, revoke_reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(request.id.to_string())
        .bind(grant.user.to_string())
        .bind(kind)
        .bind(target)
        .bind(millis(grant.starts_at))
        .bind(millis(grant.ends_at))
        .bind(grant.revoked_at.map(millis))
        .bind(revoked_by)
        .bind(revoke_reason)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Stores the transition from `before` (the request as loaded) to `after` (the same request
/// after a `schild_core` transition), atomically, as a compare-and-set: returns `false` and
/// changes nothing when the stored request is no longer `before` (someone else decided, approved
/// or revoked it meanwhile). [`StoreError::NotFound`] when `before` and `after` are different
/// requests.
pub async fn update(
    conn: &mut AnyConnection,
    before: &JitRequest,
    after: &JitRequest,
) -> Result<bool, StoreError> {
    if before.id != after.id {
        return Err(StoreError::NotFound);
    }
    let mut tx = conn.begin().await?;
    let (decided_by, decided_at, decision_reason) = decision_columns(&after.state);
    let done = sqlx::query(
        "UPDATE jit_requests SET state = $2, approval_count = $3, decided_by = $4, \
         decided_at = $5, decision_reason = $6 \
         WHERE id = $1 AND state = $7 AND approval_count = $8",
    )
    .bind(after.id.to_string())
    .bind(state_name(&after.state))
    .bind(approval_count(after))
    .bind(decided_by)
    .bind(decided_at)
    .bind(decision_reason)
    .bind(state_name(&before.state))
    .bind(approval_count(before))
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    write_approvals(&mut tx, after, &before.approvals).await?;
    write_grant(&mut tx, after, before.grant().is_some()).await?;
    tx.commit().await?;
    Ok(true)
}

/// The request with this id, with its approvals and grant.
pub async fn by_id(
    conn: &mut AnyConnection,
    id: JitRequestId,
) -> Result<Option<JitRequest>, StoreError> {
    let rows = sqlx::query(select_requests!("WHERE r.id = $1"))
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(complete(conn, rows).await?.pop())
}

/// Which requests [`list`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitFilter {
    /// Only this requester's.
    pub requester: Option<UserId>,
    /// Only pending ones (the approvers' queue).
    pub pending_only: bool,
    /// At most this many, newest first.
    pub limit: u32,
}

impl Default for JitFilter {
    /// Everyone's, any state, newest 100.
    fn default() -> Self {
        Self {
            requester: None,
            pending_only: false,
            limit: 100,
        }
    }
}

/// Requests, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &JitFilter,
) -> Result<Vec<JitRequest>, StoreError> {
    let rows = sqlx::query(select_requests!(
        "WHERE ($1 IS NULL OR r.requester = $1) AND ($2 = FALSE OR r.state = 'pending') \
         ORDER BY r.requested_at DESC, r.id DESC LIMIT $3"
    ))
    .bind(filter.requester.map(|id| id.to_string()))
    .bind(filter.pending_only)
    .bind(i64::from(filter.limit))
    .fetch_all(&mut *conn)
    .await?;
    complete(conn, rows).await
}

/// Requests whose grant's window has ended at `now` but whose expiry is not recorded yet, oldest
/// first: the sweeper calls `JitRequest::expire` on each and stores it with [`update`].
pub async fn due_for_expiry(
    conn: &mut AnyConnection,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<JitRequest>, StoreError> {
    let rows = sqlx::query(select_requests!(
        "WHERE r.state = 'active' AND g.ends_at <= $1 ORDER BY g.ends_at, r.id LIMIT $2"
    ))
    .bind(millis(now))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    complete(conn, rows).await
}

fn grant_from_row(row: &AnyRow) -> Result<JitGrant, StoreError> {
    let c = Cols::new(row, "jit_grants");
    Ok(JitGrant {
        request: c.parse("request_id")?,
        user: c.parse("user_id")?,
        target: target_from(&c, "target_kind", "target")?,
        starts_at: c.time("starts_at")?,
        ends_at: c.time("ends_at")?,
        revoked_at: c.opt_time("revoked_at")?,
    })
}

/// The account's grants in force at `now`: what the effective permission set adds to its roles
/// (`schild_core::rbac::resolve`). One indexed query; the server may cache the result until the
/// earliest `ends_at`.
pub async fn active_grants(
    conn: &mut AnyConnection,
    user: UserId,
    now: OffsetDateTime,
) -> Result<Vec<JitGrant>, StoreError> {
    sqlx::query(
        "SELECT request_id, user_id, target_kind, target, starts_at, ends_at, revoked_at \
         FROM jit_grants WHERE user_id = $1 AND ends_at > $2 AND starts_at <= $2 \
         AND (revoked_at IS NULL OR revoked_at > $2) ORDER BY ends_at, request_id",
    )
    .bind(user.to_string())
    .bind(millis(now))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(grant_from_row)
    .collect()
}

/// Grants, newest first: only those in force at `now`, or with `include_ended` also expired and
/// revoked ones; for one account or everyone.
pub async fn grants(
    conn: &mut AnyConnection,
    user: Option<UserId>,
    include_ended: bool,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<JitGrant>, StoreError> {
    sqlx::query(
        "SELECT request_id, user_id, target_kind, target, starts_at, ends_at, revoked_at \
         FROM jit_grants WHERE ($1 IS NULL OR user_id = $1) \
         AND ($2 OR (ends_at > $3 AND starts_at <= $3 AND (revoked_at IS NULL OR revoked_at > $3))) \
         ORDER BY starts_at DESC, request_id DESC LIMIT $4",
    )
    .bind(user.map(|id| id.to_string()))
    .bind(include_ended)
    .bind(millis(now))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(grant_from_row)
    .collect()
}
