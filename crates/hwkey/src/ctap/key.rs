//! A connected security key and its management operations, generic over the transport.
//!
//! Every operation drives webauthn-authenticator-rs's `CtapAuthenticator`, so a USB key, an NFC key
//! and the [virtual key](super::virtual_key) take exactly the same code path. PINs come from the
//! caller, per operation; prompts and progress go to the [`KeyObserver`] given at [`SecurityKey::open`].

use std::{sync::Arc, time::Duration};

use webauthn_authenticator_rs::{
    ctap2::{
        CtapAuthenticator,
        commands::{ClientPinRequest, ClientPinSubCommand, GetInfoRequest},
    },
    error::{CtapError, WebauthnCError},
    transport::Token,
};

use super::{
    KeyError, KeyInfo, KeyObserver, Pin, PinPolicy, info::KeyTransport, observer::UiBridge,
    shared::SharedToken,
};

/// How soon after power-up a key may accept a factory reset: CTAP 2.1 §6.6 allows at most 10 s
/// (some keys allow less). UIs should say "unplug the key, plug it in, and confirm right away".
pub const RESET_WINDOW: Duration = Duration::from_secs(10);

/// A security key, ready for management operations.
pub struct SecurityKey<T: Token> {
    token: SharedToken<T>,
    info: KeyInfo,
    observer: Arc<dyn KeyObserver>,
}

impl<T: Token> std::fmt::Debug for SecurityKey<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityKey")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

pub(crate) type Authenticator<'b, 'a, T> = CtapAuthenticator<'b, SharedToken<T>, UiBridge<'a>>;

impl<T: Token> SecurityKey<T> {
    /// Connects to a key and reads its information. `observer` hears every prompt of every later
    /// operation on this key.
    pub async fn open(token: T, observer: Arc<dyn KeyObserver>) -> Result<Self, KeyError> {
        let mut token = SharedToken::new(token);
        token.init().await?;
        let info = read_info(&mut token, &*observer).await?;
        Ok(Self {
            token,
            info,
            observer,
        })
    }

    /// What the key said about itself when last asked.
    pub fn info(&self) -> &KeyInfo {
        &self.info
    }

    /// Asks the key again (PIN retries, options and fingerprints change with operations).
    pub async fn refresh(&mut self) -> Result<&KeyInfo, KeyError> {
        self.info = read_info(&mut self.token, &*self.observer).await?;
        Ok(&self.info)
    }

    pub(crate) fn token(&self) -> &SharedToken<T> {
        &self.token
    }

    pub(crate) fn observer(&self) -> Arc<dyn KeyObserver> {
        Arc::clone(&self.observer)
    }

