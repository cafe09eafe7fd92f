//! The key as a WebAuthn authenticator: answering a relying party's registration and sign-in
//! ceremonies, through webauthn-authenticator-rs's client (CTAP 2 makeCredential and
//! getAssertion with the PIN, WebAuthn L2 §5.1.3 and §5.1.4), so the desktop and the console
//! sign in with a physical key in Rust rather than through a webview.

use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::transport::Token;
use webauthn_rs_proto::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, ResidentKeyRequirement,
};

use super::{KeyError, Pin, SecurityKey, observer::UiBridge};

impl<T: Token> SecurityKey<T> {
    /// Answers a registration ceremony (`navigator.credentials.create`) for `origin`, verifying
    /// the holder with `pin` when the key has one. A relying party that requires a discoverable
    /// credential gets one. Blocks the calling thread while the key waits for its touch.
    pub async fn register(
        &mut self,
        pin: Option<&Pin>,
        origin: Url,
        options: CreationChallengeResponse,
    ) -> Result<RegisterPublicKeyCredential, KeyError> {
        let observer = self.observer();
        let bridge = UiBridge::new(pin, &*observer);
        let discoverable = options
            .public_key
            .authenticator_selection
            .as_ref()
            .is_some_and(|selection| {
                selection.require_resident_key
                    || selection.resident_key == Some(ResidentKeyRequirement::Required)
            });
        self.token().require_resident_key(discoverable);
        let result = {
            let mut authenticator = self.authenticator(&bridge).await?;
            authenticator.do_registration(origin, options)
        };
        self.token().require_resident_key(false);
        match result {
            Ok(answer) => Ok(answer),
            Err(error) => Err(self.pin_error(error).await),
        }
    }

    /// Answers a sign-in ceremony (`navigator.credentials.get`) for `origin`.
    pub async fn authenticate(
        &mut self,
        pin: Option<&Pin>,
        origin: Url,
        options: RequestChallengeResponse,
    ) -> Result<PublicKeyCredential, KeyError> {
        let observer = self.observer();
        let bridge = UiBridge::new(pin, &*observer);
        let result = {
            let mut authenticator = self.authenticator(&bridge).await?;
            authenticator.do_authentication(origin, options)
        };
        match result {
            Ok(answer) => Ok(answer),
            Err(error) => Err(self.pin_error(error).await),
        }
    }
}
