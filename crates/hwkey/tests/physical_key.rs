//! Reads a real key. Runs only when SCHILD_TEST_HWKEY names the transport of exactly one connected
//! key ("usb" or "nfc", built with that feature); read-only, it changes nothing on the key.

use std::sync::Arc;

use schild_hwkey::ctap::{Discovery, SecurityKey, SilentObserver, the_only_key};

#[tokio::test]
async fn reads_a_physical_key() {
    let Ok(selection) = std::env::var("SCHILD_TEST_HWKEY") else {
        eprintln!(
            "skipped: set SCHILD_TEST_HWKEY=usb or SCHILD_TEST_HWKEY=nfc with one key connected \
             (and the matching cargo feature) to run this test against a physical key"
        );
        return;
    };
    let discovery = Discovery {
        usb: selection.contains("usb"),
        nfc: selection.contains("nfc"),
        virtual_key: None,
    };
    let token = the_only_key(&discovery).await.expect("one key connected");
    let key = SecurityKey::open(token, Arc::new(SilentObserver))
        .await
        .expect("key answers getInfo");
    let info = key.info();
    println!("{info:#?}");
    assert!(info.versions.iter().any(|v| v.starts_with("FIDO_2")));
}
