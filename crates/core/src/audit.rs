//! Security events: one typed enum of everything worth an audit line, written through one interface.
//!
//! Each event serialises to a flat JSON object tagged with a stable `kind` (for example
//! `auth.login.failed`), so the record format can later be hash-chained and exported to SIEMs
//! (syslog, CEF, ECS) without parsing free text. Secrets never appear in an event: codes, passwords
//! and tokens are reduced to what happened, never what was typed.

use crate::api_key::ApiKeyPrefix;
use crate::authenticator::Aaguid;
use crate::ids::{SessionId, UserId};
use crate::rbac::review::Verdict;
use crate::rbac::{CampaignId, JitRequestId, JitTarget, Permission, ReviewItemId, RoleName};
use crate::retention::{DataClass, HoldId, PurgeCount};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use time::OffsetDateTime;
use uuid::Uuid;

/// Which factors completed a sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginMethod {
    /// Password only (the account has no second factor yet).
    Password,
    /// Password and a TOTP code.
    PasswordTotp,
    /// Password and a single-use backup code.
    PasswordBackupCode,
    /// Password and a security key (WebAuthn assertion).
    PasswordSecurityKey,
    /// A discoverable security key or passkey alone, with user verification (passwordless).
    SecurityKey,
}

impl LoginMethod {
    /// The stable name, as serialised: `password`, `password_totp`, `password_backup_code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::PasswordTotp => "password_totp",
            Self::PasswordBackupCode => "password_backup_code",
            Self::PasswordSecurityKey => "password_security_key",
            Self::SecurityKey => "security_key",
        }
    }

    /// Parses a name produced by [`LoginMethod::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Password,
            Self::PasswordTotp,
            Self::PasswordBackupCode,
            Self::PasswordSecurityKey,
            Self::SecurityKey,
        ]
        .into_iter()
        .find(|method| method.as_str() == name)
    }
}

/// Why a sign-in attempt failed. Recorded for the audit trail; never shown to the client, which
/// always sees the same generic answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginFailure {
    /// No account has this username.
    UnknownUser,
    /// The password did not match.
    WrongPassword,
    /// The account is disabled.
    Disabled,
    /// The account is locked; the password was not even checked.
    Locked,
    /// The TOTP code was wrong, outside the allowed skew, or already used.
    WrongTotp,
    /// The backup code was wrong or already used.
    WrongBackupCode,
    /// The security-key assertion did not verify, named an unknown, revoked or blocked
    /// credential, or answered an expired or foreign challenge.
    WrongSecurityKey,
}

/// How a lock ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Unlock {
    /// The lock's backoff period ran out.
    Expired,
    /// An administrator lifted it, through the API or the console.
    Manual {
        /// Who lifted it; `None` for the local console (`schild admin`).
        by: Option<UserId>,
    },
}

/// Why an IP address was blocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum BlockReason {
    /// Automatic: failed sign-ins from this address across many accounts (credential stuffing).
    CredentialStuffing {
        /// Failed attempts in the window.
        failures: u32,
        /// Distinct usernames tried in the window.
        accounts: u32,
    },
    /// An administrator blocked it, through the API or the console.
    Manual {
        /// Who blocked it; `None` for the local console (`schild admin`).
        by: Option<UserId>,
        /// Their stated reason.
        note: String,
    },
}

/// Why a whole set of backup codes was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regeneration {
    /// First set, issued when TOTP enrollment was confirmed.
    Enrollment,
    /// A code was used, which voids the set and issues a fresh one.
    AfterUse,
    /// The account holder asked for a new set.
    OnRequest,
}