    /// A CTAP authenticator over this key for one operation.
    pub(crate) async fn authenticator<'b, 'a: 'b>(
        &self,
        bridge: &'b UiBridge<'a>,
    ) -> Result<Authenticator<'b, 'a, T>, KeyError> {
        match CtapAuthenticator::new(self.token.clone(), bridge).await {
            Some(authenticator) => Ok(authenticator),
            None => {
                // `new` hides why; ask the key ourselves to tell "gone" from "not CTAP 2".
                let mut token = self.token.clone();
                token.transmit(GetInfoRequest {}, bridge).await?;
                Err(KeyError::NotSupported {
                    operation: "CTAP 2.0 or later",
                })
            }
        }
    }

    /// Maps a library error, asking the key for its PIN retries when a PIN was wrong.
    pub(crate) async fn pin_error(&mut self, error: WebauthnCError) -> KeyError {
        match error {
            WebauthnCError::Ctap(CtapError::Ctap2PinInvalid) => match self.pin_retries().await {
                Ok((retries_left, _)) => KeyError::WrongPin { retries_left },
                Err(error) => error,
            },
            WebauthnCError::PinTooShort => {
                let _ = self.refresh().await;
                KeyError::PinTooShort {
                    min: self.info.min_pin_length,
                }
            }
            WebauthnCError::Ctap(CtapError::Ctap2PinPolicyViolation) => {
                let _ = self.refresh().await;
                if self.info.force_pin_change {
                    KeyError::PinChangeRequired
                } else {
                    KeyError::PinRejected
                }
            }
            other => KeyError::from(other),
        }
    }

    /// PIN attempts left, and whether the key wants a power cycle first (CTAP 2.1 §6.5.5.2).
    pub async fn pin_retries(&mut self) -> Result<(u32, bool), KeyError> {
        let observer = self.observer();
        let bridge = UiBridge::new(None, &*observer);
        pin_retries(&mut self.token, &bridge).await
    }

    /// Sets the first PIN on a key that has none.
    pub async fn set_pin(&mut self, new_pin: &Pin, policy: &PinPolicy) -> Result<(), KeyError> {
        self.refresh().await?;
        if self.info.has_pin() {
            return Err(KeyError::PinAlreadySet);
        }
        if self.info.options.client_pin.is_none() {
            return Err(KeyError::NotSupported { operation: "a PIN" });
        }
        policy.check(new_pin, self.info.min_pin_length)?;
        let observer = self.observer();
        let bridge = UiBridge::new(None, &*observer);
        let result = {
            let mut authenticator = self.authenticator(&bridge).await?;
            authenticator.set_new_pin(new_pin.expose()).await
        };
        self.finish(result).await
    }

    /// Changes the PIN, proving the current one.
    pub async fn change_pin(
        &mut self,
        current_pin: &Pin,
        new_pin: &Pin,
        policy: &PinPolicy,
    ) -> Result<(), KeyError> {
        self.refresh().await?;
        if !self.info.has_pin() {
            return Err(KeyError::PinNotSet);
        }
        policy.check(new_pin, self.info.min_pin_length)?;
        let observer = self.observer();
        let bridge = UiBridge::new(Some(current_pin), &*observer);
        let result = {
            let mut authenticator = self.authenticator(&bridge).await?;
            authenticator
                .change_pin(current_pin.expose(), new_pin.expose())
                .await
        };
        self.finish(result).await
    }

    /// Turns "always require user verification" on or off (CTAP 2.1 §6.11.2). A key with a PIN
    /// needs it; a key without any user verification can be switched freely.
    pub async fn set_always_uv(
        &mut self,
        enabled: bool,
        pin: Option<&Pin>,
    ) -> Result<(), KeyError> {
        self.refresh().await?;
        let Some(current) = self.info.options.always_uv else {
            return Err(KeyError::NotSupported {
                operation: "always-require-user-verification",
            });
        };
        if !self.info.options.authenticator_config {
            return Err(KeyError::NotSupported {
                operation: "authenticator configuration",
            });
        }
        if current == enabled {
            return Ok(());
        }
        let observer = self.observer();
        let bridge = UiBridge::new(pin, &*observer);
        let result = {
            let mut authenticator = self.authenticator(&bridge).await?;
            match &mut authenticator {
                CtapAuthenticator::Fido21(authenticator) => authenticator.toggle_always_uv().await,
                _ => Err(WebauthnCError::NotSupported),
            }
        };
        self.finish(result).await
    }

    /// Factory reset: erases every credential, fingerprint and the PIN.
    ///
    /// Keys accept this only within seconds of being plugged in (CTAP 2.1 §6.6 requires at most
    /// 10 s after power-up) and only with a touch: ask the user to unplug the key, plug it in, and
    /// start the reset straight away; the observer hears when to touch. A late request fails with
    /// [`KeyError::ResetWindowPassed`].
    pub async fn reset(&mut self) -> Result<(), KeyError> {
        let observer = self.observer();
        let bridge = UiBridge::new(None, &*observer);
        let result = {
            let mut authenticator = self.authenticator(&bridge).await?;
            authenticator.factory_reset().await
        };
        match result {
            Err(WebauthnCError::Ctap(
                CtapError::Ctap2NotAllowed | CtapError::Ctap2OperationDenied,
            )) => Err(KeyError::ResetWindowPassed),
            other => self.finish(other).await,
        }
    }

    /// Maps the outcome of an operation and refreshes the cached information.
    pub(crate) async fn finish<R>(
        &mut self,
        result: Result<R, WebauthnCError>,
    ) -> Result<R, KeyError> {
        match result {
            Ok(value) => {
                self.refresh().await?;
                Ok(value)
            }
            Err(error) => Err(self.pin_error(error).await),
        }
    }
}

async fn pin_retries<T: Token>(
    token: &mut SharedToken<T>,
    bridge: &UiBridge<'_>,
) -> Result<(u32, bool), KeyError> {
    let request = ClientPinRequest {
        sub_command: ClientPinSubCommand::GetPinRetries,
        ..Default::default()
    };
    let reply = token.transmit(request, bridge).await?;
    let retries = reply.pin_retries.ok_or(KeyError::Protocol {
        detail: "getPinRetries answered without pinRetries".into(),
    })?;
    Ok((retries, reply.power_cycle_state.unwrap_or(false)))
}

async fn read_info<T: Token>(
    token: &mut SharedToken<T>,
    observer: &dyn KeyObserver,
) -> Result<KeyInfo, KeyError> {
    let bridge = UiBridge::new(None, observer);
    let info = token.transmit(GetInfoRequest {}, &bridge).await?;
    let (pin_retries, power_cycle) = if info.get_option("clientPin") == Some(true) {
        let (retries, power_cycle) = pin_retries(token, &bridge).await?;
        (Some(retries), power_cycle)
    } else {
        (None, false)
    };
    let transport = KeyTransport::from(token.get_transport());
    Ok(KeyInfo::new(transport, &info, pin_retries, power_cycle))
}
