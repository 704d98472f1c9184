//! Storage: one [`Database`] handle over SQLite or PostgreSQL, and one SQL store type per
//! module over it: [`SqlAuthStore`], [`SqlResourceStore`] and [`SqlFlashcardStore`].
//!
//! Each store method is a plain function. Where the two dialects agree (most of the time: both
//! take `$1` placeholders, `RETURNING`, `lower()` and `TRUE`), a statement is written once and
//! run on whichever pool the database holds (`on_pool!`, `on_tx!`: a `match` over the two
//! backends with the same body in each arm); where they differ, the function says so with a
//! `match` on `Dialect`, and the shared store test suites prove both behave the same.

mod auth;
mod flashcards;
mod resources;
pub(crate) mod search;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};
use sqlx::{Postgres, Sqlite, Transaction};

pub use auth::SqlAuthStore;
pub use flashcards::SqlFlashcardStore;
pub use resources::SqlResourceStore;

use crate::auth::AuthStore;
use crate::error::{Error, Result};
use crate::flashcards::FlashcardStore;
use crate::resources::{CachingResourceStore, ResourceStore};

/// How long a SQLite request waits for a pooled connection before answering 503. Writers hold
/// their connection while they queue for the file's one write lock (up to the busy timeout),
/// so under write load waits of a second or more are routine.
const SQLITE_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a PostgreSQL request waits for a pooled connection before answering 503. A pooled
/// connection is busy for milliseconds; a wait this long means the server is overloaded or
/// gone — and while it is gone, sqlx retries the refused connection until this deadline, so
/// it is how long every request then takes. Clients are better told at once (a stopped
/// database is answered within a second: `benches/faults/outage.sh`).
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(750);

/// How long [`Database::connect`] waits for PostgreSQL to accept a first connection: one
/// started beside the server may still be starting.
const POSTGRES_STARTUP_WAIT: Duration = Duration::from_secs(5);

/// A pooled connection idle at least this long is pinged before it is handed out; one used
/// more recently is trusted (see `pool_options`).
pub const PING_IF_IDLE: Duration = Duration::from_secs(1);

/// Pool options shared by both databases. sqlx pings every connection before handing it out
/// by default: a whole extra round trip per statement (a list page on PostgreSQL spent as much
/// of the server's CPU on the ping as on decoding its rows). As HikariCP does, only a
/// connection that sat idle for [`PING_IF_IDLE`] or longer is pinged; a dead one is then
/// closed and another taken. A connection that dies within a second of its last use fails the
/// one statement that finds out, and is replaced.
fn pool_options<DB: sqlx::Database>(
    max_connections: u32,
    acquire_timeout: Duration,
) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
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

/// Runs `$body` with `$pool` bound to the pool of `$database` (a [`Database`]), whichever
/// backend it is: the body is written once and compiled for each, so its SQL must mean the same
/// in both dialects.
macro_rules! on_pool {
    ($database:expr, $pool:ident => $body:expr) => {
        match $database {
            $crate::db::Database::Sqlite($pool) => $body,
            $crate::db::Database::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// [`on_pool!`] for a write transaction ([`Tx`]): `$conn` is the transaction of either backend
/// (use `&mut **$conn` as the executor).
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite($conn) => $body,
            $crate::db::Tx::Postgres($conn) => $body,
        }
    };
}
pub(crate) use on_tx;

