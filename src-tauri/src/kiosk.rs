//! The enrollment station (`--kiosk`): full screen, the UI shows only the enrollment flow, and
//! the relay passes only the requests that flow makes, so a person at the station cannot reach
//! the rest of the API through the webview.
//!
//! Leaving it needs an administrator's re-authentication with a security key, done here rather
//! than in the webview: this process opens a passwordless sign-in, has the connected key answer
//! it, checks that the account it signs in is an administrator, and ends that session at once
//! (it existed only to prove who stood at the station).

use crate::Desktop;
use crate::error::CommandError;
use crate::keys::{open_key, pin_of};
use schild_client::Method;
use schild_client::api::ApiFailure;
use serde::Serialize;
use std::sync::atomic::Ordering;
use tauri::{Emitter as _, Manager as _, State};
use webauthn_rs_proto::RequestChallengeResponse;

/// The event telling the UI the station mode changed.
pub const KIOSK_EVENT: &str = "kiosk";

/// The role whose holder may end the station mode.
const LEAVE_ROLE: &str = "admin";

/// What the event carries.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub(crate) struct KioskChanged {
    kiosk: bool,
    by: String,
}

/// Whether the enrollment flow makes this request (the only ones passed in station mode).
pub fn allows(method: Method, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let read = method == Method::Get;
    path == "/healthz"
        || path.starts_with("/api/v1/auth/")
        || (read && path == "/api/v1/me")
        || (read && path == "/api/v1/admin/users")
        || (path.starts_with("/api/v1/users/")
            && path.split('/').nth(5) == Some("security-keys")
            && !path.ends_with("/revoke")
            && !path.ends_with("/unblock"))
}

impl From<ApiFailure> for CommandError {
    fn from(failure: ApiFailure) -> Self {
        match failure {
            ApiFailure::Client(error) => error.into(),
            ApiFailure::Refused { code, message, .. } => CommandError::new(&code, message),
            ApiFailure::Unexpected => CommandError::new("api.unexpected", failure.to_string()),
        }
    }
}

/// Ends the station mode after an administrator signs in with their security key here.
#[tauri::command]
pub async fn kiosk_leave(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    pin: Option<String>,
) -> Result<(), CommandError> {
    if !desktop.kiosk.load(Ordering::Relaxed) {
        return Ok(());
    }
    let pin = pin_of(pin)?;
    let origin = desktop.webauthn_origin()?;
    let ceremony = desktop
        .client
        .passwordless_options::<RequestChallengeResponse>()
        .await?;
    let mut key = open_key(app.clone(), &desktop).await?;
    let answer = key
        .authenticate(pin.as_ref(), origin, ceremony.options)
        .await?;
    let tokens = desktop
        .client
        .passwordless(ceremony.ceremony_id, &answer)
        .await?;
    let profile = desktop.client.me(&tokens.access_token).await;
    if let Err(error) = desktop.client.logout(&tokens.access_token).await {
        tracing::warn!(%error, "could not end the re-authentication session");
    }
    let profile = profile?;
    if !profile.roles.iter().any(|role| role == LEAVE_ROLE) {
        desktop
            .record(
                "station.leave_refused",
                format!("{} is not an administrator", profile.username),
            )
            .await;
        return Err(CommandError::new(
            "kiosk.not_admin",
            "only an administrator can end the enrollment station mode",
        )
        .recommend("Ask an administrator to sign in with their security key."));
    }
    desktop.kiosk.store(false, Ordering::Relaxed);
    if let Some(window) = app.get_webview_window("main") {
        window
            .set_fullscreen(false)
            .map_err(|e| CommandError::new("kiosk.window", e.to_string()))?;
    }
    desktop
        .record("station.ended", format!("by {}", profile.username))
        .await;
    let _ = app.emit(
        KIOSK_EVENT,
        KioskChanged {
            kiosk: false,
            by: profile.username,
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_station_passes_only_the_enrollment_flow() {
        assert!(allows(Method::Post, "/api/v1/auth/login"));
        assert!(allows(Method::Get, "/api/v1/me"));
        assert!(allows(Method::Get, "/api/v1/admin/users"));
        let user = "/api/v1/users/0192e4a0-7c1a-7000-8000-000000000001";
        assert!(allows(
            Method::Post,
            &format!("{user}/security-keys/options")
        ));
        assert!(allows(Method::Post, &format!("{user}/security-keys")));
        assert!(allows(Method::Get, &format!("{user}/security-keys")));
        assert!(!allows(
            Method::Post,
            &format!("{user}/security-keys/x/revoke")
        ));
        assert!(!allows(Method::Post, "/api/v1/admin/users"));
        assert!(!allows(Method::Get, "/api/v1/admin/audit"));
        assert!(!allows(Method::Get, "/api/v1/access/requests"));
        assert!(!allows(Method::Post, &format!("{user}/roles")));
        assert!(!allows(Method::Get, "/api/v1/me/sessions"));
    }
}
