//! Sign-in: the password step, then (when the account has TOTP) the second-factor step.
//!
//! Every failure of the password step answers the same [`ApiError::InvalidCredentials`] after the
//! same amount of Argon2 work, whether the account exists, is locked or the password is wrong.

use super::Origin;
use super::guard::{self, Tally};
use super::secrets::open_totp_secret;
use super::session::{self, IssuedTokens};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::{AuditEvent, LoginFailure, LoginMethod, Regeneration};
use schild_core::backup_codes::{self, BackupCode, BackupCodeHash};
use schild_core::ids::UserId;
use schild_core::ids::Username;
use schild_core::password::{PasswordHash, Verified};
use schild_core::totp::{self, TotpSecret};
use schild_store::users::UserRow;
use schild_store::{audit, lockout, mfa, security_keys, users};
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

/// What the password step leads to.
#[derive(Debug)]
pub enum LoginOutcome {
    /// The account has no second factor: the session has begun.
    SignedIn(IssuedTokens),
    /// The account has a second factor: present it with this challenge.
    SecondFactorRequired {
        /// Short-lived signed challenge naming the account.
        challenge: String,
        /// When the challenge expires.
        expires_at: OffsetDateTime,
        /// The factors the account has: `totp` and `backup_code`, `security_key`.
        methods: Vec<&'static str>,
    },
}

/// The password step.
pub async fn password_step(
    state: &AppState,
    username: &str,
    password: SecretString,
    origin: &Origin,
) -> ApiResult<LoginOutcome> {
    let now = state.now();
    guard::ensure_ip_allowed(state, origin.ip, now).await?;
    // An unparseable name cannot exist, but it still pays for a dummy hash.
    let user = match Username::parse(username) {
        Ok(name) => {
            let mut conn = state.store().acquire().await?;
            users::by_username(&mut conn, &name).await?
        }
        Err(_) => None,
    };
    let attempted: String = username.chars().take(Username::MAX_LEN).collect();
    let mut attempt = Attempt::new(state, None, &attempted, origin, now);
    let Some(user) = user else {
        let _ = state.verify_password(password, None).await?;
        return attempt
            .fail(LoginFailure::UnknownUser, ApiError::InvalidCredentials)
            .await;
    };
    attempt.user = Some(user.id);

    if !guard::admit(state, user.id, &attempted, origin, now).await? {
        let _ = state.verify_password(password, None).await?;
        return attempt
            .fail(LoginFailure::Locked, ApiError::InvalidCredentials)
            .await;
    }
    attempt.tally = Tally::Admitted;

    let stored = PasswordHash::from_phc(user.password_hash.clone());
    let needs_rehash = match state
        .verify_password(password.clone(), Some(stored))
        .await?
    {
        Verified::Valid { needs_rehash } => needs_rehash,
        Verified::Invalid => {
            return attempt
                .fail(LoginFailure::WrongPassword, ApiError::InvalidCredentials)
                .await;
        }
    };
    if user.disabled {
        return attempt
            .fail(LoginFailure::Disabled, ApiError::InvalidCredentials)
            .await;
    }
    if needs_rehash {
        let fresh = state.hash_password(password).await?;
        let mut tx = state.store().begin().await?;
        users::set_password_hash(&mut tx, user.id, fresh.as_str()).await?;
        audit::append(
            &mut tx,
            &origin.record(now, AuditEvent::PasswordRehashed { user: user.id }),
        )
        .await?;
        tx.commit().await?;
    }

    let methods = {
        let mut conn = state.store().acquire().await?;
        second_factors(&mut conn, user.id).await?
    };
    if !methods.is_empty() {
        // The password was right: take back the attempt counted on admission. Failures of the
        // second step still add up with earlier ones until a sign-in completes.
        let mut conn = state.store().acquire().await?;
        lockout::refund_latest(&mut conn, user.id).await?;
        drop(conn);
        let keys = state.keys().read().await;
        let (challenge, claims) = keys
            .issue_mfa_challenge(user.id, now, &mut rand::rng())
            .map_err(ApiError::internal)?;
        let expires_at =
            OffsetDateTime::from_unix_timestamp(claims.exp).map_err(ApiError::internal)?;
        return Ok(LoginOutcome::SecondFactorRequired {
            challenge,
            expires_at,
            methods,
        });
    }

    let mut tx = state.store().begin().await?;
    let tokens = session::begin(state, &mut tx, &user, LoginMethod::Password, origin, now).await?;
    tx.commit().await?;
    Ok(LoginOutcome::SignedIn(tokens))
}