/// The SQL dialect of a [`Database`], for the statements the two backends spell differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A transaction that will write, on either backend (see [`Database::begin_write`]).
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    /// Commits.
    pub(crate) async fn commit(self) -> sqlx::Result<()> {
        match self {
            Self::Sqlite(tx) => tx.commit().await,
            Self::Postgres(tx) => tx.commit().await,
        }
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
            if let Some(path) = sqlite_file(url, &options) {
                create_private_file(path)?;
            }
            let pool = pool_options::<Sqlite>(max_connections, SQLITE_ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(|e| Error::Unavailable(e.to_string()))?;
            Ok(Self::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| Error::Config(format!("database URL: {e}")))?;
            let pool = pool_options::<Postgres>(max_connections, POSTGRES_ACQUIRE_TIMEOUT)
                .connect_lazy_with(options);
            // The short acquire timeout is for requests; starting up, wait longer.
            let deadline = std::time::Instant::now() + POSTGRES_STARTUP_WAIT;
            loop {
                match pool.acquire().await {
                    Ok(_) => break,
                    Err(sqlx::Error::PoolTimedOut) if std::time::Instant::now() < deadline => {}
                    Err(e) => return Err(Error::Unavailable(e.to_string())),
                }
            }
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

    /// The auth store over this database ([`SqlAuthStore`]).
    pub fn auth_store(&self) -> Arc<dyn AuthStore> {
        Arc::new(SqlAuthStore::new(self.clone()))
    }

    /// The flashcards store over this database ([`SqlFlashcardStore`]).
    pub fn flashcard_store(&self) -> Arc<dyn FlashcardStore> {
        Arc::new(SqlFlashcardStore::new(self.clone()))
    }

    /// The resources store over this database: [`SqlResourceStore`] behind a
    /// [`CachingResourceStore`] of [`CachingResourceStore::DEFAULT_BYTES`].
    pub fn resource_store(&self) -> Arc<dyn ResourceStore> {
        self.resource_store_with_cache(Some(CachingResourceStore::DEFAULT_BYTES))
    }

    /// The resources store over this database: [`SqlResourceStore`], behind a
    /// [`CachingResourceStore`] holding at most `cache_bytes` when given (`None` or 0: no cache
    /// layer, every listing is read from the database).
    pub fn resource_store_with_cache(&self, cache_bytes: Option<u64>) -> Arc<dyn ResourceStore> {
        let store = Arc::new(SqlResourceStore::new(self.clone()));
        match cache_bytes {
            Some(bytes) if bytes > 0 => Arc::new(CachingResourceStore::new(store, bytes)),
            _ => store,
        }
    }

    /// Begins a transaction that will write. SQLite's default `BEGIN` is deferred: two such
    /// transactions that both read and then write deadlock on the upgrade and one fails at
    /// once with "database is locked", without waiting for the busy timeout. `BEGIN IMMEDIATE`
    /// takes the write lock up front, so concurrent writers queue behind each other instead.
    /// On PostgreSQL the statements take their row locks.
    pub(crate) async fn begin_write(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            Self::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// The SQL dialect of this database.
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
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

/// The file of a SQLite URL that may create one: `None` for in-memory and read-only databases.
fn sqlite_file<'o>(url: &str, options: &'o SqliteConnectOptions) -> Option<&'o std::path::Path> {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let mode = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "mode")
        .last()
        .map(|(_, value)| value.into_owned());
    if matches!(mode.as_deref(), Some("memory" | "ro")) {
        return None;
    }
    let path = options.get_filename();
    // `:memory:` (and sqlx's own name for it), `file:` URIs: SQLite's names, not paths.
    let name = path.to_string_lossy();
    if name.is_empty() || name.starts_with(':') || name.starts_with("file:") {
        return None;
    }
    Some(path)
}

/// Creates the database file at `path` if it does not exist, readable and writable by its
/// owner only (0600), so the accounts, password hashes and sessions in it are not left
/// world-readable as SQLite's own default (0644, less the umask) would leave them. SQLite
/// gives its `-wal` and `-shm` files the mode of the database file, so they are 0600 too. An
/// existing file is left as it is, with a warning when group or others may read it.
///
/// # Errors
/// [`Error::Config`] when the file cannot be created (a missing directory, no permission).
fn create_private_file(path: &std::path::Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            #[cfg(unix)]
            if let Ok(meta) = std::fs::metadata(path) {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        path = %path.display(),
                        mode = format_args!("{mode:04o}"),
                        "the SQLite database (accounts, password hashes, sessions) may be read \
                         by group or others; restrict it with chmod 600 (and its -wal and -shm \
                         files)"
                    );
                }
            }
            Ok(())
        }
        Err(e) => Err(Error::Config(format!(
            "cannot create the SQLite database {}: {e}",
            path.display()
        ))),
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

/// The `detail` of a request refused because the account it acts for no longer exists (the
/// same words as an access token whose user is gone).
pub(crate) const OWNER_GONE: &str = "User not found.";

/// Maps a foreign-key violation to [`Error::InvalidAccessToken`] ([`OWNER_GONE`]), anything
/// else through the usual mapping. Provisional: the store passes the result through
/// [`owner_settled`], which keeps the 401 only when the owner's row is really gone.
pub(crate) fn map_foreign_key(error: sqlx::Error) -> Error {
    if error
        .as_database_error()
        .is_some_and(|db| db.is_foreign_key_violation())
    {
        Error::InvalidAccessToken(OWNER_GONE)
    } else {
        Error::from(error)
    }
}

