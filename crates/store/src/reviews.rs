//! Access-review campaigns: `review_campaigns(id, name, scope, escalation_grace_ms,
//! auto_revoke, unused_after_ms, escalate_to, created_by, started_at, deadline, completed_at)`,
//! `review_items(id, campaign_id, position, user_id, username, role, sensitive, granted_by,
//! granted_at, permission_last_used, last_used_at, flagged_unused, escalated_at,
//! auto_revoked_at, resolved_at)` and `review_decisions(item_id, reviewer, verdict, reason,
//! decided_at)`.
//!
//! The campaign logic is `schild_core::rbac::review`; this module stores its values. Changes are
//! stored with [`save`], which compares the campaign as loaded with the campaign after a core
//! transition and writes only the difference, each change a compare-and-set: an item is
//! resolved (decided *or* revoked automatically) at most once, so a reviewer's decision and the
//! deadline sweeper, or two reviewers, can never both win.

use crate::roles::duration_ms;
use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use schild_core::ids::UserId;
use schild_core::rbac::review::{AssignmentSnapshot, Decision, ReviewPolicy, ReviewScope, Verdict};
use schild_core::rbac::{CampaignId, Permission, Reason, ReviewCampaign, ReviewItem};
use sqlx::Connection as _;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

fn encode<T: serde::Serialize>(value: &T, what: &'static str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|_| StoreError::Encode { what })
}

fn usage_json(item: &ReviewItem) -> Result<String, StoreError> {
    let as_millis: BTreeMap<Permission, i64> = item
        .permission_last_used
        .iter()
        .map(|(p, at)| (*p, millis(*at)))
        .collect();
    encode(&as_millis, "review item usage")
}

fn resolved_at(item: &ReviewItem) -> Option<i64> {
    item.decision
        .as_ref()
        .map(|d| d.at)
        .or(item.auto_revoked_at)
        .map(millis)
}

