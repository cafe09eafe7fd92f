//! Always-UV and factory reset, including the reset window and the touch it needs.

mod support;

use std::{sync::Arc, time::Duration};

use schild_hwkey::ctap::{
    KeyError, PinPolicy,
    virtual_key::{ManualClock, Presence, VirtualKey},
};
use support::{open, open_recorded, pin};

#[tokio::test]
async fn toggles_always_uv() {
    let key = VirtualKey::new();
    let mut security_key = open(&key).await;
    // Without any user verification the switch needs nothing.
    security_key.set_always_uv(true, None).await.unwrap();
    assert_eq!(security_key.info().options.always_uv, Some(true));
    security_key.set_always_uv(true, None).await.unwrap();
    security_key.set_always_uv(false, None).await.unwrap();
    assert_eq!(security_key.info().options.always_uv, Some(false));

    // With a PIN, the switch needs the PIN.
    let pin = pin("1234");
    security_key
        .set_pin(&pin, &PinPolicy::default())
        .await
        .unwrap();
    assert_eq!(
        security_key.set_always_uv(true, None).await,
        Err(KeyError::PinRequired)
    );
    security_key.set_always_uv(true, Some(&pin)).await.unwrap();
    assert_eq!(security_key.info().options.always_uv, Some(true));
    security_key.set_always_uv(false, Some(&pin)).await.unwrap();
    assert_eq!(security_key.info().options.always_uv, Some(false));
}

#[tokio::test]
async fn reset_only_soon_after_plugging_in_and_with_a_touch() {
    let clock = ManualClock::new();
    let key = VirtualKey::builder().clock(Arc::new(clock.clone())).build();
    let (mut security_key, recorder) = open_recorded(&key).await;
    security_key
        .set_pin(&pin("1234"), &PinPolicy::default())
        .await
        .unwrap();

    clock.advance(Duration::from_secs(11));
    assert_eq!(security_key.reset().await, Err(KeyError::ResetWindowPassed));
    assert!(security_key.refresh().await.unwrap().has_pin());

    // Plugged in again, but nobody touches it.
    key.power_cycle();
    key.set_presence(Presence::NoTouch);
    assert_eq!(security_key.reset().await, Err(KeyError::TouchTimedOut));
    assert!(security_key.refresh().await.unwrap().has_pin());

    key.power_cycle();
    key.set_presence(Presence::Touch);
    clock.advance(Duration::from_secs(9));
    let touches = recorder.touches();
    security_key.reset().await.unwrap();
    assert_eq!(recorder.touches(), touches + 1);
    let info = security_key.info();
    assert!(!info.has_pin());
    assert_eq!(info.pin_retries, None);
}
