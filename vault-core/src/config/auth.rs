//! The auth module's section: tokens, password hashing and its two caches.

use std::time::Duration;

use super::sections::CacheConfig;
use super::Secret;

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

/// Where and how password hashes are computed (see [`crate::auth::PasswordHasher`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HashingConfig {
    /// Password hashes computed at once, each on one of this many dedicated hashing threads.
    /// Default: half the CPUs, at least 1, so a login flood cannot take every core from other
    /// requests.
    pub concurrency: usize,
    /// How far below the server's own scheduling priority the hashing threads run, as a Linux
    /// `nice` increment (0–19; elsewhere ignored). A login flood then only gets the CPU time
    /// other requests leave over, instead of delaying them by whole scheduler slices. 0 keeps
    /// the server's priority. Default 10.
    pub nice: i32,
    /// Whether hashing threads are kept on the last `concurrency` of the CPUs the server may
    /// use (Linux, and only when that leaves some CPU without them). Left free to move, a busy
    /// hashing thread keeps landing on the CPU that serves requests just then; pinned, the
    /// scheduler moves request threads off its CPU instead. Default `false`: where threads may
    /// run is the host's decision (CPU quotas, cpusets), so a library does not pin unasked.
    pub pinned: bool,
}

impl Default for HashingConfig {
    fn default() -> Self {
        Self {
            concurrency: std::thread::available_parallelism()
                .map(|n| (n.get() / 2).max(1))
                .unwrap_or(1),
            nice: 10,
            pinned: false,
        }
    }
}

impl HashingConfig {
    /// With this many hashing threads.
    #[must_use]
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// With hashing threads this many `nice` steps below the server (0–19).
    #[must_use]
    pub fn with_nice(mut self, nice: i32) -> Self {
        self.nice = nice;
        self
    }

    /// Whether hashing threads are pinned to the last CPUs (see [`Self::pinned`]).
    #[must_use]
    pub fn with_pinned(mut self, pinned: bool) -> Self {
        self.pinned = pinned;
        self
    }
}

/// Accounts and sessions: token signing and lifetimes, password hashing, caches.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthConfig {
    /// HS256 signing secret for access tokens, at least 32 bytes. No default.
    pub jwt_secret: Secret,
    /// `iss` claim issued and required. Default `"vault"`.
    pub jwt_issuer: String,
    /// `aud` claim issued and required. Default `"vault"`.
    pub jwt_audience: String,
    /// Clock skew tolerated on `exp` and `nbf`, at most 5 minutes. Default 0 (only the servers
    /// that issue tokens verify them).
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
    /// The byte budget of that per-user state cache (switching it off is the same as a zero
    /// `token_state_ttl`). Default on, 16 MiB.
    pub token_state_cache: CacheConfig,
    /// argon2id parameters; never below [`PasswordHashParams::OWASP_MINIMUM`].
    pub password_hash: PasswordHashParams,
    /// The hashing threads: how many, their priority and placement.
    pub hashing: HashingConfig,
    /// Access tokens whose signature and claims held, remembered so that a client sending the
    /// same token with every request is verified once: a hit still checks the times and
    /// compares the whole signed token in constant time. Default on, 8 MiB.
    pub verified_token_cache: CacheConfig,
}

impl AuthConfig {
    /// The default byte budget of the verified-token cache.
    pub const DEFAULT_VERIFIED_TOKEN_CACHE_BYTES: u64 = 8 * 1024 * 1024;
    /// The default byte budget of the per-user state cache.
    pub const DEFAULT_TOKEN_STATE_CACHE_BYTES: u64 = 16 * 1024 * 1024;
    /// The largest `jwt_leeway` accepted.
    pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

    /// Every default, signing with `jwt_secret`.
    pub fn new(jwt_secret: Secret) -> Self {
        Self {
            jwt_secret,
            jwt_issuer: "vault".into(),
            jwt_audience: "vault".into(),
            jwt_leeway: Duration::ZERO,
            access_ttl: Duration::from_secs(30 * 60),
            refresh_ttl: Duration::from_secs(7 * 24 * 3600),
            token_state_ttl: Duration::from_secs(5),
            token_state_cache: CacheConfig::bounded(Self::DEFAULT_TOKEN_STATE_CACHE_BYTES),
            password_hash: PasswordHashParams::default(),
            hashing: HashingConfig::default(),
            verified_token_cache: CacheConfig::bounded(Self::DEFAULT_VERIFIED_TOKEN_CACHE_BYTES),
        }
    }

    /// With this signing secret.
    #[must_use]
    pub fn with_jwt_secret(mut self, secret: Secret) -> Self {
        self.jwt_secret = secret;
        self
    }

    /// With this `iss` claim.
    #[must_use]
    pub fn with_jwt_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.jwt_issuer = issuer.into();
        self
    }

    /// With this `aud` claim.
    #[must_use]
    pub fn with_jwt_audience(mut self, audience: impl Into<String>) -> Self {
        self.jwt_audience = audience.into();
        self
    }

    /// With this clock skew tolerated on `exp` and `nbf`.
    #[must_use]
    pub fn with_jwt_leeway(mut self, leeway: Duration) -> Self {
        self.jwt_leeway = leeway;
        self
    }

    /// With access tokens living this long.
    #[must_use]
    pub fn with_access_ttl(mut self, ttl: Duration) -> Self {
        self.access_ttl = ttl;
        self
    }

    /// With sessions (refresh tokens) living this long.
    #[must_use]
    pub fn with_refresh_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = ttl;
        self
    }

    /// With users' states cached this long on each instance (zero: not cached).
    #[must_use]
    pub fn with_token_state_ttl(mut self, ttl: Duration) -> Self {
        self.token_state_ttl = ttl;
        self
    }

    /// With this per-user state cache setting.
    #[must_use]
    pub fn with_token_state_cache(mut self, cache: CacheConfig) -> Self {
        self.token_state_cache = cache;
        self
    }

    /// With these argon2id parameters.
    #[must_use]
    pub fn with_password_hash(mut self, params: PasswordHashParams) -> Self {
        self.password_hash = params;
        self
    }

    /// With these hashing threads.
    #[must_use]
    pub fn with_hashing(mut self, hashing: HashingConfig) -> Self {
        self.hashing = hashing;
        self
    }

    /// With this verified-token cache setting.
    #[must_use]
    pub fn with_verified_token_cache(mut self, cache: CacheConfig) -> Self {
        self.verified_token_cache = cache;
        self
    }
}
