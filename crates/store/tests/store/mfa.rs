//! TOTP enrollment and backup codes.

use crate::common::{T0, add_user, h};
use schild_store::mfa;
use schild_store::testing::TestDb;
use time::Duration;

async fn totp_enrollment_lifecycle(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let user = add_user(&mut conn, "alice").await;
    assert!(mfa::totp_for(&mut conn, user).await.unwrap().is_none());

    assert!(
        mfa::put_pending_totp(&mut conn, user, "AAAABBBBCCCCDDDD", T0)
            .await
            .unwrap()
    );
    let pending = mfa::totp_for(&mut conn, user).await.unwrap().unwrap();
    assert_eq!(pending.secret.as_str(), "AAAABBBBCCCCDDDD");
    assert!(
        !pending.confirmed && pending.last_used_step.is_none() && pending.confirmed_at.is_none()
    );
    assert_eq!(pending.created_at, T0);
    assert!(
        !format!("{pending:?}").contains("AAAABBBB"),
        "Debug must redact the secret"
    );

    // Starting over replaces the unconfirmed secret.
    let later = T0 + Duration::minutes(1);
    assert!(
        mfa::put_pending_totp(&mut conn, user, "EEEEFFFFGGGGHHHH", later)
            .await
            .unwrap()
    );
    let pending = mfa::totp_for(&mut conn, user).await.unwrap().unwrap();
    assert_eq!(
        (pending.secret.as_str(), pending.created_at),
        ("EEEEFFFFGGGGHHHH", later)
    );

    assert!(
        mfa::confirm_totp(&mut conn, user, 1000, later)
            .await
            .unwrap()
    );
    assert!(
        !mfa::confirm_totp(&mut conn, user, 1001, later)
            .await
            .unwrap(),
        "only once"
    );
    let confirmed = mfa::totp_for(&mut conn, user).await.unwrap().unwrap();
    assert!(confirmed.confirmed);
    assert_eq!(
        (confirmed.last_used_step, confirmed.confirmed_at),
        (Some(1000), Some(later))
    );

    // A confirmed secret is not replaced by a new enrollment.
    assert!(
        !mfa::put_pending_totp(&mut conn, user, "IIIIJJJJKKKKLLLL", later)
            .await
            .unwrap()
    );
    let still = mfa::totp_for(&mut conn, user).await.unwrap().unwrap();
    assert_eq!(still.secret.as_str(), "EEEEFFFFGGGGHHHH");
    assert!(still.confirmed);

    assert!(mfa::delete_totp(&mut conn, user).await.unwrap());
    assert!(!mfa::delete_totp(&mut conn, user).await.unwrap());
    assert!(mfa::totp_for(&mut conn, user).await.unwrap().is_none());
    assert!(
        mfa::put_pending_totp(&mut conn, user, "MMMMNNNNOOOOPPPP", later)
            .await
            .unwrap()
    );
}

async fn last_used_step_only_moves_forward(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let user = add_user(&mut conn, "alice").await;
    mfa::put_pending_totp(&mut conn, user, "AAAABBBBCCCCDDDD", T0)
        .await
        .unwrap();
    // Before confirmation no step is stored; any step is news.
    assert!(mfa::set_last_used_step(&mut conn, user, 50).await.unwrap());
    mfa::confirm_totp(&mut conn, user, 100, T0).await.unwrap();
    assert!(
        !mfa::set_last_used_step(&mut conn, user, 100).await.unwrap(),
        "the confirming code is spent"
    );
    assert!(!mfa::set_last_used_step(&mut conn, user, 99).await.unwrap());
    assert!(mfa::set_last_used_step(&mut conn, user, 101).await.unwrap());
    assert!(
        !mfa::set_last_used_step(&mut conn, user, 101).await.unwrap(),
        "replay"
    );
    assert_eq!(
        mfa::totp_for(&mut conn, user)
            .await
            .unwrap()
            .unwrap()
            .last_used_step,
        Some(101)
    );
    assert!(
        !mfa::set_last_used_step(&mut conn, crate::common::new_user_id(), 5)
            .await
            .unwrap()
    );

    // Two sign-ins racing with the same code: exactly one accepts it.
    let mut a = db.store().acquire().await.unwrap();
    let mut b = db.store().acquire().await.unwrap();
    let (ra, rb) = tokio::join!(
        mfa::set_last_used_step(&mut a, user, 102),
        mfa::set_last_used_step(&mut b, user, 102)
    );
    assert!(ra.unwrap() ^ rb.unwrap(), "exactly one must win");
}

