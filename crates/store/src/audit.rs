//! The audit trail: `audit_events(id, at, kind, actor, subject, source_ip, data)`, append-only.
//!
//! `data` is the [`AuditEvent`] as JSON (tagged with its `kind`); `kind` and `subject` are copied
//! out of it into their own columns so the log can be filtered by index. Both migrations install
//! triggers that refuse `UPDATE` and `DELETE` on the table, so even a bug elsewhere in the server
//! cannot rewrite history through this connection. The one exception is the retention purge,
//! which may delete old events only below the purge floor it raises in the same transaction
//! ([`crate::retention::purge`]).

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use schild_core::audit::{AuditEvent, AuditRecord};
use schild_core::ids::UserId;
use sqlx::any::AnyRow;

/// An audit record as stored, with its position in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAuditRecord {
    /// The record's id: increasing in append order, usable as a paging cursor.
    pub id: i64,
    /// The record (its `at` with millisecond precision).
    pub record: AuditRecord,
}

/// Which records [`list`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this kind, for example `auth.login.failed`.
    pub kind: Option<String>,
    /// Only events about this account.
    pub subject: Option<UserId>,
    /// Only records older than this id (the `id` of the last record of the previous page).
    pub before_id: Option<i64>,
    /// At most this many records.
    pub limit: u32,
}

impl Default for AuditFilter {
    /// Everything, newest 100 first.
    fn default() -> Self {
        Self {
            kind: None,
            subject: None,
            before_id: None,
            limit: 100,
        }
    }
}

/// Appends a record; returns its id. Call it in the same [`Tx`](crate::Tx) as the change it
/// describes, so the two commit or fail together.
pub async fn append(conn: &mut AnyConnection, record: &AuditRecord) -> Result<i64, StoreError> {
    let data = serde_json::to_string(&record.event).map_err(|_| StoreError::Encode {
        what: "audit event",
    })?;
    let row = sqlx::query(
        "INSERT INTO audit_events (at, kind, actor, subject, source_ip, data) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(millis(record.at))
    .bind(record.event.kind())
    .bind(record.actor.map(|id| id.to_string()))
    .bind(record.event.subject().map(|id| id.to_string()))
    .bind(record.source_ip.map(|ip| ip.to_string()))
    .bind(data)
    .fetch_one(&mut *conn)
    .await?;
    Cols::new(&row, "audit_events").int("id")
}

fn from_row(row: &AnyRow) -> Result<StoredAuditRecord, StoreError> {
    let c = Cols::new(row, "audit_events");
    let event: AuditEvent = c.json("data")?;
    // The indexed copy must agree with the document, or filtering would lie.
    if c.text("kind")? != event.kind() {
        return Err(c.corrupt("kind"));
    }
    Ok(StoredAuditRecord {
        id: c.int("id")?,
        record: AuditRecord {
            at: c.time("at")?,
            actor: c.opt_parse("actor")?,
            source_ip: c.opt_parse("source_ip")?,
            event,
        },
    })
}

/// Records matching `filter`, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &AuditFilter,
) -> Result<Vec<StoredAuditRecord>, StoreError> {
    sqlx::query(
        "SELECT id, at, kind, actor, subject, source_ip, data FROM audit_events \
         WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR subject = $2) AND ($3 IS NULL OR id < $3) \
         ORDER BY id DESC LIMIT $4",
    )
    .bind(filter.kind.as_deref())
    .bind(filter.subject.map(|id| id.to_string()))
    .bind(filter.before_id)
    .bind(i64::from(filter.limit))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}
