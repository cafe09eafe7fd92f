//! Security keys: registered WebAuthn credentials `webauthn_credentials`, ceremonies in progress
//! `webauthn_ceremonies`, and the physical-key inventory `hardware_keys`.
//!
//! The store does not interpret webauthn-rs's credential record: it keeps it as JSON beside the
//! columns that lists, policy and the inventory need.

use crate::error::is_unique_violation;
use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use schild_core::ids::UserId;
use sqlx::any::AnyRow;
use time::OffsetDateTime;
use uuid::Uuid;

/// Where a credential stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialState {
    /// Usable for sign-in.
    Active,
    /// Stopped by policy (a signature counter went backwards); an administrator may restore it.
    Blocked,
    /// Removed by its holder or an administrator, or with its key marked lost; final.
    Revoked,
}

impl CredentialState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Blocked => "blocked",
            Self::Revoked => "revoked",
        }
    }
}

impl std::str::FromStr for CredentialState {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "active" => Ok(Self::Active),
            "blocked" => Ok(Self::Blocked),
            "revoked" => Ok(Self::Revoked),
            _ => Err(()),
        }
    }
}

/// A registered credential.
#[derive(Debug, Clone)]
pub struct CredentialRow {
    /// Schild's id for it.
    pub id: Uuid,
    /// Whose it is.
    pub user_id: UserId,
    /// The authenticator's credential id, base64url without padding.
    pub credential_id: String,
    /// The physical key in the inventory it lives on, when enrolled at a station.
    pub hardware_key_id: Option<Uuid>,
    /// The holder's name for it.
    pub name: String,
    /// The authenticator's AAGUID as a UUID string.
    pub aaguid: String,
    /// The attestation statement format at registration (`packed`, `none`, …).
    pub attestation_format: String,
    /// Transports the authenticator reported (`usb`, `nfc`, …).
    pub transports: Vec<String>,
    /// Whether it is a discoverable credential (usable for passwordless sign-in).
    pub discoverable: bool,
    /// Whether the user was verified (PIN or biometrics) at registration.
    pub user_verified: bool,
    /// webauthn-rs's credential record, JSON.
    pub credential: String,
    /// The last signature counter seen.
    pub sign_count: u64,
    /// Where it stands.
    pub state: CredentialState,
    /// When it was registered.
    pub created_at: OffsetDateTime,
    /// When it last signed someone in.
    pub last_used_at: Option<OffsetDateTime>,
    /// When its state last changed.
    pub state_changed_at: Option<OffsetDateTime>,
    /// Why its state last changed.
    pub state_reason: Option<String>,
}

/// The columns every query reads and writes, in one order.
macro_rules! credential_columns {
    () => {
        "id, user_id, credential_id, hardware_key_id, name, aaguid, \
     attestation_format, transports, discoverable, user_verified, credential, sign_count, state, \
     created_at, last_used_at, state_changed_at, state_reason"
    };
}

fn credential_from_row(row: &AnyRow) -> Result<CredentialRow, StoreError> {
    let c = Cols::new(row, "webauthn_credentials");
    Ok(CredentialRow {
        id: c.parse("id")?,
        user_id: c.parse("user_id")?,
        credential_id: c.text("credential_id")?,
        hardware_key_id: c.opt_parse("hardware_key_id")?,
        name: c.text("name")?,
        aaguid: c.text("aaguid")?,
        attestation_format: c.text("attestation_format")?,
        transports: c.json("transports")?,
        discoverable: c.bool("discoverable")?,
        user_verified: c.bool("user_verified")?,
        credential: c.text("credential")?,
        sign_count: c.u64("sign_count")?,
        state: c.parse("state")?,
        created_at: c.time("created_at")?,
        last_used_at: c.opt_time("last_used_at")?,
        state_changed_at: c.opt_time("state_changed_at")?,
        state_reason: c.opt_text("state_reason")?,
    })
}

