//! Fingerprint enrollment and management on the virtual key's simulated sensor.

mod support;

use schild_hwkey::ctap::{
    EnrollmentProgress, FingerprintId, KeyError, PinPolicy, SampleFeedback,
    virtual_key::{SampleStatus, VirtualKey},
};
use support::{open, open_recorded, pin};

#[tokio::test]
async fn enroll_reports_progress_then_list_rename_delete() {
    let key = VirtualKey::builder().enroll_samples(4).build();
    // The first touch is a "lift and touch again"; the sensor needs four good samples after it.
    key.queue_sample_feedback([SampleStatus::NoUserPresenceTransition]);
    let (mut security_key, recorder) = open_recorded(&key).await;
    let pin = pin("1234");
    security_key
        .set_pin(&pin, &PinPolicy::default())
        .await
        .unwrap();
    assert!(security_key.fingerprints(&pin).await.unwrap().is_empty());

    let id = security_key
        .enroll_fingerprint(&pin, Some("right index"))
        .await
        .unwrap();
    let progress = |remaining_samples, feedback| EnrollmentProgress {
        remaining_samples,
        feedback,
    };
    assert_eq!(
        recorder.progress(),
        [
            progress(4, Some(SampleFeedback::LiftAndTouchAgain)),
            progress(3, Some(SampleFeedback::Good)),
            progress(2, Some(SampleFeedback::Good)),
            progress(1, Some(SampleFeedback::Good)),
            progress(0, None),
        ]
    );
    // One touch per sample.
    assert_eq!(recorder.touches(), 5);
    assert_eq!(security_key.info().options.bio_enroll, Some(true));
    assert_eq!(security_key.info().options.uv, Some(true));

    let listed = security_key.fingerprints(&pin).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);
    assert_eq!(listed[0].name.as_deref(), Some("right index"));

    security_key
        .rename_fingerprint(&pin, &id, "left thumb")
        .await
        .unwrap();
    let second = security_key.enroll_fingerprint(&pin, None).await.unwrap();
    let listed = security_key.fingerprints(&pin).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].name.as_deref(), Some("left thumb"));
    assert_eq!(listed[1].id, second);
    assert_eq!(listed[1].name, None);

    assert_eq!(
        security_key
            .rename_fingerprint(&pin, &FingerprintId::from(vec![9, 9]), "nobody")
            .await,
        Err(KeyError::FingerprintNotFound)
    );
    security_key.delete_fingerprint(&pin, &id).await.unwrap();
    security_key
        .delete_fingerprint(&pin, &second)
        .await
        .unwrap();
    assert!(security_key.fingerprints(&pin).await.unwrap().is_empty());
    assert_eq!(security_key.info().options.bio_enroll, Some(false));
    assert_eq!(
        security_key.delete_fingerprint(&pin, &id).await,
        Err(KeyError::FingerprintNotFound)
    );
}

#[tokio::test]
async fn enrollment_without_a_finger_times_out() {
    let key = VirtualKey::new();
    let mut security_key = open(&key).await;
    let pin = pin("1234");
    security_key
        .set_pin(&pin, &PinPolicy::default())
        .await
        .unwrap();
    key.set_presence(schild_hwkey::ctap::virtual_key::Presence::NoTouch);
    assert_eq!(
        security_key.enroll_fingerprint(&pin, None).await,
        Err(KeyError::TouchTimedOut)
    );
}

#[tokio::test]
async fn fingerprints_need_the_right_pin() {
    let key = VirtualKey::new();
    let mut security_key = open(&key).await;
    security_key
        .set_pin(&pin("1234"), &PinPolicy::default())
        .await
        .unwrap();
    assert_eq!(
        security_key.enroll_fingerprint(&pin("9999"), None).await,
        Err(KeyError::WrongPin { retries_left: 7 })
    );
}
