//! Registering a security key or passkey to an account: by its holder (after re-entering the
//! password) or for them at an enrollment station (by an operator holding `key:enroll`).

use super::{
    Ceremony, ceremony_state, credential_id_text, errors, format_name, open_ceremony,
    registered_aaguid,
};
use crate::auth::Origin;
use crate::auth::reauth::{load_user, reauthenticate};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use schild_core::audit::AuditEvent;
use schild_core::ids::{UserId, uuid_v7};
use schild_core::rbac::RoleName;
use schild_store::hardware_keys::{self, HardwareKeyRow, KeyState};
use schild_store::security_keys::{self, CeremonyPurpose, CredentialRow, CredentialState};
use schild_store::users::UserRow;
use schild_store::{StoreError, audit};
use secrecy::SecretString;
use uuid::Uuid;
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, CreationChallengeResponse, CredProtect,
    CredentialProtectionPolicy, RegisterPublicKeyCredential, RegistrationState,
    RequestRegistrationExtensions, UserVerificationPolicy,
};

/// Whether the account's roles require user verification on its keys.
pub(super) fn uv_required(state: &AppState, user: &UserRow) -> bool {
    let roles: Vec<RoleName> = user
        .roles
        .iter()
        .filter_map(|name| RoleName::parse(name).ok())
        .collect();
    state
        .security_keys()
        .policy()
        .requires_user_verification(&roles)
}

/// Starts registering a key for `user`. `passwordless` asks for a discoverable credential with
/// user verification, which can later sign in without the password.
pub async fn begin_registration(
    state: &AppState,
    user: &UserRow,
    passwordless: bool,
) -> ApiResult<Ceremony<CreationChallengeResponse>> {
    let now = state.now();
    let rp = state.security_keys();
    let mut conn = state.store().acquire().await?;
    let existing = security_keys::credentials_of(&mut conn, user.id).await?;
    // Every credential ever registered, revoked ones too: the same key is not registered twice.
    let exclude: Vec<_> = existing
        .iter()
        .filter_map(|row| {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&row.credential_id)
                .ok()
        })
        .collect();
    let verify = passwordless || uv_required(state, user);
    let builder = rp
        .core()
        .new_challenge_register_builder(
            user.id.0.as_bytes(),
            user.username.as_str(),
            &user.display_name,
        )
        .map_err(ApiError::internal)?
        // Direct attestation: the AAGUID is then signed by the key, and checkable.
        .attestation(AttestationConveyancePreference::Direct)
        .user_verification_policy(if verify {
            UserVerificationPolicy::Required
        } else {
            UserVerificationPolicy::Preferred
        })
        .require_resident_key(passwordless)
        .exclude_credentials(Some(exclude))
        .reject_synchronised_authenticators(false)
        .extensions(Some(RequestRegistrationExtensions {
            cred_protect: verify.then_some(CredProtect {
                credential_protection_policy: CredentialProtectionPolicy::UserVerificationRequired,
                enforce_credential_protection_policy: Some(false),
            }),
            uvm: Some(true),
            cred_props: Some(true),
            min_pin_length: None,
            hmac_create_secret: None,
        }));
    let (options, ceremony) = rp
        .core()
        .generate_challenge_register(builder)
        .map_err(ApiError::internal)?;
    let stored = Stored {
        ceremony,
        passwordless,
        uv_required: verify,
    };
    open_ceremony(
        &mut conn,
        Some(user.id),
        CeremonyPurpose::Register,
        &stored,
        options,
        now,
    )
    .await
}

/// Starts registering a key for the signed-in holder, who types their password again first: a
/// stolen access token alone must not bind an attacker's key to the account. The attempt counts
/// toward lockout like a sign-in until the ceremony is open.
pub async fn begin_own_registration(
    state: &AppState,
    holder: UserId,
    password: SecretString,
    passwordless: bool,
    origin: &Origin,
) -> ApiResult<Ceremony<CreationChallengeResponse>> {
    let user = load_user(state, holder).await?;
    let confirmed = reauthenticate(state, &user, password, origin, state.now()).await?;
    let ceremony = begin_registration(state, &user, passwordless).await?;
    let mut conn = state.store().acquire().await?;
    confirmed.done(&mut conn).await?;
    Ok(ceremony)
}

/// What a registration ceremony keeps between its two steps.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    ceremony: RegistrationState,
    passwordless: bool,
    uv_required: bool,
}

/// The authenticator's answer and what to call the key.
#[derive(Debug)]
pub struct Registration {
    /// The ceremony being completed.
    pub ceremony: Uuid,
    /// The holder's name for the key ("blue YubiKey").
    pub name: String,
    /// The authenticator's attestation response.
    pub credential: RegisterPublicKeyCredential,
    /// When issued at an enrollment station: what goes into the inventory.
    pub issue: Option<Issue>,
}

