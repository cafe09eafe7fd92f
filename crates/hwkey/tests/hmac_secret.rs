//! A security key as a vault unlock method (CTAP 2.1 §12.5 hmac-secret), end to end against the
//! virtual key: enrollment, unlocking, PINs under both PIN/UV auth protocols, persistence, other
//! keys, other salts, a reset, and keys without the extension.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use async_trait::async_trait;
use schild_core::provider::{KeyEncryptionKey, ProviderError, WrappedKey};
use schild_hwkey::ctap::{
    HmacSecretCredential, HmacSecretKek, KeyError, PinPolicy, SecurityKey, VAULT_RP_ID,
    enroll_hmac_secret,
    virtual_key::{AAGUID, Presence, VirtualKey, VirtualKeyBuilder},
};
use serde_cbor_2::Value;
use support::{open, open_recorded, pin};
use webauthn_authenticator_rs::{error::WebauthnCError, transport::Token, ui::UiCallback};
use webauthn_rs_proto::AuthenticatorTransport;

const DATA_KEY: [u8; 32] = *b"the vault's master key, 32 bytes";
const AAD: &[u8] = b"vault/master";

type Builder = fn() -> VirtualKeyBuilder;

/// Both PIN/UV auth protocols: the virtual key offers Two (chosen) and One, or only One.
fn builders() -> [(&'static str, Builder); 2] {
    [
        ("protocol two", VirtualKey::builder),
        ("protocol one", || VirtualKey::builder().protocol_one_only()),
    ]
}

async fn unlock(key: &VirtualKey, credential: &HmacSecretCredential) -> HmacSecretKek {
    HmacSecretKek::unlock(&mut open(key).await, credential, None)
        .await
        .unwrap()
}

#[tokio::test]
async fn enroll_then_unlock_gives_the_same_key_each_time() {
    for (name, builder) in builders() {
        let key = builder().build();
        let (mut security_key, recorder) = open_recorded(&key).await;
        let credential = enroll_hmac_secret(&mut security_key, None).await.unwrap();
        assert_eq!(recorder.touches(), 1, "{name}: enrollment is one touch");
        assert_eq!(credential.rp_id, VAULT_RP_ID);
        assert_eq!(credential.aaguid.0, AAGUID);
        assert!(!credential.user_verified);

        let kek = HmacSecretKek::unlock(&mut security_key, &credential, None)
            .await
            .unwrap();
        assert_eq!(recorder.touches(), 2, "{name}: unlocking is one touch");
        let key_id = kek.key_id().to_owned();
        assert_eq!(key_id, credential.key_id());
        let prefix = format!("fido2-hmac:{AAGUID}:");
        let digest = key_id.strip_prefix(&prefix).unwrap();
        assert_eq!(digest.len(), 16, "{key_id}");
        assert!(
            digest
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        let wrapped = kek.wrap(&DATA_KEY, AAD).unwrap();
        drop(kek);

        // A fresh unlock, through a fresh connection, opens what the first one wrapped.
        let again = unlock(&key, &credential).await;
        assert_eq!(*again.unwrap(&wrapped, AAD).unwrap(), DATA_KEY, "{name}");
        assert!(matches!(
            again.unwrap(&wrapped, b"vault/other"),
            Err(ProviderError::Unauthentic)
        ));
        assert_eq!(
            format!("{again:?}"),
            format!("HmacSecretKek {{ key_id: {key_id:?}, key: \"<redacted>\" }}")
        );
    }
}

#[tokio::test]
async fn the_key_survives_its_state_file_and_either_protocol() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("key.json");
    let (credential, wrapped) = {
        let key = VirtualKey::open(&path).unwrap();
        let credential = enroll_hmac_secret(&mut open(&key).await, None)
            .await
            .unwrap();
        let wrapped = unlock(&key, &credential)
            .await
            .wrap(&DATA_KEY, AAD)
            .unwrap();
        (credential, wrapped)
    };
    // The vault keeps the credential as JSON.
    let stored = serde_json::to_string(&credential).unwrap();
    let credential: HmacSecretCredential = serde_json::from_str(&stored).unwrap();

    // Reopened from its file, the key answers the same, under protocol Two and under One.
    for (name, builder) in builders() {
        let key = builder().open(&path).unwrap();
        let kek = unlock(&key, &credential).await;
        assert_eq!(*kek.unwrap(&wrapped, AAD).unwrap(), DATA_KEY, "{name}");
    }
}

#[tokio::test]
async fn another_key_or_another_salt_gives_another_key() {
    let key = VirtualKey::new();
    let credential = enroll_hmac_secret(&mut open(&key).await, None)
        .await
        .unwrap();
    let wrapped = unlock(&key, &credential)
        .await
        .wrap(&DATA_KEY, AAD)
        .unwrap();

    // Another key does not hold the credential at all.
    let other_key = VirtualKey::new();
    assert_eq!(
        HmacSecretKek::unlock(&mut open(&other_key).await, &credential, None)
            .await
            .err(),
        Some(KeyError::HmacSecretCredentialMissing)
    );
    // Its own credential gives a key that cannot open the first key's data.
    let other = enroll_hmac_secret(&mut open(&other_key).await, None)
        .await
        .unwrap();
    assert_ne!(other.salt, credential.salt, "a fresh salt per enrollment");
    let other_kek = unlock(&other_key, &other).await;
    let relabelled = WrappedKey {
        key_id: other_kek.key_id().to_owned(),
        blob: wrapped.blob.clone(),
    };
    assert!(matches!(
        other_kek.unwrap(&relabelled, AAD),
        Err(ProviderError::Unauthentic)
    ));

    // The same credential with another salt: the same key id, another key.
    let mut salted = credential.clone();
    salted.salt[0] ^= 0x01;
    let salted_kek = unlock(&key, &salted).await;
    assert_eq!(salted_kek.key_id(), wrapped.key_id);
    assert!(matches!(
        salted_kek.unwrap(&wrapped, AAD),
        Err(ProviderError::Unauthentic)
    ));
    // And a second enrollment on the same key is another credential and another key.
    let second = enroll_hmac_secret(&mut open(&key).await, None)
        .await
        .unwrap();
    assert_ne!(second.credential_id, credential.credential_id);
    assert_ne!(second.key_id(), credential.key_id());
}

#[tokio::test]
async fn a_factory_reset_destroys_the_secret() {
    let key = VirtualKey::new();
    let mut security_key = open(&key).await;
    let credential = enroll_hmac_secret(&mut security_key, None).await.unwrap();
    unlock(&key, &credential).await;
    key.power_cycle();
    security_key.reset().await.unwrap();
    assert_eq!(
        HmacSecretKek::unlock(&mut security_key, &credential, None)
            .await
            .err(),
        Some(KeyError::HmacSecretCredentialMissing)
    );
}

#[tokio::test]
async fn a_key_with_a_pin_needs_it_to_enroll_and_to_unlock() {
    for (name, builder) in builders() {
        let key = builder().build();
        let mut security_key = open(&key).await;
        let the_pin = pin("4711");
        // Set through webauthn-authenticator-rs's own PIN protocol code.
        security_key
            .set_pin(&the_pin, &PinPolicy::default())
            .await
            .unwrap();

        assert_eq!(
            enroll_hmac_secret(&mut security_key, None).await.err(),
            Some(KeyError::PinRequired),
            "{name}"
        );
        assert_eq!(
            enroll_hmac_secret(&mut security_key, Some(&pin("0000")))
                .await
                .err(),
            Some(KeyError::WrongPin { retries_left: 7 }),
            "{name}"
        );
        let credential = enroll_hmac_secret(&mut security_key, Some(&the_pin))
            .await
            .unwrap();
        assert!(credential.user_verified);

        assert_eq!(
            HmacSecretKek::unlock(&mut security_key, &credential, None)
                .await
                .err(),
            Some(KeyError::PinRequired)
        );
        assert_eq!(
            HmacSecretKek::unlock(&mut security_key, &credential, Some(&pin("1111")))
                .await
                .err(),
            Some(KeyError::WrongPin { retries_left: 7 }),
            "{name}"
        );
        let kek = HmacSecretKek::unlock(&mut security_key, &credential, Some(&the_pin))
            .await
            .unwrap();
        assert_eq!(
            security_key.refresh().await.unwrap().pin_retries,
            Some(8),
            "a good PIN restores the retries"
        );
        let wrapped = kek.wrap(&DATA_KEY, AAD).unwrap();
        let again = HmacSecretKek::unlock(&mut open(&key).await, &credential, Some(&the_pin))
            .await
            .unwrap();
        assert_eq!(*again.unwrap(&wrapped, AAD).unwrap(), DATA_KEY, "{name}");
    }
}

#[tokio::test]
async fn a_credential_made_without_a_pin_keeps_working_after_one_is_set() {
    let key = VirtualKey::new();
    let mut security_key = open(&key).await;
    assert_eq!(
        enroll_hmac_secret(&mut security_key, Some(&pin("4711")))
            .await
            .err(),
        Some(KeyError::PinNotSet)
    );
    let credential = enroll_hmac_secret(&mut security_key, None).await.unwrap();
    let wrapped = unlock(&key, &credential)
        .await
        .wrap(&DATA_KEY, AAD)
        .unwrap();
    security_key
        .set_pin(&pin("4711"), &PinPolicy::default())
        .await
        .unwrap();
    // Without verification, as at enrollment: the key's secret without UV. A PIN is not used.
    for given in [None, Some(pin("4711"))] {
        let kek = HmacSecretKek::unlock(&mut security_key, &credential, given.as_ref())
            .await
            .unwrap();
        assert_eq!(*kek.unwrap(&wrapped, AAD).unwrap(), DATA_KEY);
    }
}

#[tokio::test]
async fn no_touch_times_out() {
    let key = VirtualKey::new();
    let mut security_key = open(&key).await;
    let credential = enroll_hmac_secret(&mut security_key, None).await.unwrap();
    key.set_presence(Presence::NoTouch);
    assert_eq!(
        enroll_hmac_secret(&mut security_key, None).await.err(),
        Some(KeyError::TouchTimedOut)
    );
    assert_eq!(
        HmacSecretKek::unlock(&mut security_key, &credential, None)
            .await
            .err(),
        Some(KeyError::TouchTimedOut)
    );
}

#[tokio::test]
async fn the_stored_form_is_plain_and_debug_hides_the_salt() {
    let key = VirtualKey::new();
    let credential = enroll_hmac_secret(&mut open(&key).await, None)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::to_value(&credential).unwrap();
    assert_eq!(json["rp_id"], "schild-vault");
    assert_eq!(json["aaguid"], AAGUID.to_string());
    assert_eq!(json["user_verified"], false);
    assert_eq!(
        json["salt"].as_str().unwrap().len(),
        43,
        "32 bytes in base64url"
    );
    assert_eq!(
        json["credential_id"].as_str().unwrap(),
        credential.credential_id.to_string()
    );
    let debug = format!("{credential:?}");
    assert!(!debug.contains("salt"), "{debug}");
    // A salt of the wrong length is refused when read back.
    let mut short = json.clone();
    short["salt"] = serde_json::Value::from("AAAA");
    assert!(serde_json::from_value::<HmacSecretCredential>(short).is_err());
}

/// A virtual key that hides hmac-secret from getInfo, or drops the extension from makeCredential
/// requests (a key that claims support but ignores it).
#[derive(Debug, Clone)]
struct Crippled {
    key: VirtualKey,
    hide_from_info: bool,
}

#[async_trait]
impl Token for Crippled {
    type Id = ();

    fn get_transport(&self) -> AuthenticatorTransport {
        AuthenticatorTransport::Test
    }

    async fn transmit_raw<U>(&mut self, cbor: &[u8], ui: &U) -> Result<Vec<u8>, WebauthnCError>
    where
        U: UiCallback,
    {
        let request = match (cbor.split_first(), self.hide_from_info) {
            (Some((0x01, body)), false) => {
                let Value::Map(mut map) = serde_cbor_2::from_slice(body).unwrap() else {
                    panic!("makeCredential is a map");
                };
                map.remove(&Value::Integer(0x06));
                let mut request = vec![0x01];
                request.extend(serde_cbor_2::to_vec(&Value::Map(map)).unwrap());
                request
            }
            _ => cbor.to_vec(),
        };
        let reply = self.key.transmit_raw(&request, ui).await?;
        if cbor == [0x04] && self.hide_from_info {
            let Value::Map(mut map) = serde_cbor_2::from_slice(&reply).unwrap() else {
                panic!("getInfo is a map");
            };
            map.insert(
                Value::Integer(0x02),
                Value::Array(vec![Value::Text("credProtect".into())]),
            );
            return Ok(serde_cbor_2::to_vec(&Value::Map(map)).unwrap());
        }
        Ok(reply)
    }

    async fn cancel(&mut self) -> Result<(), WebauthnCError> {
        Ok(())
    }

    async fn init(&mut self) -> Result<(), WebauthnCError> {
        Ok(())
    }

    async fn close(&mut self) -> Result<(), WebauthnCError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_key_without_hmac_secret_is_refused() {
    let key = VirtualKey::new();
    let credential = enroll_hmac_secret(&mut open(&key).await, None)
        .await
        .unwrap();
    for hide_from_info in [true, false] {
        let crippled = Crippled {
            key: key.clone(),
            hide_from_info,
        };
        let mut security_key = SecurityKey::open(
            crippled,
            std::sync::Arc::new(schild_hwkey::ctap::SilentObserver),
        )
        .await
        .unwrap();
        assert_eq!(
            enroll_hmac_secret(&mut security_key, None).await.err(),
            Some(KeyError::HmacSecretUnsupported),
            "hidden from getInfo: {hide_from_info}"
        );
        if hide_from_info {
            assert_eq!(
                HmacSecretKek::unlock(&mut security_key, &credential, None)
                    .await
                    .err(),
                Some(KeyError::HmacSecretUnsupported)
            );
        }
    }
}
