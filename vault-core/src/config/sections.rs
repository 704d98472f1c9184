//! The sections every module shares: database, HTTP, caches, and the resources module's own.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A cache's switch and its byte budget.
///
/// The budget counts the bytes each entry holds (keys, values and a fixed overhead per entry),
/// so what a cache may grow to does not depend on how large the cached values happen to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// Whether the cache is used at all. Off, every read goes to the store.
    pub enabled: bool,
    /// The most bytes the cache holds; least used entries go first. Must be positive when
    /// enabled.
    pub max_bytes: u64,
}

impl CacheConfig {
    /// A cache holding at most `max_bytes`.
    pub const fn bounded(max_bytes: u64) -> Self {
        Self {
            enabled: true,
            max_bytes,
        }
    }

    /// No cache.
    pub const fn off() -> Self {
        Self {
            enabled: false,
            max_bytes: 0,
        }
    }

    /// The byte budget when the cache is on, `None` when it is off.
    pub fn budget(&self) -> Option<u64> {
        self.enabled.then_some(self.max_bytes)
    }

    /// With this byte budget (and switched on).
    #[must_use]
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.enabled = true;
        self.max_bytes = max_bytes;
        self
    }

    /// Switched on or off, keeping the budget.
    #[must_use]
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }
}

/// The database connection.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DatabaseConfig {
    /// `sqlite://path/to/file.db` (created if missing) or `postgres://…`. Default
    /// `sqlite://vault.db`.
    pub url: String,
    /// Maximum pooled database connections (≥ 1). Default 10.
    pub max_connections: u32,
}

impl DatabaseConfig {
    /// The default SQLite database of a host that names none.
    pub const DEFAULT_URL: &'static str = "sqlite://vault.db";

    /// The database at `url`, with the default pool size.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
        }
    }

    /// With this database URL.
    #[must_use]
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// With at most this many pooled connections.
    #[must_use]
    pub fn with_max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = max_connections;
        self
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self::new(Self::DEFAULT_URL)
    }
}

