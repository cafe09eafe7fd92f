//! Creating, unlocking and using a vault.

use crate::method::{UnlockMethod, UnlockParams};
use crate::{Error, check_name};
use schild_core::clock::Clock;
use schild_core::provider::{KeyEncryptionKey, WrappedKey};
use schild_core::vault::{
    IdleLock, ItemContext, KekSet, KeyVersion, MasterKey, RotationDue, RotationPolicy, VaultError,
    generate_kek, open_kek,
};
use schild_store::vault::{
    self as rows, ItemRow, SealedItem, UnlockMethodRow, VaultKeyRow, VaultRow,
};
use schild_store::{Store, StoreError};
use serde::Serialize;
use std::sync::{Arc, Mutex, MutexGuard};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// What a new vault is called and how it behaves.
#[derive(Debug, Clone, Copy)]
pub struct NewVault<'a> {
    /// Its id, bound into every ciphertext (`desktop`, `kit-7`).
    pub id: &'a str,
    /// Its display name.
    pub name: &'a str,
    /// How often its KEK rotates.
    pub rotation: RotationPolicy,
    /// How long it stays unlocked without use.
    pub auto_lock: Duration,
}

/// An item as listed: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ItemInfo {
    /// Its name.
    pub name: String,
    /// What it is for.
    pub purpose: String,
    /// The KEK version wrapping its data key.
    pub key_version: u32,
    /// When it was stored.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub created_at: OffsetDateTime,
    /// When its value or wrapping last changed.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub updated_at: OffsetDateTime,
}

impl From<ItemRow> for ItemInfo {
    fn from(row: ItemRow) -> Self {
        Self {
            name: row.name,
            purpose: row.purpose,
            key_version: row.key_version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// One KEK version in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeyVersionStatus {
    /// Its version.
    pub version: u32,
    /// Items whose data keys it wraps.
    pub items: u64,
    /// Data keys it has wrapped in all.
    pub wraps: u64,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub created_at: OffsetDateTime,
}

/// A vault's state, readable without unlocking it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VaultStatus {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// The KEK version that seals.
    pub current_version: u32,
    /// KEK versions in use, oldest first; more than one while a rotation is unfinished.
    pub versions: Vec<KeyVersionStatus>,
    /// Items in all.
    pub items: u64,
    /// Days between rotations.
    pub rotation_days: u32,
    /// Whether a rotation is due (and why), or unfinished.
    pub rotation: RotationState,
    /// Seconds without use before it locks.
    pub auto_lock_secs: u32,
    /// Its unlock methods.
    pub unlock_methods: Vec<UnlockMethod>,
}

/// Where the vault's KEK rotation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum RotationState {
    /// Nothing to do.
    UpToDate,
    /// The current KEK is older than the rotation interval.
    DueByAge,
    /// The current KEK has wrapped as many data keys as it may.
    DueByUsage,
    /// A rotation started and has not finished re-wrapping (it resumes on the next run).
    Unfinished,
}

impl VaultStatus {
    /// Whether [`UnlockedVault::rotate`] has work to do.
    pub fn needs_rotation(&self) -> bool {
        self.rotation != RotationState::UpToDate
    }
}

/// Reads a vault's state without unlocking it.
pub async fn status(store: &Store, vault: &str, now: OffsetDateTime) -> Result<VaultStatus, Error> {
    let mut conn = store.acquire().await?;
    let row = rows::find(&mut conn, vault)
        .await?
        .ok_or_else(|| Error::NoSuchVault(vault.to_owned()))?;
    let keys = rows::keys(&mut conn, vault).await?;
    let counts = rows::items_per_version(&mut conn, vault).await?;
    let methods = unlock_methods_of(&mut conn, vault).await?;
    let versions: Vec<KeyVersionStatus> = keys
        .iter()
        .map(|key| KeyVersionStatus {
            version: key.version,
            items: counts
                .iter()
                .find(|(version, _)| *version == key.version)
                .map_or(0, |(_, n)| *n),
            wraps: key.wraps,
            created_at: key.created_at,
        })
        .collect();
    let current = versions
        .iter()
        .find(|v| v.version == row.current_version)
        .ok_or_else(|| Error::Corrupt(format!("vault {vault:?} lacks its current KEK version")))?;
    let policy = RotationPolicy {
        interval: Duration::days(i64::from(row.rotation_days)),
    };
    let rotation = if versions.len() > 1 {
        RotationState::Unfinished
    } else {
        match policy.due(current.created_at, current.wraps, now) {
            None => RotationState::UpToDate,
            Some(RotationDue::Age) => RotationState::DueByAge,
            Some(RotationDue::Usage) => RotationState::DueByUsage,
        }
    };
    Ok(VaultStatus {
        id: row.id,
        name: row.name,
        current_version: row.current_version,
        items: versions.iter().map(|v| v.items).sum(),
        versions,
        rotation_days: row.rotation_days,
        rotation,
        auto_lock_secs: row.auto_lock_secs,
        unlock_methods: methods,
    })
}