/// Stores a campaign just started (`ReviewCampaign::start`) with all its items.
pub async fn insert(conn: &mut AnyConnection, campaign: &ReviewCampaign) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    sqlx::query(
        "INSERT INTO review_campaigns (id, name, scope, escalation_grace_ms, auto_revoke, \
         unused_after_ms, escalate_to, created_by, started_at, deadline, completed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(campaign.id.to_string())
    .bind(campaign.name.as_str())
    .bind(encode(&campaign.scope, "review scope")?)
    .bind(duration_ms(campaign.policy.escalation_grace))
    .bind(campaign.policy.auto_revoke)
    .bind(duration_ms(campaign.policy.unused_after))
    .bind(campaign.policy.escalate_to.map(|id| id.to_string()))
    .bind(campaign.created_by.map(|id| id.to_string()))
    .bind(millis(campaign.started_at))
    .bind(millis(campaign.deadline))
    .bind(campaign.completed_at.map(millis))
    .execute(&mut *tx)
    .await?;
    for (position, item) in campaign.items.iter().enumerate() {
        sqlx::query(
            "INSERT INTO review_items (id, campaign_id, position, user_id, username, role, \
             sensitive, granted_by, granted_at, permission_last_used, last_used_at, \
             flagged_unused, escalated_at, auto_revoked_at, resolved_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(item.id.to_string())
        .bind(campaign.id.to_string())
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(item.user.to_string())
        .bind(item.username.as_str())
        .bind(item.role.as_str())
        .bind(item.sensitive)
        .bind(item.granted_by.map(|id| id.to_string()))
        .bind(millis(item.granted_at))
        .bind(usage_json(item)?)
        .bind(item.last_used.map(millis))
        .bind(item.flagged_unused)
        .bind(item.escalated_at.map(millis))
        .bind(item.auto_revoked_at.map(millis))
        .bind(resolved_at(item))
        .execute(&mut *tx)
        .await?;
        if let Some(decision) = &item.decision {
            insert_decision(&mut tx, item, decision).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

async fn insert_decision(
    conn: &mut AnyConnection,
    item: &ReviewItem,
    decision: &Decision,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO review_decisions (item_id, reviewer, verdict, reason, decided_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(item.id.to_string())
    .bind(decision.reviewer.to_string())
    .bind(decision.verdict.as_str())
    .bind(decision.reason.as_ref().map(Reason::to_string))
    .bind(millis(decision.at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Stores the changes from `before` (the campaign as loaded) to `after` (the same campaign after
/// `decide` or `tick`) in one transaction. Returns `false` and changes nothing when any of them
/// lost a race (an item already resolved or escalated, the campaign already completed by
/// someone else): reload and try again. [`StoreError::NotFound`] when `before` and `after` are
/// not the same campaign with the same items.
pub async fn save(
    conn: &mut AnyConnection,
    before: &ReviewCampaign,
    after: &ReviewCampaign,
) -> Result<bool, StoreError> {
    if before.id != after.id
        || before.items.len() != after.items.len()
        || before
            .items
            .iter()
            .zip(&after.items)
            .any(|(b, a)| b.id != a.id)
    {
        return Err(StoreError::NotFound);
    }
    let mut tx = conn.begin().await?;
    for (old, new) in before.items.iter().zip(&after.items) {
        if old.escalated_at.is_none()
            && let Some(at) = new.escalated_at
        {
            let done = sqlx::query(
                "UPDATE review_items SET escalated_at = $2 WHERE id = $1 AND escalated_at IS NULL",
            )
            .bind(new.id.to_string())
            .bind(millis(at))
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
        }
        if !old.is_resolved() && new.is_resolved() {
            let done = sqlx::query(
                "UPDATE review_items SET resolved_at = $2, auto_revoked_at = $3 \
                 WHERE id = $1 AND resolved_at IS NULL",
            )
            .bind(new.id.to_string())
            .bind(resolved_at(new))
            .bind(new.auto_revoked_at.map(millis))
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
            if let Some(decision) = &new.decision {
                insert_decision(&mut tx, new, decision).await?;
            }
        }
    }
    if before.completed_at.is_none()
        && let Some(at) = after.completed_at
    {
        let done = sqlx::query(
            "UPDATE review_campaigns SET completed_at = $2 WHERE id = $1 AND completed_at IS NULL",
        )
        .bind(after.id.to_string())
        .bind(millis(at))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
    }
    tx.commit().await?;
    Ok(true)
}

fn campaign_from_row(row: &AnyRow) -> Result<ReviewCampaign, StoreError> {
    let c = Cols::new(row, "review_campaigns");
    let scope: ReviewScope = c.json("scope")?;
    Ok(ReviewCampaign {
        id: c.parse("id")?,
        name: c.text("name")?,
        scope,
        policy: ReviewPolicy {
            escalation_grace: Duration::milliseconds(c.int("escalation_grace_ms")?),
            auto_revoke: c.bool("auto_revoke")?,
            unused_after: Duration::milliseconds(c.int("unused_after_ms")?),
            escalate_to: c.opt_parse("escalate_to")?,
        },
        created_by: c.opt_parse("created_by")?,
        started_at: c.time("started_at")?,
        deadline: c.time("deadline")?,
        completed_at: c.opt_time("completed_at")?,
        items: Vec::new(),
    })
}

fn item_from_row(row: &AnyRow) -> Result<ReviewItem, StoreError> {
    let c = Cols::new(row, "review_items");
    let usage: BTreeMap<Permission, i64> = c.json("permission_last_used")?;
    let permission_last_used = usage
        .into_iter()
        .map(|(p, ms)| {
            crate::row::from_millis(ms)
                .map(|at| (p, at))
                .ok_or_else(|| c.corrupt("permission_last_used"))
        })
        .collect::<Result<_, _>>()?;
    let decision = match c.opt_text("verdict")?.as_deref() {
        None => None,
        Some(verdict) => Some(Decision {
            reviewer: c.parse("reviewer")?,
            verdict: match verdict {
                "certify" => Verdict::Certify,
                "revoke" => Verdict::Revoke,
                _ => return Err(c.corrupt("verdict")),
            },
            reason: c
                .opt_text("reason")?
                .map(|r| Reason::parse(&r).map_err(|_| c.corrupt("reason")))
                .transpose()?,
            at: c.time("decided_at")?,
        }),
    };
    Ok(ReviewItem {
        id: c.parse("id")?,
        user: c.parse("user_id")?,
        username: c.text("username")?,
        role: c.parse("role")?,
        sensitive: c.bool("sensitive")?,
        granted_by: c.opt_parse("granted_by")?,
        granted_at: c.time("granted_at")?,
        permission_last_used,
        last_used: c.opt_time("last_used_at")?,
        flagged_unused: c.bool("flagged_unused")?,
        escalated_at: c.opt_time("escalated_at")?,
        decision,
        auto_revoked_at: c.opt_time("auto_revoked_at")?,
    })
}

/// The campaign with this id, with all its items and decisions.
pub async fn by_id(
    conn: &mut AnyConnection,
    id: CampaignId,
) -> Result<Option<ReviewCampaign>, StoreError> {
    let Some(row) = sqlx::query(
        "SELECT id, name, scope, escalation_grace_ms, auto_revoke, unused_after_ms, escalate_to, \
         created_by, started_at, deadline, completed_at FROM review_campaigns WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let mut campaign = campaign_from_row(&row)?;
    campaign.items = sqlx::query(
        "SELECT i.id AS id, i.user_id AS user_id, i.username AS username, i.role AS role, \
         i.sensitive AS sensitive, i.granted_by AS granted_by, i.granted_at AS granted_at, \
         i.permission_last_used AS permission_last_used, i.last_used_at AS last_used_at, \
         i.flagged_unused AS flagged_unused, i.escalated_at AS escalated_at, \
         i.auto_revoked_at AS auto_revoked_at, d.reviewer AS reviewer, d.verdict AS verdict, \
         d.reason AS reason, d.decided_at AS decided_at \
         FROM review_items i LEFT JOIN review_decisions d ON d.item_id = i.id \
         WHERE i.campaign_id = $1 ORDER BY i.position",
    )
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(item_from_row)
    .collect::<Result<_, _>>()?;
    Ok(Some(campaign))
}

/// A campaign in a listing, without its items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignSummary {
    /// Its id.
    pub id: CampaignId,
    /// Its name.
    pub name: String,
    /// Who started it.
    pub created_by: Option<UserId>,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// When decisions are due.
    pub deadline: OffsetDateTime,
    /// When it completed.
    pub completed_at: Option<OffsetDateTime>,
    /// How many items it has.
    pub items: u64,
    /// How many of them are decided or revoked automatically.
    pub resolved: u64,
}

/// Every campaign, newest first.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<CampaignSummary>, StoreError> {
    sqlx::query(
        "SELECT c.id AS id, c.name AS name, c.created_by AS created_by, \
         c.started_at AS started_at, c.deadline AS deadline, c.completed_at AS completed_at, \
         (SELECT COUNT(*) FROM review_items i WHERE i.campaign_id = c.id) AS items, \
         (SELECT COUNT(*) FROM review_items i WHERE i.campaign_id = c.id \
          AND i.resolved_at IS NOT NULL) AS resolved \
         FROM review_campaigns c ORDER BY c.started_at DESC, c.id DESC",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "review_campaigns");
        Ok(CampaignSummary {
            id: c.parse("id")?,
            name: c.text("name")?,
            created_by: c.opt_parse("created_by")?,
            started_at: c.time("started_at")?,
            deadline: c.time("deadline")?,
            completed_at: c.opt_time("completed_at")?,
            items: c.u64("items")?,
            resolved: c.u64("resolved")?,
        })
    })
    .collect()
}

/// Open campaigns whose deadline has passed at `now`: the sweeper loads each, calls
/// `ReviewCampaign::tick(now)`, applies the revocations and [`save`]s.
pub async fn due(
    conn: &mut AnyConnection,
    now: OffsetDateTime,
) -> Result<Vec<CampaignId>, StoreError> {
    sqlx::query(
        "SELECT id FROM review_campaigns WHERE completed_at IS NULL AND deadline <= $1 \
         ORDER BY deadline, id",
    )
    .bind(millis(now))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| Cols::new(row, "review_campaigns").parse("id"))
    .collect()
}

/// When the latest campaign started, for the schedule (`ReviewSchedule::next_after`).
pub async fn last_started(conn: &mut AnyConnection) -> Result<Option<OffsetDateTime>, StoreError> {
    let row = sqlx::query("SELECT MAX(started_at) AS at FROM review_campaigns")
        .fetch_one(&mut *conn)
        .await?;
    Cols::new(&row, "review_campaigns").opt_time("at")
}

/// Every role assignment with the account's username and its last use of each permission: the
/// input of `ReviewCampaign::start`.
pub async fn snapshot_assignments(
    conn: &mut AnyConnection,
) -> Result<Vec<AssignmentSnapshot>, StoreError> {
    let assignments = crate::roles::all_assignments(conn).await?;
    let usage = crate::usage::all(conn).await?;
    let mut names: BTreeMap<UserId, String> = BTreeMap::new();
    for row in sqlx::query("SELECT id, username FROM users")
        .fetch_all(&mut *conn)
        .await?
    {
        let c = Cols::new(&row, "users");
        names.insert(c.parse("id")?, c.text("username")?);
    }
    Ok(assignments
        .into_iter()
        .map(|assignment| AssignmentSnapshot {
            username: names.get(&assignment.user).cloned().unwrap_or_default(),
            last_used: usage.get(&assignment.user).cloned().unwrap_or_default(),
            assignment,
        })
        .collect())
}
