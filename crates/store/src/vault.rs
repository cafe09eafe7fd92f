//! Vaults of envelope-encrypted secrets: `vaults`, their KEK versions `vault_keys`, the desktop's
//! unlock methods `vault_unlock_methods`, and the items `vault_items`.
//!
//! Everything here is ciphertext or public parameters; keys are made and opened by the caller
//! (`schild_core::vault`). Rotation writes are compare-and-set so a rotation killed at any point,
//! or run by two processes at once, never loses an item.

use crate::error::is_unique_violation;
use crate::row::{Cols, millis};
use crate::{AnyConnection, StoreError};
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// A vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultRow {
    /// Its id (bound into every ciphertext).
    pub id: String,
    /// Its display name.
    pub name: String,
    /// The KEK version that seals.
    pub current_version: u32,
    /// Days between scheduled KEK rotations.
    pub rotation_days: u32,
    /// Seconds without use before an unlocked vault locks again.
    pub auto_lock_secs: u32,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// A KEK version, wrapped by the vault's root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultKeyRow {
    /// Its version.
    pub version: u32,
    /// The key id of the root key that wrapped it.
    pub root_key_id: String,
    /// The wrapped key.
    pub wrapped: Vec<u8>,
    /// Data keys it has wrapped.
    pub wraps: u64,
    /// When it was made (for a current version: since when it is current).
    pub created_at: OffsetDateTime,
}

/// A way to unlock a desktop vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlockMethodRow {
    /// Its id within the vault (bound into its wrap of the master key).
    pub id: String,
    /// `passphrase`, `keyring`, `security-key` or `hsm`.
    pub kind: String,
    /// What the person calls it.
    pub label: String,
    /// Its public parameters as JSON (salt, keyring entry, credential id, PKCS#11 key).
    pub params: String,
    /// The key id of the method's key.
    pub wrapped_by: String,
    /// The master key, wrapped by the method's key.
    pub wrapped: Vec<u8>,
    /// When it was added.
    pub created_at: OffsetDateTime,
    /// When it last unlocked the vault.
    pub last_used_at: Option<OffsetDateTime>,
}

/// An item's description, without its ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    /// Its id (bound into its ciphertext).
    pub id: String,
    /// Its name, unique in the vault.
    pub name: String,
    /// What it is for (bound into its ciphertext).
    pub purpose: String,
    /// The KEK version that wraps its data key.
    pub key_version: u32,
    /// When it was stored.
    pub created_at: OffsetDateTime,
    /// When its value last changed.
    pub updated_at: OffsetDateTime,
}

/// An item with its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedItem {
    /// Its description.
    pub item: ItemRow,
    /// Its envelope (`schild_core::vault::envelope`).
    pub envelope: Vec<u8>,
}

fn vault_from_row(row: &AnyRow) -> Result<VaultRow, StoreError> {
    let c = Cols::new(row, "vaults");
    Ok(VaultRow {
        id: c.text("id")?,
        name: c.text("name")?,
        current_version: c.u32("current_version")?,
        rotation_days: c.u32("rotation_days")?,
        auto_lock_secs: c.u32("auto_lock_secs")?,
        created_at: c.time("created_at")?,
    })
}

fn key_from_row(row: &AnyRow) -> Result<VaultKeyRow, StoreError> {
    let c = Cols::new(row, "vault_keys");
    Ok(VaultKeyRow {
        version: c.u32("version")?,
        root_key_id: c.text("root_key_id")?,
        wrapped: c.blob("wrapped")?,
        wraps: c.u64("wraps")?,
        created_at: c.time("created_at")?,
    })
}

fn method_from_row(row: &AnyRow) -> Result<UnlockMethodRow, StoreError> {
    let c = Cols::new(row, "vault_unlock_methods");
    Ok(UnlockMethodRow {
        id: c.text("id")?,
        kind: c.text("kind")?,
        label: c.text("label")?,
        params: c.text("params")?,
        wrapped_by: c.text("wrapped_by")?,
        wrapped: c.blob("wrapped")?,
        created_at: c.time("created_at")?,
        last_used_at: c.opt_time("last_used_at")?,
    })
}