/// A vault's unlock methods, to choose one and build its key before [`UnlockedVault::unlock`].
pub async fn unlock_methods(store: &Store, vault: &str) -> Result<Vec<UnlockMethod>, Error> {
    let mut conn = store.acquire().await?;
    if rows::find(&mut conn, vault).await?.is_none() {
        return Err(Error::NoSuchVault(vault.to_owned()));
    }
    unlock_methods_of(&mut conn, vault).await
}

/// Ends a session ([`UnlockParams::Session`]) by removing its method; `false` when the vault
/// has no session of this id. No unlocking is needed: ending a session only takes a way in away.
/// The caller deletes the session's keyring entry.
pub async fn end_session(store: &Store, vault: &str, method_id: &str) -> Result<bool, Error> {
    let mut conn = store.acquire().await?;
    let is_session = unlock_methods_of(&mut conn, vault)
        .await?
        .iter()
        .any(|m| m.id == method_id && m.is_session());
    Ok(is_session && rows::delete_unlock_method(&mut conn, vault, method_id).await?)
}

async fn unlock_methods_of(
    conn: &mut schild_store::AnyConnection,
    vault: &str,
) -> Result<Vec<UnlockMethod>, Error> {
    rows::unlock_methods(conn, vault)
        .await?
        .into_iter()
        .map(|row| {
            let params = serde_json::from_str(&row.params).map_err(|_| {
                Error::Corrupt(format!(
                    "unlock method {:?} has unreadable parameters",
                    row.id
                ))
            })?;
            Ok(UnlockMethod {
                id: row.id,
                label: row.label,
                params,
                created_at: row.created_at,
                last_used_at: row.last_used_at,
            })
        })
        .collect()
}

/// The keys of an unlocked vault.
pub(crate) struct Keys {
    pub(crate) master: MasterKey,
    pub(crate) keks: KekSet,
    pub(crate) current: KeyVersion,
}

/// A vault whose keys are in memory. Locks itself after its idle time: every operation then fails
/// with [`Error::Locked`]. Dropping it wipes its keys.
pub struct UnlockedVault {
    pub(crate) store: Store,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) id: String,
    keys: Mutex<Option<Keys>>,
    idle: Mutex<IdleLock>,
}

impl std::fmt::Debug for UnlockedVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnlockedVault")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn wrong_key(error: VaultError) -> Error {
    match error {
        VaultError::Unauthentic | VaultError::WrongKey { .. } => Error::WrongUnlockKey,
        other => Error::Crypto(other),
    }
}

