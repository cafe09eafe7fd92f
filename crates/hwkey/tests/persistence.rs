//! The virtual key's state file: survives a restart, written with owner-only permissions.

mod support;

use schild_hwkey::ctap::{
    PinPolicy,
    virtual_key::{VirtualKey, VirtualKeyError},
};
use support::{open, pin};

#[tokio::test]
async fn state_survives_reopening() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("demo-key.json");
    let pin = pin("1234");
    {
        let key = VirtualKey::builder()
            .discoverable_by_default(true)
            .open(&path)
            .unwrap();
        let mut security_key = open(&key).await;
        security_key
            .set_pin(&pin, &PinPolicy::default())
            .await
            .unwrap();
        security_key
            .enroll_fingerprint(&pin, Some("index"))
            .await
            .unwrap();
        // A wrong PIN is remembered too.
        assert!(
            security_key
                .fingerprints(&schild_hwkey::ctap::Pin::new("0000").unwrap())
                .await
                .is_err()
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let leftovers: Vec<_> = std::fs::read_dir(directory.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, [std::ffi::OsString::from("demo-key.json")]);

    let key = VirtualKey::open(&path).unwrap();
    let mut security_key = open(&key).await;
    assert!(security_key.info().has_pin());
    assert_eq!(security_key.info().pin_retries, Some(7));
    let fingerprints = security_key.fingerprints(&pin).await.unwrap();
    assert_eq!(fingerprints.len(), 1);
    assert_eq!(fingerprints[0].name.as_deref(), Some("index"));
}

#[test]
fn a_corrupt_file_is_an_error() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("key.json");
    std::fs::write(&path, b"{not json").unwrap();
    assert!(matches!(
        VirtualKey::open(&path),
        Err(VirtualKeyError::Corrupt { .. })
    ));
}
