//! The hardware-key inventory `hardware_keys`: physical security keys issued to people at an
//! enrollment station, with who issued them, where and when, and whether they are still in use.

use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use schild_core::ids::UserId;
use sqlx::any::AnyRow;
use time::OffsetDateTime;
use uuid::Uuid;

/// Where an issued key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// With its holder and in use.
    Active,
    /// Reported lost; its credentials are revoked.
    Lost,
    /// Withdrawn (returned, broken, holder left); its credentials are revoked.
    Revoked,
}

impl KeyState {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Lost => "lost",
            Self::Revoked => "revoked",
        }
    }
}

impl std::str::FromStr for KeyState {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "active" => Ok(Self::Active),
            "lost" => Ok(Self::Lost),
            "revoked" => Ok(Self::Revoked),
            _ => Err(()),
        }
    }
}

/// One physical key in the inventory.
#[derive(Debug, Clone)]
pub struct HardwareKeyRow {
    /// Its inventory id.
    pub id: Uuid,
    /// Its holder.
    pub user_id: UserId,
    /// Its AAGUID as a UUID string.
    pub aaguid: String,
    /// Its model name at enrollment.
    pub model: String,
    /// Its serial number, where the key discloses one.
    pub serial: Option<String>,
    /// The enrollment station that issued it.
    pub station: Option<String>,
    /// The operator who issued it.
    pub enrolled_by: Option<UserId>,
    /// When.
    pub enrolled_at: OffsetDateTime,
    /// Where it stands.
    pub state: KeyState,
    /// When its state last changed.
    pub state_changed_at: Option<OffsetDateTime>,
    /// Who changed it.
    pub state_changed_by: Option<UserId>,
    /// Why.
    pub state_reason: Option<String>,
}

/// The columns every query reads and writes, in one order.
macro_rules! key_columns {
    () => {
        "id, user_id, aaguid, model, serial, station, enrolled_by, enrolled_at, \
     state, state_changed_at, state_changed_by, state_reason"
    };
}

fn from_row(row: &AnyRow) -> Result<HardwareKeyRow, StoreError> {
    let c = Cols::new(row, "hardware_keys");
    Ok(HardwareKeyRow {
        id: c.parse("id")?,
        user_id: c.parse("user_id")?,
        aaguid: c.text("aaguid")?,
        model: c.text("model")?,
        serial: c.opt_text("serial")?,
        station: c.opt_text("station")?,
        enrolled_by: c.opt_parse("enrolled_by")?,
        enrolled_at: c.time("enrolled_at")?,
        state: c.parse("state")?,
        state_changed_at: c.opt_time("state_changed_at")?,
        state_changed_by: c.opt_parse("state_changed_by")?,
        state_reason: c.opt_text("state_reason")?,
    })
}

/// Adds a key to the inventory.
pub async fn insert(conn: &mut AnyConnection, row: &HardwareKeyRow) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "INSERT INTO hardware_keys (",
        key_columns!(),
        ") \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(row.id.to_string())
    .bind(row.user_id.to_string())
    .bind(&row.aaguid)
    .bind(&row.model)
    .bind(row.serial.as_deref())
    .bind(row.station.as_deref())
    .bind(row.enrolled_by.map(|user| user.to_string()))
    .bind(millis(row.enrolled_at))
    .bind(row.state.as_str())
    .bind(row.state_changed_at.map(millis))
    .bind(row.state_changed_by.map(|user| user.to_string()))
    .bind(row.state_reason.as_deref())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One key by inventory id.
pub async fn by_id(
    conn: &mut AnyConnection,
    id: Uuid,
) -> Result<Option<HardwareKeyRow>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        key_columns!(),
        " FROM hardware_keys WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// The inventory, newest first: everyone's keys, or one holder's.
pub async fn list(
    conn: &mut AnyConnection,
    holder: Option<UserId>,
) -> Result<Vec<HardwareKeyRow>, StoreError> {
    let query = match holder {
        Some(user) => sqlx::query(concat!(
            "SELECT ",
            key_columns!(),
            " FROM hardware_keys WHERE user_id = $1 \
             ORDER BY enrolled_at DESC, id DESC"
        ))
        .bind(user.to_string()),
        None => sqlx::query(concat!(
            "SELECT ",
            key_columns!(),
            " FROM hardware_keys ORDER BY enrolled_at DESC, id DESC"
        )),
    };
    query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Marks an active key lost or revoked; `false` (nothing changed) when it is not active.
pub async fn withdraw(
    conn: &mut AnyConnection,
    id: Uuid,
    state: KeyState,
    by: Option<UserId>,
    reason: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    if state == KeyState::Active {
        return Ok(false);
    }
    let done = sqlx::query(
        "UPDATE hardware_keys SET state = $2, state_changed_at = $3, state_changed_by = $4, \
         state_reason = $5 WHERE id = $1 AND state = 'active'",
    )
    .bind(id.to_string())
    .bind(state.as_str())
    .bind(millis(now))
    .bind(by.map(|user| user.to_string()))
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
