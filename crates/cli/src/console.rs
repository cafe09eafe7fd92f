//! What every console command shares: finding accounts by name, acting as a named person, and
//! wording errors and times for operators.

use anyhow::bail;
use schild_core::ids::UserId;
use schild_core::rbac::PermissionSet;
use schild_server::AppState;
use schild_server::auth::admin;
use schild_server::error::ApiError;
use schild_store::users::UserRow;

/// Looks an account up by name, saying which name was not found.
pub async fn find_user(state: &AppState, username: &str) -> anyhow::Result<UserRow> {
    match admin::find_user(state, username).await {
        Err(ApiError::NotFound) => bail!("no account is named {username:?}"),
        other => other.map_err(explain),
    }
}

/// The person a console command acts as (`--as NAME`): decisions such as approving access or
/// reviewing an assignment belong to a person, so the console names one, and that person's
/// permissions and the separation-of-duty rules apply exactly as over the API.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The account.
    pub user: UserRow,
    /// What it may do now.
    pub permissions: PermissionSet,
}

impl Actor {
    /// The account's id.
    pub fn id(&self) -> UserId {
        self.user.id
    }
}

/// Resolves `--as NAME` to the account and its current permissions.
pub async fn acting_as(state: &AppState, username: &str) -> anyhow::Result<Actor> {
    let user = find_user(state, username).await?;
    let permissions = state
        .authz()
        .permissions_of(state.store(), user.id, state.now())
        .await
        .map_err(explain)?;
    Ok(Actor { user, permissions })
}

/// A timestamp as operators read it: RFC 3339, whole seconds, UTC.
pub fn rfc3339(at: time::OffsetDateTime) -> String {
    let at = at.replace_nanosecond(0).unwrap_or(at);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

/// Turns an API error into a console message: its title and, where safe, its detail.
pub fn explain(error: ApiError) -> anyhow::Error {
    match &error {
        ApiError::Validation { field, reason } => anyhow::anyhow!("{field}: {reason}"),
        ApiError::WeakPassword {
            reason,
            suggestions,
        } => {
            anyhow::anyhow!(
                "the password is too weak: {reason} {}",
                suggestions.join(" ")
            )
        }
        ApiError::MissingPermission(permission) => {
            anyhow::anyhow!("this needs the permission {permission}")
        }
        ApiError::Refused(refusal) => anyhow::anyhow!("{}", refusal.detail),
        ApiError::Internal(_) => anyhow::Error::new(error),
        other => anyhow::anyhow!("{other}"),
    }
}

/// A keyring error for the operator: what happened, then what to do.
pub fn explain_keyring(error: schild_hwkey::keyring::KeyringError) -> anyhow::Error {
    anyhow::anyhow!("{error}. {}", error.recommendation())
}
