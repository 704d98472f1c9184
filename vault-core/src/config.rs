//! Configuration: one struct, documented defaults.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, Result};

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

/// A rate limit: `count` requests per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per period (also the burst size).
    pub count: u32,
    /// The period.
    pub period: Duration,
}

impl Rate {
    /// `count` requests per minute.
    pub const fn per_minute(count: u32) -> Self {
        Self {
            count,
            period: Duration::from_secs(60),
        }
    }

    /// Parses `N/s`, `N/min`, `N/h`, `N/day`, or `off` (→ `None`).
    ///
    /// # Errors
    /// [`Error::Config`] on anything else.
    pub fn parse_limit(text: &str) -> Result<Option<Self>> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        text.parse().map(Some)
    }
}

impl FromStr for Rate {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let bad = || {
            Error::Config(format!(
                "invalid rate {text:?}: expected N/s, N/min, N/h, N/day or off"
            ))
        };
        let (count, unit) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let seconds = match unit.trim() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            "d" | "day" => 86_400,
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(bad());
        }
        Ok(Self {
            count,
            period: Duration::from_secs(seconds),
        })
    }
}

/// Rate limits of API.md §9. `None` turns a limit off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Register, token and refresh requests per client IP. Default 10/min.
    pub auth_ip: Option<Rate>,
    /// Failed logins per username tried. Default 10/min.
    pub auth_user: Option<Rate>,
    /// Other API requests per anonymous client IP. Default 100/min.
    pub anon: Option<Rate>,
    /// Other API requests per authenticated user. Default 1000/min.
    pub user: Option<Rate>,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            auth_ip: Some(Rate::per_minute(10)),
            auth_user: Some(Rate::per_minute(10)),
            anon: Some(Rate::per_minute(100)),
            user: Some(Rate::per_minute(1000)),
        }
    }
}

impl ThrottleConfig {
    /// Every limit off (for load tests and trusted internal deployments).
    pub fn off() -> Self {
        Self {
            auth_ip: None,
            auth_user: None,
            anon: None,
            user: None,
        }
    }
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHashParams {
    /// Memory in KiB. Default 19456 (19 MiB, OWASP's minimum for argon2id).
    pub memory_kib: u32,
    /// Passes. Default 2.
    pub iterations: u32,
    /// Lanes. Default 1.
    pub parallelism: u32,
}

impl PasswordHashParams {
    /// OWASP's minimum for argon2id: m=19 MiB, t=2, p=1. Vault refuses anything weaker.
    pub const OWASP_MINIMUM: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };
}

impl Default for PasswordHashParams {
    fn default() -> Self {
        Self::OWASP_MINIMUM
    }
}

/// Everything Vault can be told. Build with [`Config::new`] and adjust fields.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://path/to/file.db` (created if missing) or `postgres://…`. Default `sqlite://vault.db`.
    pub database_url: String,
    /// Maximum pooled database connections. Default 10.
    pub max_connections: u32,
    /// HS256 signing secret for access tokens, at least 32 bytes. No default.
    pub jwt_secret: Secret,
    /// `iss` claim issued and required. Default `"vault"`.
    pub jwt_issuer: String,
    /// `aud` claim issued and required. Default `"vault"`.
    pub jwt_audience: String,
    /// Clock skew tolerated on `exp`. Default 0 (only the servers that issue tokens verify them).
    pub jwt_leeway: Duration,
    /// Access-token lifetime. Default 30 minutes.
    pub access_ttl: Duration,
    /// Refresh-token (session) lifetime. Default 7 days.
    pub refresh_ttl: Duration,
    /// How long each instance caches a user's state (token version, active flag, role and the
    /// profile `GET /auth/me` returns): the upper bound on how long an access token lives on
    /// after logout-all, a password change, deactivation or deletion, and on how stale `me` can
    /// be after a change made through another instance. The instance that made a change sees it
    /// at once. Zero disables the cache (one database read per authenticated request). Default 5 s.
    pub token_state_ttl: Duration,
    /// argon2id parameters; never below [`PasswordHashParams::OWASP_MINIMUM`].
    pub password_hash: PasswordHashParams,
    /// Password hashes computed at once, each on one of this many dedicated hashing threads.
    /// Default: half the CPUs, at least 1, so a login flood cannot take every core from other
    /// requests.
    pub hash_concurrency: usize,
    /// How far below the server's own scheduling priority the hashing threads run, as a Linux
    /// `nice` increment (0–19; elsewhere ignored). A login flood then only gets the CPU time
    /// other requests leave over, instead of delaying them by whole scheduler slices. 0 keeps
    /// the server's priority. Default 10.
    pub hash_nice: i32,
    /// Whether hashing threads are kept on the last `hash_concurrency` of the CPUs the server
    /// may use (Linux, and only when that leaves some CPU without them). Left free to move, a
    /// busy hashing thread keeps landing on the CPU that serves requests just then; pinned,
    /// the scheduler moves request threads off its CPU instead. Default `true`.
    pub hash_pinned: bool,
    /// Largest JSON body accepted, in bytes. Default 1 MiB.
    pub max_body_bytes: u64,
    /// Rate limits.
    pub throttle: ThrottleConfig,
    /// Take the client IP from the last `X-Forwarded-For` entry (set only behind a proxy that
    /// appends it). Default false: the socket's peer address.
    pub trust_forwarded_for: bool,
    /// Public base URL (e.g. `https://vault.example.com`) used to make pagination links absolute.
    /// Default none: path-absolute links.
    pub public_base_url: Option<String>,
    /// Where the adapters mount the API, used in the OpenAPI document. Default `/api`.
    pub api_prefix: String,
    /// File uploads: size limit (default 25 MiB) and allowed types (default PDF, PNG, JPEG,
    /// WebP, GIF, plain text, Markdown, EPUB).
    pub uploads: crate::blob::UploadLimits,
    /// Directory of the local blob store. Default: beside a SQLite database
    /// (`vault.db` → `vault.db.files/`), else `./vault-files`.
    pub blob_dir: Option<std::path::PathBuf>,
    /// Whether the resources module remembers listings between requests (pages, deep-page
    /// marks, search rankings in [`crate::resources::CachingResourceStore`], and pages'
    /// serialized results in the service). Everything it remembers is checked against the
    /// owner's data version in the database before use, so several instances stay correct.
    /// Default `true`.
    pub resource_cache: bool,
    /// The most it may remember, in bytes, weighed by the real sizes of what it holds: three
    /// quarters for rows, a quarter for serialized pages. Default 64 MiB.
    pub resource_cache_bytes: u64,
}

