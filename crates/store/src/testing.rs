//! Test fixtures (cargo feature `testing`): a fresh database per test on either backend.
//!
//! - [`TestDb::sqlite`]: a SQLite file in a temporary directory, deleted afterwards.
//! - [`TestDb::postgres`]: a schema `schild_test_<random>` in the PostgreSQL database named by
//!   `SCHILD_TEST_POSTGRES_URL` (default [`DEFAULT_POSTGRES_URL`]); the store's connections are
//!   pointed at it through `search_path`, and it is dropped afterwards — by
//!   [`TestDb::cleanup`] on the happy path, and by a drop guard when the test panics first.
//!   With `SCHILD_TEST_SKIP_POSTGRES=1` it returns `None`; otherwise an unreachable server fails
//!   the test with a message that says so.
//! - [`dual_backend_tests!`](crate::dual_backend_tests) turns one `async fn body(db: &TestDb)`
//!   into a `body::sqlite` and a `body::postgres` test.
//!
//! ```ignore
//! use schild_store::testing::TestDb;
//!
//! async fn counts_users(db: &TestDb) {
//!     let mut conn = db.store().acquire().await.unwrap();
//!     assert_eq!(schild_store::users::count(&mut conn).await.unwrap(), 0);
//! }
//! schild_store::dual_backend_tests!(counts_users);
//! ```

use crate::{Backend, Store};
use sqlx::AnyConnection;
use sqlx::{Connection as _, Row as _};
use tempfile::TempDir;

/// The environment variable naming the PostgreSQL database tests may create schemas in.
pub const POSTGRES_URL_VAR: &str = "SCHILD_TEST_POSTGRES_URL";
/// The environment variable that, set to `1`, skips the PostgreSQL half of every test.
pub const SKIP_POSTGRES_VAR: &str = "SCHILD_TEST_SKIP_POSTGRES";
/// Where the tests look for PostgreSQL when [`POSTGRES_URL_VAR`] is unset (CI and dev machines
/// run it there with trust authentication).
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A migrated, empty store that disappears after the test.
#[derive(Debug)]
pub struct TestDb {
    // Field order is drop order: the pool goes before the schema or directory behind it.
    store: Store,
    url: String,
    place: Place,
}

#[derive(Debug)]
enum Place {
    Sqlite(TempDir),
    Postgres(SchemaGuard),
}

impl TestDb {
    /// A store on a new SQLite file in a temporary directory. Always `Some`: the `Option` only
    /// mirrors [`TestDb::postgres`], so one test body can take either.
    ///
    /// # Panics
    /// When the directory or the database cannot be created (a broken test machine).
    pub async fn sqlite() -> Option<TestDb> {
        let dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(err) => panic!("cannot create a temporary directory for the SQLite test db: {err}"),
        };
        let url = format!("sqlite://{}", dir.path().join("schild.db").display());
        let store = match Store::connect(&url).await {
            Ok(store) => store,
            Err(err) => panic!("cannot open the SQLite test database {url}: {err}"),
        };
        Some(TestDb {
            store,
            url,
            place: Place::Sqlite(dir),
        })
    }

    /// A store on a new schema in the test PostgreSQL database, or `None` when
    /// `SCHILD_TEST_SKIP_POSTGRES=1`.
    ///
    /// # Panics
    /// When PostgreSQL cannot be reached or the schema cannot be created and migrated: the
    /// PostgreSQL half is required unless explicitly skipped.
    pub async fn postgres() -> Option<TestDb> {
        if postgres_skipped() {
            return None;
        }
        sqlx::any::install_default_drivers();
        let admin_url =
            std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
        // The creation time in the name lets a later run sweep up schemas of a run that was
        // killed before any clean-up could happen (see `sweep_stale_schemas`).
        let created = time::OffsetDateTime::now_utc().unix_timestamp();
        let random = uuid::Uuid::new_v4().simple().to_string();
        let schema = format!("{SCHEMA_PREFIX}{created}_{}", &random[..16]);

        let mut admin = match AnyConnection::connect(&admin_url).await {
            Ok(conn) => conn,
            Err(err) => panic!(
                "PostgreSQL for tests is unreachable ({POSTGRES_URL_VAR}, default \
                 {DEFAULT_POSTGRES_URL}): {err}. Start it, or set {SKIP_POSTGRES_VAR}=1 to skip \
                 the PostgreSQL half of the store tests."
            ),
        };
        sweep_stale_schemas(&mut admin, created).await;
        if let Err(err) = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
            .execute(&mut admin)
            .await
        {
            panic!("cannot create test schema {schema}: {err}");
        }
        let _ = admin.close().await;
        // From here on the guard drops the schema whatever happens.
        let guard = SchemaGuard {
            admin_url: admin_url.clone(),
            schema: schema.clone(),
            dropped: false,
        };

        // `search_path` puts every table of this store in the schema; `application_name` lets
        // the clean-up find and end this store's sessions even when a panicking test left a
        // transaction open.
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!(
            "{admin_url}{sep}options=-c%20search_path%3D{schema}&application_name={schema}"
        );
        let store = match Store::connect(&url).await {
            Ok(store) => store,
            Err(err) => panic!("cannot migrate the PostgreSQL test schema {schema}: {err}"),
        };
        Some(TestDb {
            store,
            url,
            place: Place::Postgres(guard),
        })
    }

    /// The store under test.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A URL that opens the same database (and, for PostgreSQL, the same schema), for code under
    /// test that wants to call [`Store::connect`] itself.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// The PostgreSQL schema this store lives in (`None` for SQLite).
    pub fn postgres_schema(&self) -> Option<&str> {
        match &self.place {
            Place::Sqlite(_) => None,
            Place::Postgres(guard) => Some(&guard.schema),
        }
    }

    /// Closes the store and removes the database now, reporting failures as a panic. Prefer this
    /// at the end of a test; dropping a `TestDb` cleans up too, but can only print errors.
    pub async fn cleanup(self) {
        let TestDb {
            store,
            url: _,
            place,
        } = self;
        store.close().await;
        drop(store);
        match place {
            Place::Sqlite(dir) => {
                if let Err(err) = dir.close() {
                    panic!("cannot remove the SQLite test directory: {err}");
                }
            }
            Place::Postgres(mut guard) => {
                if let Err(err) = drop_schema(&guard.admin_url, &guard.schema).await {
                    panic!("cannot drop test schema {}: {err}", guard.schema);
                }
                guard.dropped = true;
            }
        }
    }
}