/// An answer of a store that found nothing to act on (`None`, `false`).
pub(crate) trait Miss {
    /// Whether nothing was found.
    fn is_miss(&self) -> bool;
}

impl<T> Miss for Option<T> {
    fn is_miss(&self) -> bool {
        self.is_none()
    }
}

impl Miss for bool {
    fn is_miss(&self) -> bool {
        !*self
    }
}

impl Miss for crate::resources::ResourceRecord {
    fn is_miss(&self) -> bool {
        false
    }
}

impl Miss for crate::resources::Tag {
    fn is_miss(&self) -> bool {
        false
    }
}

/// The result of a store call acting for `owner`, settled against the owner's account, for
/// the seconds in which another instance has deleted it while this one still trusts its
/// access token (see `AuthConfig::token_state_ttl`):
///
/// - a foreign-key violation (see [`map_foreign_key`]) is 401 `token_not_valid` when `owner`
///   has no `users` row any more, and a server fault otherwise (some other reference broke);
/// - a miss (nothing of `owner`'s with that id) is 401 when `owner` is gone, and stays a miss
///   (404) otherwise.
///
/// Neither backend names the violated constraint in a way the other shares (SQLite names
/// none), so the owner's row is looked up instead, after the failed statement, and only on
/// these paths: a successful write costs nothing more.
///
/// # Errors
/// As `result`, with the cases above; a failure of the lookup itself.
pub(crate) async fn owner_settled<T: Miss>(
    db: &Database,
    owner: uuid::Uuid,
    result: Result<T>,
) -> Result<T> {
    let provisional = matches!(&result, Err(Error::InvalidAccessToken(why)) if *why == OWNER_GONE);
    let miss = matches!(&result, Ok(value) if value.is_miss());
    if !provisional && !miss {
        return result;
    }
    let found: Option<(i32,)> = on_pool!(db, pool => {
        sqlx::query_as("SELECT 1 FROM users WHERE id = $1")
            .bind(owner)
            .fetch_optional(pool)
            .await
    })?;
    match (found, result) {
        (None, _) => Err(Error::InvalidAccessToken(OWNER_GONE)),
        (Some(_), Err(_)) => Err(Error::Internal(format!(
            "foreign-key violation acting for existing owner {owner}"
        ))),
        (Some(_), ok) => ok,
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// A new database, its write-ahead log and shared-memory index are the owner's alone,
    /// whatever the umask lets SQLite do by default.
    #[tokio::test]
    async fn a_new_sqlite_database_and_its_wal_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fresh.db");
        let database = Database::connect(&format!("sqlite://{}", path.display()), 2)
            .await
            .unwrap();
        database.migrate().await.unwrap();
        let Database::Sqlite(pool) = &database else {
            unreachable!()
        };
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(pool)
            .await
            .unwrap();
        let wal = dir.path().join("fresh.db-wal");
        let shm = dir.path().join("fresh.db-shm");
        assert!(wal.exists() && shm.exists(), "WAL mode writes both");
        for file in [&path, &wal, &shm] {
            assert_eq!(mode(file), 0o600, "{}", file.display());
        }
        database.close().await;
    }

    /// An existing database keeps its mode (a warning says when it is too open); URLs that
    /// name no file create none.
    #[tokio::test]
    async fn existing_and_in_memory_databases_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let database = Database::connect(&format!("sqlite://{}", path.display()), 1)
            .await
            .unwrap();
        database.close().await;
        assert_eq!(mode(&path), 0o640);

        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://mem.db?mode=memory",
        ] {
            let options = SqliteConnectOptions::from_str(url).unwrap();
            assert_eq!(sqlite_file(url, &options), None, "{url}");
        }
        let url = "sqlite://data/vault.db?mode=rwc";
        let options = SqliteConnectOptions::from_str(url).unwrap();
        assert_eq!(
            sqlite_file(url, &options),
            Some(std::path::Path::new("data/vault.db"))
        );
        let missing = dir.path().join("no-such-dir").join("vault.db");
        assert!(matches!(
            Database::connect(&format!("sqlite://{}", missing.display()), 1).await,
            Err(Error::Config(_))
        ));
    }
}
