//! The one error type of the store.

/// What went wrong while reading or writing the database.
///
/// No variant carries a bound value: a username, a hash or a secret never reaches an error
/// message through this type. (sqlx's own `Display` shows the database's message, which for the
/// statements in this crate names the constraint or column, not the values; its `Debug` for
/// PostgreSQL can include the server's `detail` line, so log with `Display`.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An account with this username already exists. The caller chose a taken name; tell them.
    #[error("an account with this username already exists")]
    UsernameTaken,
    /// A role with this name already exists. The caller chose a taken name; tell them.
    #[error("a role with this name already exists")]
    RoleNameTaken,
    /// The role is still assigned to someone and cannot be deleted; unassign it first.
    #[error("the role is still assigned and cannot be deleted")]
    RoleInUse,
    /// A role named in an assignment does not exist. Usually the client's fault (a typo or a
    /// role deleted meanwhile).
    #[error("no such role")]
    UnknownRole,
    /// This WebAuthn credential is already registered (to this or another account). The key
    /// holder presented a key that is enrolled already; the exclude list normally prevents it.
    #[error("this security key credential is already registered")]
    CredentialRegistered,
    /// A vault with this id exists already. The caller chose a taken id.
    #[error("a vault with this id exists already")]
    VaultExists,
    /// The vault holds an item of this name already; choose another name or replace the item.
    #[error("the vault holds an item of this name already")]
    ItemNameTaken,
    /// The vault has an unlock method of this id already.
    #[error("the vault has an unlock method of this id already")]
    UnlockMethodExists,
    /// Another API key already has this public id (a 60-bit random collision): draw a new key
    /// and store that instead.
    #[error("an API key with this id already exists")]
    ApiKeyPrefixTaken,
    /// The account already holds this role.
    #[error("the account already holds this role")]
    AlreadyAssigned,
    /// The row the caller named does not exist (an unknown user id, session or key id). Usually
    /// the client's fault when the id came from a request, a server bug otherwise.
    #[error("no such record")]
    NotFound,
    /// A stored row could not be turned back into its Rust type: a column held NULL, a value of
    /// the wrong type, an unparsable id, address, timestamp or JSON document. The database was
    /// changed behind the server's back, or a migration is missing; an operator must look.
    #[error("a stored {what} value could not be read back (corrupt or foreign data)")]
    Corrupt {
        /// Which table and column, for example `users.roles`.
        what: String,
    },
    /// A value could not be serialised for storage. Only a faulty `Serialize` implementation in
    /// this code base can cause it.
    #[error("a {what} value could not be encoded for storage")]
    Encode {
        /// What was being encoded, for example `audit event`.
        what: &'static str,
    },
    /// The connection URL names neither SQLite (`sqlite:`) nor PostgreSQL (`postgres:` or
    /// `postgresql:`). A configuration mistake by the operator.
    #[error("unsupported database URL scheme {scheme:?}: use sqlite: or postgres:")]
    UnsupportedUrl {
        /// The scheme that was given (never the rest of the URL, which may hold a password).
        scheme: String,
    },
    /// The database refused or failed a statement, or could not be reached.
    //
    // The cause is part of the message rather than a `source()`, so one `Display` in a log line
    // tells the operator everything.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// Applying the schema migrations failed: the database is unreachable, read-only, or its
    /// migration history does not match this build (a migration file was edited after release).
    #[error("database migration failed: {0}")]
    Migration(sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(err)
    }
}

impl StoreError {
    /// A [`StoreError::Corrupt`] for `table.column`.
    pub(crate) fn corrupt(table: &str, column: &str) -> Self {
        Self::Corrupt {
            what: format!("{table}.{column}"),
        }
    }
}

/// Whether `err` is a foreign-key violation (a referenced row is missing, or a referencing row
/// still exists).
pub(crate) fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::ForeignKeyViolation)
}

/// Whether `err` is a unique-constraint violation of the constraint `name`.
///
/// PostgreSQL reports the constraint's name; SQLite reports only `table.column` in the message
/// ("UNIQUE constraint failed: users.username"), so `sqlite_column` is matched against that.
pub(crate) fn is_unique_violation(err: &sqlx::Error, name: &str, sqlite_column: &str) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.kind() == sqlx::error::ErrorKind::UniqueViolation
                && (db.constraint() == Some(name) || db.message().contains(sqlite_column))
        }
        _ => false,
    }
}
