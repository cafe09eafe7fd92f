//! Token-signing keys: created on first start, kept in the store, rotated on demand. A retired
//! key keeps verifying until every token it signed has expired.

use super::Origin;
use super::secrets;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Identity};
use schild_core::audit::AuditEvent;
use schild_core::token::{KeyRing, RETIRED_KEY_GRACE, SigningKey};
use schild_core::vault::KekSet;
use schild_store::keys::SigningKeyRow;
use schild_store::{AnyConnection, Store, audit, keys};
use time::OffsetDateTime;

/// Loads the key ring at start-up, creating the first key when there is none and sealing any
/// key still stored in plaintext (compare-and-set per row, so instances may start together).
pub async fn load_or_create(
    store: &Store,
    kek: &KekSet,
    now: OffsetDateTime,
    identity: &Identity,
) -> ApiResult<KeyRing> {
    let mut tx = store.begin().await?;
    if keys::active(&mut tx).await?.is_none() {
        let key = SigningKey::generate(&mut rand::rng(), now);
        let sealed = secrets::seal_signing_key(kek, key.kid(), &key.to_pkcs8_der())?;
        keys::insert(&mut tx, key.kid(), &sealed, now).await?;
    }
    for (kid, stored) in keys::all_private(&mut tx).await? {
        if !secrets::is_sealed_signing_key(&stored) {
            let sealed = secrets::seal_signing_key(kek, &kid, &stored)?;
            keys::replace_private(&mut tx, &kid, &stored, &sealed).await?;
        }
    }
    let ring = load_from(&mut tx, kek, now, identity).await?;
    tx.commit().await?;
    Ok(ring)
}

/// Reloads the key ring without writing, to pick up a key rotated by another instance.
pub async fn reload(
    store: &Store,
    kek: &KekSet,
    now: OffsetDateTime,
    identity: &Identity,
) -> ApiResult<KeyRing> {
    let mut conn = store.acquire().await?;
    load_from(&mut conn, kek, now, identity).await
}

async fn load_from(
    conn: &mut AnyConnection,
    kek: &KekSet,
    now: OffsetDateTime,
    identity: &Identity,
) -> ApiResult<KeyRing> {
    let mut rows = keys::all_since(conn, now - RETIRED_KEY_GRACE).await?;
    // The newest unretired key signs; every other loaded key only verifies.
    rows.sort_by_key(|row| (row.retired_at.is_none(), row.created_at));
    let active_row = rows
        .pop()
        .filter(|row| row.retired_at.is_none())
        .ok_or_else(|| ApiError::internal(NoSigningKey))?;
    let active = decode(kek, &active_row)?;
    let mut retired = Vec::with_capacity(rows.len());
    for row in &rows {
        let verify_until = row
            .retired_at
            .map_or(now + RETIRED_KEY_GRACE, |at| at + RETIRED_KEY_GRACE);
        retired.push((decode(kek, row)?, verify_until));
    }
    Ok(KeyRing::new(
        identity.issuer.clone(),
        identity.audience.clone(),
        active,
        retired,
    ))
}

fn decode(kek: &KekSet, row: &SigningKeyRow) -> ApiResult<SigningKey> {
    let pkcs8 = secrets::open_signing_key(kek, &row.kid, &row.private_pkcs8)?;
    SigningKey::from_stored(&row.kid, &pkcs8, row.created_at).map_err(ApiError::internal)
}

#[derive(Debug, thiserror::Error)]
#[error("no token-signing key could be loaded")]
struct NoSigningKey;

/// Makes a new key the signing key and retires the current one. Returns the new key id.
pub async fn rotate(state: &AppState, origin: &Origin) -> ApiResult<String> {
    let now = state.now();
    let key = SigningKey::generate(&mut rand::rng(), now);
    let kid = key.kid().to_owned();
    let mut tx = state.store().begin().await?;
    keys::retire_all_except(&mut tx, &kid, now).await?;
    let sealed = secrets::seal_signing_key(&state.sealing().current(), &kid, &key.to_pkcs8_der())?;
    keys::insert(&mut tx, &kid, &sealed, now).await?;
    audit::append(
        &mut tx,
        &origin.record(now, AuditEvent::SigningKeyRotated { kid: kid.clone() }),
    )
    .await?;
    tx.commit().await?;
    // Only after the commit: holding the key lock while waiting for the database's write lock
    // would stall every request that signs a token inside a transaction.
    state.keys().write().await.rotate(key, now);
    Ok(kid)
}
