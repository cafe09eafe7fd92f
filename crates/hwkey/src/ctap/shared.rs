//! A token handle that several `CtapAuthenticator`s can use in turn.
//!
//! webauthn-authenticator-rs's `CtapAuthenticator` owns its token and never gives it back; a
//! [`SharedToken`] lets each management operation build a fresh one over the same key, and lets this
//! crate ask the key directly (PIN retries) in between.

use std::{fmt, sync::Arc};

use async_trait::async_trait;
use tokio::sync::Mutex;
use webauthn_authenticator_rs::{error::WebauthnCError, transport::Token, ui::UiCallback};
use webauthn_rs_proto::AuthenticatorTransport;

pub(crate) struct SharedToken<T: Token> {
    inner: Arc<Mutex<T>>,
    transport: AuthenticatorTransport,
    has_button: bool,
}

impl<T: Token> SharedToken<T> {
    pub(crate) fn new(token: T) -> Self {
        Self {
            transport: token.get_transport(),
            has_button: token.has_button(),
            inner: Arc::new(Mutex::new(token)),
        }
    }
}

impl<T: Token> Clone for SharedToken<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            transport: self.transport.clone(),
            has_button: self.has_button,
        }
    }
}

impl<T: Token> fmt::Debug for SharedToken<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedToken")
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<T: Token> Token for SharedToken<T> {
    type Id = ();

    fn has_button(&self) -> bool {
        self.has_button
    }

    fn get_transport(&self) -> AuthenticatorTransport {
        self.transport.clone()
    }

    async fn transmit_raw<U>(&mut self, cbor: &[u8], ui: &U) -> Result<Vec<u8>, WebauthnCError>
    where
        U: UiCallback,
    {
        self.inner.lock().await.transmit_raw(cbor, ui).await
    }

    async fn cancel(&mut self) -> Result<(), WebauthnCError> {
        self.inner.lock().await.cancel().await
    }

    async fn init(&mut self) -> Result<(), WebauthnCError> {
        self.inner.lock().await.init().await
    }

    async fn close(&mut self) -> Result<(), WebauthnCError> {
        self.inner.lock().await.close().await
    }
}
