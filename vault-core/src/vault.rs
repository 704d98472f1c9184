//! The facade a host holds: configuration, database, services. Cheap to clone.

use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;

use crate::auth::{AuthService, AuthStore};
use crate::config::Config;
use crate::db::Database;
use crate::error::Result;
use crate::throttle::{MemoryThrottle, Throttle};
use crate::wire;

/// Vault: accounts, sessions and the domain modules over one database.
///
/// ```no_run
/// # async fn run() -> vault_core::Result<()> {
/// use vault_core::{Config, Secret, Vault};
/// let config = Config::new("sqlite://vault.db", Secret::generate(32)?);
/// let vault = Vault::open(config).await?;
/// # let _ = vault; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Vault {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    database: Database,
    auth: AuthService,
    resources: crate::resources::ResourceService,
    flashcards: crate::flashcards::FlashcardService,
    #[cfg(feature = "swagger-ui")]
    docs: crate::docs::DocsUi,
}

/// Builds a [`Vault`] with non-default parts (an existing pool, another throttle backend).
#[derive(Debug)]
pub struct VaultBuilder {
    config: Config,
    database: Option<Database>,
    throttle: Option<Arc<dyn Throttle>>,
    auth_store: Option<Arc<dyn AuthStore>>,
    blobs: Option<Arc<dyn crate::blob::BlobStore>>,
    clock: Option<Arc<dyn crate::time::Clock>>,
    migrate: bool,
}

impl std::fmt::Debug for dyn Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Throttle")
    }
}

impl std::fmt::Debug for dyn crate::blob::BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlobStore")
    }
}

impl std::fmt::Debug for dyn AuthStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthStore")
    }
}

impl VaultBuilder {
    /// Uses an existing database handle (e.g. the host's own sqlx pool:
    /// `Database::Postgres(pool)`) instead of connecting to `config.database.url`.
    pub fn database(mut self, database: Database) -> Self {
        self.database = Some(database);
        self
    }

    /// Uses another rate-limit backend (default: in memory).
    pub fn throttle(mut self, throttle: Arc<dyn Throttle>) -> Self {
        self.throttle = Some(throttle);
        self
    }

    /// Uses another auth store (tests, or a host's own implementation).
    pub fn auth_store(mut self, store: Arc<dyn AuthStore>) -> Self {
        self.auth_store = Some(store);
        self
    }

    /// Uses another blob store for files (e.g. `S3BlobStore`; default: a local directory, see
    /// [`Config::blob_dir`]).
    pub fn blob_store(mut self, blobs: Arc<dyn crate::blob::BlobStore>) -> Self {
        self.blobs = Some(blobs);
        self
    }

    /// Reads the time of the flashcards module (due times, reviews, local days) from `clock`
    /// instead of the system clock: tests and simulations that move time.
    pub fn clock(mut self, clock: Arc<dyn crate::time::Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Whether to run the embedded migrations at start-up (default: yes).
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// Connects (unless given a database), migrates and assembles the services.
    ///
    /// # Errors
    /// [`crate::Error::Config`] for unsafe settings, [`crate::Error::Unavailable`] when the
    /// database cannot be reached, [`crate::Error::Internal`] when a migration fails.
    pub async fn build(self) -> Result<Vault> {
        self.config.validate()?;
        let database = match self.database {
            Some(database) => database,
            None => {
                Database::connect(
                    &self.config.database.url,
                    self.config.database.max_connections,
                )
                .await?
            }
        };
        if self.migrate {
            database.migrate().await?;
        }
        let throttle = self.throttle.unwrap_or_else(|| {
            Arc::new(MemoryThrottle::with_max_entries(
                self.config.throttle.memory_max_entries,
            ))
        });
        let auth_store = self.auth_store.unwrap_or_else(|| database.auth_store());
        let auth = AuthService::new(auth_store, throttle, &self.config)?;
        let blobs = match self.blobs {
            Some(blobs) => blobs,
            None => Arc::new(crate::blob::LocalBlobStore::new(self.config.blob_dir())?),
        };
        // The resource cache's bound covers its two layers: rows in front of the store (three
        // quarters) and serialized pages in the service (a quarter).
        let cache_bytes = self.config.resources.cache.budget();
        let resources = crate::resources::ResourceService::new(
            database.resource_store_with_cache(cache_bytes.map(|bytes| bytes - bytes / 4)),
            blobs,
            self.config.resources.uploads.clone(),
            &self.config.http.api_prefix,
            self.config.http.public_base_url.clone(),
        )
        .with_response_cache(cache_bytes.map(|bytes| bytes / 4));
        let mut flashcards = crate::flashcards::FlashcardService::new(
            database.flashcard_store(),
            &self.config.flashcards,
            &self.config.http.api_prefix,
            self.config.http.public_base_url.clone(),
        )?;
        if let Some(clock) = self.clock {
            flashcards = flashcards.with_clock(clock);
        }
        Ok(Vault {
            inner: Arc::new(Inner {
                #[cfg(feature = "swagger-ui")]
                docs: crate::docs::DocsUi::new(&self.config.http.api_prefix),
                config: self.config,
                database,
                auth,
                resources,
                flashcards,
            }),
        })
    }
}

impl Vault {
    /// Connects to `config.database.url`, runs the migrations and builds every service.
    ///
    /// # Errors
    /// As [`VaultBuilder::build`].
    pub async fn open(config: Config) -> Result<Self> {
        Self::builder(config).build().await
    }

    /// A builder for non-default parts.
    pub fn builder(config: Config) -> VaultBuilder {
        VaultBuilder {
            config,
            database: None,
            throttle: None,
            auth_store: None,
            blobs: None,
            clock: None,
            migrate: true,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The database handle.
    pub fn database(&self) -> &Database {
        &self.inner.database
    }

    /// Accounts and sessions.
    pub fn auth(&self) -> &AuthService {
        &self.inner.auth
    }

    /// Resources and tags (API.md §4).
    pub fn resources(&self) -> &crate::resources::ResourceService {
        &self.inner.resources
    }

    /// Flashcards: decks, cards, reviews, the study queue and stats (API.md §5).
    pub fn flashcards(&self) -> &crate::flashcards::FlashcardService {
        &self.inner.flashcards
    }

    /// DELETE /auth/me: deletes the caller's account and everything they own, including their
    /// files' blobs.
    ///
    /// # Errors
    /// As [`AuthService::delete_account`].
    pub async fn delete_account(
        &self,
        caller: &crate::Principal,
        req: crate::auth::DeleteAccountRequest,
    ) -> Result<()> {
        self.inner.auth.delete_account(caller, req).await?;
        self.inner.resources.collect_garbage().await;
        Ok(())
    }

    /// `GET /docs/{tail}`: the interactive docs page and its assets.
    #[cfg(feature = "swagger-ui")]
    pub fn docs_response(&self, tail: &str) -> http::Response<Bytes> {
        self.inner.docs.response(tail)
    }

    /// `GET /health/live`: always 200.
    pub fn live_response(&self) -> http::Response<Bytes> {
        wire::json(StatusCode::OK, &serde_json::json!({"status": "ok"}))
    }

    /// `GET /health/ready`: 200 when the database answers, else 503.
    pub async fn ready_response(&self) -> http::Response<Bytes> {
        match self.inner.database.ping().await {
            Ok(()) => wire::json(StatusCode::OK, &serde_json::json!({"status": "ok"})),
            Err(error) => error.to_response(),
        }
    }
}
