//! Schild's persistence: one [`Store`] over SQLite (the embedded default) or PostgreSQL.
//!
//! This is the only crate that writes SQL. Both backends run the *same* statement text through
//! sqlx's `Any` driver (`$1, $2` placeholders, which SQLite accepts as numbered parameters); only
//! the migrations under `migrations/sqlite` and `migrations/postgres` differ, and they are kept in
//! step: same file names, same tables, same columns.
//!
//! Repositories are plain async functions, one module per aggregate, that take
//! `&mut AnyConnection`. A [`Tx`] and a [`PooledConnection`] both dereference to one, so the server
//! composes several writes and the audit append in a single transaction:
//!
//! ```no_run
//! # async fn example(store: &schild_store::Store, user: &schild_store::users::NewUser,
//! #                  record: &schild_core::audit::AuditRecord) -> Result<(), schild_store::StoreError> {
//! use schild_store::{audit, users};
//!
//! let mut tx = store.begin().await?;
//! users::insert(&mut tx, user).await?;
//! audit::append(&mut tx, record).await?;
//! tx.commit().await?; // dropped without commit = rolled back
//!
//! let mut conn = store.acquire().await?; // a single read, no transaction
//! let count = users::count(&mut conn).await?;
//! # let _ = count; Ok(()) }
//! ```
//!
//! Types crossing the `Any` driver are limited to `i64`, `bool`, `String` and `Vec<u8>`:
//! timestamps are stored as `BIGINT` Unix **milliseconds** (sub-millisecond precision is dropped),
//! ids as their UUID text, lists (a role's permissions) as JSON arrays in `TEXT`, and flags as `BOOLEAN` on PostgreSQL
//! and `INTEGER` 0/1 on SQLite (sqlx's `Any` driver cannot read SQLite columns declared
//! `BOOLEAN`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod api_keys;
pub mod audit;
pub mod dashboard;
pub mod desktop_actions;
mod error;
pub mod hardware_keys;
pub mod idempotency;
pub mod keys;
pub mod lockout;
pub mod mfa;
pub mod outbox;
pub mod retention;
pub mod reviews;
pub mod roles;
mod row;
pub mod security_keys;
pub mod sessions;
pub mod setup;
#[cfg(feature = "testing")]
pub mod testing;
pub mod usage;
pub mod users;
pub mod vault;

pub use error::StoreError;

/// Where Schild keeps its files on this machine (databases, the backend's key file, the desktop's
/// settings): `$SCHILD_DATA_DIR`, else `$XDG_DATA_HOME/schild`, else `~/.local/share/schild`, else
/// (Windows) `%APPDATA%\Schild`. `None` when none of these is set.
pub fn data_dir() -> Option<std::path::PathBuf> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|value| !value.is_empty())
            .map(std::path::PathBuf::from)
    };
    from_env("SCHILD_DATA_DIR")
        .or_else(|| from_env("XDG_DATA_HOME").map(|dir| dir.join("schild")))
        .or_else(|| from_env("HOME").map(|home| home.join(".local/share/schild")))
        .or_else(|| from_env("APPDATA").map(|dir| dir.join("Schild")))
}
/// The connection type every repository function takes (`&mut AnyConnection`).
pub use sqlx::AnyConnection;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{Any, Connection as _, Row as _};
use std::ops::{Deref, DerefMut};
use std::time::Duration;

/// A connection checked out of the pool for work outside a transaction; dereferences to
/// [`AnyConnection`] and goes back to the pool when dropped.
pub type PooledConnection = sqlx::pool::PoolConnection<Any>;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite connection waits for another writer before giving up with "database is
/// locked". Writes here are a handful of rows, so five seconds means something is stuck.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Per-connection SQLite settings. `foreign_keys` and `secure_delete` are connection state, not
/// file state, so every new pooled connection runs this. `secure_delete` overwrites deleted
/// content (spent refresh-token hashes, replaced secrets) instead of leaving it in free pages.
const SQLITE_CONNECTION_PRAGMAS: &str =
    "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA busy_timeout = 5000;";

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// An embedded SQLite file (the default deployment).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend a connection URL names, from its scheme.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(StoreError::UnsupportedUrl {
                // Only the part before the first ':' and at most a few characters of it, so a
                // mistyped URL with a password in it does not end up in a log.
                scheme: scheme.chars().take(16).collect(),
            }),
        }
    }
}