async fn backup_codes_replace_take_and_delete(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let user = add_user(&mut conn, "alice").await;
    let other = add_user(&mut conn, "bob").await;
    let set: Vec<[u8; 32]> = (1..=10).rev().map(h).collect();
    mfa::replace_backup_codes(&mut conn, user, &set, T0)
        .await
        .unwrap();
    mfa::replace_backup_codes(&mut conn, other, &[h(1)], T0)
        .await
        .unwrap();

    let mut stored = mfa::backup_codes(&mut conn, user).await.unwrap();
    stored.sort();
    let mut expected = set.clone();
    expected.sort();
    assert_eq!(stored, expected);

    assert!(mfa::take_backup_code(&mut conn, user, &h(3)).await.unwrap());
    assert!(
        !mfa::take_backup_code(&mut conn, user, &h(3)).await.unwrap(),
        "single use"
    );
    assert!(
        !mfa::take_backup_code(&mut conn, user, &h(99))
            .await
            .unwrap()
    );
    assert_eq!(mfa::backup_codes(&mut conn, user).await.unwrap().len(), 9);

    // Racing sign-ins with the same code: one wins.
    let mut a = db.store().acquire().await.unwrap();
    let mut b = db.store().acquire().await.unwrap();
    let four = h(4);
    let (ra, rb) = tokio::join!(
        mfa::take_backup_code(&mut a, user, &four),
        mfa::take_backup_code(&mut b, user, &four)
    );
    assert!(ra.unwrap() ^ rb.unwrap(), "exactly one must win");

    // A new set replaces the old entirely; a failing replacement changes nothing.
    mfa::replace_backup_codes(&mut conn, user, &[h(20), h(21)], T0)
        .await
        .unwrap();
    let mut stored = mfa::backup_codes(&mut conn, user).await.unwrap();
    stored.sort();
    assert_eq!(stored, vec![h(20), h(21)]);
    assert!(
        mfa::replace_backup_codes(&mut conn, user, &[h(30), h(30)], T0)
            .await
            .is_err()
    );
    let mut stored = mfa::backup_codes(&mut conn, user).await.unwrap();
    stored.sort();
    assert_eq!(
        stored,
        vec![h(20), h(21)],
        "a failed replacement is rolled back"
    );

    // The other account's code is its own.
    assert_eq!(
        mfa::backup_codes(&mut conn, other).await.unwrap(),
        vec![h(1)]
    );
    assert_eq!(mfa::delete_backup_codes(&mut conn, user).await.unwrap(), 2);
    assert!(mfa::backup_codes(&mut conn, user).await.unwrap().is_empty());
    assert_eq!(
        mfa::backup_codes(&mut conn, other).await.unwrap(),
        vec![h(1)]
    );
}

async fn factors_go_with_the_account(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let user = add_user(&mut conn, "alice").await;
    mfa::put_pending_totp(&mut conn, user, "AAAABBBBCCCCDDDD", T0)
        .await
        .unwrap();
    mfa::replace_backup_codes(&mut conn, user, &[h(1)], T0)
        .await
        .unwrap();
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(mfa::totp_for(&mut conn, user).await.unwrap().is_none());
    assert!(mfa::backup_codes(&mut conn, user).await.unwrap().is_empty());
}

async fn hashes_of_the_wrong_length_are_refused(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let user = add_user(&mut conn, "alice").await;
    // The CHECK constraint refuses it at the door.
    let refused =
        sqlx::query("INSERT INTO backup_codes (user_id, code_hash, created_at) VALUES ($1, $2, 0)")
            .bind(user.to_string())
            .bind(&[1u8, 2, 3][..])
            .execute(&mut *conn)
            .await;
    assert!(refused.is_err());
}

schild_store::dual_backend_tests!(
    totp_enrollment_lifecycle,
    last_used_step_only_moves_forward,
    backup_codes_replace_take_and_delete,
    factors_go_with_the_account,
    hashes_of_the_wrong_length_are_refused,
);