fn lock_poisoned<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the keys half-written (they are replaced whole),
    // so the data is still sound.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl UnlockedVault {
    /// Creates a vault with its first unlock method, and returns it unlocked.
    pub async fn init(
        store: Store,
        clock: Arc<dyn Clock>,
        new: NewVault<'_>,
        method_id: &str,
        label: &str,
        params: &UnlockParams,
        method_key: &dyn KeyEncryptionKey,
    ) -> Result<Self, Error> {
        check_name("vault id", new.id)?;
        check_name("vault name", new.name)?;
        check_name("unlock method id", method_id)?;
        check_name("unlock method label", label)?;
        if matches!(params, UnlockParams::Session { .. }) {
            return Err(Error::LastUnlockMethod);
        }
        let rotation_days = u32::try_from(new.rotation.interval.whole_days())
            .ok()
            .filter(|days| *days > 0)
            .ok_or(Error::InvalidName {
                what: "rotation interval",
                reason: "it must be between 1 day and 4 billion days",
            })?;
        let auto_lock_secs = u32::try_from(new.auto_lock.whole_seconds())
            .ok()
            .filter(|secs| *secs > 0)
            .ok_or(Error::InvalidName {
                what: "auto-lock time",
                reason: "it must be at least one second",
            })?;
        let now = clock.now();
        // The thread's generator is not Send: it must be gone before the first await.
        let (master, (kek, wrapped_kek)) = {
            let mut rng = rand::rng();
            let master = MasterKey::generate(new.id, &mut rng)?;
            let first = generate_kek(new.id, KeyVersion::FIRST, master.as_root(), &mut rng)?;
            (master, first)
        };
        let wrapped_master = master.wrap_for(new.id, method_id, method_key)?;
        let params_json = serde_json::to_string(params)
            .map_err(|_| Error::Corrupt("unlock parameters do not serialise".into()))?;

        let mut tx = store.begin().await?;
        let vault_row = VaultRow {
            id: new.id.to_owned(),
            name: new.name.to_owned(),
            current_version: KeyVersion::FIRST.get(),
            rotation_days,
            auto_lock_secs,
            created_at: now,
        };
        let key_row = VaultKeyRow {
            version: KeyVersion::FIRST.get(),
            root_key_id: wrapped_kek.key_id,
            wrapped: wrapped_kek.blob,
            wraps: 0,
            created_at: now,
        };
        rows::create(&mut tx, &vault_row, &key_row)
            .await
            .map_err(|error| match error {
                StoreError::VaultExists => Error::VaultExists(new.id.to_owned()),
                other => other.into(),
            })?;
        rows::insert_unlock_method(
            &mut tx,
            new.id,
            &UnlockMethodRow {
                id: method_id.to_owned(),
                kind: params.kind().to_owned(),
                label: label.to_owned(),
                params: params_json,
                wrapped_by: wrapped_master.key_id,
                wrapped: wrapped_master.blob,
                created_at: now,
                last_used_at: Some(now),
            },
        )
        .await?;
        tx.commit().await?;

        let keks = KekSet::new(Arc::new(kek), []);
        Ok(Self::with_keys(
            store,
            clock,
            new.id,
            Keys {
                master,
                keks,
                current: KeyVersion::FIRST,
            },
            auto_lock_secs,
            now,
        ))
    }

    fn with_keys(
        store: Store,
        clock: Arc<dyn Clock>,
        id: &str,
        keys: Keys,
        auto_lock_secs: u32,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            store,
            clock,
            id: id.to_owned(),
            keys: Mutex::new(Some(keys)),
            idle: Mutex::new(IdleLock::new(
                Duration::seconds(i64::from(auto_lock_secs)),
                now,
            )),
        }
    }

    /// Unlocks vault `vault` with its unlock method `method_id`, whose key the caller built from
    /// the method's parameters ([`unlock_methods`]).
    pub async fn unlock(
        store: Store,
        clock: Arc<dyn Clock>,
        vault: &str,
        method_id: &str,
        method_key: &dyn KeyEncryptionKey,
    ) -> Result<Self, Error> {
        let now = clock.now();
        let mut conn = store.acquire().await?;
        let row = rows::find(&mut conn, vault)
            .await?
            .ok_or_else(|| Error::NoSuchVault(vault.to_owned()))?;
        let method = rows::unlock_methods(&mut conn, vault)
            .await?
            .into_iter()
            .find(|m| m.id == method_id)
            .ok_or_else(|| Error::NoSuchUnlockMethod(method_id.to_owned()))?;
        let wrapped = WrappedKey {
            key_id: method.wrapped_by,
            blob: method.wrapped,
        };
        let master =
            MasterKey::unwrap_with(vault, method_id, method_key, &wrapped).map_err(wrong_key)?;
        let (keks, current) = build_keks(&row, rows::keys(&mut conn, vault).await?, &master)?;
        let keys = Keys {
            master,
            keks,
            current,
        };
        rows::touch_unlock_method(&mut conn, vault, method_id, now).await?;
        drop(conn);
        Ok(Self::with_keys(
            store,
            clock,
            vault,
            keys,
            row.auto_lock_secs,
            now,
        ))
    }

    /// The vault's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Locks the vault now: its keys are wiped; every later call fails with [`Error::Locked`].
    pub fn lock(&self) {
        lock_poisoned(&self.keys).take();
    }

    /// Whether the vault is (still) unlocked; locks it if its idle time has passed.
    pub fn is_unlocked(&self) -> bool {
        let now = self.clock.now();
        let mut keys = lock_poisoned(&self.keys);
        if lock_poisoned(&self.idle).expired(now) {
            keys.take();
        }
        keys.is_some()
    }

    /// Time left before it locks itself.
    pub fn locks_in(&self) -> Duration {
        lock_poisoned(&self.idle).remaining(self.clock.now())
    }

    /// Runs `f` with the keys, counting as a use; fails with [`Error::Locked`] once the idle time
    /// has passed (and wipes the keys then).
    pub(crate) fn with_keys_now<T>(&self, f: impl FnOnce(&Keys) -> T) -> Result<T, Error> {
        let now = self.clock.now();
        let mut keys = lock_poisoned(&self.keys);
        let mut idle = lock_poisoned(&self.idle);
        if idle.expired(now) {
            keys.take();
        }
        let keys = keys.as_ref().ok_or(Error::Locked)?;
        idle.touch(now);
        Ok(f(keys))
    }

    /// Reloads the KEK versions from the database (after a rotation began, or retired some).
    pub(crate) async fn reload_keys(&self) -> Result<(), Error> {
        let mut conn = self.store.acquire().await?;
        let row = rows::find(&mut conn, &self.id)
            .await?
            .ok_or_else(|| Error::NoSuchVault(self.id.clone()))?;
        let stored = rows::keys(&mut conn, &self.id).await?;
        drop(conn);
        let mut keys = lock_poisoned(&self.keys);
        let keys = keys.as_mut().ok_or(Error::Locked)?;
        let (keks, current) = build_keks(&row, stored, &keys.master)?;
        keys.keks = keks;
        keys.current = current;
        Ok(())
    }

    /// Stores `value` as item `name`. With `replace`, an existing item of that name gets the new
    /// value under a fresh data key; without, an existing name is [`Error::ItemExists`].
    pub async fn put(
        &self,
        name: &str,
        purpose: &str,
        value: &[u8],
        replace: bool,
    ) -> Result<(), Error> {
        check_name("item name", name)?;
        check_name("purpose", purpose)?;
        let now = self.clock.now();
        let (keks, current) = self.with_keys_now(|k| (k.keks.clone(), k.current))?;
        let mut tx = self.store.begin().await?;
        match rows::item_by_name(&mut tx, &self.id, name).await? {
            Some(existing) if replace => {
                let context = ItemContext {
                    vault: &self.id,
                    item: &existing.item.id,
                    purpose,
                };
                if purpose != existing.item.purpose {
                    return Err(Error::InvalidName {
                        what: "purpose",
                        reason: "an item keeps its purpose; remove it and store it anew",
                    });
                }
                let envelope = keks.seal(context, value, &mut rand::rng())?;
                if !rows::replace_envelope(
                    &mut tx,
                    &self.id,
                    &existing.item.id,
                    &existing.envelope,
                    &envelope,
                    current.get(),
                    now,
                )
                .await?
                {
                    return Err(Error::NoSuchItem(name.to_owned()));
                }
            }
            Some(_) => return Err(Error::ItemExists(name.to_owned())),
            None => {
                let id = schild_core::ids::uuid_v7(now, &mut rand::rng()).to_string();
                let context = ItemContext {
                    vault: &self.id,
                    item: &id,
                    purpose,
                };
                let envelope = keks.seal(context, value, &mut rand::rng())?;
                let item = SealedItem {
                    item: ItemRow {
                        id,
                        name: name.to_owned(),
                        purpose: purpose.to_owned(),
                        key_version: current.get(),
                        created_at: now,
                        updated_at: now,
                    },
                    envelope,
                };
                rows::insert_item(&mut tx, &self.id, &item)
                    .await
                    .map_err(|error| match error {
                        StoreError::ItemNameTaken => Error::ItemExists(name.to_owned()),
                        other => other.into(),
                    })?;
            }
        }
        rows::add_wraps(&mut tx, &self.id, current.get(), 1).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The value of item `name`, wiped from memory when dropped.
    pub async fn get(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
        let keks = self.with_keys_now(|k| k.keks.clone())?;
        let mut conn = self.store.acquire().await?;
        let sealed = rows::item_by_name(&mut conn, &self.id, name)
            .await?
            .ok_or_else(|| Error::NoSuchItem(name.to_owned()))?;
        let context = ItemContext {
            vault: &self.id,
            item: &sealed.item.id,
            purpose: &sealed.item.purpose,
        };
        Ok(keks.open(context, &sealed.envelope)?)
    }

    /// The items, by name (never their values).
    pub async fn list(&self) -> Result<Vec<ItemInfo>, Error> {
        self.with_keys_now(|_| ())?;
        let mut conn = self.store.acquire().await?;
        Ok(rows::items(&mut conn, &self.id)
            .await?
            .into_iter()
            .map(ItemInfo::from)
            .collect())
    }

    /// Deletes item `name`: its row goes, and with it the only wrapped copy of its data key
    /// (crypto-shredding; see the README's note on what this means on SSDs).
    pub async fn remove(&self, name: &str) -> Result<(), Error> {
        self.with_keys_now(|_| ())?;
        let mut conn = self.store.acquire().await?;
        if !rows::delete_item(&mut conn, &self.id, name).await? {
            return Err(Error::NoSuchItem(name.to_owned()));
        }
        drop(conn);
        rows::flush_deleted(&self.store).await?;
        Ok(())
    }

    /// Adds an unlock method: the master key, wrapped under `method_key`.
    pub async fn add_unlock_method(
        &self,
        method_id: &str,
        label: &str,
        params: &UnlockParams,
        method_key: &dyn KeyEncryptionKey,
    ) -> Result<(), Error> {
        check_name("unlock method id", method_id)?;
        check_name("unlock method label", label)?;
        let wrapped =
            self.with_keys_now(|k| k.master.wrap_for(&self.id, method_id, method_key))??;
        let row = UnlockMethodRow {
            id: method_id.to_owned(),
            kind: params.kind().to_owned(),
            label: label.to_owned(),
            params: serde_json::to_string(params)
                .map_err(|_| Error::Corrupt("unlock parameters do not serialise".into()))?,
            wrapped_by: wrapped.key_id,
            wrapped: wrapped.blob,
            created_at: self.clock.now(),
            last_used_at: None,
        };
        let mut conn = self.store.acquire().await?;
        rows::insert_unlock_method(&mut conn, &self.id, &row)
            .await
            .map_err(|error| match error {
                StoreError::UnlockMethodExists => Error::UnlockMethodExists(method_id.to_owned()),
                other => other.into(),
            })
    }

    /// Removes an unlock method; never the last one ([`Error::LastUnlockMethod`]).
    pub async fn remove_unlock_method(&self, method_id: &str) -> Result<(), Error> {
        self.with_keys_now(|_| ())?;
        let mut conn = self.store.acquire().await?;
        if rows::delete_unlock_method(&mut conn, &self.id, method_id).await? {
            return Ok(());
        }
        let exists = rows::unlock_methods(&mut conn, &self.id)
            .await?
            .iter()
            .any(|m| m.id == method_id);
        Err(if exists {
            Error::LastUnlockMethod
        } else {
            Error::NoSuchUnlockMethod(method_id.to_owned())
        })
    }

    /// The vault's state.
    pub async fn status(&self) -> Result<VaultStatus, Error> {
        self.with_keys_now(|_| ())?;
        status(&self.store, &self.id, self.clock.now()).await
    }
}

/// Unwraps every KEK version of the vault with its master key.
fn build_keks(
    vault: &VaultRow,
    stored: Vec<VaultKeyRow>,
    master: &MasterKey,
) -> Result<(KekSet, KeyVersion), Error> {
    let current = KeyVersion::new(vault.current_version)
        .ok_or_else(|| Error::Corrupt("the current KEK version is 0".into()))?;
    let mut current_kek = None;
    let mut older: Vec<Arc<dyn KeyEncryptionKey>> = Vec::new();
    for row in stored {
        let version = KeyVersion::new(row.version)
            .ok_or_else(|| Error::Corrupt("a KEK version is 0".into()))?;
        let wrapped = WrappedKey {
            key_id: row.root_key_id,
            blob: row.wrapped,
        };
        let kek: Arc<dyn KeyEncryptionKey> =
            Arc::new(open_kek(&vault.id, version, master.as_root(), &wrapped)?);
        if version == current {
            current_kek = Some(kek);
        } else {
            older.push(kek);
        }
    }
    let current_kek = current_kek
        .ok_or_else(|| Error::Corrupt(format!("vault {:?} lacks its current KEK", vault.id)))?;
    Ok((KekSet::new(current_kek, older), current))
}
