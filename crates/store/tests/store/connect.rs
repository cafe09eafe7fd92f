//! Connecting, migrating, transactions and backend settings.

use crate::common::{T0, add_user, h};
use schild_store::testing::{TestDb, run_sqlite};
use schild_store::{Backend, Store, StoreError, mfa, users};
use sqlx::Row;

async fn reconnecting_reruns_migrations_and_keeps_data(db: &TestDb) {
    let id = add_user(&mut db.store().acquire().await.unwrap(), "alice").await;
    let again = Store::connect(db.url()).await.unwrap();
    assert_eq!(again.backend(), db.backend());
    let found = users::by_id(&mut again.acquire().await.unwrap(), id)
        .await
        .unwrap();
    assert_eq!(found.unwrap().username.as_str(), "alice");
    again.ping().await.unwrap();
    again.close().await;
}

async fn a_dropped_transaction_rolls_back_and_a_committed_one_sticks(db: &TestDb) {
    let store = db.store();
    let mut tx = store.begin().await.unwrap();
    add_user(&mut tx, "rolled").await;
    assert_eq!(
        users::count(&mut tx).await.unwrap(),
        1,
        "visible inside the transaction"
    );
    drop(tx);
    assert_eq!(
        users::count(&mut store.acquire().await.unwrap())
            .await
            .unwrap(),
        0
    );

    let mut tx = store.begin().await.unwrap();
    add_user(&mut tx, "kept").await;
    tx.commit().await.unwrap();
    assert_eq!(
        users::count(&mut store.acquire().await.unwrap())
            .await
            .unwrap(),
        1
    );

    let mut tx = store.begin().await.unwrap();
    add_user(&mut tx, "undone").await;
    tx.rollback().await.unwrap();
    assert_eq!(
        users::count(&mut store.acquire().await.unwrap())
            .await
            .unwrap(),
        1
    );
}

/// Multi-statement repository functions open a savepoint inside a caller's transaction, so the
/// caller's rollback still undoes them.
async fn repository_savepoints_nest_inside_the_callers_transaction(db: &TestDb) {
    let store = db.store();
    let user = add_user(&mut store.acquire().await.unwrap(), "alice").await;
    let mut tx = store.begin().await.unwrap();
    mfa::replace_backup_codes(&mut tx, user, &[h(1), h(2)], T0)
        .await
        .unwrap();
    assert_eq!(mfa::backup_codes(&mut tx, user).await.unwrap().len(), 2);
    tx.rollback().await.unwrap();
    assert!(
        mfa::backup_codes(&mut store.acquire().await.unwrap(), user)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn foreign_keys_are_enforced(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let err = mfa::put_pending_totp(
        &mut conn,
        crate::common::new_user_id(),
        "JBSWY3DPEHPK3PXP",
        T0,
    )
    .await
    .unwrap_err();
    match err {
        StoreError::Database(sqlx::Error::Database(e)) => {
            assert_eq!(e.kind(), sqlx::error::ErrorKind::ForeignKeyViolation)
        }
        other => panic!("expected a foreign-key violation, got {other:?}"),
    }
}

async fn the_backend_matches_the_fixture(db: &TestDb) {
    let expected = if db.url().starts_with("sqlite:") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    assert_eq!(db.store().backend(), expected);
    db.store().ping().await.unwrap();
}

schild_store::dual_backend_tests!(
    reconnecting_reruns_migrations_and_keeps_data,
    a_dropped_transaction_rolls_back_and_a_committed_one_sticks,
    repository_savepoints_nest_inside_the_callers_transaction,
    foreign_keys_are_enforced,
    the_backend_matches_the_fixture,
);

/// Reads a single-value PRAGMA on one connection.
async fn pragma(conn: &mut schild_store::AnyConnection, name: &str) -> String {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA {name}")))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    row.try_get::<String, _>(0)
        .or_else(|_| row.try_get::<i64, _>(0).map(|n| n.to_string()))
        .unwrap()
}

#[tokio::test]
async fn sqlite_connections_run_with_wal_foreign_keys_secure_delete_and_a_busy_timeout() {
    run_sqlite(async |db: &TestDb| {
        // Two connections held at once, so the settings are seen on more than the first one.
        let mut a = db.store().acquire().await.unwrap();
        let mut b = db.store().acquire().await.unwrap();
        for conn in [&mut a, &mut b] {
            assert_eq!(pragma(conn, "journal_mode").await, "wal");
            assert_eq!(pragma(conn, "foreign_keys").await, "1");
            assert_eq!(pragma(conn, "secure_delete").await, "1");
            assert_eq!(pragma(conn, "busy_timeout").await, "5000");
        }
    })
    .await;
}

#[tokio::test]
async fn sqlite_creates_a_missing_file_and_its_directory_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let store = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert!(path.exists());
    store.close().await;

    let missing = dir.path().join("no/such/dir/x.db");
    assert!(matches!(
        Store::connect(&format!("sqlite://{}", missing.display())).await,
        Err(StoreError::Database(_))
    ));
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_on_its_single_connection() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    add_user(&mut store.acquire().await.unwrap(), "alice").await;
    assert_eq!(
        users::count(&mut store.acquire().await.unwrap())
            .await
            .unwrap(),
        1
    );
    let mut tx = store.begin().await.unwrap();
    add_user(&mut tx, "bob").await;
    tx.commit().await.unwrap();
    assert_eq!(
        users::count(&mut store.acquire().await.unwrap())
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn unsupported_urls_are_refused_without_echoing_them() {
    let err = Store::connect("mysql://root:hunter2@db/schild")
        .await
        .unwrap_err();
    assert!(matches!(&err, StoreError::UnsupportedUrl { scheme } if scheme == "mysql"));
    assert!(!err.to_string().contains("hunter2"));
}
