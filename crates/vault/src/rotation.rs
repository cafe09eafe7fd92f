//! KEK rotation and data re-keying of an unlocked vault.
//!
//! A rotation is three kinds of steps, each one transaction, so a rotation killed at any moment
//! leaves the database in a state the next run continues from:
//!
//! 1. **begin**: KEK version n+1 is stored and made current (compare-and-set on version n, so two
//!    processes never both begin); from then on new items are sealed under n+1;
//! 2. **batches**: items still wrapped by an older version are re-wrapped (each a compare-and-set
//!    on its envelope, so an item changed meanwhile is never overwritten with its old value);
//! 3. **retire**: an older version is destroyed once no item uses it.
//!
//! A vault with more than one version is mid-rotation: [`UnlockedVault::rotate`] then resumes
//! at step 2 instead of beginning another.

use crate::unlocked::UnlockedVault;
use crate::{Error, check_name};
use schild_core::vault::{ItemContext, generate_kek};
use schild_store::vault as rows;
use serde::Serialize;

/// How far a rotation is, reported after every batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RotationProgress {
    /// The KEK version items move to.
    pub to_version: u32,
    /// Items re-wrapped so far in this run.
    pub done: u64,
    /// Items that needed re-wrapping when this run started.
    pub total: u64,
}

/// What a finished rotation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RotationReport {
    /// The current KEK version afterwards.
    pub version: u32,
    /// Whether this run began the rotation (else it resumed an unfinished one).
    pub began: bool,
    /// Items re-wrapped by this run.
    pub rewrapped: u64,
    /// KEK versions destroyed because nothing used them any more.
    pub retired: Vec<u32>,
}

impl UnlockedVault {
    /// Rotates the vault's KEK: begins a new version unless an unfinished rotation exists, then
    /// re-wraps every older item in batches of `batch_size` (each one transaction) and retires
    /// the older versions. `progress` is called after each batch.
    pub async fn rotate(
        &self,
        batch_size: u32,
        mut progress: impl FnMut(RotationProgress),
    ) -> Result<RotationReport, Error> {
        let batch_size = batch_size.max(1);
        let began = self.begin_rotation_if_finished().await?;
        let mut conn = self.store.acquire().await?;
        let (keks, current) = self.with_keys_now(|k| (k.keks.clone(), k.current))?;
        let total: u64 = rows::items_per_version(&mut conn, &self.id)
            .await?
            .iter()
            .filter(|(version, _)| *version < current.get())
            .map(|(_, n)| n)
            .sum();
        drop(conn);

        let mut done = 0;
        loop {
            let mut tx = self.store.begin().await?;
            let batch = rows::stale_items(&mut tx, &self.id, current.get(), batch_size).await?;
            if batch.is_empty() {
                break;
            }
            let mut moved = 0;
            for sealed in &batch {
                let context = ItemContext {
                    vault: &self.id,
                    item: &sealed.item.id,
                    purpose: &sealed.item.purpose,
                };
                let Some(envelope) = keks.rewrap_to_current(context, &sealed.envelope)? else {
                    continue;
                };
                if rows::replace_envelope(
                    &mut tx,
                    &self.id,
                    &sealed.item.id,
                    &sealed.envelope,
                    &envelope,
                    current.get(),
                    sealed.item.updated_at,
                )
                .await?
                {
                    moved += 1;
                }
            }
            rows::add_wraps(&mut tx, &self.id, current.get(), moved).await?;
            tx.commit().await?;
            // Keep the vault unlocked while a long rotation runs.
            self.with_keys_now(|_| ())?;
            done += moved;
            progress(RotationProgress {
                to_version: current.get(),
                done,
                total,
            });
        }

        let mut retired = Vec::new();
        let mut conn = self.store.acquire().await?;
        for key in rows::keys(&mut conn, &self.id).await? {
            if key.version < current.get()
                && rows::retire_key(&mut conn, &self.id, key.version).await?
            {
                retired.push(key.version);
            }
        }
        drop(conn);
        // The retired versions are gone from the database; drop them from memory too.
        self.reload_keys().await?;
        Ok(RotationReport {
            version: current.get(),
            began,
            rewrapped: done,
            retired,
        })
    }

    /// Begins a rotation when none is unfinished; returns whether it did.
    async fn begin_rotation_if_finished(&self) -> Result<bool, Error> {
        let mut tx = self.store.begin().await?;
        let versions = rows::keys(&mut tx, &self.id).await?;
        let began = if versions.len() > 1 {
            false
        } else {
            let (current, next, wrapped) = self.with_keys_now(|k| {
                let next = k.current.next().ok_or(Error::Corrupt(
                    "the vault has used every KEK version number".into(),
                ))?;
                // Only the wrapped form is kept: the key itself is loaded back with the others.
                let (_, wrapped) =
                    generate_kek(&self.id, next, k.master.as_root(), &mut rand::rng())?;
                Ok::<_, Error>((k.current, next, wrapped))
            })??;
            let key_row = rows::VaultKeyRow {
                version: next.get(),
                root_key_id: wrapped.key_id,
                wrapped: wrapped.blob,
                wraps: 0,
                created_at: self.clock.now(),
            };
            rows::begin_rotation(&mut tx, &self.id, current.get(), &key_row).await?
        };
        tx.commit().await?;
        // Reload whatever is stored now: this run's new version, or another process's.
        self.reload_keys().await?;
        Ok(began)
    }

    /// Gives item `name` a fresh data key (data re-keying): the value is decrypted and sealed
    /// anew, so a leaked data key no longer opens it.
    pub async fn rekey(&self, name: &str) -> Result<(), Error> {
        check_name("item name", name)?;
        let value = self.get(name).await?;
        let purpose = {
            let mut conn = self.store.acquire().await?;
            rows::item_by_name(&mut conn, &self.id, name)
                .await?
                .ok_or_else(|| Error::NoSuchItem(name.to_owned()))?
                .item
                .purpose
        };
        self.put(name, &purpose, &value, true).await
    }
}