fn count_value(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Stores a newly registered credential (its `state` must be active). Fails with
/// [`StoreError::CredentialRegistered`] when the credential id is known already.
pub async fn insert_credential(
    conn: &mut AnyConnection,
    row: &CredentialRow,
) -> Result<(), StoreError> {
    let transports = serde_json::to_string(&row.transports)
        .map_err(|_| StoreError::Encode { what: "transports" })?;
    sqlx::query(concat!(
        "INSERT INTO webauthn_credentials (",
        credential_columns!(),
        ") \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    ))
    .bind(row.id.to_string())
    .bind(row.user_id.to_string())
    .bind(&row.credential_id)
    .bind(row.hardware_key_id.map(|id| id.to_string()))
    .bind(&row.name)
    .bind(&row.aaguid)
    .bind(&row.attestation_format)
    .bind(transports)
    .bind(row.discoverable)
    .bind(row.user_verified)
    .bind(&row.credential)
    .bind(count_value(row.sign_count))
    .bind(row.state.as_str())
    .bind(millis(row.created_at))
    .bind(row.last_used_at.map(millis))
    .bind(row.state_changed_at.map(millis))
    .bind(row.state_reason.as_deref())
    .execute(&mut *conn)
    .await
    .map_err(|err| {
        if is_unique_violation(
            &err,
            "webauthn_credentials_credential_id_key",
            "webauthn_credentials.credential_id",
        ) {
            StoreError::CredentialRegistered
        } else {
            err.into()
        }
    })?;
    Ok(())
}

/// Every credential of an account, oldest first, in any state.
pub async fn credentials_of(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Vec<CredentialRow>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        credential_columns!(),
        " FROM webauthn_credentials WHERE user_id = $1 \
         ORDER BY created_at, id"
    ))
    .bind(user.to_string())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(credential_from_row)
    .collect()
}

/// A credential by Schild's id.
pub async fn credential(
    conn: &mut AnyConnection,
    id: Uuid,
) -> Result<Option<CredentialRow>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        credential_columns!(),
        " FROM webauthn_credentials WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(credential_from_row)
    .transpose()
}

/// A credential by the authenticator's credential id (base64url).
pub async fn credential_by_credential_id(
    conn: &mut AnyConnection,
    credential_id: &str,
) -> Result<Option<CredentialRow>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        credential_columns!(),
        " FROM webauthn_credentials WHERE credential_id = $1"
    ))
    .bind(credential_id)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(credential_from_row)
    .transpose()
}