/// The URL with its password (and libpq's `password` parameters) replaced, for logs.
fn redacted_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "[unparsable URL]".into();
    };
    if parsed.password().is_some() && parsed.set_password(Some("[redacted]")).is_err() {
        return "[unparsable URL]".into();
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(name, value)| {
                let secret = name.eq_ignore_ascii_case("password")
                    || name.eq_ignore_ascii_case("sslpassword");
                let value = if secret {
                    "[redacted]".to_string()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.into()
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redacted_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// How the adapters serve HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Where the adapters mount the API, used in the OpenAPI document. Empty, or starting and
    /// not ending with `/`. Default `/api`.
    pub api_prefix: String,
    /// Public base URL (e.g. `https://vault.example.com`) used to make pagination links
    /// absolute. Default none: path-absolute links.
    pub public_base_url: Option<String>,
    /// Largest JSON body accepted, in bytes. Default 1 MiB.
    pub max_body_bytes: u64,
    /// Take the client IP from the last `X-Forwarded-For` entry, the one the proxy appended
    /// (`ip`, `ip:port`, `[v6]` or `[v6]:port`; see [`crate::client_ip`]). Set it only behind a
    /// proxy that appends it. Default false: the socket's peer address.
    pub trust_forwarded_for: bool,
    /// How long a client may take to send a request's head (request line and headers), counted
    /// from the moment the server starts waiting for it: a new connection, or the end of the
    /// previous response on a kept-alive one (so it also bounds how long an idle connection is
    /// kept). Past it the connection is closed without an answer. Applied by the server loop
    /// of the `server` feature (`vault_core::server`, `vault_axum::run`, `vault_poem::run`);
    /// a host serving otherwise sets its own. Default 10 s; must be positive.
    pub header_read_timeout: Duration,
    /// The longest wait for the next bytes of a request body that is being read; each chunk
    /// that arrives starts the wait again, so a slow but steady upload is never cut. Past it
    /// the request is answered 408 (`parse_error`) and its connection closed. Applied by the
    /// same server loop. Default 30 s; must be positive.
    pub body_idle_timeout: Duration,
    /// How long a graceful shutdown waits for the requests in flight once new connections
    /// are refused; connections still open then are dropped. Applied by the same server loop
    /// (`vault_core::server::Server::new` takes it). Default 30 s; zero drops them at once.
    pub shutdown_grace: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            api_prefix: "/api".into(),
            public_base_url: None,
            max_body_bytes: 1024 * 1024,
            trust_forwarded_for: false,
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            body_idle_timeout: Self::DEFAULT_BODY_IDLE_TIMEOUT,
            shutdown_grace: Self::DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

impl HttpConfig {
    /// The default [`Self::header_read_timeout`].
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default [`Self::body_idle_timeout`].
    pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default [`Self::shutdown_grace`].
    pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

    /// With the API mounted under this prefix.
    #[must_use]
    pub fn with_api_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.api_prefix = prefix.into();
        self
    }

    /// With pagination links made absolute against this base URL (`None`: path-absolute).
    #[must_use]
    pub fn with_public_base_url(mut self, url: Option<String>) -> Self {
        self.public_base_url = url;
        self
    }

    /// With JSON bodies limited to this many bytes.
    #[must_use]
    pub fn with_max_body_bytes(mut self, max: u64) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Whether client IPs come from `X-Forwarded-For` (only behind a proxy that sets it).
    #[must_use]
    pub fn with_trust_forwarded_for(mut self, trust: bool) -> Self {
        self.trust_forwarded_for = trust;
        self
    }

    /// With this much time for a request's head (see [`Self::header_read_timeout`]).
    #[must_use]
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// With this longest wait between a request body's bytes (see
    /// [`Self::body_idle_timeout`]).
    #[must_use]
    pub fn with_body_idle_timeout(mut self, timeout: Duration) -> Self {
        self.body_idle_timeout = timeout;
        self
    }

    /// With this long for the requests in flight at shutdown (see [`Self::shutdown_grace`]).
    #[must_use]
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

/// The resources module: uploads, where file bytes live, and its read cache.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResourcesConfig {
    /// File uploads: size limit (default 25 MiB) and allowed types (default PDF, PNG, JPEG,
    /// WebP, GIF, plain text, Markdown, EPUB).
    pub uploads: crate::blob::UploadLimits,
    /// Directory of the local blob store. Default: beside a SQLite database
    /// (`vault.db` → `vault.db.files/`), else `./vault-files` (see [`super::Config::blob_dir`]).
    pub blob_dir: Option<PathBuf>,
    /// The cache of resource reads. Default on, 64 MiB.
    pub cache: CacheConfig,
}

impl ResourcesConfig {
    /// The default byte budget of the resources cache.
    pub const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

    /// With these upload limits.
    #[must_use]
    pub fn with_uploads(mut self, uploads: crate::blob::UploadLimits) -> Self {
        self.uploads = uploads;
        self
    }

    /// With the local blob store in this directory (`None`: the default place).
    #[must_use]
    pub fn with_blob_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.blob_dir = dir;
        self
    }

    /// With this cache setting.
    #[must_use]
    pub fn with_cache(mut self, cache: CacheConfig) -> Self {
        self.cache = cache;
        self
    }
}

impl Default for ResourcesConfig {
    fn default() -> Self {
        Self {
            uploads: crate::blob::UploadLimits::default(),
            blob_dir: None,
            cache: CacheConfig::bounded(Self::DEFAULT_CACHE_BYTES),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_stay_out_of_debug_output() {
        for url in [
            "postgres://vault:hunter2-secret@db.example.com/vault",
            "postgres://vault@db.example.com/vault?sslmode=require&password=hunter2-secret",
            "postgres://db.example.com/vault?PassWord=hunter2-secret",
            "not a url hunter2-secret",
        ] {
            let shown = format!("{:?}", DatabaseConfig::new(url));
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        let shown = format!(
            "{:?}",
            DatabaseConfig::new("postgres://vault@db/vault?sslmode=require")
        );
        assert!(
            shown.contains("postgres://vault@db/vault?sslmode=require"),
            "{shown}"
        );
        assert!(format!("{:?}", DatabaseConfig::default()).contains("sqlite://vault.db"));
    }

    #[test]
    fn cache_budgets() {
        assert_eq!(CacheConfig::bounded(10).budget(), Some(10));
        assert_eq!(CacheConfig::off().budget(), None);
        assert_eq!(CacheConfig::off().with_max_bytes(5).budget(), Some(5));
        assert_eq!(CacheConfig::bounded(5).with_enabled(false).budget(), None);
        assert_eq!(
            ResourcesConfig::default().cache.budget(),
            Some(ResourcesConfig::DEFAULT_CACHE_BYTES)
        );
    }
}