/// One security-relevant event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
#[non_exhaustive]
pub enum AuditEvent {
    /// The first administrator was created with the one-time setup token.
    #[serde(rename = "setup.completed")]
    SetupCompleted {
        /// The new administrator.
        user: UserId,
    },
    /// An account was created.
    #[serde(rename = "user.created")]
    UserCreated {
        /// The new account.
        user: UserId,
        /// Its sign-in name.
        username: String,
        /// Its roles at creation.
        roles: Vec<String>,
    },
    /// A sign-in completed and a session began.
    #[serde(rename = "auth.login.succeeded")]
    LoginSucceeded {
        /// Who signed in.
        user: UserId,
        /// The new session.
        session: SessionId,
        /// Which factors were used.
        method: LoginMethod,
    },
    /// A sign-in attempt failed.
    #[serde(rename = "auth.login.failed")]
    LoginFailed {
        /// The account, when the username matched one.
        user: Option<UserId>,
        /// The username as typed (already length-limited by parsing).
        username: String,
        /// What went wrong.
        reason: LoginFailure,
    },
    /// Too many failures: the account is locked until `until`.
    #[serde(rename = "auth.account.locked")]
    AccountLocked {
        /// The locked account.
        user: UserId,
        /// When the lock lifts by itself.
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
        /// Failures in the window that triggered it.
        failures: u32,
    },
    /// A lock ended.
    #[serde(rename = "auth.account.unlocked")]
    AccountUnlocked {
        /// The account.
        user: UserId,
        /// How it ended.
        #[serde(flatten)]
        unlock: Unlock,
    },
    /// A stored password hash was upgraded to the current Argon2id parameters at sign-in.
    #[serde(rename = "auth.password.rehashed")]
    PasswordRehashed {
        /// The account.
        user: UserId,
    },
    /// TOTP enrollment began (a secret was issued, not yet active).
    #[serde(rename = "mfa.totp.enrollment_started")]
    TotpEnrollmentStarted {
        /// The account.
        user: UserId,
    },
    /// TOTP enrollment was confirmed with a valid code and is now required at sign-in.
    #[serde(rename = "mfa.totp.enrolled")]
    TotpEnrolled {
        /// The account.
        user: UserId,
    },
    /// TOTP was switched off.
    #[serde(rename = "mfa.totp.disabled")]
    TotpDisabled {
        /// The account.
        user: UserId,
    },
    /// A backup code was spent at sign-in.
    #[serde(rename = "mfa.backup_code.used")]
    BackupCodeUsed {
        /// The account.
        user: UserId,
    },
    /// The account's backup codes were replaced by a fresh set.
    #[serde(rename = "mfa.backup_codes.regenerated")]
    BackupCodesRegenerated {
        /// The account.
        user: UserId,
        /// Why.
        reason: Regeneration,
    },
    /// An already-used refresh token was presented: its whole family (session) was revoked.
    #[serde(rename = "auth.refresh.reuse_detected")]
    RefreshTokenReused {
        /// The account.
        user: UserId,
        /// The revoked session (refresh family).
        session: SessionId,
    },
    /// The account holder signed out of one session.
    #[serde(rename = "auth.logout")]
    Logout {
        /// The account.
        user: UserId,
        /// The ended session.
        session: SessionId,
    },
    /// The account holder signed out of every session.
    #[serde(rename = "auth.logout_everywhere")]
    LogoutEverywhere {
        /// The account.
        user: UserId,
        /// How many sessions ended.
        sessions: u32,
    },
    /// An administrator ended someone's session.
    #[serde(rename = "auth.session.forced_logout")]
    ForcedLogout {
        /// The account whose session ended.
        user: UserId,
        /// The ended session.
        session: SessionId,
    },
    /// An IP address was blocked from signing in.
    #[serde(rename = "net.ip.blocked")]
    IpBlocked {
        /// The address.
        ip: IpAddr,
        /// When the block lifts by itself.
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
        /// Why.
        #[serde(flatten)]
        reason: BlockReason,
    },
    /// An IP block was lifted by an administrator.
    #[serde(rename = "net.ip.unblocked")]
    IpUnblocked {
        /// The address.
        ip: IpAddr,
    },
    /// A new token-signing key became active; older keys keep verifying until their tokens expire.
    #[serde(rename = "token.signing_key.rotated")]
    SigningKeyRotated {
        /// The new key id.
        kid: String,
    },
    /// A vault's KEK rotation began: `version` seals from now on, and every older data key is
    /// re-wrapped to it.
    #[serde(rename = "vault.kek.rotation_started")]
    VaultKekRotationStarted {
        /// The vault.
        vault: String,
        /// The new current KEK version.
        version: u32,
    },
    /// A vault's old KEK version was destroyed, nothing using it any more.
    #[serde(rename = "vault.kek.retired")]
    VaultKekRetired {
        /// The vault.
        vault: String,
        /// The destroyed version.
        version: u32,
    },
    /// A custom role was created.
    #[serde(rename = "rbac.role.created")]
    RoleCreated {
        /// Its name.
        role: RoleName,
        /// What it allows.
        permissions: Vec<Permission>,
    },
    /// A custom role's definition changed; it takes effect on the holders' next request.
    #[serde(rename = "rbac.role.updated")]
    RoleUpdated {
        /// Its name.
        role: RoleName,
        /// What it allows now.
        permissions: Vec<Permission>,
    },
    /// A custom role was deleted.
    #[serde(rename = "rbac.role.deleted")]
    RoleDeleted {
        /// Its name.
        role: RoleName,
    },
    /// An account was given a role (who gave it is the record's actor).
    #[serde(rename = "rbac.role.assigned")]
    RoleAssigned {
        /// The account.
        user: UserId,
        /// The role.
        role: RoleName,
        /// Why.
        reason: String,
    },
    /// A role was taken from an account (by a person, or by an access review).
    #[serde(rename = "rbac.role.unassigned")]
    RoleUnassigned {
        /// The account.
        user: UserId,
        /// The role.
        role: RoleName,
        /// Why.
        reason: String,
    },
    /// Someone asked for just-in-time access.
    #[serde(rename = "access.jit.requested")]
    JitRequested {
        /// The request.
        request: JitRequestId,
        /// Who asked.
        user: UserId,
        /// For what.
        target: JitTarget,
        /// For how long, in seconds.
        duration_secs: i64,
        /// Why.
        reason: String,
    },
    /// An approver approved a just-in-time request (which may need another approval yet).
    #[serde(rename = "access.jit.approved")]
    JitApproved {
        /// The request.
        request: JitRequestId,
        /// Who asked.
        user: UserId,
        /// Who approved.
        approver: UserId,
        /// Approvals so far, this one included.
        approvals: u8,
        /// Approvals needed.
        required: u8,
    },
    /// A just-in-time request was refused.
    #[serde(rename = "access.jit.denied")]
    JitDenied {
        /// The request.
        request: JitRequestId,
        /// Who asked.
        user: UserId,
        /// Who refused.
        by: UserId,
        /// Why.
        reason: String,
    },
    /// A just-in-time grant came into force.
    #[serde(rename = "access.jit.activated")]
    JitActivated {
        /// The request.
        request: JitRequestId,
        /// Who holds it.
        user: UserId,
        /// What it grants.
        target: JitTarget,
        /// From.
        #[serde(with = "time::serde::rfc3339")]
        starts_at: OffsetDateTime,
        /// Until (exclusive).
        #[serde(with = "time::serde::rfc3339")]
        ends_at: OffsetDateTime,
    },
    /// A just-in-time grant reached the end of its window.
    #[serde(rename = "access.jit.expired")]
    JitExpired {
        /// The request.
        request: JitRequestId,
        /// Who held it.
        user: UserId,
        /// What it granted.
        target: JitTarget,
        /// When it stopped counting.
        #[serde(with = "time::serde::rfc3339")]
        ended_at: OffsetDateTime,
    },
    /// A just-in-time grant was ended early.
    #[serde(rename = "access.jit.revoked")]
    JitRevoked {
        /// The request.
        request: JitRequestId,
        /// Who held it.
        user: UserId,
        /// What it granted.
        target: JitTarget,
        /// Who ended it; `None` for the console or a policy.
        by: Option<UserId>,
        /// Why.
        reason: String,
    },
    /// An access-review campaign started.
    #[serde(rename = "rbac.review.started")]
    ReviewStarted {
        /// The campaign.
        campaign: CampaignId,
        /// Its name.
        name: String,
        /// How many assignments it covers.
        items: u32,
        /// How many of those were flagged unused.
        flagged_unused: u32,
        /// When decisions are due.
        #[serde(with = "time::serde::rfc3339")]
        deadline: OffsetDateTime,
    },
    /// A reviewer certified or revoked one assignment.
    #[serde(rename = "rbac.review.decided")]
    ReviewDecided {
        /// The campaign.
        campaign: CampaignId,
        /// The item.
        item: ReviewItemId,
        /// Whose assignment.
        user: UserId,
        /// Which role.
        role: RoleName,
        /// The verdict.
        verdict: Verdict,
        /// Who decided.
        reviewer: UserId,
    },
    /// An item was still undecided at the deadline.
    #[serde(rename = "rbac.review.escalated")]
    ReviewEscalated {
        /// The campaign.
        campaign: CampaignId,
        /// The item.
        item: ReviewItemId,
        /// Whose assignment.
        user: UserId,
        /// Which role.
        role: RoleName,
        /// Who it was escalated to; `None`: every reviewer.
        escalate_to: Option<UserId>,
    },
    /// An item was still undecided after the grace period and was revoked by policy.
    #[serde(rename = "rbac.review.auto_revoked")]
    ReviewAutoRevoked {
        /// The campaign.
        campaign: CampaignId,
        /// The item.
        item: ReviewItemId,
        /// Whose assignment.
        user: UserId,
        /// Which role.
        role: RoleName,
    },
    /// Every item of a campaign was resolved.
    #[serde(rename = "rbac.review.completed")]
    ReviewCompleted {
        /// The campaign.
        campaign: CampaignId,
        /// Items kept.
        certified: u32,
        /// Items revoked by reviewers.
        revoked: u32,
        /// Items revoked automatically.
        auto_revoked: u32,
    },
    /// A security key or passkey was registered to an account.
    #[serde(rename = "webauthn.credential.registered")]
    SecurityKeyRegistered {
        /// Whose it is.
        user: UserId,
        /// Schild's id of the credential.
        credential: Uuid,
        /// The authenticator model's AAGUID.
        aaguid: Aaguid,
        /// Its model name.
        model: String,
        /// Whether it can sign in without a password.
        discoverable: bool,
        /// The inventory entry, when issued at an enrollment station.
        hardware_key: Option<Uuid>,
        /// The enrollment station, when one issued it.
        station: Option<String>,
    },
    /// A security key was refused at registration by policy.
    #[serde(rename = "webauthn.credential.refused")]
    SecurityKeyRefused {
        /// Who tried to register it.
        user: UserId,
        /// The key's AAGUID.
        aaguid: Aaguid,
        /// Why, as the policy words it.
        reason: String,
    },
    /// A credential was renamed.
    #[serde(rename = "webauthn.credential.renamed")]
    SecurityKeyRenamed {
        /// Whose it is.
        user: UserId,
        /// Which credential.
        credential: Uuid,
    },
    /// A credential was revoked: by its holder, an administrator, or with its key.
    #[serde(rename = "webauthn.credential.revoked")]
    SecurityKeyRevoked {
        /// Whose it was.
        user: UserId,
        /// Which credential.
        credential: Uuid,
        /// Why.
        reason: String,
    },
    /// A credential's signature counter did not increase: its key may have been cloned.
    #[serde(rename = "webauthn.credential.counter_regressed")]
    SecurityKeyCounterRegressed {
        /// Whose it is.
        user: UserId,
        /// Which credential.
        credential: Uuid,
        /// The counter stored before.
        stored: u64,
        /// Whether policy blocked the credential.
        blocked: bool,
    },
    /// A blocked credential was made usable again by an administrator.
    #[serde(rename = "webauthn.credential.unblocked")]
    SecurityKeyUnblocked {
        /// Whose it is.
        user: UserId,
        /// Which credential.
        credential: Uuid,
        /// Why.
        reason: String,
    },
    /// A key in the inventory was marked lost or revoked, which revoked its credentials.
    #[serde(rename = "inventory.key.withdrawn")]
    HardwareKeyWithdrawn {
        /// Its holder.
        user: UserId,
        /// The inventory entry.
        key: Uuid,
        /// `lost` or `revoked`.
        state: String,
        /// How many credentials it took with it.
        credentials_revoked: u32,
    },
    /// An API key was issued. Keys are issued by their owner only, so the owner is also the
    /// record's actor.
    #[serde(rename = "apikey.issued")]
    ApiKeyIssued {
        /// The key's public id.
        key: ApiKeyPrefix,
        /// Whose it is.
        owner: UserId,
        /// What it is for.
        label: String,
        /// What it may do.
        scopes: Vec<Permission>,
        /// When it stops working.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// An API key was revoked (who revoked it is the record's actor).
    #[serde(rename = "apikey.revoked")]
    ApiKeyRevoked {
        /// The key's public id.
        key: ApiKeyPrefix,
        /// Whose it was.
        owner: UserId,
        /// Why.
        reason: String,
    },
    /// A class's retention period changed; the next purge uses it.
    #[serde(rename = "retention.policy.changed")]
    RetentionPolicyChanged {
        /// The class.
        class: DataClass,
        /// Days kept after a record ends, now.
        keep_days: u32,
        /// Days kept before the change.
        previous_days: u32,
    },
    /// A legal hold was placed: what it covers is not purged until it is released.
    #[serde(rename = "retention.hold.placed")]
    LegalHoldPlaced {
        /// The hold.
        hold: HoldId,
        /// The class it keeps.
        class: DataClass,
        /// The account whose records it keeps; `None`: the whole class.
        account: Option<UserId>,
        /// Why.
        reason: String,
    },
    /// A legal hold was released.
    #[serde(rename = "retention.hold.released")]
    LegalHoldReleased {
        /// The hold.
        hold: HoldId,
        /// The class it kept.
        class: DataClass,
        /// The account whose records it kept; `None`: the whole class.
        account: Option<UserId>,
        /// Why.
        reason: String,
    },
    /// A retention purge ran: what each class lost. When audit events went, `audit_floor` is the
    /// highest id that may now be missing from the trail, so a gap below it is explained and any
    /// gap above it is tampering.
    #[serde(rename = "retention.purge.completed")]
    RetentionPurged {
        /// Each class, in a fixed order.
        classes: Vec<PurgeCount>,
        /// The audit trail's purge floor after this run, when audit events were purged.
        audit_floor: Option<i64>,
    },
}

impl AuditEvent {
    /// The stable machine-readable kind, for example `auth.login.failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SetupCompleted { .. } => "setup.completed",
            Self::UserCreated { .. } => "user.created",
            Self::LoginSucceeded { .. } => "auth.login.succeeded",
            Self::LoginFailed { .. } => "auth.login.failed",
            Self::AccountLocked { .. } => "auth.account.locked",
            Self::AccountUnlocked { .. } => "auth.account.unlocked",
            Self::PasswordRehashed { .. } => "auth.password.rehashed",
            Self::TotpEnrollmentStarted { .. } => "mfa.totp.enrollment_started",
            Self::TotpEnrolled { .. } => "mfa.totp.enrolled",
            Self::TotpDisabled { .. } => "mfa.totp.disabled",
            Self::BackupCodeUsed { .. } => "mfa.backup_code.used",
            Self::BackupCodesRegenerated { .. } => "mfa.backup_codes.regenerated",
            Self::RefreshTokenReused { .. } => "auth.refresh.reuse_detected",
            Self::Logout { .. } => "auth.logout",
            Self::LogoutEverywhere { .. } => "auth.logout_everywhere",
            Self::ForcedLogout { .. } => "auth.session.forced_logout",
            Self::IpBlocked { .. } => "net.ip.blocked",
            Self::IpUnblocked { .. } => "net.ip.unblocked",
            Self::SigningKeyRotated { .. } => "token.signing_key.rotated",
            Self::VaultKekRotationStarted { .. } => "vault.kek.rotation_started",
            Self::VaultKekRetired { .. } => "vault.kek.retired",
            Self::RoleCreated { .. } => "rbac.role.created",
            Self::RoleUpdated { .. } => "rbac.role.updated",
            Self::RoleDeleted { .. } => "rbac.role.deleted",
            Self::RoleAssigned { .. } => "rbac.role.assigned",
            Self::RoleUnassigned { .. } => "rbac.role.unassigned",
            Self::JitRequested { .. } => "access.jit.requested",
            Self::JitApproved { .. } => "access.jit.approved",
            Self::JitDenied { .. } => "access.jit.denied",
            Self::JitActivated { .. } => "access.jit.activated",
            Self::JitExpired { .. } => "access.jit.expired",
            Self::JitRevoked { .. } => "access.jit.revoked",
            Self::ReviewStarted { .. } => "rbac.review.started",
            Self::ReviewDecided { .. } => "rbac.review.decided",
            Self::ReviewEscalated { .. } => "rbac.review.escalated",
            Self::ReviewAutoRevoked { .. } => "rbac.review.auto_revoked",
            Self::ReviewCompleted { .. } => "rbac.review.completed",
            Self::SecurityKeyRegistered { .. } => "webauthn.credential.registered",
            Self::SecurityKeyRefused { .. } => "webauthn.credential.refused",
            Self::SecurityKeyRenamed { .. } => "webauthn.credential.renamed",
            Self::SecurityKeyRevoked { .. } => "webauthn.credential.revoked",
            Self::SecurityKeyCounterRegressed { .. } => "webauthn.credential.counter_regressed",
            Self::SecurityKeyUnblocked { .. } => "webauthn.credential.unblocked",
            Self::HardwareKeyWithdrawn { .. } => "inventory.key.withdrawn",
            Self::ApiKeyIssued { .. } => "apikey.issued",
            Self::ApiKeyRevoked { .. } => "apikey.revoked",
            Self::RetentionPolicyChanged { .. } => "retention.policy.changed",
            Self::LegalHoldPlaced { .. } => "retention.hold.placed",
            Self::LegalHoldReleased { .. } => "retention.hold.released",
            Self::RetentionPurged { .. } => "retention.purge.completed",
        }
    }

    /// The account the event is about, if any; used to index the log by subject.
    pub fn subject(&self) -> Option<UserId> {
        match self {
            Self::SetupCompleted { user }
            | Self::UserCreated { user, .. }
            | Self::LoginSucceeded { user, .. }
            | Self::AccountLocked { user, .. }
            | Self::AccountUnlocked { user, .. }
            | Self::PasswordRehashed { user }
            | Self::TotpEnrollmentStarted { user }
            | Self::TotpEnrolled { user }
            | Self::TotpDisabled { user }
            | Self::BackupCodeUsed { user }
            | Self::BackupCodesRegenerated { user, .. }
            | Self::RefreshTokenReused { user, .. }
            | Self::Logout { user, .. }
            | Self::LogoutEverywhere { user, .. }
            | Self::ForcedLogout { user, .. }
            | Self::RoleAssigned { user, .. }
            | Self::RoleUnassigned { user, .. }
            | Self::JitRequested { user, .. }
            | Self::JitApproved { user, .. }
            | Self::JitDenied { user, .. }
            | Self::JitActivated { user, .. }
            | Self::JitExpired { user, .. }
            | Self::JitRevoked { user, .. }
            | Self::ReviewDecided { user, .. }
            | Self::ReviewEscalated { user, .. }
            | Self::ReviewAutoRevoked { user, .. }
            | Self::SecurityKeyRegistered { user, .. }
            | Self::SecurityKeyRefused { user, .. }
            | Self::SecurityKeyRenamed { user, .. }
            | Self::SecurityKeyRevoked { user, .. }
            | Self::SecurityKeyCounterRegressed { user, .. }
            | Self::SecurityKeyUnblocked { user, .. }
            | Self::HardwareKeyWithdrawn { user, .. } => Some(*user),
            Self::ApiKeyIssued { owner, .. } | Self::ApiKeyRevoked { owner, .. } => Some(*owner),
            Self::LoginFailed { user, .. } => *user,
            Self::LegalHoldPlaced { account, .. } | Self::LegalHoldReleased { account, .. } => {
                *account
            }
            Self::IpBlocked { .. }
            | Self::IpUnblocked { .. }
            | Self::SigningKeyRotated { .. }
            | Self::VaultKekRotationStarted { .. }
            | Self::VaultKekRetired { .. }
            | Self::RoleCreated { .. }
            | Self::RoleUpdated { .. }
            | Self::RoleDeleted { .. }
            | Self::ReviewStarted { .. }
            | Self::ReviewCompleted { .. }
            | Self::RetentionPolicyChanged { .. }
            | Self::RetentionPurged { .. } => None,
        }
    }
}

