//! The desktop app's record of its own actions: `desktop_actions(id, at, action, detail)`, in
//! the desktop's local database. What was done on this computer — the vault unlocked, a key
//! reset, the station mode ended, queued changes sent — for the person at it to look back on.
//! Details name things and outcomes, never secrets.

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopAction {
    /// Its id (UUIDv7).
    pub id: Uuid,
    /// When.
    pub at: OffsetDateTime,
    /// What (`vault.unlocked`, `key.reset`, …).
    pub action: String,
    /// About what, in words.
    pub detail: String,
}

/// Records an action.
pub async fn record(
    conn: &mut AnyConnection,
    at: OffsetDateTime,
    action: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO desktop_actions (id, at, action, detail) VALUES ($1, $2, $3, $4)")
        .bind(Uuid::now_v7().to_string())
        .bind(millis(at))
        .bind(action)
        .bind(detail)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The latest `limit` actions, newest first.
pub async fn recent(
    conn: &mut AnyConnection,
    limit: u32,
) -> Result<Vec<DesktopAction>, StoreError> {
    let rows =
        sqlx::query("SELECT id, at, action, detail FROM desktop_actions ORDER BY id DESC LIMIT $1")
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|row| {
            let c = Cols::new(row, "desktop_actions");
            Ok(DesktopAction {
                id: c.parse("id")?,
                at: c.time("at")?,
                action: c.text("action")?,
                detail: c.text("detail")?,
            })
        })
        .collect()
}