/// The second factors an account has set up, as the sign-in answer names them.
async fn second_factors(
    conn: &mut schild_store::AnyConnection,
    user: UserId,
) -> ApiResult<Vec<&'static str>> {
    let mut methods = Vec::new();
    if mfa::totp_for(conn, user)
        .await?
        .is_some_and(|totp| totp.confirmed)
    {
        methods.extend(["totp", "backup_code"]);
    }
    if security_keys::count_enrolled(conn, user).await? > 0 {
        methods.push("security_key");
    }
    Ok(methods)
}

/// One sign-in attempt, as its failure is recorded (lockout counters and the audit trail).
struct Attempt<'a> {
    state: &'a AppState,
    user: Option<UserId>,
    username: &'a str,
    origin: &'a Origin,
    now: OffsetDateTime,
    tally: Tally,
}

impl<'a> Attempt<'a> {
    /// An attempt not (yet) admitted: a failure counts toward the address only.
    fn new(
        state: &'a AppState,
        user: Option<UserId>,
        username: &'a str,
        origin: &'a Origin,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            state,
            user,
            username,
            origin,
            now,
            tally: Tally::AddressOnly,
        }
    }

    /// Records the failure, then answers with `answer`.
    async fn fail<T>(&self, reason: LoginFailure, answer: ApiError) -> ApiResult<T> {
        let Self {
            state,
            user,
            username,
            origin,
            now,
            tally,
        } = *self;
        guard::record_failure(state, user, username, reason, tally, origin, now).await?;
        Err(answer)
    }
}

/// The second factor offered with a challenge.
#[derive(Debug)]
pub enum SecondFactor {
    /// A 6-digit code from the authenticator app.
    Totp(String),
    /// One of the single-use backup codes.
    BackupCode(SecretString),
    /// A security key's answer to the ceremony begun with
    /// [`security_keys::begin_second_factor`](crate::auth::security_keys::begin_second_factor).
    SecurityKey {
        /// The ceremony.
        ceremony: uuid::Uuid,
        /// The authenticator's assertion.
        credential: Box<webauthn_rs_core::proto::PublicKeyCredential>,
    },
}

/// A completed second-factor step.
#[derive(Debug)]
pub struct SecondFactorOutcome {
    /// The new session's tokens.
    pub tokens: IssuedTokens,
    /// When a backup code was used: the whole fresh set, shown once. The old set is void.
    pub new_backup_codes: Option<Vec<BackupCode>>,
}

