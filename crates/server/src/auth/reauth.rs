//! Re-authentication: the account holder's password asked again before a change to their own
//! sign-in factors (TOTP, backup codes, security keys), so a stolen access token alone cannot
//! add or remove a factor.

use super::Origin;
use super::guard::{self, Tally};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::LoginFailure;
use schild_core::ids::UserId;
use schild_core::password::{PasswordHash, Verified};
use schild_store::users::UserRow;
use schild_store::{lockout, users};
use secrecy::SecretString;
use time::OffsetDateTime;

/// The signed-in account, which must still exist.
pub(crate) async fn load_user(state: &AppState, user: UserId) -> ApiResult<UserRow> {
    let mut conn = state.store().acquire().await?;
    users::by_id(&mut conn, user)
        .await?
        .ok_or(ApiError::Unauthenticated)
}

/// Checks the account holder's password again before a change to their factors, under the same
/// lockout and blocking rules as sign-in: a stolen access token is no password oracle. The attempt
/// stays counted until the caller calls [`Reauthenticated::done`] after its own checks passed.
pub(crate) async fn reauthenticate(
    state: &AppState,
    user: &UserRow,
    password: SecretString,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<Reauthenticated> {
    guard::ensure_ip_allowed(state, origin.ip, now).await?;
    let name = user.username.to_string();
    if !guard::admit(state, user.id, &name, origin, now).await? {
        let _ = state.verify_password(password, None).await?;
        guard::record_failure(
            state,
            Some(user.id),
            &name,
            LoginFailure::Locked,
            Tally::AddressOnly,
            origin,
            now,
        )
        .await?;
        return Err(ApiError::InvalidCredentials);
    }
    let stored = PasswordHash::from_phc(user.password_hash.clone());
    match state.verify_password(password, Some(stored)).await? {
        Verified::Valid { .. } => Ok(Reauthenticated {
            user: user.id,
            name,
        }),
        Verified::Invalid => {
            guard::record_failure(
                state,
                Some(user.id),
                &name,
                LoginFailure::WrongPassword,
                Tally::Admitted,
                origin,
                now,
            )
            .await?;
            Err(ApiError::InvalidCredentials)
        }
    }
}

/// A password confirmed by [`reauthenticate`], whose attempt still counts until [`Self::done`].
pub(crate) struct Reauthenticated {
    user: UserId,
    name: String,
}

impl Reauthenticated {
    /// Everything passed: take the counted attempt back.
    pub(crate) async fn done(self, tx: &mut schild_store::AnyConnection) -> ApiResult<()> {
        lockout::refund_latest(tx, self.user).await?;
        Ok(())
    }

    /// A code checked after the password was wrong: it fails the counted attempt.
    pub(crate) async fn wrong_code(
        &self,
        state: &AppState,
        origin: &Origin,
        now: OffsetDateTime,
    ) -> ApiResult<ApiError> {
        guard::record_failure(
            state,
            Some(self.user),
            &self.name,
            LoginFailure::WrongTotp,
            Tally::Admitted,
            origin,
            now,
        )
        .await?;
        Ok(ApiError::InvalidSecondFactor)
    }
}
