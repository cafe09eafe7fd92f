//! The one-time setup token.

use crate::common::{T0, h};
use schild_store::setup;
use schild_store::testing::TestDb;
use time::Duration;

async fn a_setup_token_works_once_and_only_before_it_expires(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let expires = T0 + Duration::hours(1);
    assert!(!setup::pending(&mut conn, T0).await.unwrap());
    setup::replace(&mut conn, &h(1), T0, expires).await.unwrap();
    assert!(setup::pending(&mut conn, T0).await.unwrap());
    assert!(!setup::pending(&mut conn, expires).await.unwrap());

    assert!(
        !setup::take(&mut conn, &h(2), T0).await.unwrap(),
        "wrong token"
    );
    assert!(
        !setup::take(&mut conn, &h(1), expires).await.unwrap(),
        "expired token"
    );
    assert!(setup::take(&mut conn, &h(1), T0).await.unwrap());
    assert!(
        !setup::take(&mut conn, &h(1), T0).await.unwrap(),
        "single use"
    );
    assert!(!setup::pending(&mut conn, T0).await.unwrap());

    // Replacing invalidates the previous token.
    setup::replace(&mut conn, &h(3), T0, expires).await.unwrap();
    setup::replace(&mut conn, &h(4), T0, expires).await.unwrap();
    assert!(!setup::take(&mut conn, &h(3), T0).await.unwrap());
    assert!(setup::take(&mut conn, &h(4), T0).await.unwrap());

    setup::replace(&mut conn, &h(5), T0, expires).await.unwrap();
    assert_eq!(setup::clear(&mut conn).await.unwrap(), 1);
    assert!(!setup::take(&mut conn, &h(5), T0).await.unwrap());
}

async fn concurrent_takes_cannot_both_win(db: &TestDb) {
    let store = db.store();
    setup::replace(
        &mut store.acquire().await.unwrap(),
        &h(1),
        T0,
        T0 + Duration::hours(1),
    )
    .await
    .unwrap();
    let (ra, rb) = tokio::join!(
        async {
            let mut tx = store.begin().await.unwrap();
            let won = setup::take(&mut tx, &h(1), T0).await.unwrap();
            tx.commit().await.unwrap();
            won
        },
        async {
            let mut tx = store.begin().await.unwrap();
            let won = setup::take(&mut tx, &h(1), T0).await.unwrap();
            tx.commit().await.unwrap();
            won
        }
    );
    assert!(ra ^ rb, "exactly one take must win: {ra} {rb}");
}

async fn a_take_rolled_back_with_its_transaction_leaves_the_token(db: &TestDb) {
    let store = db.store();
    setup::replace(
        &mut store.acquire().await.unwrap(),
        &h(1),
        T0,
        T0 + Duration::hours(1),
    )
    .await
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(setup::take(&mut tx, &h(1), T0).await.unwrap());
    tx.rollback().await.unwrap();
    assert!(
        setup::take(&mut store.acquire().await.unwrap(), &h(1), T0)
            .await
            .unwrap()
    );
}

schild_store::dual_backend_tests!(
    a_setup_token_works_once_and_only_before_it_expires,
    concurrent_takes_cannot_both_win,
    a_take_rolled_back_with_its_transaction_leaves_the_token,
);