fn item_from_row(row: &AnyRow) -> Result<ItemRow, StoreError> {
    let c = Cols::new(row, "vault_items");
    Ok(ItemRow {
        id: c.text("id")?,
        name: c.text("name")?,
        purpose: c.text("purpose")?,
        key_version: c.u32("key_version")?,
        created_at: c.time("created_at")?,
        updated_at: c.time("updated_at")?,
    })
}

macro_rules! item_columns {
    () => {
        "id, name, purpose, key_version, created_at, updated_at"
    };
}

/// Creates a vault with its first KEK version; a taken id is [`StoreError::VaultExists`]. Run in
/// a transaction so a vault never exists without its key.
pub async fn create(
    conn: &mut AnyConnection,
    vault: &VaultRow,
    first_key: &VaultKeyRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO vaults (id, name, current_version, rotation_days, auto_lock_secs, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&vault.id)
    .bind(&vault.name)
    .bind(i64::from(vault.current_version))
    .bind(i64::from(vault.rotation_days))
    .bind(i64::from(vault.auto_lock_secs))
    .bind(millis(vault.created_at))
    .execute(&mut *conn)
    .await
    .map_err(|err| {
        if is_unique_violation(&err, "vaults_pkey", "vaults.id") {
            StoreError::VaultExists
        } else {
            err.into()
        }
    })?;
    insert_key(conn, &vault.id, first_key).await
}

