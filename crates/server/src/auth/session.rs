//! Sessions and their tokens: a sign-in starts a session (one refresh family); every refresh
//! rotates the refresh token; presenting a used one ends the whole session.

use super::{Origin, guard};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::{AuditEvent, LoginMethod};
use schild_core::ids::{SessionId, UserId};
use schild_core::refresh::{
    OpaqueToken, REFRESH_LIFETIME, RefreshDecision, RefreshState, decide_refresh,
};
use schild_core::token::ACCESS_TTL;
use schild_store::sessions::RevokeReason;
use schild_store::users::UserRow;
use schild_store::{AnyConnection, audit, lockout, sessions, users};
use time::OffsetDateTime;

/// A fresh token pair, handed to the client once.
#[derive(Debug)]
pub struct IssuedTokens {
    /// The session (refresh family) these tokens belong to.
    pub session: SessionId,
    /// Signed JWT, valid for [`ACCESS_TTL`].
    pub access_token: String,
    /// When the access token expires.
    pub access_expires_at: OffsetDateTime,
    /// Opaque refresh token; stored only as a hash on the server.
    pub refresh_token: OpaqueToken,
    /// When the session ends regardless of refreshes.
    pub refresh_expires_at: OffsetDateTime,
}

/// Starts a session for a user who has passed every factor, inside the caller's transaction:
/// writes the session and its first refresh token, clears the failure count and audits the sign-in.
pub async fn begin(
    state: &AppState,
    tx: &mut AnyConnection,
    user: &UserRow,
    method: LoginMethod,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<IssuedTokens> {
    let (session, refresh_token) = {
        let mut rng = rand::rng();
        (
            SessionId::new_v7(now, &mut rng),
            OpaqueToken::generate(&mut rng),
        )
    };
    // A lock set by a concurrent failed attempt since this one was admitted wins.
    if guard::locked_in(tx, user.id, now).await? {
        return Err(ApiError::InvalidCredentials);
    }
    let expires_at = now + REFRESH_LIFETIME;
    sessions::create(
        tx,
        &sessions::NewSession {
            id: session,
            user_id: user.id,
            created_at: now,
            expires_at,
            ip: origin.ip,
            user_agent: origin.user_agent.clone(),
            method,
        },
        refresh_token.hash().as_bytes(),
    )
    .await?;
    lockout::clear_failures(tx, user.id).await?;
    lockout::reset_lock_count(tx, user.id).await?;
    audit::append(
        tx,
        &origin.record(
            now,
            AuditEvent::LoginSucceeded {
                user: user.id,
                session,
                method,
            },
        ),
    )
    .await?;
    let (access_token, access_expires_at) = access_token(state, user, session, now).await?;
    Ok(IssuedTokens {
        session,
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at: expires_at,
    })
}

async fn access_token(
    state: &AppState,
    user: &UserRow,
    session: SessionId,
    now: OffsetDateTime,
) -> ApiResult<(String, OffsetDateTime)> {
    let keys = state.keys().read().await;
    let (token, claims) = keys
        .issue_access(user.id, session, user.roles.clone(), now, &mut rand::rng())
        .map_err(ApiError::internal)?;
    let expires = OffsetDateTime::from_unix_timestamp(claims.exp).unwrap_or(now + ACCESS_TTL);
    Ok((token, expires))
}

/// Exchanges a refresh token for a new pair. The presented token is void afterwards; presenting
/// it again revokes the session and is audited as a possible theft.
pub async fn refresh(
    state: &AppState,
    presented: &str,
    origin: &Origin,
) -> ApiResult<IssuedTokens> {
    let presented = OpaqueToken::parse(presented).map_err(|_| ApiError::RefreshInvalid)?;
    let hash = presented.hash();
    let now = state.now();
    guard::ensure_ip_allowed(state, origin.ip, now).await?;
    let mut tx = state.store().begin().await?;
    let Some((token, session)) = sessions::find_refresh(&mut tx, hash.as_bytes()).await? else {
        return Err(ApiError::RefreshInvalid);
    };
    let token_state = if token.used_at.is_some() {
        RefreshState::Used
    } else {
        RefreshState::Active
    };
    let mut decision = decide_refresh(
        token_state,
        session.revoked_at.is_some(),
        session.expires_at,
        now,
    );
    // Two concurrent refreshes with the same token: only one wins the compare-and-set; the other
    // is treated as reuse, exactly as if it had come later.
    if decision == RefreshDecision::Rotate
        && !sessions::mark_used(&mut tx, hash.as_bytes(), now).await?
    {
        decision = RefreshDecision::ReuseDetected;
    }
    match decision {
        RefreshDecision::Rotate => {
            let user = users::by_id(&mut tx, session.user_id)
                .await?
                .ok_or(ApiError::RefreshInvalid)?;
            if user.disabled {
                return Err(ApiError::RefreshInvalid);
            }
            let refresh_token = OpaqueToken::generate(&mut rand::rng());
            sessions::add_refresh(&mut tx, session.id, refresh_token.hash().as_bytes(), now)
                .await?;
            sessions::touch(&mut tx, session.id, now).await?;
            let (access_token, access_expires_at) =
                access_token(state, &user, session.id, now).await?;
            tx.commit().await?;
            Ok(IssuedTokens {
                session: session.id,
                access_token,
                access_expires_at,
                refresh_token,
                refresh_expires_at: session.expires_at,
            })
        }
        RefreshDecision::ReuseDetected => {
            sessions::revoke(&mut tx, session.id, RevokeReason::RefreshReuse, now).await?;
            audit::append(
                &mut tx,
                &origin.record(
                    now,
                    AuditEvent::RefreshTokenReused {
                        user: session.user_id,
                        session: session.id,
                    },
                ),
            )
            .await?;
            tx.commit().await?;
            Err(ApiError::RefreshReused)
        }
        _ => Err(ApiError::RefreshInvalid),
    }
}

/// Ends one session of the caller.
pub async fn logout(
    state: &AppState,
    user: UserId,
    session: SessionId,
    origin: &Origin,
) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    if sessions::revoke(&mut tx, session, RevokeReason::Logout, now).await? {
        audit::append(
            &mut tx,
            &origin.record(now, AuditEvent::Logout { user, session }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Ends every session of the caller. Returns how many ended.
pub async fn logout_everywhere(state: &AppState, user: UserId, origin: &Origin) -> ApiResult<u32> {
    let now = state.now();
    let mut tx = state.store().begin().await?;
    let ended =
        sessions::revoke_all_for_user(&mut tx, user, RevokeReason::LogoutEverywhere, now).await?;
    let sessions = u32::try_from(ended).unwrap_or(u32::MAX);
    audit::append(
        &mut tx,
        &origin.record(now, AuditEvent::LogoutEverywhere { user, sessions }),
    )
    .await?;
    tx.commit().await?;
    Ok(sessions)
}
