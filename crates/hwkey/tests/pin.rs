//! PIN management against the virtual key, through webauthn-authenticator-rs's CtapAuthenticator.

mod support;

use schild_hwkey::ctap::{
    KeyError, KeyTransport, PinPolicy,
    virtual_key::{self, VirtualKey},
};
use support::{open, pin};

#[tokio::test]
async fn info_describes_the_virtual_key() {
    let key = VirtualKey::new();
    let security_key = open(&key).await;
    let info = security_key.info();
    assert_eq!(info.transport, KeyTransport::Virtual);
    assert_eq!(
        info.aaguid,
        Some(schild_core::authenticator::VIRTUAL_KEY_AAGUID)
    );
    assert_eq!(
        info.model,
        Some(schild_core::authenticator::VIRTUAL_KEY_MODEL)
    );
    assert!(info.versions.contains(&"FIDO_2_0".to_owned()));
    assert!(info.versions.contains(&"FIDO_2_1".to_owned()));
    assert_eq!(info.extensions, ["credProtect", "hmac-secret"]);
    assert_eq!(info.options.client_pin, Some(false));
    assert_eq!(info.options.uv, Some(false));
    assert_eq!(info.options.bio_enroll, Some(false));
    assert!(info.options.cred_mgmt);
    assert!(info.options.authenticator_config);
    assert_eq!(info.options.always_uv, Some(false));
    assert_eq!(
        info.firmware_version,
        Some(u64::from(virtual_key::FIRMWARE_VERSION))
    );
    assert_eq!(info.min_pin_length, 4);
    assert_eq!(info.pin_retries, None);
    assert!(!info.has_pin());
}

#[tokio::test]
async fn set_and_change_pin() {
    let key = VirtualKey::new();
    let mut security_key = open(&key).await;
    let policy = PinPolicy { min_length: 6 };

    assert_eq!(
        security_key.set_pin(&pin("12345"), &policy).await,
        Err(KeyError::PinTooShort { min: 6 })
    );
    assert_eq!(
        security_key
            .change_pin(&pin("123456"), &pin("654321"), &policy)
            .await,
        Err(KeyError::PinNotSet)
    );
    security_key.set_pin(&pin("123456"), &policy).await.unwrap();
    assert!(security_key.info().has_pin());
    assert_eq!(security_key.info().pin_retries, Some(8));
    assert_eq!(
        security_key.set_pin(&pin("999999"), &policy).await,
        Err(KeyError::PinAlreadySet)
    );

    // Too short: refused before the key sees it, by the policy and by the key's own minimum.
    assert_eq!(
        security_key
            .change_pin(&pin("123456"), &pin("12345"), &policy)
            .await,
        Err(KeyError::PinTooShort { min: 6 })
    );
    assert_eq!(
        security_key
            .change_pin(&pin("123456"), &pin("123"), &PinPolicy::default())
            .await,
        Err(KeyError::PinTooShort { min: 4 })
    );
    security_key
        .change_pin(&pin("123456"), &pin("24681357"), &policy)
        .await
        .unwrap();
    // The old PIN no longer works; the new one does.
    assert_eq!(
        security_key
            .change_pin(&pin("123456"), &pin("11112222"), &policy)
            .await,
        Err(KeyError::WrongPin { retries_left: 7 })
    );
    security_key
        .change_pin(&pin("24681357"), &pin("11112222"), &policy)
        .await
        .unwrap();
    assert_eq!(security_key.info().pin_retries, Some(8));
}

#[tokio::test]
async fn wrong_pins_count_down_then_need_a_power_cycle_then_block() {
    let key = VirtualKey::new();
    let mut security_key = open(&key).await;
    let policy = PinPolicy::default();
    security_key.set_pin(&pin("1234"), &policy).await.unwrap();
    let wrong = pin("0000");
    let new = pin("5678");

    assert_eq!(
        security_key.change_pin(&wrong, &new, &policy).await,
        Err(KeyError::WrongPin { retries_left: 7 })
    );
    assert_eq!(
        security_key.change_pin(&wrong, &new, &policy).await,
        Err(KeyError::WrongPin { retries_left: 6 })
    );
    assert_eq!(
        security_key.change_pin(&wrong, &new, &policy).await,
        Err(KeyError::PinAuthBlocked)
    );
    // Until it is unplugged the key refuses even the right PIN, without spending a retry.
    assert_eq!(
        security_key.change_pin(&pin("1234"), &new, &policy).await,
        Err(KeyError::PinAuthBlocked)
    );
    let info = security_key.refresh().await.unwrap();
    assert_eq!(info.pin_retries, Some(5));
    assert!(info.power_cycle_required);

    key.power_cycle();
    assert_eq!(
        security_key.change_pin(&wrong, &new, &policy).await,
        Err(KeyError::WrongPin { retries_left: 4 })
    );
    assert_eq!(
        security_key.change_pin(&wrong, &new, &policy).await,
        Err(KeyError::WrongPin { retries_left: 3 })
    );
    assert_eq!(
        security_key.change_pin(&wrong, &new, &policy).await,
        Err(KeyError::PinAuthBlocked)
    );
    key.power_cycle();
    assert_eq!(
        security_key.change_pin(&wrong, &new, &policy).await,
        Err(KeyError::WrongPin { retries_left: 1 })
    );
    assert_eq!(
        security_key.change_pin(&wrong, &new, &policy).await,
        Err(KeyError::PinBlocked)
    );
    key.power_cycle();
    assert_eq!(
        security_key.change_pin(&pin("1234"), &new, &policy).await,
        Err(KeyError::PinBlocked)
    );
    assert_eq!(security_key.refresh().await.unwrap().pin_retries, Some(0));
}

#[tokio::test]
async fn pin_protocol_one_works_too() {
    let key = VirtualKey::builder().protocol_one_only().build();
    let mut security_key = open(&key).await;
    let policy = PinPolicy::default();
    security_key.set_pin(&pin("1234"), &policy).await.unwrap();
    security_key
        .change_pin(&pin("1234"), &pin("98765"), &policy)
        .await
        .unwrap();
    assert_eq!(
        security_key
            .change_pin(&pin("1234"), &pin("4444"), &policy)
            .await,
        Err(KeyError::WrongPin { retries_left: 7 })
    );
    assert!(
        security_key
            .credentials(&pin("98765"))
            .await
            .unwrap()
            .is_empty()
    );
}
