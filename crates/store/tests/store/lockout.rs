//! Failure counting, account locks and IP blocks.

use crate::common::{T0, add_user, new_user_id};
use schild_core::audit::BlockReason;
use schild_store::StoreError;
use schild_store::lockout::{self, IpBlock};
use schild_store::testing::TestDb;
use std::net::IpAddr;
use time::Duration;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

async fn block(conn: &mut schild_store::AnyConnection, b: &IpBlock) {
    lockout::block_ip(conn, b.ip, b.until, &b.reason, b.created_by, b.created_at)
        .await
        .unwrap();
}

async fn failures_are_counted_per_account_and_per_address(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = add_user(&mut conn, "alice").await;
    let bob = add_user(&mut conn, "bob").await;
    let attacker = ip("203.0.113.9");

    for minute in 0..3 {
        lockout::record_failure(
            &mut conn,
            Some(alice),
            "alice",
            Some(attacker),
            T0 + Duration::minutes(minute),
        )
        .await
        .unwrap();
    }
    lockout::record_failure(&mut conn, Some(bob), "bob", Some(attacker), T0)
        .await
        .unwrap();
    lockout::record_failure(&mut conn, None, "nosuchuser", Some(attacker), T0)
        .await
        .unwrap();
    // The same client seen through an IPv4-mapped IPv6 socket counts as the same address.
    lockout::record_failure(&mut conn, None, "ghost", Some(ip("::ffff:203.0.113.9")), T0)
        .await
        .unwrap();
    lockout::record_failure(&mut conn, Some(alice), "alice", None, T0)
        .await
        .unwrap();
    lockout::record_failure(
        &mut conn,
        Some(alice),
        "alice",
        Some(ip("198.51.100.1")),
        T0,
    )
    .await
    .unwrap();

    assert_eq!(
        lockout::failures_for_user_since(&mut conn, alice, T0)
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        lockout::failures_for_user_since(&mut conn, alice, T0 + Duration::minutes(1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        lockout::failures_for_user_since(&mut conn, bob, T0)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        lockout::failures_for_user_since(&mut conn, new_user_id(), T0)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        lockout::failures_for_ip_since(&mut conn, attacker, T0)
            .await
            .unwrap(),
        (6, 4)
    );
    assert_eq!(
        lockout::failures_for_ip_since(&mut conn, attacker, T0 + Duration::minutes(2))
            .await
            .unwrap(),
        (1, 1)
    );
    assert_eq!(
        lockout::failures_for_ip_since(&mut conn, ip("2001:db8::1"), T0)
            .await
            .unwrap(),
        (0, 0)
    );

    assert_eq!(lockout::clear_failures(&mut conn, alice).await.unwrap(), 5);
    assert_eq!(
        lockout::failures_for_user_since(&mut conn, alice, T0)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        lockout::failures_for_ip_since(&mut conn, attacker, T0)
            .await
            .unwrap(),
        (3, 3)
    );

    assert_eq!(
        lockout::purge_failures_before(&mut conn, T0 + Duration::seconds(1))
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        lockout::failures_for_ip_since(&mut conn, attacker, T0)
            .await
            .unwrap(),
        (0, 0)
    );
}

async fn locks_count_up_clear_and_reset(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = add_user(&mut conn, "alice").await;
    assert!(
        lockout::lock_state(&mut conn, alice)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!lockout::clear_lock(&mut conn, alice).await.unwrap());

    let until = T0 + Duration::minutes(5);
    assert_eq!(lockout::lock(&mut conn, alice, until, T0).await.unwrap(), 1);
    let state = lockout::lock_state(&mut conn, alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (state.locked_until, state.lock_count, state.locked_at),
        (Some(until), 1, Some(T0))
    );
    assert!(state.is_locked(T0) && !state.is_locked(until));

    let t1 = T0 + Duration::minutes(10);
    assert_eq!(
        lockout::lock(&mut conn, alice, t1 + Duration::minutes(10), t1)
            .await
            .unwrap(),
        2
    );

    assert!(lockout::clear_lock(&mut conn, alice).await.unwrap());
    assert!(!lockout::clear_lock(&mut conn, alice).await.unwrap());
    let state = lockout::lock_state(&mut conn, alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (state.locked_until, state.lock_count),
        (None, 2),
        "clearing keeps the count"
    );
    assert!(!state.is_locked(t1));

    lockout::reset_lock_count(&mut conn, alice).await.unwrap();
    assert_eq!(
        lockout::lock_state(&mut conn, alice)
            .await
            .unwrap()
            .unwrap()
            .lock_count,
        0
    );
    lockout::reset_lock_count(&mut conn, new_user_id())
        .await
        .unwrap();
    assert_eq!(lockout::lock(&mut conn, alice, until, T0).await.unwrap(), 1);

    // Locking an unknown account is a foreign-key error, not a silent row.
    assert!(matches!(
        lockout::lock(&mut conn, new_user_id(), until, T0).await,
        Err(StoreError::Database(_))
    ));
}

async fn ip_blocks_replace_expire_and_lift(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let admin = add_user(&mut conn, "admin").await;
    let auto = IpBlock {
        ip: ip("::ffff:203.0.113.9"),
        until: T0 + Duration::hours(1),
        reason: BlockReason::CredentialStuffing {
            failures: 20,
            accounts: 7,
        },
        created_at: T0,
        created_by: None,
    };
    block(&mut conn, &auto).await;
    let manual = IpBlock {
        ip: ip("2001:db8::7"),
        until: T0 + Duration::hours(2),
        reason: BlockReason::CredentialStuffing {
            failures: 1,
            accounts: 1,
        },
        created_at: T0,
        created_by: Some(admin),
    };
    block(&mut conn, &manual).await;

    let found = lockout::active_block(&mut conn, ip("203.0.113.9"), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.ip, ip("203.0.113.9"));
    assert_eq!(
        (found.until, &found.reason, found.created_by),
        (auto.until, &auto.reason, None)
    );
    assert!(
        lockout::active_block(&mut conn, ip("203.0.113.9"), auto.until)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(
        lockout::active_block(&mut conn, ip("203.0.113.10"), T0)
            .await
            .unwrap()
            .is_none()
    );

    let listed: Vec<_> = lockout::list_blocks(&mut conn, T0)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.ip)
        .collect();
    assert_eq!(listed, vec![manual.ip, ip("203.0.113.9")]);
    assert_eq!(
        lockout::list_blocks(&mut conn, auto.until)
            .await
            .unwrap()
            .len(),
        1
    );

    // Blocking again replaces the earlier block.
    let longer = IpBlock {
        until: T0 + Duration::days(1),
        created_at: T0 + Duration::minutes(1),
        ..auto.clone()
    };
    block(&mut conn, &longer).await;
    let found = lockout::active_block(&mut conn, ip("203.0.113.9"), auto.until)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.until, found.created_at),
        (longer.until, longer.created_at)
    );

    assert!(
        lockout::unblock_ip(&mut conn, ip("::ffff:203.0.113.9"))
            .await
            .unwrap()
    );
    assert!(
        !lockout::unblock_ip(&mut conn, ip("203.0.113.9"))
            .await
            .unwrap()
    );
    assert_eq!(
        lockout::purge_blocks_before(&mut conn, T0 + Duration::hours(3))
            .await
            .unwrap(),
        1
    );
    assert!(
        lockout::list_blocks(&mut conn, T0)
            .await
            .unwrap()
            .is_empty()
    );
}

schild_store::dual_backend_tests!(
    failures_are_counted_per_account_and_per_address,
    locks_count_up_clear_and_reset,
    ip_blocks_replace_expire_and_lift,
);
