//! Finding connected keys: USB (feature `usb`), NFC (feature `nfc`) and a virtual key file.

use std::path::PathBuf;

use async_trait::async_trait;
use webauthn_authenticator_rs::{error::WebauthnCError, transport::Token, ui::UiCallback};
use webauthn_rs_proto::AuthenticatorTransport;

use super::{KeyError, virtual_key::VirtualKey};

/// A key on any transport; management code is generic over [`Token`], and this is the one to use
/// when the transport is only known at run time.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyKey {
    /// The in-process virtual key.
    Virtual(VirtualKey),
    /// A key on USB HID.
    #[cfg(feature = "usb")]
    Usb(webauthn_authenticator_rs::usb::USBToken),
    /// A key (or card) on an NFC reader.
    #[cfg(feature = "nfc")]
    Nfc(webauthn_authenticator_rs::nfc::NFCCard),
}

/// Which places [`connected_keys`] looks in.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// Look for USB keys (needs the `usb` feature).
    pub usb: bool,
    /// Look for NFC keys through PC/SC (needs the `nfc` feature and a running pcscd).
    pub nfc: bool,
    /// Include the virtual key kept in this file (created if missing).
    pub virtual_key: Option<PathBuf>,
}

impl Discovery {
    /// USB and NFC, as far as this build supports them.
    pub fn hardware() -> Self {
        Self {
            usb: cfg!(feature = "usb"),
            nfc: cfg!(feature = "nfc"),
            virtual_key: None,
        }
    }
}

/// Every key that can be reached now.
pub async fn connected_keys(discovery: &Discovery) -> Result<Vec<AnyKey>, KeyError> {
    let mut keys = Vec::new();
    if let Some(path) = &discovery.virtual_key {
        let key = VirtualKey::open(path).map_err(|error| KeyError::Protocol {
            detail: error.to_string(),
        })?;
        keys.push(AnyKey::Virtual(key));
    }
    // One transport failing (no udev access, no PC/SC service) must not hide keys on another;
    // its error is reported only when no key was found at all.
    #[allow(unused_mut)]
    let mut first_error: Option<KeyError> = None;
    #[cfg(feature = "usb")]
    if discovery.usb {
        use webauthn_authenticator_rs::{transport::Transport, usb::USBTransport};
        let found = match USBTransport::new().await {
            Ok(transport) => transport.tokens().await,
            Err(error) => Err(error),
        };
        match found {
            Ok(tokens) => keys.extend(tokens.into_iter().map(AnyKey::Usb)),
            Err(error) => {
                tracing::debug!(%error, "USB discovery failed");
                first_error.get_or_insert(KeyError::from(error));
            }
        }
    }
    #[cfg(feature = "nfc")]
    if discovery.nfc {
        use webauthn_authenticator_rs::{nfc::NFCTransport, transport::Transport};
        // Without a PC/SC service there are simply no NFC keys.
        match NFCTransport::new(pcsc::Scope::User) {
            Ok(transport) => match transport.tokens().await {
                Ok(tokens) => keys.extend(tokens.into_iter().map(AnyKey::Nfc)),
                Err(error) => {
                    tracing::debug!(%error, "NFC discovery failed");
                    first_error.get_or_insert(KeyError::from(error));
                }
            },
            Err(error) => tracing::debug!(%error, "no PC/SC service; skipping NFC"),
        }
    }
    match first_error {
        Some(error) if keys.is_empty() => Err(error),
        _ => Ok(keys),
    }
}

/// The one connected key: [`KeyError::NoKeyFound`] with none, [`KeyError::SeveralKeys`] with more.
pub async fn the_only_key(discovery: &Discovery) -> Result<AnyKey, KeyError> {
    let mut keys = connected_keys(discovery).await?;
    match keys.len() {
        0 => Err(KeyError::NoKeyFound),
        1 => keys.pop().ok_or(KeyError::NoKeyFound),
        count => Err(KeyError::SeveralKeys { count }),
    }
}

macro_rules! each_key {
    ($self:expr, $key:ident => $body:expr) => {
        match $self {
            AnyKey::Virtual($key) => $body,
            #[cfg(feature = "usb")]
            AnyKey::Usb($key) => $body,
            #[cfg(feature = "nfc")]
            AnyKey::Nfc($key) => $body,
        }
    };
}

#[async_trait]
impl Token for AnyKey {
    type Id = ();

    fn has_button(&self) -> bool {
        each_key!(self, key => key.has_button())
    }

    fn get_transport(&self) -> AuthenticatorTransport {
        each_key!(self, key => key.get_transport())
    }

    async fn transmit_raw<U>(&mut self, cbor: &[u8], ui: &U) -> Result<Vec<u8>, WebauthnCError>
    where
        U: UiCallback,
    {
        each_key!(self, key => key.transmit_raw(cbor, ui).await)
    }

    async fn cancel(&mut self) -> Result<(), WebauthnCError> {
        each_key!(self, key => key.cancel().await)
    }

    async fn init(&mut self) -> Result<(), WebauthnCError> {
        each_key!(self, key => key.init().await)
    }

    async fn close(&mut self) -> Result<(), WebauthnCError> {
        each_key!(self, key => key.close().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_keys() {
        let none = Discovery::default();
        assert_eq!(the_only_key(&none).await.err(), Some(KeyError::NoKeyFound));

        let directory = tempfile::tempdir().unwrap();
        let one = Discovery {
            virtual_key: Some(directory.path().join("key.json")),
            ..Discovery::default()
        };
        assert!(matches!(the_only_key(&one).await, Ok(AnyKey::Virtual(_))));
    }
}
