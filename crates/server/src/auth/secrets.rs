//! Secrets the backend keeps at rest, sealed with the vault's envelope encryption
//! (`schild_core::vault`): each under its own data key, wrapped by the server's key-encryption
//! key, and bound to its row (account or key id) and purpose, so a sealed value copied to another
//! row does not open.
//!
//! A stored TOTP secret is `vault1:` followed by the envelope in base64url; a token-signing key is
//! the envelope itself (its format byte 0x01 never starts a PKCS#8 document, which starts 0x30).
//! A value in the older plaintext form still works, and the start-up sealing
//! ([`seal_stored_totp_secrets`], and the signing keys' loader) seals it.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use schild_core::ids::UserId;
use schild_core::vault::{ItemContext, KekSet};
use schild_store::mfa;
use zeroize::Zeroizing;

/// Marks a sealed value.
const SEALED: &str = "vault1:";
use crate::sealing::VAULT;
/// The purpose of a TOTP shared secret.
const TOTP_SECRET: &str = "totp-secret";
/// The purpose of a token-signing key.
const SIGNING_KEY: &str = "token-signing-key";

fn context<'a>(item: &'a str, purpose: &'a str) -> ItemContext<'a> {
    ItemContext {
        vault: VAULT,
        item,
        purpose,
    }
}

/// Seals a token-signing key's PKCS#8 document for its row `kid`.
pub fn seal_signing_key(keks: &KekSet, kid: &str, pkcs8: &[u8]) -> ApiResult<Vec<u8>> {
    keks.seal(context(kid, SIGNING_KEY), pkcs8, &mut rand::rng())
        .map_err(ApiError::internal)
}

/// Whether stored signing-key material is sealed (else it is a plaintext PKCS#8 document).
pub fn is_sealed_signing_key(stored: &[u8]) -> bool {
    stored.first() == Some(&schild_core::vault::envelope::FORMAT_V1)
}

/// The PKCS#8 document of the signing key `kid`, opened when sealed.
pub fn open_signing_key(keks: &KekSet, kid: &str, stored: &[u8]) -> ApiResult<Zeroizing<Vec<u8>>> {
    if !is_sealed_signing_key(stored) {
        return Ok(Zeroizing::new(stored.to_vec()));
    }
    keks.open(context(kid, SIGNING_KEY), stored)
        .map_err(ApiError::internal)
}

/// A sealed signing key re-wrapped under the current KEK, or `None` when it needs no re-wrap
/// (already current, or not sealed yet: start-up sealing handles that).
pub fn rewrap_signing_key(keks: &KekSet, kid: &str, stored: &[u8]) -> ApiResult<Option<Vec<u8>>> {
    if !is_sealed_signing_key(stored) {
        return Ok(None);
    }
    keks.rewrap_to_current(context(kid, SIGNING_KEY), stored)
        .map_err(ApiError::internal)
}

/// A sealed TOTP secret re-wrapped under the current KEK, or `None` when it needs no re-wrap.
pub fn rewrap_totp_secret(keks: &KekSet, user: UserId, stored: &str) -> ApiResult<Option<String>> {
    let Some(encoded) = stored.strip_prefix(SEALED) else {
        return Ok(None);
    };
    let envelope = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(ApiError::internal)?;
    let item = user.to_string();
    Ok(keks
        .rewrap_to_current(context(&item, TOTP_SECRET), &envelope)
        .map_err(ApiError::internal)?
        .map(|envelope| format!("{SEALED}{}", URL_SAFE_NO_PAD.encode(envelope))))
}

/// Seals a TOTP secret (base32) for storage on `user`'s row.
pub fn seal_totp_secret(state: &AppState, user: UserId, base32: &str) -> ApiResult<String> {
    let item = user.to_string();
    let envelope = state
        .sealing()
        .current()
        .seal(
            context(&item, TOTP_SECRET),
            base32.as_bytes(),
            &mut rand::rng(),
        )
        .map_err(ApiError::internal)?;
    Ok(format!("{SEALED}{}", URL_SAFE_NO_PAD.encode(envelope)))
}

/// The TOTP secret (base32) stored on `user`'s row, opened. A value that does not open (altered,
/// copied from another row, or sealed under another key) is a server error, logged.
pub fn open_totp_secret(
    state: &AppState,
    user: UserId,
    stored: &str,
) -> ApiResult<Zeroizing<String>> {
    let Some(encoded) = stored.strip_prefix(SEALED) else {
        return Ok(Zeroizing::new(stored.to_owned()));
    };
    let envelope = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(ApiError::internal)?;
    let item = user.to_string();
    let plaintext = state
        .sealing()
        .current()
        .open(context(&item, TOTP_SECRET), &envelope)
        .map_err(ApiError::internal)?;
    String::from_utf8(plaintext.to_vec())
        .map(Zeroizing::new)
        .map_err(ApiError::internal)
}

/// Seals every TOTP secret still stored in plaintext; returns how many. Idempotent, and safe
/// beside other instances: each row is replaced by a compare-and-set on its plaintext.
pub async fn seal_stored_totp_secrets(state: &AppState) -> ApiResult<usize> {
    let mut conn = state.store().acquire().await?;
    let mut sealed = 0;
    for (user, stored) in mfa::all_totp_secrets(&mut conn).await? {
        if stored.starts_with(SEALED) {
            continue;
        }
        let new = seal_totp_secret(state, user, &stored)?;
        if mfa::replace_totp_secret(&mut conn, user, &stored, &new).await? {
            sealed += 1;
        }
    }
    Ok(sealed)
}
