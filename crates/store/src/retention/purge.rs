//! The purge queries, one pair per data class that Schild keeps: `expired_*` counts what would
//! go (and names the oldest record), `purge_*` deletes it. Each takes the class's cutoff from the
//! retention plan (`schild_core::retention::plan`) and applies the same rule in SQL: a record
//! goes when it ended strictly before the cutoff and no legal hold in force covers its class or
//! its account. Holds are read inside the statement, so a hold placed after the plan was made
//! still protects. Run `purge_*` inside a [`Tx`](crate::Tx), one per class.
//!
//! | class | table | ended | account |
//! |---|---|---|---|
//! | `sessions` | `sessions` (refresh tokens cascade) | expiry or revocation | `user_id` |
//! | `api_keys` | `api_keys` | expiry or revocation | `owner_id` |
//! | `audit_events` | `audit_events` | `at` | `subject` |
//!
//! # The audit trail
//!
//! `audit_events` refuses `UPDATE` and `DELETE` by trigger. The only deletions it accepts are of
//! events at or below the *purge floor* (`audit_purge_floor`: an id and a time, both only ever
//! rising, the row undeletable). [`purge_audit_events`] raises the floor to the newest expired
//! event and deletes below it in one transaction, in which the caller also appends the run's
//! `retention.purge.completed` event naming the new floor. Any other `DELETE` — of a recent
//! event, or of an old one before a purge raised the floor — is still refused. (This guards
//! against mistakes and against rewriting history through the application's connection; someone
//! who can drop triggers can do anything, which is why the trail is also meant to be exported.)

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use time::OffsetDateTime;

/// What a dry run found for one class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    /// How many records are past their period and not held.
    pub count: u64,
    /// The one that ended first, when there is any.
    pub oldest: Option<OldestRecord>,
}

/// The record that ended first among those that would go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldestRecord {
    /// Its id: a session id, an API key's public id, an audit event's number.
    pub id: String,
    /// When it ended.
    pub ended_at: OffsetDateTime,
}

/// `NOT EXISTS` a legal hold in force on class `$class` covering the account in column `$subject`.
macro_rules! not_held {
    ($class:literal, $subject:literal) => {
        concat!(
            "NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.class = '",
            $class,
            "' AND h.released_at IS NULL AND (h.subject IS NULL OR h.subject = ",
            $subject,
            "))"
        )
    };
}

/// Sessions (with `$1` the cutoff) that ended before the cutoff and are not held.
macro_rules! expired_sessions {
    () => {
        concat!(
            "(expires_at < $1 OR revoked_at < $1) AND ",
            not_held!("sessions", "sessions.user_id")
        )
    };
}

/// API keys (with `$1` the cutoff) that ended before the cutoff and are not held.
macro_rules! expired_api_keys {
    () => {
        concat!(
            "(expires_at < $1 OR revoked_at < $1) AND ",
            not_held!("api_keys", "api_keys.owner_id")
        )
    };
}

/// Audit events (with `$1` the cutoff) older than the cutoff and not held.
macro_rules! expired_audit_events {
    () => {
        concat!(
            "at < $1 AND ",
            not_held!("audit_events", "audit_events.subject")
        )
    };
}

/// The earlier of expiry and revocation.
macro_rules! ended {
    () => {
        "CASE WHEN revoked_at IS NOT NULL AND revoked_at < expires_at THEN revoked_at \
         ELSE expires_at END"
    };
}

async fn count(
    conn: &mut AnyConnection,
    sql: &'static str,
    table: &'static str,
    cutoff: OffsetDateTime,
) -> Result<u64, StoreError> {
    let row = sqlx::query(sql)
        .bind(millis(cutoff))
        .fetch_one(&mut *conn)
        .await?;
    Cols::new(&row, table).u64("n")
}

/// Reads `id` (text or integer) and `ended_at` of the first row `sql` returns.
async fn oldest(
    conn: &mut AnyConnection,
    sql: &'static str,
    table: &'static str,
    cutoff: OffsetDateTime,
) -> Result<Option<OldestRecord>, StoreError> {
    let Some(row) = sqlx::query(sql)
        .bind(millis(cutoff))
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let c = Cols::new(&row, table);
    let id = match c.text("id") {
        Ok(text) => text,
        Err(_) => c.int("id")?.to_string(),
    };
    Ok(Some(OldestRecord {
        id,
        ended_at: c.time("ended_at")?,
    }))
}

/// Sessions that would go at `cutoff`.
pub async fn expired_sessions(
    conn: &mut AnyConnection,
    cutoff: OffsetDateTime,
) -> Result<Expired, StoreError> {
    Ok(Expired {
        count: count(
            conn,
            concat!(
                "SELECT COUNT(*) AS n FROM sessions WHERE ",
                expired_sessions!()
            ),
            "sessions",
            cutoff,
        )
        .await?,
        oldest: oldest(
            conn,
            concat!(
                "SELECT id, ",
                ended!(),
                " AS ended_at FROM sessions WHERE ",
                expired_sessions!(),
                " ORDER BY ended_at, id LIMIT 1"
            ),
            "sessions",
            cutoff,
        )
        .await?,
    })
}

