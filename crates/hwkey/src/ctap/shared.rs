//! A token handle that several `CtapAuthenticator`s can use in turn.
//!
//! webauthn-authenticator-rs's `CtapAuthenticator` owns its token and never gives it back; a
//! [`SharedToken`] lets each management operation build a fresh one over the same key, and lets this
//! crate ask the key directly (PIN retries) in between.
//!
//! It also completes what that library's WebAuthn client leaves out: when a relying party
//! requires a discoverable credential (WebAuthn L2 §5.4.4 `residentKey: required`), the client
//! must send `rk: true` in authenticatorMakeCredential's options (CTAP 2.1 §6.1.2), which the
//! library 0.6 never does. While [`SharedToken::require_resident_key`] is on, makeCredential
//! requests get that option added on their way to the key. The PIN/UV auth parameter covers only
//! the client-data hash, so the added option leaves it valid.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use async_trait::async_trait;
use tokio::sync::Mutex;
use webauthn_authenticator_rs::{error::WebauthnCError, transport::Token, ui::UiCallback};
use webauthn_rs_proto::AuthenticatorTransport;

pub(crate) struct SharedToken<T: Token> {
    inner: Arc<Mutex<T>>,
    transport: AuthenticatorTransport,
    has_button: bool,
    resident_key: Arc<AtomicBool>,
}

impl<T: Token> SharedToken<T> {
    pub(crate) fn new(token: T) -> Self {
        Self {
            transport: token.get_transport(),
            has_button: token.has_button(),
            inner: Arc::new(Mutex::new(token)),
            resident_key: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether makeCredential requests ask the key for a discoverable credential.
    pub(crate) fn require_resident_key(&self, required: bool) {
        self.resident_key.store(required, Ordering::SeqCst);
    }
}

/// authenticatorMakeCredential (CTAP 2.1 §6.1).
const MAKE_CREDENTIAL: u8 = 0x01;
/// Its `options` parameter key.
const OPTIONS: i128 = 0x07;

/// A makeCredential request with `rk: true` added to its options; any other request, or one that
/// does not parse as a CBOR map, unchanged (the key then judges it as sent).
fn with_resident_key(request: &[u8]) -> Vec<u8> {
    use serde_cbor_2::Value;
    let Some((&MAKE_CREDENTIAL, body)) = request.split_first() else {
        return request.to_vec();
    };
    let Ok(Value::Map(mut parameters)) = serde_cbor_2::from_slice::<Value>(body) else {
        return request.to_vec();
    };
    let options = parameters
        .entry(Value::Integer(OPTIONS))
        .or_insert_with(|| Value::Map(Default::default()));
    let Value::Map(options) = options else {
        return request.to_vec();
    };
    options.insert(Value::Text("rk".into()), Value::Bool(true));
    match serde_cbor_2::to_vec(&Value::Map(parameters)) {
        Ok(encoded) => std::iter::once(MAKE_CREDENTIAL).chain(encoded).collect(),
        Err(_) => request.to_vec(),
    }
}

impl<T: Token> Clone for SharedToken<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            transport: self.transport.clone(),
            has_button: self.has_button,
            resident_key: Arc::clone(&self.resident_key),
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
        if self.resident_key.load(Ordering::SeqCst) {
            let request = with_resident_key(cbor);
            return self.inner.lock().await.transmit_raw(&request, ui).await;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_cbor_2::Value;

    fn options_of(request: &[u8]) -> Option<Value> {
        match serde_cbor_2::from_slice::<Value>(&request[1..]).ok()? {
            Value::Map(map) => map.get(&Value::Integer(OPTIONS)).cloned(),
            _ => None,
        }
    }

    #[test]
    fn make_credential_gains_rk_and_keeps_its_other_options() {
        let mut parameters = std::collections::BTreeMap::new();
        parameters.insert(Value::Integer(1), Value::Bytes(vec![7; 32]));
        let mut options = std::collections::BTreeMap::new();
        options.insert(Value::Text("uv".into()), Value::Bool(true));
        parameters.insert(Value::Integer(OPTIONS), Value::Map(options));
        let request: Vec<u8> = std::iter::once(MAKE_CREDENTIAL)
            .chain(serde_cbor_2::to_vec(&Value::Map(parameters)).unwrap())
            .collect();
        let Some(Value::Map(options)) = options_of(&with_resident_key(&request)) else {
            panic!("options missing");
        };
        assert_eq!(
            options.get(&Value::Text("rk".into())),
            Some(&Value::Bool(true))
        );
        assert_eq!(
            options.get(&Value::Text("uv".into())),
            Some(&Value::Bool(true))
        );
    }

    #[test]
    fn other_commands_and_garbage_pass_unchanged() {
        assert_eq!(with_resident_key(&[0x04]), vec![0x04]);
        assert_eq!(with_resident_key(&[0x02, 0xa0]), vec![0x02, 0xa0]);
        assert_eq!(
            with_resident_key(&[MAKE_CREDENTIAL, 0xff, 0x00]),
            vec![MAKE_CREDENTIAL, 0xff, 0x00]
        );
        assert_eq!(with_resident_key(&[]), Vec::<u8>::new());
    }
}
