//! Configuration in sections, one per concern or module, each with documented defaults and
//! `with_*` builders: [`Config`] holds [`DatabaseConfig`], [`HttpConfig`], [`AuthConfig`],
//! [`ThrottleConfig`], [`ResourcesConfig`] and [`FlashcardsConfig`].

use std::fmt;

use crate::error::{Error, Result};

mod auth;
mod flashcards;
mod sections;
mod throttle;

pub use auth::{AuthConfig, HashingConfig, PasswordHashParams};
pub use flashcards::FlashcardsConfig;
pub use sections::{CacheConfig, DatabaseConfig, HttpConfig, ResourcesConfig};
pub use throttle::{Rate, ThrottleConfig};

/// A secret that never shows up in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps secret bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// A fresh random secret of `len` bytes from the OS generator.
    ///
    /// # Errors
    /// [`Error::Internal`] when the OS generator fails.
    pub fn generate(len: usize) -> Result<Self> {
        let mut bytes = vec![0u8; len];
        getrandom::fill(&mut bytes).map_err(Error::internal)?;
        Ok(Self(bytes))
    }

    /// The secret bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"[redacted]\")")
    }
}

/// Everything Vault can be told, in sections. Build with [`Config::new`] and adjust sections
/// (`config.auth.access_ttl = …`, or the `with_*` builders).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The database connection.
    pub database: DatabaseConfig,
    /// How the adapters serve HTTP.
    pub http: HttpConfig,
    /// Accounts and sessions.
    pub auth: AuthConfig,
    /// Rate limits.
    pub throttle: ThrottleConfig,
    /// Resources, tags and files.
    pub resources: ResourcesConfig,
    /// Flashcards: scheduling, the daily new-card limit, the time zone of days.
    pub flashcards: FlashcardsConfig,
}

impl Config {
    /// A configuration with every default and the given database URL and JWT secret.
    pub fn new(database_url: impl Into<String>, jwt_secret: Secret) -> Self {
        Self {
            database: DatabaseConfig::new(database_url),
            http: HttpConfig::default(),
            auth: AuthConfig::new(jwt_secret),
            throttle: ThrottleConfig::default(),
            resources: ResourcesConfig::default(),
            flashcards: FlashcardsConfig::default(),
        }
    }

    /// With this database section.
    #[must_use]
    pub fn with_database(mut self, database: DatabaseConfig) -> Self {
        self.database = database;
        self
    }

    /// With this HTTP section.
    #[must_use]
    pub fn with_http(mut self, http: HttpConfig) -> Self {
        self.http = http;
        self
    }

    /// With this auth section.
    #[must_use]
    pub fn with_auth(mut self, auth: AuthConfig) -> Self {
        self.auth = auth;
        self
    }

    /// With these rate limits.
    #[must_use]
    pub fn with_throttle(mut self, throttle: ThrottleConfig) -> Self {
        self.throttle = throttle;
        self
    }

    /// With this resources section.
    #[must_use]
    pub fn with_resources(mut self, resources: ResourcesConfig) -> Self {
        self.resources = resources;
        self
    }

    /// With this flashcards section.
    #[must_use]
    pub fn with_flashcards(mut self, flashcards: FlashcardsConfig) -> Self {
        self.flashcards = flashcards;
        self
    }