async fn insert_key(
    conn: &mut AnyConnection,
    vault: &str,
    key: &VaultKeyRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO vault_keys (vault_id, version, root_key_id, wrapped, wraps, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(vault)
    .bind(i64::from(key.version))
    .bind(&key.root_key_id)
    .bind(&key.wrapped)
    .bind(i64::try_from(key.wraps).unwrap_or(i64::MAX))
    .bind(millis(key.created_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The vault `id`, if it exists.
pub async fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<VaultRow>, StoreError> {
    sqlx::query(
        "SELECT id, name, current_version, rotation_days, auto_lock_secs, created_at \
         FROM vaults WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(vault_from_row)
    .transpose()
}

/// Every vault, by id.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<VaultRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, current_version, rotation_days, auto_lock_secs, created_at \
         FROM vaults ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(vault_from_row).collect()
}

/// Changes a vault's rotation interval and auto-lock time.
pub async fn set_schedule(
    conn: &mut AnyConnection,
    vault: &str,
    rotation_days: u32,
    auto_lock_secs: u32,
) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE vaults SET rotation_days = $1, auto_lock_secs = $2 WHERE id = $3")
            .bind(i64::from(rotation_days))
            .bind(i64::from(auto_lock_secs))
            .bind(vault)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The vault's KEK versions in use, oldest first.
pub async fn keys(conn: &mut AnyConnection, vault: &str) -> Result<Vec<VaultKeyRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT version, root_key_id, wrapped, wraps, created_at FROM vault_keys \
         WHERE vault_id = $1 ORDER BY version",
    )
    .bind(vault)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(key_from_row).collect()
}

/// Starts a rotation: makes `new_key` the current version, if the current one is still
/// `expected_current` (another process may have rotated first: then `false`, nothing written).
/// Run in a transaction with nothing else, so the new version is stored exactly when it is current.
pub async fn begin_rotation(
    conn: &mut AnyConnection,
    vault: &str,
    expected_current: u32,
    new_key: &VaultKeyRow,
) -> Result<bool, StoreError> {
    let moved = sqlx::query(
        "UPDATE vaults SET current_version = $1 WHERE id = $2 AND current_version = $3",
    )
    .bind(i64::from(new_key.version))
    .bind(vault)
    .bind(i64::from(expected_current))
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() != 1 {
        return Ok(false);
    }
    insert_key(conn, vault, new_key).await?;
    Ok(true)
}

/// Counts `count` more data keys wrapped by `version`.
pub async fn add_wraps(
    conn: &mut AnyConnection,
    vault: &str,
    version: u32,
    count: u64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE vault_keys SET wraps = wraps + $1 WHERE vault_id = $2 AND version = $3")
        .bind(i64::try_from(count).unwrap_or(i64::MAX))
        .bind(vault)
        .bind(i64::from(version))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Retires (destroys) KEK `version` if it is older than the current one and no item of the vault
/// uses it; `false` when it is still in use or already gone. Callers that keep envelopes outside
/// `vault_items` (the server's own columns) check those first.
pub async fn retire_key(
    conn: &mut AnyConnection,
    vault: &str,
    version: u32,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM vault_keys WHERE vault_id = $1 AND version = $2 \
         AND version < (SELECT current_version FROM vaults WHERE id = $1) \
         AND NOT EXISTS (SELECT 1 FROM vault_items WHERE vault_id = $1 AND key_version = $2)",
    )
    .bind(vault)
    .bind(i64::from(version))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a vault with its keys, unlock methods and items (crypto-shredding all of it).
pub async fn delete(conn: &mut AnyConnection, vault: &str) -> Result<bool, StoreError> {
    for statement in [
        "DELETE FROM vault_items WHERE vault_id = $1",
        "DELETE FROM vault_unlock_methods WHERE vault_id = $1",
        "DELETE FROM vault_keys WHERE vault_id = $1",
    ] {
        sqlx::query(statement)
            .bind(vault)
            .execute(&mut *conn)
            .await?;
    }
    let done = sqlx::query("DELETE FROM vaults WHERE id = $1")
        .bind(vault)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Adds an unlock method.
pub async fn insert_unlock_method(
    conn: &mut AnyConnection,
    vault: &str,
    method: &UnlockMethodRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO vault_unlock_methods \
         (vault_id, id, kind, label, params, wrapped_by, wrapped, created_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
    )
    .bind(vault)
    .bind(&method.id)
    .bind(&method.kind)
    .bind(&method.label)
    .bind(&method.params)
    .bind(&method.wrapped_by)
    .bind(&method.wrapped)
    .bind(millis(method.created_at))
    .execute(&mut *conn)
    .await
    .map_err(|err| {
        if is_unique_violation(&err, "vault_unlock_methods_pkey", "vault_unlock_methods.id") {
            StoreError::UnlockMethodExists
        } else {
            err.into()
        }
    })?;
    Ok(())
}

/// The vault's unlock methods, oldest first.
pub async fn unlock_methods(
    conn: &mut AnyConnection,
    vault: &str,
) -> Result<Vec<UnlockMethodRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind, label, params, wrapped_by, wrapped, created_at, last_used_at \
         FROM vault_unlock_methods WHERE vault_id = $1 ORDER BY created_at, id",
    )
    .bind(vault)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(method_from_row).collect()
}

/// Records that `method` unlocked the vault at `at`.
pub async fn touch_unlock_method(
    conn: &mut AnyConnection,
    vault: &str,
    method: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE vault_unlock_methods SET last_used_at = $1 WHERE vault_id = $2 AND id = $3",
    )
    .bind(millis(at))
    .bind(vault)
    .bind(method)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes an unlock method, unless no lasting method would be left (which would leave the vault
/// unopenable once its sessions end): `false` then, or when there is no such method. A
/// `session` method only lives as long as a login session, so it never counts as the one left.
pub async fn delete_unlock_method(
    conn: &mut AnyConnection,
    vault: &str,
    method: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM vault_unlock_methods WHERE vault_id = $1 AND id = $2 \
         AND EXISTS (SELECT 1 FROM vault_unlock_methods \
                     WHERE vault_id = $1 AND id <> $2 AND kind <> 'session')",
    )
    .bind(vault)
    .bind(method)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores a new item; a name the vault holds already is [`StoreError::ItemNameTaken`].
pub async fn insert_item(
    conn: &mut AnyConnection,
    vault: &str,
    item: &SealedItem,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO vault_items \
         (vault_id, id, name, purpose, key_version, envelope, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(vault)
    .bind(&item.item.id)
    .bind(&item.item.name)
    .bind(&item.item.purpose)
    .bind(i64::from(item.item.key_version))
    .bind(&item.envelope)
    .bind(millis(item.item.created_at))
    .bind(millis(item.item.updated_at))
    .execute(&mut *conn)
    .await
    .map_err(|err| {
        if is_unique_violation(&err, "vault_items_name", "vault_items.name") {
            StoreError::ItemNameTaken
        } else {
            err.into()
        }
    })?;
    Ok(())
}

/// The item named `name`, with its envelope.
pub async fn item_by_name(
    conn: &mut AnyConnection,
    vault: &str,
    name: &str,
) -> Result<Option<SealedItem>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        item_columns!(),
        ", envelope FROM vault_items WHERE vault_id = $1 AND name = $2"
    ))
    .bind(vault)
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(sealed_from_row)
    .transpose()
}

fn sealed_from_row(row: &AnyRow) -> Result<SealedItem, StoreError> {
    Ok(SealedItem {
        item: item_from_row(row)?,
        envelope: Cols::new(row, "vault_items").blob("envelope")?,
    })
}

/// The vault's items by name, without ciphertext.
pub async fn items(conn: &mut AnyConnection, vault: &str) -> Result<Vec<ItemRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        item_columns!(),
        " FROM vault_items WHERE vault_id = $1 ORDER BY name"
    ))
    .bind(vault)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(item_from_row).collect()
}