/// The database: a connection pool plus the backend it talks to. Cheap to clone (the pool is
/// shared).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects to `url`, brings the schema up to date and writes the built-in role definitions
    /// ([`roles::seed_builtin`]).
    ///
    /// - `sqlite:///absolute/path.db`, `sqlite://relative.db` or `sqlite:relative.db`: the file is
    ///   created if missing (unless the URL sets its own `mode=`), switched to WAL journaling, and
    ///   every connection runs with `foreign_keys=ON`, `secure_delete=ON` and a 5 s busy timeout.
    ///   `sqlite::memory:` works too, but on a single connection that must never be dropped, so a
    ///   caller holding a [`Tx`] cannot also [`acquire`](Self::acquire): use a file in tests.
    /// - `postgres://user@host:port/db`: anything libpq-style sqlx understands, including
    ///   `?options=-c search_path=<schema>` to live in a schema other than `public`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let pool = match backend {
            Backend::Sqlite => connect_sqlite(url).await?,
            Backend::Postgres => AnyPoolOptions::new().connect(url).await?,
        };
        let migrations = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrations.run(&pool).await.map_err(StoreError::Migration)?;
        // The built-in roles come from schild-core, never from SQL: bring them up to date.
        roles::seed_builtin(&mut *pool.acquire().await?, time::OffsetDateTime::now_utc()).await?;
        tracing::debug!(?backend, "store connected, migrated and seeded");
        Ok(Self { pool, backend })
    }

    /// Which engine this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.pool.acquire().await?.ping().await?;
        Ok(())
    }

    /// Starts a transaction. Pass `&mut tx` to any repository function; nothing is visible to
    /// others until [`Tx::commit`], and dropping the `Tx` rolls back.
    ///
    /// On SQLite this is `BEGIN IMMEDIATE`: the write lock is taken up front (waiting up to the
    /// busy timeout), so a transaction that reads and then writes cannot fail half-way with
    /// "database is locked" because another connection wrote in between. Keep transactions short.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let inner = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx { inner })
    }

    /// Checks a connection out of the pool for reads or single writes outside a transaction.
    pub async fn acquire(&self) -> Result<PooledConnection, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    /// The underlying pool, for anything the repositories do not cover (it is an sqlx executor;
    /// repository functions want a connection: use [`acquire`](Self::acquire)).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection; later calls fail. Await this before deleting a SQLite file.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

async fn connect_sqlite(url: &str) -> Result<AnyPool, StoreError> {
    let url = with_create_mode(url);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if !in_memory {
        // WAL is a property of the file, and switching to it needs an exclusive lock that the
        // busy timeout does not wait for, so switch once on a lone connection before the pool
        // opens instead of racing in every pooled connection.
        let mut conn = AnyConnection::connect(&url).await?;
        let row = sqlx::query("PRAGMA journal_mode = WAL")
            .fetch_one(&mut conn)
            .await?;
        let mode: String = row.try_get(0).unwrap_or_default();
        if !mode.eq_ignore_ascii_case("wal") {
            // Still correct, only less concurrent (some network file systems cannot do WAL).
            tracing::warn!(journal_mode = %mode, "SQLite refused WAL journaling");
        }
        conn.close().await?;
    }
    let options = AnyPoolOptions::new().after_connect(|conn, _meta| {
        Box::pin(async move {
            sqlx::raw_sql(SQLITE_CONNECTION_PRAGMAS)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    });
    let options = if in_memory {
        // Each new connection to `:memory:` is a new, empty database: keep exactly one forever.
        options
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        options.acquire_timeout(SQLITE_BUSY_TIMEOUT * 2)
    };
    Ok(options.connect(&url).await?)
}

/// Adds `mode=rwc` (read, write, create) unless the URL chooses a mode itself: sqlx opens an
/// existing file only by default.
fn with_create_mode(url: &str) -> String {
    let has_mode = url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair.starts_with("mode=")));
    if has_mode || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// A database transaction. Dereferences to [`AnyConnection`], so `&mut tx` goes wherever a
/// repository function wants a connection. Dropping it without [`commit`](Self::commit) rolls
/// back.
#[derive(Debug)]
#[must_use = "a Tx dropped without commit() rolls back"]
pub struct Tx {
    inner: sqlx::Transaction<'static, Any>,
}

impl Tx {
    /// Makes every write in the transaction durable and visible.
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.inner.commit().await?)
    }

    /// Discards every write in the transaction (dropping the `Tx` does the same, lazily).
    pub async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.inner.rollback().await?)
    }
}

impl Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_scheme() {
        assert_eq!(
            Backend::from_url("sqlite:///tmp/x.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("sqlite::memory:").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("PostgreSQL://u@h/db").unwrap(),
            Backend::Postgres
        );
        match Backend::from_url("mysql://root:hunter2@db/x") {
            Err(StoreError::UnsupportedUrl { scheme }) => assert_eq!(scheme, "mysql"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn sqlite_urls_get_create_mode_unless_they_choose() {
        assert_eq!(
            with_create_mode("sqlite:///tmp/a.db"),
            "sqlite:///tmp/a.db?mode=rwc"
        );
        assert_eq!(
            with_create_mode("sqlite:///tmp/a.db?cache=private"),
            "sqlite:///tmp/a.db?cache=private&mode=rwc"
        );
        assert_eq!(
            with_create_mode("sqlite:///tmp/a.db?mode=ro"),
            "sqlite:///tmp/a.db?mode=ro"
        );
        assert_eq!(with_create_mode("sqlite::memory:"), "sqlite::memory:");
    }
}
