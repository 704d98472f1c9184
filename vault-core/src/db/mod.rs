//! Storage: one [`Database`] handle over SQLite or PostgreSQL, and the sqlx implementations of
//! every store trait.
//!
//! Where the two dialects agree (most of the time: both take `$1` placeholders, `RETURNING`,
//! `lower()` and `TRUE`), a store is written once as a macro body and instantiated for
//! [`SqlStore<Sqlite>`] and [`SqlStore<Postgres>`]; where they differ, the SQL differs and the
//! shared store test suite proves both behave the same.

mod auth;
mod page_marks;
mod resources;
mod search;
mod search_cache;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};
use sqlx::{Pool, Postgres, Sqlite, Transaction};

use crate::auth::AuthStore;
use crate::error::{Error, Result};

/// How long to wait for a pooled connection before answering 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A pooled connection idle at least this long is pinged before it is handed out; one used
/// more recently is trusted (see `pool_options`).
pub const PING_IF_IDLE: Duration = Duration::from_secs(1);

/// Pool options shared by both databases. sqlx pings every connection before handing it out
/// by default: a whole extra round trip per statement (a list page on PostgreSQL spent as much
/// of the server's CPU on the ping as on decoding its rows). As HikariCP does, only a
/// connection that sat idle for [`PING_IF_IDLE`] or longer is pinged; a dead one is then
/// closed and another taken. A connection that dies within a second of its last use fails the
/// one statement that finds out, and is replaced.
fn pool_options<DB: sqlx::Database>(max_connections: u32) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
}

/// A connection pool to one of the supported databases.
#[derive(Debug, Clone)]
pub enum Database {
    /// An embedded SQLite file (WAL, foreign keys on, 5 s busy timeout).
    Sqlite(SqlitePool),
    /// A PostgreSQL server.
    Postgres(PgPool),
}

/// A store implementation over a pool of database `DB`.
///
/// Clones share the pool, the remembered search results, deep-page marks and pages (see
/// `list_resources`); separate
/// stores over one database (or several processes) stay correct, each checking what it
/// remembers against the database.
#[derive(Debug, Clone)]
pub struct SqlStore<DB: sqlx::Database> {
    pool: Pool<DB>,
    searches: search_cache::SearchCache,
    marks: page_marks::PageMarks,
    pages: page_marks::RememberedPages,
}

impl<DB: sqlx::Database> SqlStore<DB> {
    /// A store over this pool.
    pub fn new(pool: Pool<DB>) -> Self {
        Self {
            pool,
            searches: search_cache::SearchCache::default(),
            marks: page_marks::PageMarks::default(),
            pages: page_marks::RememberedPages::default(),
        }
    }
}

impl SqlStore<Sqlite> {
    /// Begins a transaction that will write. SQLite's default `BEGIN` is deferred: two such
    /// transactions that both read and then write deadlock on the upgrade and one fails at
    /// once with "database is locked", without waiting for the busy timeout. `BEGIN IMMEDIATE`
    /// takes the write lock up front, so concurrent writers queue behind each other instead.
    async fn write_tx(&self) -> sqlx::Result<Transaction<'static, Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}

impl SqlStore<Postgres> {
    /// Begins a transaction that will write (row locks are taken by the statements).
    async fn write_tx(&self) -> sqlx::Result<Transaction<'static, Postgres>> {
        self.pool.begin().await
    }
}

impl Database {
    /// Connects to `url`: `sqlite://path` (file created if missing), `sqlite::memory:`, or
    /// `postgres://…` / `postgresql://…`.
    ///
    /// # Errors
    /// [`Error::Config`] for an unsupported or malformed URL, [`Error::Unavailable`] when the
    /// database cannot be reached.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| Error::Config(format!("database URL: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .pragma("mmap_size", "268435456");
            let pool = pool_options::<Sqlite>(max_connections)
                .connect_with(options)
                .await
                .map_err(|e| Error::Unavailable(e.to_string()))?;
            Ok(Self::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| Error::Config(format!("database URL: {e}")))?;
            let pool = pool_options::<Postgres>(max_connections)
                .connect_with(options)
                .await
                .map_err(|e| Error::Unavailable(e.to_string()))?;
            Ok(Self::Postgres(pool))
        } else {
            Err(Error::Config(format!(
                "unsupported database URL {:?}: use sqlite://… or postgres://…",
                url.split(':').next().unwrap_or_default()
            )))
        }
    }

    /// Applies the embedded migrations of this backend (idempotent).
    ///
    /// # Errors
    /// When a migration fails.
    pub async fn migrate(&self) -> Result<()> {
        let result = match self {
            Self::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await,
            Self::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await,
        };
        result.map_err(|e| Error::Internal(format!("migration failed: {e}")))
    }

    /// Checks that the database answers.
    ///
    /// # Errors
    /// [`Error::Unavailable`] when it does not.
    pub async fn ping(&self) -> Result<()> {
        let result = match self {
            Self::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            Self::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
        };
        result.map_err(|e| Error::Unavailable(e.to_string()))
    }

    /// The auth store over this database.
    pub fn auth_store(&self) -> Arc<dyn AuthStore> {
        match self {
            Self::Sqlite(pool) => Arc::new(SqlStore::<Sqlite>::new(pool.clone())),
            Self::Postgres(pool) => Arc::new(SqlStore::<Postgres>::new(pool.clone())),
        }
    }

    /// The resources store over this database.
    pub fn resource_store(&self) -> Arc<dyn crate::resources::ResourceStore> {
        match self {
            Self::Sqlite(pool) => Arc::new(SqlStore::<Sqlite>::new(pool.clone())),
            Self::Postgres(pool) => Arc::new(SqlStore::<Postgres>::new(pool.clone())),
        }
    }

    /// Closes every pooled connection.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Maps a unique violation to a [`Error::Conflict`] on the field whose constraint (index) name
/// appears in the error; anything else goes through the usual mapping.
pub(crate) fn map_unique(error: sqlx::Error, constraints: &[(&str, &str, &str)]) -> Error {
    if let Some(db) = error.as_database_error() {
        if db.is_unique_violation() {
            // PostgreSQL names the constraint; SQLite names the index in its message.
            let name = db
                .constraint()
                .map_or_else(|| db.message().to_string(), str::to_string);
            for (constraint, field, message) in constraints {
                if name.contains(constraint) {
                    return Error::conflict(*field, *message);
                }
            }
        }
    }
    Error::from(error)
}
