//! Upgrading a first-release database: `users.roles` JSON arrays become `role_assignments`, and
//! the built-in roles are seeded from the code.

use schild_store::testing::{DEFAULT_POSTGRES_URL, POSTGRES_URL_VAR, postgres_skipped};
use schild_store::{Store, users};
use sqlx::Connection as _;
use sqlx::migrate::Migrator;

/// Applies only `0001_initial.sql` from `dir` on `url`, then inserts first-release accounts.
async fn first_release(url: &str, dir: &str) {
    let all = Migrator::new(std::path::Path::new(dir)).await.unwrap();
    let first = Migrator::with_migrations(all.migrations.iter().take(1).cloned().collect());
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    first.run(&mut conn).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO users (id, username, display_name, password_hash, roles, disabled, created_at) VALUES \
         ('0192f000-0000-7000-8000-000000000001', 'ada', 'Ada', 'x', '[\"admin\",\"user\"]', FALSE, 1000), \
         ('0192f000-0000-7000-8000-000000000002', 'bob', 'Bob', 'x', '[\"user\",\"user\"]', FALSE, 2000), \
         ('0192f000-0000-7000-8000-000000000003', 'eve', 'Eve', 'x', '[\"legacy-ops\"]', FALSE, 3000), \
         ('0192f000-0000-7000-8000-000000000004', 'nil', 'Nil', 'x', '[]', FALSE, 4000)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
}

async fn check_upgrade(url: &str) {
    let store = Store::connect(url).await.unwrap();
    let mut conn = store.acquire().await.unwrap();
    let roles: Vec<(String, Vec<String>)> = users::list(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.username.to_string(), u.roles))
        .collect();
    assert_eq!(
        roles,
        [
            (
                "ada".to_owned(),
                vec!["admin".to_owned(), "user".to_owned()]
            ),
            ("bob".to_owned(), vec!["user".to_owned()]),
            ("eve".to_owned(), vec!["legacy-ops".to_owned()]),
            ("nil".to_owned(), vec![]),
        ]
    );
    let catalog = schild_store::roles::catalog(&mut conn).await.unwrap();
    assert_eq!(
        catalog.get("admin"),
        schild_core::rbac::RoleCatalog::builtin().get("admin")
    );
    let legacy = catalog.get("legacy-ops").unwrap();
    assert!(!legacy.is_builtin() && legacy.permissions().is_empty());
    let ada = schild_store::roles::assignments_for(
        &mut conn,
        "0192f000-0000-7000-8000-000000000001".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(ada[0].granted_at.unix_timestamp_nanos(), 1_000_000_000);
    assert_eq!(ada[0].reason.as_str(), "carried over from users.roles");
    drop(conn);
    store.close().await;
}

#[tokio::test]
async fn sqlite_first_release_roles_are_carried_over() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    sqlx::any::install_default_drivers();
    first_release(
        &url,
        concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"),
    )
    .await;
    check_upgrade(&url).await;
}

#[tokio::test]
async fn postgres_first_release_roles_are_carried_over() {
    if postgres_skipped() {
        eprintln!("PostgreSQL skipped");
        return;
    }
    sqlx::any::install_default_drivers();
    let admin_url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    let schema = format!(
        "schild_test_{}_{}",
        time::OffsetDateTime::now_utc().unix_timestamp(),
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&mut admin)
        .await
        .unwrap();
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
    first_release(
        &url,
        concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"),
    )
    .await;
    let outcome = tokio::spawn(async move { check_upgrade(&url).await }).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    outcome.unwrap();
}