/// The account an MFA challenge from the password step names, from an address that is not
/// blocked; [`ApiError::ChallengeExpired`] for a forged, expired or orphaned challenge.
pub(crate) async fn challenged_account(
    state: &AppState,
    challenge: &str,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<UserRow> {
    guard::ensure_ip_allowed(state, origin.ip, now).await?;
    let claims = state
        .keys()
        .read()
        .await
        .verify_mfa_challenge(challenge, now)
        .map_err(|_| ApiError::ChallengeExpired)?;
    let mut conn = state.store().acquire().await?;
    users::by_id(&mut conn, claims.sub)
        .await?
        .ok_or(ApiError::ChallengeExpired)
}

/// The second-factor step.
pub async fn second_factor_step(
    state: &AppState,
    challenge: &str,
    factor: SecondFactor,
    origin: &Origin,
) -> ApiResult<SecondFactorOutcome> {
    let now = state.now();
    let user = challenged_account(state, challenge, origin, now).await?;
    let name = user.username.to_string();
    let mut attempt = Attempt::new(state, Some(user.id), &name, origin, now);
    if user.disabled {
        return attempt
            .fail(LoginFailure::Disabled, ApiError::InvalidSecondFactor)
            .await;
    }
    if !guard::admit(state, user.id, &name, origin, now).await? {
        return attempt
            .fail(LoginFailure::Locked, ApiError::InvalidSecondFactor)
            .await;
    }
    attempt.tally = Tally::Admitted;

    match factor {
        SecondFactor::Totp(code) => {
            let mut tx = state.store().begin().await?;
            let accepted = match mfa::totp_for(&mut tx, user.id).await? {
                Some(row) if row.confirmed => {
                    let secret = open_totp_secret(state, user.id, &row.secret)?;
                    verify_totp(&secret, &code, row.last_used_step, now)?
                }
                _ => None,
            };
            // Compare-and-set on the last used step: of two requests with the same code, one wins.
            let accepted = match accepted {
                Some(step) => mfa::set_last_used_step(&mut tx, user.id, step).await?,
                None => false,
            };
            if !accepted {
                drop(tx);
                return attempt
                    .fail(LoginFailure::WrongTotp, ApiError::InvalidSecondFactor)
                    .await;
            }
            let tokens = session::begin(
                state,
                &mut tx,
                &user,
                LoginMethod::PasswordTotp,
                origin,
                now,
            )
            .await?;
            tx.commit().await?;
            Ok(SecondFactorOutcome {
                tokens,
                new_backup_codes: None,
            })
        }
        SecondFactor::SecurityKey {
            ceremony,
            credential,
        } => {
            let verified = crate::auth::security_keys::verify_second_factor(
                state,
                &user,
                ceremony,
                &credential,
                origin,
                now,
            )
            .await?;
            if verified.is_none() {
                return attempt
                    .fail(
                        LoginFailure::WrongSecurityKey,
                        ApiError::InvalidSecondFactor,
                    )
                    .await;
            }
            let mut tx = state.store().begin().await?;
            let tokens = session::begin(
                state,
                &mut tx,
                &user,
                LoginMethod::PasswordSecurityKey,
                origin,
                now,
            )
            .await?;
            tx.commit().await?;
            Ok(SecondFactorOutcome {
                tokens,
                new_backup_codes: None,
            })
        }
        SecondFactor::BackupCode(code) => {
            let mut tx = state.store().begin().await?;
            let stored: Vec<BackupCodeHash> = mfa::backup_codes(&mut tx, user.id)
                .await?
                .iter()
                .filter_map(|bytes| BackupCodeHash::from_bytes(bytes))
                .collect();
            let matched = backup_codes::find(code.expose_secret(), &stored);
            // Taking the matched code is a compare-and-set: of two sign-ins racing with the same
            // code, only one gets it.
            let taken = match matched {
                Some(index) => {
                    mfa::take_backup_code(&mut tx, user.id, stored[index].as_bytes()).await?
                }
                None => false,
            };
            if !taken {
                drop(tx);
                return attempt
                    .fail(LoginFailure::WrongBackupCode, ApiError::InvalidSecondFactor)
                    .await;
            }
            let fresh =
                replace_backup_codes(&mut tx, &user, Regeneration::AfterUse, origin, now).await?;
            let tokens = session::begin(
                state,
                &mut tx,
                &user,
                LoginMethod::PasswordBackupCode,
                origin,
                now,
            )
            .await?;
            tx.commit().await?;
            Ok(SecondFactorOutcome {
                tokens,
                new_backup_codes: Some(fresh),
            })
        }
    }
}

/// Checks a TOTP code against a secret (base32, opened); `Ok(None)` for a wrong, malformed or
/// replayed code.
pub(super) fn verify_totp(
    secret: &str,
    code: &str,
    last_used_step: Option<u64>,
    now: OffsetDateTime,
) -> ApiResult<Option<u64>> {
    let secret = TotpSecret::from_base32(secret).map_err(ApiError::internal)?;
    Ok(totp::verify(&secret, code, now, last_used_step).ok())
}

/// Voids the user's backup codes and stores a fresh set, auditing why; returns the new codes.
pub(super) async fn replace_backup_codes(
    tx: &mut schild_store::AnyConnection,
    user: &UserRow,
    reason: Regeneration,
    origin: &Origin,
    now: OffsetDateTime,
) -> ApiResult<Vec<BackupCode>> {
    let (codes, hashes) = backup_codes::generate_set(&mut rand::rng());
    let hashes: Vec<[u8; 32]> = hashes.iter().map(|hash| *hash.as_bytes()).collect();
    mfa::replace_backup_codes(tx, user.id, &hashes, now).await?;
    if reason == Regeneration::AfterUse {
        audit::append(
            tx,
            &origin.record(now, AuditEvent::BackupCodeUsed { user: user.id }),
        )
        .await?;
    }
    audit::append(
        tx,
        &origin.record(
            now,
            AuditEvent::BackupCodesRegenerated {
                user: user.id,
                reason,
            },
        ),
    )
    .await?;
    Ok(codes)
}
