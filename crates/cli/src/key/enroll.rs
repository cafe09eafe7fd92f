//! `schild key enroll --user NAME`: issue the connected key to a person from the backend's own
//! host, registering it straight in the database (as `schild admin` does), through the same
//! enrollment flow the desktop's enrollment station runs over HTTP.

use super::prompt::{read_line, read_pin};
use super::{explain, open};
use crate::config::{self, DatabaseArgs};
use crate::console::{self, acting_as, find_user};
use async_trait::async_trait;
use schild_core::rbac::Permission;
use schild_hwkey::ctap::enrollment::{
    self, BackendError, EnrollmentBackend, KeyIssue, OpenedRegistration, Registered,
};
use schild_hwkey::ctap::{AnyKey, Discovery, PinPolicy, SecurityKey};
use schild_server::AppState;
use schild_server::auth::Origin;
use schild_server::auth::security_keys::{self, Issue, Registration, SecurityKeySettings};
use schild_server::error::ApiError;
use url::Url;
use webauthn_rs_proto::RegisterPublicKeyCredential;

/// Issue the key to a person.
#[derive(Debug, clap::Args)]
pub struct EnrollArgs {
    #[command(flatten)]
    database: DatabaseArgs,

    /// The person receiving the key (username).
    #[arg(long)]
    user: String,

    /// The operator issuing it (username; needs the permission key:enroll). Recorded in the
    /// inventory and the audit trail.
    #[arg(long = "as")]
    operator: Option<String>,

    /// The key's name on the account.
    #[arg(long, default_value = "security key")]
    name: String,

    /// The key's serial number, when printed on it.
    #[arg(long)]
    serial: Option<String>,

    /// This enrollment station's name.
    #[arg(long)]
    station: Option<String>,

    /// Register a discoverable credential, to sign in without a password.
    #[arg(long)]
    passwordless: bool,

    /// Fingerprints to enroll on a biometric key.
    #[arg(long, default_value_t = 1)]
    fingerprints: u8,

    /// Then issue a second key as the backup key (swap keys when asked).
    #[arg(long)]
    backup: bool,

    /// WebAuthn relying-party id, as `schild serve` uses it.
    #[arg(long, default_value = "localhost", env = "SCHILD_WEBAUTHN_RP_ID")]
    webauthn_rp_id: String,

    /// The origin the key signs for, one `schild serve` accepts.
    #[arg(
        long,
        default_value = "http://localhost:8700",
        env = "SCHILD_WEBAUTHN_ORIGIN"
    )]
    webauthn_origin: Url,
}

/// The backend, in this process.
struct LocalBackend {
    state: AppState,
    origin: Origin,
}

fn backend_error(error: ApiError) -> BackendError {
    let code = error.code().to_owned();
    BackendError {
        code,
        message: console::explain(error).to_string(),
    }
}

#[async_trait]
impl EnrollmentBackend for LocalBackend {
    async fn begin(
        &self,
        holder: &str,
        passwordless: bool,
    ) -> Result<OpenedRegistration, BackendError> {
        let user = admin_user(&self.state, holder).await?;
        let ceremony = security_keys::begin_registration(&self.state, &user, passwordless)
            .await
            .map_err(backend_error)?;
        Ok(OpenedRegistration {
            ceremony: ceremony.id,
            options: ceremony.options,
        })
    }

    async fn finish(
        &self,
        holder: &str,
        opened: uuid::Uuid,
        request: &KeyIssue,
        answer: RegisterPublicKeyCredential,
    ) -> Result<Registered, BackendError> {
        let user = admin_user(&self.state, holder).await?;
        let registration = Registration {
            ceremony: opened,
            name: request.name.clone(),
            credential: answer,
            issue: Some(Issue {
                serial: request.serial.clone(),
                station: request.station.clone(),
            }),
        };
        let registered =
            security_keys::finish_registration(&self.state, &user, registration, &self.origin)
                .await
                .map_err(backend_error)?;
        Ok(Registered {
            credential: registered.credential.id,
            hardware_key: registered.hardware_key.map(|key| key.id),
            model: registered
                .credential
                .aaguid
                .parse::<schild_core::authenticator::Aaguid>()
                .map_or("unknown model", |aaguid| aaguid.model_name())
                .to_owned(),
            lacks_backup: registered.lacks_backup,
        })
    }
}

async fn admin_user(
    state: &AppState,
    holder: &str,
) -> Result<schild_store::users::UserRow, BackendError> {
    find_user(state, holder)
        .await
        .map_err(|error| BackendError {
            code: "not_found".into(),
            message: error.to_string(),
        })
}

pub async fn run(key: &mut SecurityKey<AnyKey>, args: EnrollArgs) -> anyhow::Result<()> {
    let settings = SecurityKeySettings {
        rp_id: args.webauthn_rp_id.clone(),
        origins: vec![args.webauthn_origin.clone()],
        ..SecurityKeySettings::default()
    };
    let state = config::open_state_with(&args.database, settings).await?;
    find_user(&state, &args.user).await?;
    let origin = match &args.operator {
        Some(name) => {
            let operator = acting_as(&state, name).await?;
            if !operator.permissions.has(Permission::KeyEnroll) {
                anyhow::bail!("{name} may not enroll keys: that needs the permission key:enroll");
            }
            Origin::console().acting(operator.id())
        }
        None => Origin::console(),
    };
    let backend = LocalBackend { state, origin };
    let mut issue = KeyIssue {
        name: args.name.clone(),
        serial: args.serial.clone(),
        station: args.station.clone(),
        passwordless: args.passwordless,
        fingerprints: args.fingerprints,
    };
    enroll_one(key, &backend, &args, &issue).await?;
    if args.backup {
        read_line("Remove this key, insert the backup key, then press Enter: ")?;
        let discovery = Discovery::hardware();
        let mut spare = open(&discovery).await?;
        issue.name = "backup key".into();
        issue.serial = None;
        enroll_one(&mut spare, &backend, &args, &issue).await?;
    }
    Ok(())
}

async fn enroll_one(
    key: &mut SecurityKey<AnyKey>,
    backend: &LocalBackend,
    args: &EnrollArgs,
    issue: &KeyIssue,
) -> anyhow::Result<()> {
    let info = key.info();
    eprintln!(
        "Issuing {} to {}.",
        info.model.unwrap_or("a security key of unknown model"),
        args.user
    );
    let has_pin = info.options.client_pin == Some(true);
    let pin = if has_pin {
        read_pin("SCHILD_KEY_PIN", "The holder types the key's PIN", false)?
    } else {
        eprintln!("The key has no PIN yet: the holder chooses one now.");
        read_pin("SCHILD_KEY_PIN", "New PIN", true)?
    };
    let enrolled = enrollment::enroll(
        key,
        backend,
        &args.user,
        &pin,
        &PinPolicy::default(),
        args.webauthn_origin.clone(),
        issue,
    )
    .await
    .map_err(|error| match error {
        enrollment::EnrollmentError::Key(error) => explain(error),
        other => anyhow::anyhow!("{other}"),
    })?;
    if enrolled.pin_set {
        println!("PIN set.");
    }
    for fingerprint in &enrolled.fingerprints {
        println!("Fingerprint enrolled: {fingerprint}");
    }
    let registered = &enrolled.registered;
    println!(
        "Registered {} ({}) for {} as credential {}.",
        issue.name, registered.model, args.user, registered.credential
    );
    if let Some(inventory) = registered.hardware_key {
        println!("Inventory entry: {inventory}");
    }
    if registered.lacks_backup {
        println!(
            "{} has no backup key yet: issue a second key with --backup.",
            args.user
        );
    }
    Ok(())
}