/// How many active credentials an account has.
pub async fn count_active(conn: &mut AnyConnection, user: UserId) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = $1 AND state = 'active'",
    )
    .bind(user.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// How many credentials an account has that still stand as its second factor: active ones, and
/// blocked ones (a blocked key must not turn the account into a password-only one).
pub async fn count_enrolled(conn: &mut AnyConnection, user: UserId) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = $1 AND state <> 'revoked'",
    )
    .bind(user.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Records a successful sign-in with a credential: its updated record and counter. A
/// compare-and-set on the counter seen before, so of two sign-ins racing with the same
/// assertion counter only one is recorded; returns whether this one was.
pub async fn record_use(
    conn: &mut AnyConnection,
    id: Uuid,
    seen_count: u64,
    new_count: u64,
    credential_json: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE webauthn_credentials SET sign_count = $3, credential = $4, last_used_at = $5 \
         WHERE id = $1 AND sign_count = $2 AND state = 'active'",
    )
    .bind(id.to_string())
    .bind(count_value(seen_count))
    .bind(count_value(new_count))
    .bind(credential_json)
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves a credential from one state to another, recording why; returns `false` (nothing
/// changed) when it is not in state `from`. Revocation is final: nothing leaves `Revoked`.
pub async fn set_credential_state(
    conn: &mut AnyConnection,
    id: Uuid,
    from: CredentialState,
    to: CredentialState,
    reason: &str,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    if from == CredentialState::Revoked {
        return Ok(false);
    }
    let done = sqlx::query(
        "UPDATE webauthn_credentials SET state = $3, state_changed_at = $4, state_reason = $5 \
         WHERE id = $1 AND state = $2",
    )
    .bind(id.to_string())
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(millis(now))
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Renames one of an account's credentials; `false` when the account has no such credential.
pub async fn rename_credential(
    conn: &mut AnyConnection,
    user: UserId,
    id: Uuid,
    name: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE webauthn_credentials SET name = $3 WHERE id = $1 AND user_id = $2 \
         AND state <> 'revoked'",
    )
    .bind(id.to_string())
    .bind(user.to_string())
    .bind(name)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every not-yet-revoked credential on a physical key; returns the ids revoked.
pub async fn revoke_credentials_on_key(
    conn: &mut AnyConnection,
    hardware_key: Uuid,
    reason: &str,
    now: OffsetDateTime,
) -> Result<Vec<Uuid>, StoreError> {
    let rows = sqlx::query(
        "UPDATE webauthn_credentials SET state = 'revoked', state_changed_at = $2, \
         state_reason = $3 WHERE hardware_key_id = $1 AND state <> 'revoked' RETURNING id",
    )
    .bind(hardware_key.to_string())
    .bind(millis(now))
    .bind(reason)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| Cols::new(row, "webauthn_credentials").parse("id"))
        .collect()
}

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyPurpose {
    /// Registering a new credential for a known account.
    Register,
    /// The second factor after the password.
    SecondFactor,
    /// Passwordless sign-in with a discoverable credential; the account is learnt from the key.
    Passwordless,
}

impl CeremonyPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::SecondFactor => "second_factor",
            Self::Passwordless => "passwordless",
        }
    }
}

/// A ceremony in progress.
#[derive(Debug, Clone)]
pub struct CeremonyRow {
    /// Its id, given to the client.
    pub id: Uuid,
    /// The account, when known.
    pub user_id: Option<UserId>,
    /// What it is for.
    pub purpose: CeremonyPurpose,
    /// webauthn-rs's ceremony state (challenge, policy), JSON.
    pub state: String,
    /// When it began.
    pub created_at: OffsetDateTime,
    /// When it can no longer be completed.
    pub expires_at: OffsetDateTime,
}

/// Stores a ceremony, first dropping every expired one so the table stays small.
pub async fn put_ceremony(conn: &mut AnyConnection, row: &CeremonyRow) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
        .bind(millis(row.created_at))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO webauthn_ceremonies (id, user_id, purpose, state, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.id.to_string())
    .bind(row.user_id.map(|user| user.to_string()))
    .bind(row.purpose.as_str())
    .bind(&row.state)
    .bind(millis(row.created_at))
    .bind(millis(row.expires_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes a ceremony for completion: deletes it and returns it, only when it exists, has this
/// purpose and has not expired. A ceremony is taken at most once, so a challenge cannot be
/// answered twice; a failed answer needs a new ceremony.
pub async fn take_ceremony(
    conn: &mut AnyConnection,
    id: Uuid,
    purpose: CeremonyPurpose,
    now: OffsetDateTime,
) -> Result<Option<CeremonyRow>, StoreError> {
    let row = sqlx::query(
        "DELETE FROM webauthn_ceremonies WHERE id = $1 AND purpose = $2 AND expires_at > $3 \
         RETURNING id, user_id, state, created_at, expires_at",
    )
    .bind(id.to_string())
    .bind(purpose.as_str())
    .bind(millis(now))
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| {
        let c = Cols::new(&row, "webauthn_ceremonies");
        Ok(CeremonyRow {
            id: c.parse("id")?,
            user_id: c.opt_parse("user_id")?,
            purpose,
            state: c.text("state")?,
            created_at: c.time("created_at")?,
            expires_at: c.time("expires_at")?,
        })
    })
    .transpose()
}