/// How many items each KEK version wraps, by version.
pub async fn items_per_version(
    conn: &mut AnyConnection,
    vault: &str,
) -> Result<Vec<(u32, u64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT key_version, COUNT(*) AS n FROM vault_items WHERE vault_id = $1 \
         GROUP BY key_version ORDER BY key_version",
    )
    .bind(vault)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let c = Cols::new(row, "vault_items");
            Ok((c.u32("key_version")?, c.u64("n")?))
        })
        .collect()
}

/// Up to `limit` items whose data keys are wrapped by an older KEK than `current`, by id.
pub async fn stale_items(
    conn: &mut AnyConnection,
    vault: &str,
    current: u32,
    limit: u32,
) -> Result<Vec<SealedItem>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        item_columns!(),
        ", envelope FROM vault_items WHERE vault_id = $1 AND key_version < $2 ORDER BY id LIMIT $3"
    ))
    .bind(vault)
    .bind(i64::from(current))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(sealed_from_row).collect()
}

/// Replaces an item's envelope (a new value, a re-wrap or a re-key) if it still is `old`: `false`
/// when someone changed or deleted it meanwhile, and nothing is written.
pub async fn replace_envelope(
    conn: &mut AnyConnection,
    vault: &str,
    item: &str,
    old: &[u8],
    new: &[u8],
    new_version: u32,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE vault_items SET envelope = $1, key_version = $2, updated_at = $3 \
         WHERE vault_id = $4 AND id = $5 AND envelope = $6",
    )
    .bind(new)
    .bind(i64::from(new_version))
    .bind(millis(at))
    .bind(vault)
    .bind(item)
    .bind(old)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes an item: its row, and with it the only copy of its wrapped data key.
pub async fn delete_item(
    conn: &mut AnyConnection,
    vault: &str,
    name: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM vault_items WHERE vault_id = $1 AND name = $2")
        .bind(vault)
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Pushes deleted pages out of SQLite's write-ahead log: with `secure_delete` on, a deleted row's
/// page is rewritten zeroed, but its older image stays in the `-wal` file until a checkpoint; a
/// truncating checkpoint copies the zeroed page into the database and empties the log.
/// PostgreSQL keeps dead tuples until VACUUM, which this cannot force: nothing is done there.
pub async fn flush_deleted(store: &crate::Store) -> Result<(), StoreError> {
    if store.backend() == crate::Backend::Sqlite {
        let mut conn = store.acquire().await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