/// Every test schema is named `schild_test_<unix seconds>_<16 hex digits>`.
const SCHEMA_PREFIX: &str = "schild_test_";

/// A test schema older than this belongs to a run that died without cleaning up (killed by a
/// timeout or Ctrl-C, where no destructor runs): no test takes an hour.
const STALE_AFTER_SECONDS: i64 = 60 * 60;

/// Drops test schemas left behind by runs that were killed. Best effort: errors are printed.
async fn sweep_stale_schemas(admin: &mut AnyConnection, now: i64) {
    let rows = sqlx::query("SELECT CAST(nspname AS TEXT) AS name FROM pg_namespace WHERE nspname LIKE 'schild\\_test\\_%'")
        .fetch_all(&mut *admin)
        .await;
    let names: Vec<String> = match rows {
        Ok(rows) => rows
            .iter()
            .filter_map(|row| row.try_get::<String, _>("name").ok())
            .collect(),
        Err(err) => {
            eprintln!("could not list old test schemas: {err}");
            return;
        }
    };
    for name in names {
        let created = name
            .strip_prefix(SCHEMA_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<i64>().ok());
        // Names without a timestamp come from an older fixture: also stale.
        if created.is_some_and(|created| now - created < STALE_AFTER_SECONDS) {
            continue;
        }
        let drop = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE");
        if let Err(err) = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
            .execute(&mut *admin)
            .await
        {
            eprintln!("could not drop stale test schema {name}: {err}");
        }
    }
}

/// Whether `SCHILD_TEST_SKIP_POSTGRES` asks to skip PostgreSQL.
pub fn postgres_skipped() -> bool {
    std::env::var(SKIP_POSTGRES_VAR).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Runs `body` against a fresh SQLite store, then cleans up.
pub async fn run_sqlite(body: impl AsyncFn(&TestDb)) {
    if let Some(db) = TestDb::sqlite().await {
        body(&db).await;
        db.cleanup().await;
    }
}

/// Runs `body` against a fresh PostgreSQL schema, then drops it; prints a note and returns when
/// PostgreSQL is skipped.
pub async fn run_postgres(body: impl AsyncFn(&TestDb)) {
    let Some(db) = TestDb::postgres().await else {
        eprintln!("PostgreSQL half skipped ({SKIP_POSTGRES_VAR}=1)");
        return;
    };
    body(&db).await;
    db.cleanup().await;
}

/// Runs `body` against SQLite, then PostgreSQL (unless skipped), in one test.
pub async fn on_both_backends(body: impl AsyncFn(&TestDb)) {
    eprintln!("--- backend: SQLite");
    run_sqlite(&body).await;
    eprintln!("--- backend: PostgreSQL");
    run_postgres(&body).await;
}

/// Declares, for each `async fn name(db: &TestDb)` listed, a module `name` with two
/// `#[tokio::test]`s, `name::sqlite` and `name::postgres`, running the same body on each backend.
/// The calling crate needs `tokio` (with `macros` and `rt`) as a dev-dependency.
#[macro_export]
macro_rules! dual_backend_tests {
    ($($body:ident),+ $(,)?) => {
        $(
            mod $body {
                #[tokio::test]
                async fn sqlite() {
                    $crate::testing::run_sqlite(super::$body).await;
                }

                #[tokio::test]
                async fn postgres() {
                    $crate::testing::run_postgres(super::$body).await;
                }
            }
        )+
    };
}

/// Drops the test schema when a [`TestDb`] goes away without [`TestDb::cleanup`] (a panicking
/// test, usually).
#[derive(Debug)]
struct SchemaGuard {
    admin_url: String,
    schema: String,
    dropped: bool,
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Drop runs inside the test's runtime, which cannot be blocked on from within; a fresh
        // thread with its own small runtime can.
        let admin_url = self.admin_url.clone();
        let schema = self.schema.clone();
        let outcome = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime
                .block_on(drop_schema(&admin_url, &schema))
                .map_err(std::io::Error::other)
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!("could not drop test schema {}: {err}", self.schema),
            Err(_) => eprintln!(
                "could not drop test schema {}: clean-up thread panicked",
                self.schema
            ),
        }
    }
}

/// Ends any session still using `schema` (found by its `application_name`), then drops the
/// schema and everything in it.
async fn drop_schema(admin_url: &str, schema: &str) -> Result<(), sqlx::Error> {
    let mut admin = AnyConnection::connect(admin_url).await?;
    // Never hang a test run on a lock: fail the clean-up loudly instead.
    sqlx::raw_sql("SET lock_timeout = '10s'")
        .execute(&mut admin)
        .await?;
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1 AND pid <> pg_backend_pid()",
    )
    .bind(schema)
    .execute(&mut admin)
    .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(&mut admin)
    .await?;
    admin.close().await
}