/// Deletes the sessions that ended before `cutoff` (and, by cascade, their refresh tokens),
/// except held ones; returns how many went.
pub async fn purge_sessions(
    conn: &mut AnyConnection,
    cutoff: OffsetDateTime,
) -> Result<u64, StoreError> {
    let done = sqlx::query(concat!("DELETE FROM sessions WHERE ", expired_sessions!()))
        .bind(millis(cutoff))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// API keys that would go at `cutoff`.
pub async fn expired_api_keys(
    conn: &mut AnyConnection,
    cutoff: OffsetDateTime,
) -> Result<Expired, StoreError> {
    Ok(Expired {
        count: count(
            conn,
            concat!(
                "SELECT COUNT(*) AS n FROM api_keys WHERE ",
                expired_api_keys!()
            ),
            "api_keys",
            cutoff,
        )
        .await?,
        oldest: oldest(
            conn,
            concat!(
                "SELECT prefix AS id, ",
                ended!(),
                " AS ended_at FROM api_keys WHERE ",
                expired_api_keys!(),
                " ORDER BY ended_at, prefix LIMIT 1"
            ),
            "api_keys",
            cutoff,
        )
        .await?,
    })
}

/// Deletes the API keys that expired or were revoked before `cutoff`, except held ones;
/// returns how many went.
pub async fn purge_api_keys(
    conn: &mut AnyConnection,
    cutoff: OffsetDateTime,
) -> Result<u64, StoreError> {
    let done = sqlx::query(concat!("DELETE FROM api_keys WHERE ", expired_api_keys!()))
        .bind(millis(cutoff))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// Audit events that would go at `cutoff`.
pub async fn expired_audit_events(
    conn: &mut AnyConnection,
    cutoff: OffsetDateTime,
) -> Result<Expired, StoreError> {
    Ok(Expired {
        count: count(
            conn,
            concat!(
                "SELECT COUNT(*) AS n FROM audit_events WHERE ",
                expired_audit_events!()
            ),
            "audit_events",
            cutoff,
        )
        .await?,
        oldest: oldest(
            conn,
            concat!(
                "SELECT id, at AS ended_at FROM audit_events WHERE ",
                expired_audit_events!(),
                " ORDER BY at, id LIMIT 1"
            ),
            "audit_events",
            cutoff,
        )
        .await?,
    })
}

/// What [`purge_audit_events`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditPurge {
    /// How many events went.
    pub purged: u64,
    /// The floor's id afterwards, when this purge raised it.
    pub floor: Option<i64>,
}

/// The audit trail's purge floor: events with an id at most `max_id` that happened before
/// `before_at` may be deleted (by a purge), nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditFloor {
    /// The highest id that may be missing.
    pub max_id: i64,
    /// Only events before this instant may be missing.
    pub before_at: OffsetDateTime,
    /// When a purge last raised it.
    pub raised_at: Option<OffsetDateTime>,
}

/// The current purge floor.
pub async fn audit_floor(conn: &mut AnyConnection) -> Result<AuditFloor, StoreError> {
    let row =
        sqlx::query("SELECT max_id, before_at, raised_at FROM audit_purge_floor WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::corrupt("audit_purge_floor", "id"))?;
    let c = Cols::new(&row, "audit_purge_floor");
    Ok(AuditFloor {
        max_id: c.int("max_id")?,
        before_at: c.time("before_at")?,
        raised_at: c.opt_time("raised_at")?,
    })
}

/// Deletes the audit events older than `cutoff`, except held ones: raises the purge floor to
/// the newest of them (at `now`), then deletes at or below it. Call it in the transaction that
/// also appends the run's audit event, so the floor, the deletion and their record commit
/// together or not at all.
pub async fn purge_audit_events(
    conn: &mut AnyConnection,
    cutoff: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<AuditPurge, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT MAX(id) AS max_id FROM audit_events WHERE ",
        expired_audit_events!()
    ))
    .bind(millis(cutoff))
    .fetch_one(&mut *conn)
    .await?;
    let Some(max_id) = Cols::new(&row, "audit_events").opt_int("max_id")? else {
        return Ok(AuditPurge {
            purged: 0,
            floor: None,
        });
    };
    sqlx::query(
        "UPDATE audit_purge_floor SET \
         max_id = CASE WHEN max_id < $1 THEN $1 ELSE max_id END, \
         before_at = CASE WHEN before_at < $2 THEN $2 ELSE before_at END, \
         raised_at = $3 WHERE id = 1",
    )
    .bind(max_id)
    .bind(millis(cutoff))
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query(concat!(
        "DELETE FROM audit_events WHERE id <= $2 AND ",
        expired_audit_events!()
    ))
    .bind(millis(cutoff))
    .bind(max_id)
    .execute(&mut *conn)
    .await?;
    let floor = audit_floor(conn).await?;
    Ok(AuditPurge {
        purged: done.rows_affected(),
        floor: Some(floor.max_id),
    })
}

#[cfg(test)]
mod tests {
    use schild_core::retention::DataClass;

    /// The class names written into the SQL are the ones the core stores holds under.
    #[test]
    fn hold_clauses_name_the_stored_classes() {
        for (sql, class) in [
            (expired_sessions!(), DataClass::Sessions),
            (expired_api_keys!(), DataClass::ApiKeys),
            (expired_audit_events!(), DataClass::AuditEvents),
        ] {
            assert!(
                sql.contains(&format!("h.class = '{}'", class.as_str())),
                "{sql}"
            );
        }
    }
}