impl Config {
    /// A configuration with every default and the given database URL and JWT secret.
    pub fn new(database_url: impl Into<String>, jwt_secret: Secret) -> Self {
        Self {
            database_url: database_url.into(),
            max_connections: 10,
            jwt_secret,
            jwt_issuer: "vault".into(),
            jwt_audience: "vault".into(),
            jwt_leeway: Duration::ZERO,
            access_ttl: Duration::from_secs(30 * 60),
            refresh_ttl: Duration::from_secs(7 * 24 * 3600),
            token_state_ttl: Duration::from_secs(5),
            password_hash: PasswordHashParams::default(),
            hash_concurrency: default_hash_concurrency(),
            hash_nice: 10,
            hash_pinned: true,
            max_body_bytes: 1024 * 1024,
            throttle: ThrottleConfig::default(),
            trust_forwarded_for: false,
            public_base_url: None,
            api_prefix: "/api".into(),
            uploads: crate::blob::UploadLimits::default(),
            blob_dir: None,
            resource_cache: true,
            resource_cache_bytes: crate::resources::CachingResourceStore::DEFAULT_BYTES,
        }
    }

    /// The local blob directory in force (see [`Config::blob_dir`]).
    pub fn blob_dir(&self) -> std::path::PathBuf {
        if let Some(dir) = &self.blob_dir {
            return dir.clone();
        }
        let file = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))
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
        if self.jwt_secret.expose().len() < 32 {
            return Err(Error::Config("jwt_secret must be at least 32 bytes".into()));
        }
        let p = self.password_hash;
        let min = PasswordHashParams::OWASP_MINIMUM;
        if p.memory_kib < min.memory_kib || p.iterations < min.iterations || p.parallelism < 1 {
            return Err(Error::Config(
                "password_hash parameters are below OWASP's minimum (m=19456 KiB, t=2, p=1)".into(),
            ));
        }
        if self.access_ttl.is_zero() || self.refresh_ttl.is_zero() {
            return Err(Error::Config("token lifetimes must be positive".into()));
        }
        if self.hash_concurrency == 0 || self.max_connections == 0 {
            return Err(Error::Config(
                "hash_concurrency and max_connections must be at least 1".into(),
            ));
        }
        if !(0..=19).contains(&self.hash_nice) {
            return Err(Error::Config("hash_nice must be between 0 and 19".into()));
        }
        if !self.api_prefix.is_empty()
            && (!self.api_prefix.starts_with('/') || self.api_prefix.ends_with('/'))
        {
            return Err(Error::Config(
                "api_prefix must be empty or start with '/' and not end with '/'".into(),
            ));
        }
        Ok(())
    }
}

fn default_hash_concurrency() -> usize {
    std::thread::available_parallelism()
        .map(|n| (n.get() / 2).max(1))
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        assert_eq!("10/min".parse::<Rate>().unwrap(), Rate::per_minute(10));
        assert_eq!(
            "5/s".parse::<Rate>().unwrap().period,
            Duration::from_secs(1)
        );
        assert_eq!(
            "2/h".parse::<Rate>().unwrap().period,
            Duration::from_secs(3600)
        );
        assert_eq!(
            "1/day".parse::<Rate>().unwrap().period,
            Duration::from_secs(86_400)
        );
        assert_eq!(Rate::parse_limit("off").unwrap(), None);
        for bad in ["", "10", "x/min", "10/week", "0/min", "-1/min"] {
            assert!(Rate::parse_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weak_settings_are_refused() {
        let ok = Config::new("sqlite::memory:", Secret::new(vec![7; 32]));
        assert!(ok.validate().is_ok());
        let short = Config::new("sqlite::memory:", Secret::new(vec![7; 31]));
        assert!(short.validate().is_err());
        let mut weak = ok.clone();
        weak.password_hash.memory_kib = 4096;
        assert!(weak.validate().is_err());
        // Hashing threads may only be lowered (0–19); raising them would need privileges.
        for (nice, valid) in [(-1, false), (0, true), (10, true), (19, true), (20, false)] {
            let mut config = ok.clone();
            config.hash_nice = nice;
            assert_eq!(config.validate().is_ok(), valid, "hash_nice {nice}");
        }
    }

    #[test]
    fn secrets_are_redacted() {
        let secret = Secret::new(b"super-secret-value-of-32-bytes!!".to_vec());
        assert!(!format!("{secret:?}").contains("super"));
    }
}