/// A physical key issued at an enrollment station.
#[derive(Debug, Clone, Default)]
pub struct Issue {
    /// The key's serial number, where it discloses one.
    pub serial: Option<String>,
    /// The station's name.
    pub station: Option<String>,
}

/// A completed registration.
#[derive(Debug)]
pub struct Registered {
    /// The stored credential.
    pub credential: CredentialRow,
    /// The inventory entry, when issued at a station.
    pub hardware_key: Option<HardwareKeyRow>,
    /// Whether the account still has fewer keys than the policy's minimum (no backup key yet).
    pub lacks_backup: bool,
}

/// Completes a registration for `user`: verifies the attestation, applies the policy, stores the
/// credential (and the inventory entry), all audited, in one transaction.
pub async fn finish_registration(
    state: &AppState,
    user: &UserRow,
    registration: Registration,
    origin: &Origin,
) -> ApiResult<Registered> {
    let now = state.now();
    let rp = state.security_keys();
    let mut tx = state.store().begin().await?;
    let row = security_keys::take_ceremony(
        &mut tx,
        registration.ceremony,
        CeremonyPurpose::Register,
        now,
    )
    .await?
    .filter(|row| row.user_id == Some(user.id))
    .ok_or_else(errors::ceremony_expired)?;
    // The ceremony is used up whatever happens next: commit that before checking the answer.
    tx.commit().await?;
    let stored: Stored = ceremony_state(&row)?;
    let credential = rp
        .core()
        .register_credential(&registration.credential, &stored.ceremony, rp.roots())
        .map_err(|error| errors::registration_rejected(&error))?;
    let aaguid = registered_aaguid(&credential, &registration.credential);
    if let Err(refusal) = rp
        .policy()
        .admit(aaguid, credential.user_verified, stored.uv_required)
    {
        let event = AuditEvent::SecurityKeyRefused {
            user: user.id,
            aaguid,
            reason: refusal.to_string(),
        };
        let mut conn = state.store().acquire().await?;
        audit::append(&mut conn, &origin.record(now, event)).await?;
        return Err(refusal.into());
    }

    let model = aaguid.model_name().to_owned();
    let hardware_key = registration.issue.map(|issue| HardwareKeyRow {
        id: uuid_v7(now, &mut rand::rng()),
        user_id: user.id,
        aaguid: aaguid.to_string(),
        model: model.clone(),
        serial: issue.serial,
        station: issue.station,
        enrolled_by: origin.actor,
        enrolled_at: now,
        state: KeyState::Active,
        state_changed_at: None,
        state_changed_by: None,
        state_reason: None,
    });
    let row = CredentialRow {
        id: uuid_v7(now, &mut rand::rng()),
        user_id: user.id,
        credential_id: credential_id_text(credential.cred_id.as_ref()),
        hardware_key_id: hardware_key.as_ref().map(|key| key.id),
        name: registration.name,
        aaguid: aaguid.to_string(),
        attestation_format: format_name(&credential.attestation_format),
        transports: registration
            .credential
            .response
            .transports
            .iter()
            .flatten()
            .map(|transport| transport.to_string())
            .collect(),
        discoverable: stored.passwordless,
        user_verified: credential.user_verified,
        credential: serde_json::to_string(&credential).map_err(ApiError::internal)?,
        sign_count: u64::from(credential.counter),
        state: CredentialState::Active,
        created_at: now,
        last_used_at: None,
        state_changed_at: None,
        state_reason: None,
    };

    let mut tx = state.store().begin().await?;
    if let Some(key) = &hardware_key {
        hardware_keys::insert(&mut tx, key).await?;
    }
    match security_keys::insert_credential(&mut tx, &row).await {
        Err(StoreError::CredentialRegistered) => return Err(errors::already_registered()),
        other => other?,
    }
    let event = AuditEvent::SecurityKeyRegistered {
        user: user.id,
        credential: row.id,
        aaguid,
        model,
        discoverable: row.discoverable,
        hardware_key: hardware_key.as_ref().map(|key| key.id),
        station: hardware_key.as_ref().and_then(|key| key.station.clone()),
    };
    audit::append(&mut tx, &origin.record(now, event)).await?;
    let active = security_keys::count_active(&mut tx, user.id).await?;
    tx.commit().await?;
    Ok(Registered {
        credential: row,
        hardware_key,
        lacks_backup: rp
            .policy()
            .lacks_backup(usize::try_from(active).unwrap_or(usize::MAX)),
    })
}