    /// The local blob directory in force (see [`ResourcesConfig::blob_dir`]).
    pub fn blob_dir(&self) -> std::path::PathBuf {
        if let Some(dir) = &self.resources.blob_dir {
            return dir.clone();
        }
        let url = &self.database.url;
        let file = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or_default())
            .filter(|path| !path.is_empty() && !path.starts_with(":memory:"));
        match file {
            Some(path) => std::path::PathBuf::from(format!("{path}.files")),
            None => std::path::PathBuf::from("vault-files"),
        }
    }

    /// Checks the configuration for mistakes that would make Vault unsafe or unusable.
    ///
    /// # Errors
    /// [`Error::Config`] describing the first problem found.
    pub fn validate(&self) -> Result<()> {
        let auth = &self.auth;
        if auth.jwt_secret.expose().len() < 32 {
            return Err(Error::Config(
                "auth.jwt_secret must be at least 32 bytes".into(),
            ));
        }
        let p = auth.password_hash;
        let min = PasswordHashParams::OWASP_MINIMUM;
        if p.memory_kib < min.memory_kib || p.iterations < min.iterations || p.parallelism < 1 {
            return Err(Error::Config(
                "auth.password_hash parameters are below OWASP's minimum (m=19456 KiB, t=2, p=1)"
                    .into(),
            ));
        }
        if auth.access_ttl.is_zero() || auth.refresh_ttl.is_zero() {
            return Err(Error::Config("token lifetimes must be positive".into()));
        }
        if auth.jwt_leeway > AuthConfig::MAX_LEEWAY {
            return Err(Error::Config(
                "auth.jwt_leeway must be at most 5 minutes".into(),
            ));
        }
        if auth.hashing.concurrency == 0 || self.database.max_connections == 0 {
            return Err(Error::Config(
                "auth.hashing.concurrency and database.max_connections must be at least 1".into(),
            ));
        }
        if !(0..=19).contains(&auth.hashing.nice) {
            return Err(Error::Config(
                "auth.hashing.nice must be between 0 and 19".into(),
            ));
        }
        for (name, cache) in [
            ("auth.verified_token_cache", auth.verified_token_cache),
            ("auth.token_state_cache", auth.token_state_cache),
            ("resources.cache", self.resources.cache),
        ] {
            if cache.enabled && cache.max_bytes == 0 {
                return Err(Error::Config(format!(
                    "{name}.max_bytes must be positive when the cache is enabled"
                )));
            }
        }
        let prefix = &self.http.api_prefix;
        if !prefix.is_empty() && (!prefix.starts_with('/') || prefix.ends_with('/')) {
            return Err(Error::Config(
                "http.api_prefix must be empty or start with '/' and not end with '/'".into(),
            ));
        }
        if self.http.header_read_timeout.is_zero() || self.http.body_idle_timeout.is_zero() {
            return Err(Error::Config(
                "http.header_read_timeout and http.body_idle_timeout must be positive".into(),
            ));
        }
        if let Some(problem) = self.flashcards.problem() {
            return Err(Error::Config(problem));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn valid() -> Config {
        Config::new("sqlite::memory:", Secret::new(vec![7; 32]))
    }

    #[test]
    fn weak_settings_are_refused() {
        let ok = valid();
        assert!(ok.validate().is_ok());
        let short = Config::new("sqlite::memory:", Secret::new(vec![7; 31]));
        assert!(short.validate().is_err());
        let mut weak = ok.clone();
        weak.auth.password_hash.memory_kib = 4096;
        assert!(weak.validate().is_err());
        // Hashing threads may only be lowered (0–19); raising them would need privileges.
        for (nice, valid) in [(-1, false), (0, true), (10, true), (19, true), (20, false)] {
            let mut config = ok.clone();
            config.auth.hashing.nice = nice;
            assert_eq!(config.validate().is_ok(), valid, "hashing.nice {nice}");
        }
    }

    #[test]
    fn unusable_settings_are_refused() {
        let refused = |adjust: &dyn Fn(&mut Config)| {
            let mut config = valid();
            adjust(&mut config);
            config.validate().is_err()
        };
        assert!(refused(&|c| c.auth.access_ttl = Duration::ZERO));
        assert!(refused(&|c| c.auth.refresh_ttl = Duration::ZERO));
        assert!(refused(&|c| c.auth.hashing.concurrency = 0));
        assert!(refused(&|c| c.database.max_connections = 0));
        assert!(refused(&|c| c.auth.jwt_leeway = Duration::from_secs(301)));
        assert!(!refused(&|c| c.auth.jwt_leeway = AuthConfig::MAX_LEEWAY));
        for prefix in ["api", "/api/", "/"] {
            assert!(refused(&|c| c.http.api_prefix = prefix.into()), "{prefix}");
        }
        for prefix in ["", "/api", "/v1/vault"] {
            assert!(!refused(&|c| c.http.api_prefix = prefix.into()), "{prefix}");
        }
        assert!(refused(&|c| c.flashcards.desired_retention = 0.5));
        assert!(refused(&|c| c.flashcards.maximum_interval_days = 0));
        assert!(refused(&|c| c.http.header_read_timeout = Duration::ZERO));
        assert!(refused(&|c| c.http.body_idle_timeout = Duration::ZERO));
        assert!(!refused(&|c| {
            c.http.header_read_timeout = Duration::from_millis(1);
            c.http.body_idle_timeout = Duration::from_millis(1);
        }));
    }

    /// An enabled cache needs a budget; a disabled one needs none.
    #[test]
    fn cache_budgets_are_checked() {
        let refused = |adjust: &dyn Fn(&mut Config)| {
            let mut config = valid();
            adjust(&mut config);
            config.validate().is_err()
        };
        assert!(refused(&|c| c.auth.verified_token_cache.max_bytes = 0));
        assert!(refused(&|c| c.auth.token_state_cache.max_bytes = 0));
        assert!(refused(&|c| c.resources.cache.max_bytes = 0));
        assert!(!refused(
            &|c| c.auth.verified_token_cache = CacheConfig::off()
        ));
        assert!(!refused(&|c| c.auth.token_state_cache = CacheConfig::off()));
        assert!(!refused(&|c| c.resources.cache = CacheConfig::off()));
    }

    #[test]
    fn defaults_are_documented_ones() {
        let config = valid();
        assert_eq!(config.database.max_connections, 10);
        assert_eq!(config.http.api_prefix, "/api");
        assert_eq!(config.http.max_body_bytes, 1024 * 1024);
        assert!(!config.http.trust_forwarded_for);
        assert_eq!(config.auth.jwt_leeway, Duration::ZERO);
        assert_eq!(config.auth.token_state_ttl, Duration::from_secs(5));
        assert_eq!(config.auth.hashing.nice, 10);
        assert!(!config.auth.hashing.pinned, "pinning is opt-in");
        assert!(config.auth.hashing.concurrency >= 1);
        assert_eq!(
            config.auth.verified_token_cache.budget(),
            Some(AuthConfig::DEFAULT_VERIFIED_TOKEN_CACHE_BYTES)
        );
        assert_eq!(config.throttle, ThrottleConfig::default());
    }

    #[test]
    fn builders_replace_sections_and_fields() {
        let config = valid()
            .with_database(DatabaseConfig::new("postgres://db/vault").with_max_connections(3))
            .with_http(HttpConfig::default().with_api_prefix("/v1"))
            .with_auth(
                AuthConfig::new(Secret::new(vec![1; 40]))
                    .with_access_ttl(Duration::from_secs(60))
                    .with_hashing(HashingConfig::default().with_pinned(true).with_nice(0)),
            )
            .with_throttle(ThrottleConfig::off())
            .with_resources(ResourcesConfig::default().with_cache(CacheConfig::off()));
        assert!(config.validate().is_ok());
        assert_eq!(config.database.url, "postgres://db/vault");
        assert_eq!(config.database.max_connections, 3);
        assert_eq!(config.http.api_prefix, "/v1");
        assert_eq!(config.auth.access_ttl, Duration::from_secs(60));
        assert!(config.auth.hashing.pinned);
        assert_eq!(config.auth.hashing.nice, 0);
        assert_eq!(config.throttle, ThrottleConfig::off());
        assert_eq!(config.resources.cache.budget(), None);
    }

    #[test]
    fn blob_dir_defaults_beside_a_sqlite_file() {
        let at = |url: &str| Config::new(url, Secret::new(vec![7; 32])).blob_dir();
        assert_eq!(
            at("sqlite://data/v.db?mode=rwc"),
            std::path::Path::new("data/v.db.files")
        );
        assert_eq!(at("sqlite::memory:"), std::path::Path::new("vault-files"));
        assert_eq!(at("postgres://h/db"), std::path::Path::new("vault-files"));
        let mut config = valid();
        config.resources.blob_dir = Some("/srv/blobs".into());
        assert_eq!(config.blob_dir(), std::path::Path::new("/srv/blobs"));
    }

    #[test]
    fn secrets_are_redacted() {
        let secret = Secret::new(b"super-secret-value-of-32-bytes!!".to_vec());
        assert!(!format!("{secret:?}").contains("super"));
        let config = Config::new("sqlite::memory:", secret);
        assert!(!format!("{config:?}").contains("super"));
    }
}
