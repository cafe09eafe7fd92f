//! First-admin setup: while no account exists, the server holds one single-use setup token and
//! prints it on its console; whoever presents it creates the first administrator.

use super::Origin;
use super::admin::{NewAccount, create_account};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::AuditEvent;
use schild_core::ids::roles;
use schild_core::refresh::OpaqueToken;
use schild_store::users::UserRow;
use schild_store::{audit, setup, users};
use time::Duration;

/// How long a printed setup token stays valid.
pub const SETUP_TOKEN_LIFETIME: Duration = Duration::hours(24);

/// When the backend has no account yet, replaces any earlier setup token with a fresh one and
/// returns it for printing; `None` once setup is done.
pub async fn issue_token_if_needed(state: &AppState) -> ApiResult<Option<OpaqueToken>> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    if users::count(&mut tx).await? > 0 {
        setup::clear(&mut tx).await?;
        tx.commit().await?;
        return Ok(None);
    }
    let token = OpaqueToken::generate(&mut rand::rng());
    setup::replace(
        &mut tx,
        token.hash().as_bytes(),
        now,
        now + SETUP_TOKEN_LIFETIME,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(token))
}

/// Creates the first administrator with the setup token. Every check happens before the token is
/// spent, and the spend, the account and the audit events commit together: a weak password or a
/// taken name leaves the token usable.
pub async fn complete(
    state: &AppState,
    token: &str,
    account: NewAccount,
    origin: &Origin,
) -> ApiResult<UserRow> {
    let token = OpaqueToken::parse(token).map_err(|_| ApiError::SetupTokenInvalid)?;
    let now = state.now();
    {
        let mut conn = state.store().acquire().await?;
        if users::count(&mut conn).await? > 0 {
            return Err(ApiError::SetupDone);
        }
    }
    let account = NewAccount {
        roles: vec![roles::ADMIN.to_owned()],
        ..account
    };
    let prepared = account.prepare(state).await?;
    let mut tx = state.store().begin().await?;
    if !setup::take(&mut tx, token.hash().as_bytes(), now).await? {
        return Err(ApiError::SetupTokenInvalid);
    }
    if users::count(&mut tx).await? > 0 {
        return Err(ApiError::SetupDone);
    }
    let user = create_account(&mut tx, prepared, origin, now).await?;
    audit::append(
        &mut tx,
        &origin.record(now, AuditEvent::SetupCompleted { user: user.id }),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}
