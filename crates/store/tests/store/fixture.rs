//! The fixture itself: PostgreSQL schemas disappear even when a test panics.

use crate::common::add_user;
use schild_store::testing::{DEFAULT_POSTGRES_URL, POSTGRES_URL_VAR, TestDb, postgres_skipped};
use sqlx::Connection as _;
use sqlx::Row;
use std::sync::{Arc, Mutex};

async fn schema_exists(schema: &str) -> bool {
    let url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = $1")
            .bind(schema)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    row.try_get::<i64, _>("n").unwrap() > 0
}

#[tokio::test]
async fn a_panicking_test_still_drops_its_schema_even_mid_transaction() {
    if postgres_skipped() {
        eprintln!("PostgreSQL skipped");
        return;
    }
    let seen = Arc::new(Mutex::new(None::<String>));
    let seen_in_task = seen.clone();
    let outcome = tokio::spawn(async move {
        let db = TestDb::postgres().await.unwrap();
        *seen_in_task.lock().unwrap() = db.postgres_schema().map(str::to_owned);
        // Hold row locks in an open transaction, then fail: the guard must still get through.
        let mut tx = db.store().begin().await.unwrap();
        add_user(&mut tx, "alice").await;
        panic!("deliberate test failure");
    })
    .await;
    assert!(outcome.unwrap_err().is_panic());
    let schema = seen
        .lock()
        .unwrap()
        .clone()
        .expect("the task got as far as its schema");
    assert!(
        !schema_exists(&schema).await,
        "schema {schema} was left behind"
    );
}

#[tokio::test]
async fn cleanup_drops_the_schema_and_sqlite_dirs_go_too() {
    if let Some(db) = TestDb::postgres().await {
        let schema = db.postgres_schema().unwrap().to_owned();
        assert!(schema.starts_with("schild_test_"));
        assert!(schema_exists(&schema).await);
        db.cleanup().await;
        assert!(!schema_exists(&schema).await);
    }

    let db = TestDb::sqlite().await.unwrap();
    let path = db.url().trim_start_matches("sqlite://").to_owned();
    assert!(std::path::Path::new(&path).exists());
    db.cleanup().await;
    assert!(!std::path::Path::new(&path).exists());
}
