//! Signing keys.

use crate::common::T0;
use schild_store::keys;
use schild_store::testing::TestDb;
use time::Duration;

async fn active_key_rotation_and_verification_window(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    assert!(keys::active(&mut conn).await.unwrap().is_none());

    keys::insert(&mut conn, "kid-1", b"pkcs8-one", T0)
        .await
        .unwrap();
    let active = keys::active(&mut conn).await.unwrap().unwrap();
    assert_eq!(
        (
            active.kid.as_str(),
            active.private_pkcs8.as_slice(),
            active.created_at,
            active.retired_at
        ),
        ("kid-1", &b"pkcs8-one"[..], T0, None)
    );
    assert!(
        !format!("{active:?}").contains("pkcs8-one"),
        "Debug must redact the key"
    );

    // Rotation: a newer key signs, the older one is retired but still verifies for a while.
    let t1 = T0 + Duration::days(30);
    keys::insert(&mut conn, "kid-2", b"pkcs8-two", t1)
        .await
        .unwrap();
    assert!(keys::retire(&mut conn, "kid-1", t1).await.unwrap());
    assert!(
        !keys::retire(&mut conn, "kid-1", t1 + Duration::hours(1))
            .await
            .unwrap(),
        "retired once"
    );
    assert!(!keys::retire(&mut conn, "kid-nope", t1).await.unwrap());
    assert_eq!(keys::active(&mut conn).await.unwrap().unwrap().kid, "kid-2");

    let window = Duration::minutes(20);
    let verifying: Vec<_> = keys::all_since(&mut conn, t1 + Duration::minutes(5) - window)
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.retired_at))
        .collect();
    assert_eq!(
        verifying,
        vec![("kid-2".to_string(), None), ("kid-1".to_string(), Some(t1))]
    );
    let later: Vec<_> = keys::all_since(&mut conn, t1 + Duration::hours(1) - window)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(later, vec!["kid-2"]);

    // The same kid twice is refused.
    assert!(
        keys::insert(&mut conn, "kid-2", b"other", t1)
            .await
            .is_err()
    );

    // Rotation in one call: everything but the named key is retired.
    keys::insert(&mut conn, "kid-3", b"pkcs8-three", t1)
        .await
        .unwrap();
    assert_eq!(
        keys::retire_all_except(&mut conn, "kid-3", t1)
            .await
            .unwrap(),
        1
    );
    assert_eq!(keys::active(&mut conn).await.unwrap().unwrap().kid, "kid-3");
    assert_eq!(
        keys::retire_all_except(&mut conn, "kid-3", t1)
            .await
            .unwrap(),
        0
    );

    let cutoff = t1 + Duration::hours(1);
    assert_eq!(
        keys::purge_retired_before(&mut conn, cutoff).await.unwrap(),
        2
    );
    assert_eq!(keys::all_since(&mut conn, T0).await.unwrap().len(), 1);
    assert!(keys::retire(&mut conn, "kid-3", t1).await.unwrap());
    assert!(keys::active(&mut conn).await.unwrap().is_none());
}

schild_store::dual_backend_tests!(active_key_rotation_and_verification_window);