/// An event with its context: when, who caused it and from where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The signed-in person who caused it, when there was one (an admin forcing a logout, say).
    pub actor: Option<UserId>,
    /// The client address the request came from.
    pub source_ip: Option<IpAddr>,
    /// What happened.
    pub event: AuditEvent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_matches_the_serialised_tag() {
        let user = UserId(uuid::Uuid::nil());
        let events = [
            AuditEvent::LoginFailed {
                user: None,
                username: "mallory".into(),
                reason: LoginFailure::UnknownUser,
            },
            AuditEvent::AccountUnlocked {
                user,
                unlock: Unlock::Manual { by: Some(user) },
            },
            AuditEvent::IpBlocked {
                ip: "192.0.2.7".parse().unwrap(),
                until: OffsetDateTime::UNIX_EPOCH,
                reason: BlockReason::CredentialStuffing {
                    failures: 20,
                    accounts: 7,
                },
            },
            AuditEvent::BackupCodesRegenerated {
                user,
                reason: Regeneration::AfterUse,
            },
        ];
        for event in events
            .into_iter()
            .chain(rbac_events(user))
            .chain(data_protection_events(user))
        {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["kind"], event.kind());
            let back: AuditEvent = serde_json::from_value(json).unwrap();
            assert_eq!(back, event);
        }
    }

    /// One of each access-control event.
    fn rbac_events(user: UserId) -> Vec<AuditEvent> {
        let role = RoleName::parse("incident-responder").unwrap();
        let request = JitRequestId(uuid::Uuid::from_u128(1));
        let campaign = CampaignId(uuid::Uuid::from_u128(2));
        let item = ReviewItemId(uuid::Uuid::from_u128(3));
        let at = OffsetDateTime::UNIX_EPOCH;
        let target = JitTarget::Role(role.clone());
        vec![
            AuditEvent::RoleCreated {
                role: role.clone(),
                permissions: vec![Permission::IncidentRead],
            },
            AuditEvent::RoleUpdated {
                role: role.clone(),
                permissions: vec![],
            },
            AuditEvent::RoleDeleted { role: role.clone() },
            AuditEvent::RoleAssigned {
                user,
                role: role.clone(),
                reason: "on call".into(),
            },
            AuditEvent::RoleUnassigned {
                user,
                role: role.clone(),
                reason: "rota ended".into(),
            },
            AuditEvent::JitRequested {
                request,
                user,
                target: JitTarget::Permission(Permission::VaultRotate),
                duration_secs: 3600,
                reason: "rotate".into(),
            },
            AuditEvent::JitApproved {
                request,
                user,
                approver: user,
                approvals: 1,
                required: 2,
            },
            AuditEvent::JitDenied {
                request,
                user,
                by: user,
                reason: "no".into(),
            },
            AuditEvent::JitActivated {
                request,
                user,
                target: target.clone(),
                starts_at: at,
                ends_at: at,
            },
            AuditEvent::JitExpired {
                request,
                user,
                target: target.clone(),
                ended_at: at,
            },
            AuditEvent::JitRevoked {
                request,
                user,
                target,
                by: None,
                reason: "done".into(),
            },
            AuditEvent::ReviewStarted {
                campaign,
                name: "Q1".into(),
                items: 3,
                flagged_unused: 1,
                deadline: at,
            },
            AuditEvent::ReviewDecided {
                campaign,
                item,
                user,
                role: role.clone(),
                verdict: Verdict::Revoke,
                reviewer: user,
            },
            AuditEvent::ReviewEscalated {
                campaign,
                item,
                user,
                role: role.clone(),
                escalate_to: None,
            },
            AuditEvent::ReviewAutoRevoked {
                campaign,
                item,
                user,
                role,
            },
            AuditEvent::ReviewCompleted {
                campaign,
                certified: 1,
                revoked: 1,
                auto_revoked: 1,
            },
        ]
    }

    /// One of each API-key and retention event.
    fn data_protection_events(user: UserId) -> Vec<AuditEvent> {
        use crate::retention::ClassOutcome;
        let key = ApiKeyPrefix::parse("abcdefgh2345").unwrap();
        let hold = HoldId(uuid::Uuid::from_u128(4));
        vec![
            AuditEvent::ApiKeyIssued {
                key: key.clone(),
                owner: user,
                label: "ci".into(),
                scopes: vec![Permission::UserRead],
                expires_at: OffsetDateTime::UNIX_EPOCH,
            },
            AuditEvent::ApiKeyRevoked {
                key,
                owner: user,
                reason: "leaked".into(),
            },
            AuditEvent::RetentionPolicyChanged {
                class: DataClass::Sessions,
                keep_days: 7,
                previous_days: 30,
            },
            AuditEvent::LegalHoldPlaced {
                hold,
                class: DataClass::AuditEvents,
                account: Some(user),
                reason: "matter 17".into(),
            },
            AuditEvent::LegalHoldReleased {
                hold,
                class: DataClass::AuditEvents,
                account: None,
                reason: "closed".into(),
            },
            AuditEvent::RetentionPurged {
                classes: vec![PurgeCount {
                    class: DataClass::Sessions,
                    outcome: ClassOutcome::Purged,
                    purged: 3,
                }],
                audit_floor: Some(41),
            },
        ]
    }

    #[test]
    fn data_protection_events_name_their_subject() {
        let user = UserId(uuid::Uuid::from_u128(42));
        let subjects: Vec<_> = data_protection_events(user)
            .iter()
            .map(|event| (event.kind(), event.subject()))
            .collect();
        assert_eq!(
            subjects,
            [
                ("apikey.issued", Some(user)),
                ("apikey.revoked", Some(user)),
                ("retention.policy.changed", None),
                ("retention.hold.placed", Some(user)),
                ("retention.hold.released", None),
                ("retention.purge.completed", None),
            ]
        );
        let json = serde_json::to_value(&data_protection_events(user)[5]).unwrap();
        assert_eq!(json["classes"][0]["class"], "sessions");
        assert_eq!(json["classes"][0]["outcome"], "purged");
    }

    #[test]
    fn rbac_events_have_dotted_kinds_and_the_right_subject() {
        let user = UserId(uuid::Uuid::from_u128(42));
        let events = rbac_events(user);
        assert_eq!(events.len(), 16);
        let mut kinds = std::collections::BTreeSet::new();
        for event in &events {
            assert!(
                kinds.insert(event.kind()),
                "duplicate kind {}",
                event.kind()
            );
            assert!(
                event.kind().starts_with("rbac.") || event.kind().starts_with("access.jit."),
                "{}",
                event.kind()
            );
            let catalogue_change = matches!(
                event,
                AuditEvent::RoleCreated { .. }
                    | AuditEvent::RoleUpdated { .. }
                    | AuditEvent::RoleDeleted { .. }
                    | AuditEvent::ReviewStarted { .. }
                    | AuditEvent::ReviewCompleted { .. }
            );
            let expected = if catalogue_change { None } else { Some(user) };
            assert_eq!(event.subject(), expected, "{}", event.kind());
        }
        let json = serde_json::to_value(&events[5]).unwrap();
        assert_eq!(json["target"]["permission"], "vault:rotate");
    }
}
