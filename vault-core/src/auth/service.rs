//! The auth service: every rule of API.md §3, over an [`AuthStore`] and a [`Throttle`].

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::HeaderMap;
use uuid::Uuid;

use super::model::*;
use super::password::PasswordHasher;
use super::store::{AuthStore, UserChanges};
use super::token::TokenCodec;
use crate::config::{Config, ThrottleConfig};
use crate::error::{Error, FieldErrors, Result};
use crate::principal::{Principal, Role};
use crate::throttle::Throttle;
use crate::time::{self, Timestamp};
use crate::wire;

/// How often expired refresh-token rows are purged (checked on each login and refresh).
const PURGE_INTERVAL_SECS: i64 = 3600;

/// Names an OAuth2 password-grant form may carry; others are refused like unknown JSON fields.
const PASSWORD_GRANT_FIELDS: &[&str] = &[
    "grant_type",
    "username",
    "password",
    "scope",
    "client_id",
    "client_secret",
];

/// A decoded OAuth2 password-grant form (`grant_type=password&username=…&password=…`).
#[derive(Debug)]
pub struct PasswordGrant {
    /// Username or email.
    pub username: String,
    /// Password.
    pub password: String,
}

impl PasswordGrant {
    /// Decodes the form body of POST /auth/token.
    ///
    /// # Errors
    /// [`Error::Validation`] for a missing field, an unknown field or a grant type other than
    /// `password`.
    pub fn from_form(body: &[u8]) -> Result<Self> {
        let pairs = wire::decode_form(body, PASSWORD_GRANT_FIELDS)?;
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let mut errors = FieldErrors::new();
        match get("grant_type").as_deref() {
            Some("password") => {}
            Some(_) => errors.add(
                "grant_type",
                "Unsupported grant type: only \"password\" is accepted.",
            ),
            None => errors.add("grant_type", "This field is required."),
        }
        let username = get("username");
        let password = get("password");
        for (name, value) in [("username", &username), ("password", &password)] {
            if value.is_none() {
                errors.add(name, "This field is required.");
            }
        }
        errors.into_result()?;
        Ok(Self {
            username: username.unwrap_or_default(),
            password: password.unwrap_or_default(),
        })
    }
}

/// The body of POST /auth/token: JSON `{username, password}` or the OAuth2 password-grant form.
#[derive(Debug)]
pub enum TokenRequest {
    /// `application/json`: answered with `{access, refresh, …}`.
    Json(LoginRequest),
    /// `application/x-www-form-urlencoded`: answered with OAuth2's `{access_token, …}`.
    Form(PasswordGrant),
}

impl TokenRequest {
    /// Decodes the body by its declared media type.
    ///
    /// # Errors
    /// [`Error::UnsupportedMediaType`], [`Error::Parse`] or [`Error::Validation`].
    pub fn decode(headers: &HeaderMap, body: &[u8]) -> Result<Self> {
        match wire::body_kind(headers)? {
            wire::BodyKind::Json => wire::decode_json(body).map(Self::Json),
            wire::BodyKind::Form => PasswordGrant::from_form(body).map(Self::Form),
        }
    }

    /// Username (or email) and password.
    pub fn credentials(&self) -> (&str, &str) {
        match self {
            Self::Json(r) => (&r.username, &r.password),
            Self::Form(g) => (&g.username, &g.password),
        }
    }

    /// The response in the shape the request's form expects.
    pub fn reply(&self, pair: TokenPair) -> http::Response<bytes::Bytes> {
        match self {
            Self::Json(_) => wire::json(http::StatusCode::OK, &pair),
            Self::Form(_) => wire::json(http::StatusCode::OK, &OAuthTokenResponse::from(pair)),
        }
    }
}

/// Per-user state (revocation and the public account fields), cached for `token_state_ttl` so
/// that verifying an access token and answering `GET /auth/me` cost no database round trip on
/// the hot path, while revocation and profile changes still take effect on every instance
/// within that bound (at once on the instance that made them). `None` values (deleted users)
/// are cached too.
struct TokenStates {
    /// Each state with the time it was read; `None` when `token_state_ttl` is zero.
    cache: Option<quick_cache::sync::Cache<Uuid, ReadState>>,
    ttl: Duration,
}

/// A user's state (`None`: no such user) and when it was read.
type ReadState = (Instant, Option<Arc<KnownState>>);

/// A user's [`TokenState`] as cached, with the body of `GET /auth/me` made from it on first
/// use (the same bytes until the state is read again).
struct KnownState {
    state: TokenState,
    me_json: std::sync::OnceLock<bytes::Bytes>,
}

impl std::ops::Deref for KnownState {
    type Target = TokenState;

    fn deref(&self) -> &TokenState {
        &self.state
    }
}

impl KnownState {
    fn new(state: TokenState) -> Self {
        Self {
            state,
            me_json: std::sync::OnceLock::new(),
        }
    }

    /// The account as `GET /auth/me` shows it, serialized once per read of the state.
    fn me_json(&self) -> Result<bytes::Bytes> {
        wire::serialized_once(&self.me_json, || &self.state.user)
    }
}

impl TokenStates {
    /// At most this many users' states are cached (the least used go first).
    const CAPACITY: usize = 100_000;

    fn new(ttl: Duration) -> Self {
        let cache = (!ttl.is_zero()).then(|| quick_cache::sync::Cache::new(Self::CAPACITY));
        Self { cache, ttl }
    }

    async fn get(&self, store: &dyn AuthStore, user_id: Uuid) -> Result<Option<Arc<KnownState>>> {
        if let Some((read_at, hit)) = self.cache.as_ref().and_then(|c| c.get(&user_id)) {
            // Older entries are read afresh below (and replaced).
            if read_at.elapsed() < self.ttl {
                return Ok(hit);
            }
        }
        let read_at = Instant::now();
        let state = store
            .token_state(user_id)
            .await?
            .map(|state| Arc::new(KnownState::new(state)));
        if let Some(cache) = &self.cache {
            cache.insert(user_id, (read_at, state.clone()));
        }
        Ok(state)
    }

    /// Forgets a user's state on this instance at once (other instances wait out the TTL).
    fn forget(&self, user_id: Uuid) {
        if let Some(cache) = &self.cache {
            cache.remove(&user_id);
        }
    }
}

/// Everything about accounts and sessions. Obtain it from [`crate::Vault::auth`].
pub struct AuthService {
    store: Arc<dyn AuthStore>,
    throttle: Arc<dyn Throttle>,
    limits: ThrottleConfig,
    tokens: TokenCodec,
    hasher: PasswordHasher,
    states: TokenStates,
    refresh_ttl: chrono::Duration,
    trust_forwarded_for: bool,
    last_purge: AtomicI64,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").finish_non_exhaustive()
    }
}

impl AuthService {
    /// Builds the service over a store and a throttle.
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is unsafe (see [`Config::validate`]).
    pub fn new(
        store: Arc<dyn AuthStore>,
        throttle: Arc<dyn Throttle>,
        config: &Config,
    ) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            store,
            throttle,
            limits: config.throttle.clone(),
            tokens: TokenCodec::new(config),
            hasher: PasswordHasher::with_placement(
                config.auth.password_hash,
                config.auth.hashing.concurrency,
                config.auth.hashing.nice,
                config.auth.hashing.pinned,
            )?,
            states: TokenStates::new(config.auth.token_state_ttl),
            refresh_ttl: chrono::Duration::from_std(config.auth.refresh_ttl)
                .map_err(|e| Error::Config(format!("refresh_ttl: {e}")))?,
            trust_forwarded_for: config.http.trust_forwarded_for,
            last_purge: AtomicI64::new(0),
        })
    }

    /// The token codec (for benchmarks and host-side tooling).
    pub fn tokens(&self) -> &TokenCodec {
        &self.tokens
    }

    /// The client IP a request counts against: the socket peer, or with `trust_forwarded_for`
    /// the last `X-Forwarded-For` entry (the one the trusted proxy appended).
    pub fn client_ip(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
        if self.trust_forwarded_for {
            let forwarded = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|ip| ip.trim().parse::<IpAddr>().ok())
                .next_back();
            if forwarded.is_some() {
                return forwarded;
            }
        }
        peer
    }

    async fn throttle_ip(&self, ip: Option<IpAddr>) -> Result<()> {
        let (Some(rate), Some(ip)) = (self.limits.auth_ip, ip) else {
            return Ok(());
        };
        self.throttle
            .hit(&format!("auth-ip:{ip}"), rate)
            .await?
            .into_result()
    }

    fn user_key(login: &str, user: Option<&UserRecord>) -> String {
        // Key by account when it exists, so username and email share one budget.
        match user {
            Some(user) => format!("auth-user:{}", user.id),
            None => format!("auth-user:{}", login.to_lowercase()),
        }
    }

    /// The general API limits of API.md §9, for every API request: an authenticated caller
    /// counts against their user (`throttle.user`), anyone else against their IP
    /// (`throttle.anon`). Returns the caller it verified on the way, so the adapter can hand it
    /// to its extractors instead of verifying twice; a refused token counts as anonymous here
    /// and is rejected by the route's extractor.
    ///
    /// # Errors
    /// [`Error::Throttled`] over a limit.
    pub async fn throttle_request(
        &self,
        headers: &HeaderMap,
        ip: Option<IpAddr>,
    ) -> Result<Option<Principal>> {
        if self.limits.anon.is_none() && self.limits.user.is_none() {
            return Ok(None);
        }
        let principal = match self.authenticate_headers(headers).await {
            Ok(principal) => principal,
            Err(Error::InvalidAccessToken(_)) => None,
            Err(other) => return Err(other),
        };
        match (principal, self.limits.user, self.limits.anon, ip) {
            (Some(p), Some(rate), _, _) => self
                .throttle
                .hit(&format!("api-user:{}", p.user_id), rate)
                .await?
                .into_result()?,
            (None, _, Some(rate), Some(ip)) => self
                .throttle
                .hit(&format!("api-ip:{ip}"), rate)
                .await?
                .into_result()?,
            _ => {}
        }
        Ok(principal)
    }

    // --- registration and login -------------------------------------------------------------

    /// Registers a user and opens their first session.
    ///
    /// # Errors
    /// [`Error::Validation`] on bad fields, [`Error::Conflict`] on a taken username or email,
    /// [`Error::Throttled`] over the per-IP limit.
    pub async fn register(
        &self,
        req: RegisterRequest,
        ip: Option<IpAddr>,
    ) -> Result<RegisterResponse> {
        self.throttle_ip(ip).await?;
        self.register_unthrottled(req).await
    }

    /// [`AuthService::register`] from a raw HTTP body: the request counts against the client IP
    /// before the body is even decoded, so malformed requests are throttled too.
    ///
    /// # Errors
    /// As [`AuthService::register`], plus the body errors of [`wire::decode_json_body`].
    pub async fn register_http(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        ip: Option<IpAddr>,
    ) -> Result<RegisterResponse> {
        self.throttle_ip(ip).await?;
        self.register_unthrottled(wire::decode_json_body(headers, body)?)
            .await
    }

    async fn register_unthrottled(&self, req: RegisterRequest) -> Result<RegisterResponse> {
        let mut errors = FieldErrors::new();
        let username = errors.check("username", Username::parse(&req.username));
        let email = errors.check("email", Email::parse(&req.email));
        let password = errors.check(
            "password",
            Password::parse(&req.password, &req.username, &req.email),
        );
        let display_name = errors.check(
            "display_name",
            parse_display_name(req.display_name.as_deref().unwrap_or_default()),
        );
        let (Some(username), Some(email), Some(password), Some(display_name)) =
            (username, email, password, display_name)
        else {
            return Err(Error::Validation(errors));
        };
        let now = time::now();
        let user = NewUser {
            id: Uuid::now_v7(),
            username,
            email,
            display_name,
            password_hash: self.hasher.hash(password.expose()).await?,
            role: Role::User,
            created_at: now,
        };
        let (refresh, token_hash) = TokenCodec::new_refresh()?;
        let first = self.new_session_row(user.id, Uuid::now_v7(), token_hash, now);
        let record = self.store.create_user(&user, Some(first)).await?;
        let access = self
            .tokens
            .issue_access(record.id, record.role, record.token_version, now)?;
        Ok(RegisterResponse {
            user: record.into(),
            access,
            refresh,
            token_type: "Bearer".into(),
            expires_in: self.tokens.access_ttl_secs(),
        })
    }

    /// Creates a user directly (no throttling, no tokens), e.g. the first admin from the
    /// command line. The password rules still apply.
    ///
    /// # Errors
    /// As [`AuthService::register`].
    pub async fn create_user(
        &self,
        username: &str,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<User> {
        let mut errors = FieldErrors::new();
        let username_v = errors.check("username", Username::parse(username));
        let email_v = errors.check("email", Email::parse(email));
        let password_v = errors.check("password", Password::parse(password, username, email));
        let (Some(username), Some(email), Some(password)) = (username_v, email_v, password_v)
        else {
            return Err(Error::Validation(errors));
        };
        let user = NewUser {
            id: Uuid::now_v7(),
            username,
            email,
            display_name: String::new(),
            password_hash: self.hasher.hash(password.expose()).await?,
            role,
            created_at: time::now(),
        };
        Ok(self.store.create_user(&user, None).await?.into())
    }

    /// Logs in with username (or email) and password and opens a new session.
    ///
    /// Unknown users, wrong passwords and inactive accounts all get the same
    /// [`Error::AuthenticationFailed`] after the same amount of hashing work.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`], [`Error::Validation`] for blank fields,
    /// [`Error::Throttled`] over the per-IP or per-account limit.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        ip: Option<IpAddr>,
    ) -> Result<TokenPair> {
        self.throttle_ip(ip).await?;
        self.login_unthrottled(login, password).await
    }

    /// POST /auth/token from a raw HTTP body (JSON or the OAuth2 form): counts against the
    /// client IP first, then decodes, logs in and answers in the shape the request expects.
    ///
    /// # Errors
    /// As [`AuthService::login`], plus the body errors of [`TokenRequest::decode`].
    pub async fn token_http(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        ip: Option<IpAddr>,
    ) -> Result<http::Response<bytes::Bytes>> {
        self.throttle_ip(ip).await?;
        let request = TokenRequest::decode(headers, body)?;
        let (login, password) = request.credentials();
        let pair = self.login_unthrottled(login, password).await?;
        Ok(request.reply(pair))
    }

    async fn login_unthrottled(&self, login: &str, password: &str) -> Result<TokenPair> {
        let mut errors = FieldErrors::new();
        for (field, value) in [("username", login), ("password", password)] {
            if value.is_empty() {
                errors.add(field, "This field may not be blank.");
            }
        }
        errors.into_result()?;
        let user = self.store.user_by_login(login).await?;
        let user_key = Self::user_key(login, user.as_ref());
        if let Some(rate) = self.limits.auth_user {
            self.throttle.peek(&user_key, rate).await?.into_result()?;
        }
        let verified = self
            .hasher
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        let user = match user {
            Some(user) if verified && user.is_active => user,
            _ => {
                if let Some(rate) = self.limits.auth_user {
                    // The failure itself counts; its decision is for the next attempt.
                    self.throttle.hit(&user_key, rate).await?;
                }
                return Err(Error::AuthenticationFailed);
            }
        };
        if self.hasher.needs_rehash(&user.password_hash) {
            let rehashed = self.hasher.hash(password).await?;
            self.store.replace_password_hash(user.id, &rehashed).await?;
        }
        let now = time::now();
        let (refresh, token_hash) = TokenCodec::new_refresh()?;
        let row = self.new_session_row(user.id, Uuid::now_v7(), token_hash, now);
        self.store.insert_refresh_token(&row).await?;
        self.purge_now_and_then(now).await;
        self.pair(user.id, user.role, user.token_version, refresh, now)
    }

    /// Exchanges a live refresh token for a new pair (rotation). Presenting a token that was
    /// already rotated revokes its whole session, so a thief's copy dies with the victim's.
    ///
    /// # Errors
    /// [`Error::InvalidRefreshToken`] for unknown, expired, revoked or replayed tokens;
    /// [`Error::Throttled`] over the per-IP limit.
    pub async fn refresh(&self, refresh: &str, ip: Option<IpAddr>) -> Result<TokenPair> {
        self.throttle_ip(ip).await?;
        self.refresh_unthrottled(refresh).await
    }

    /// [`AuthService::refresh`] from a raw HTTP body `{refresh}`, counted before decoding.
    ///
    /// # Errors
    /// As [`AuthService::refresh`], plus the body errors of [`wire::decode_json_body`].
    pub async fn refresh_http(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        ip: Option<IpAddr>,
    ) -> Result<TokenPair> {
        self.throttle_ip(ip).await?;
        let request: RefreshRequest = wire::decode_json_body(headers, body)?;
        self.refresh_unthrottled(&request.refresh).await
    }

    async fn refresh_unthrottled(&self, refresh: &str) -> Result<TokenPair> {
        let presented = TokenCodec::hash_refresh(refresh);
        let now = time::now();
        let (new_refresh, new_hash) = TokenCodec::new_refresh()?;
        let expires_at = now + self.refresh_ttl;
        match self
            .store
            .rotate_refresh_token(&presented, &new_hash, now, expires_at)
            .await?
        {
            Rotation::Rotated { user_id } => {
                self.purge_now_and_then(now).await;
                match self.states.get(self.store.as_ref(), user_id).await? {
                    Some(state) if state.user.is_active => self.pair(
                        user_id,
                        state.user.role,
                        state.token_version,
                        new_refresh,
                        now,
                    ),
                    _ => Err(Error::InvalidRefreshToken("Token is invalid or expired.")),
                }
            }
            Rotation::Reused { family_id } => {
                // Also reached by a token whose session was ended (logout, password change):
                // either way the answer is 401 and the family is (already) revoked.
                tracing::warn!(%family_id, "revoked refresh token presented; session revoked");
                self.store.revoke_family(family_id, now).await?;
                Err(Error::InvalidRefreshToken("Token has been revoked."))
            }
            Rotation::Refused | Rotation::Unknown => {
                Err(Error::InvalidRefreshToken("Token is invalid or expired."))
            }
        }
    }

    /// Ends the session of a refresh token. Idempotent for genuine tokens.
    ///
    /// # Errors
    /// [`Error::InvalidRefreshToken`] when the token was never issued.
    pub async fn logout(&self, refresh: &str) -> Result<()> {
        let hash = TokenCodec::hash_refresh(refresh);
        if self.store.revoke_session_of(&hash, time::now()).await? {
            Ok(())
        } else {
            Err(Error::InvalidRefreshToken("Token is invalid or expired."))
        }
    }

    /// Ends every session of the caller and revokes their outstanding access tokens.
    ///
    /// # Errors
    /// Database failures.
    pub async fn logout_all(&self, principal: &Principal) -> Result<()> {
        self.store
            .end_all_sessions(principal.user_id, time::now())
            .await?;
        self.states.forget(principal.user_id);
        Ok(())
    }

    // --- access tokens ----------------------------------------------------------------------

    /// Verifies a bearer token and returns the caller. Checks signature, algorithm, expiry,
    /// issuer, audience and type, then the user's revocation state (cached for at most
    /// `token_state_ttl`): a deleted or inactive user, or a bumped token version, is refused.
    ///
    /// # Errors
    /// [`Error::InvalidAccessToken`] for any refusal.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        let claims = self.tokens.verify_access(token)?;
        match self.states.get(self.store.as_ref(), claims.sub).await? {
            Some(state) if state.user.is_active && state.token_version == claims.ver => {
                Ok(Principal {
                    user_id: claims.sub,
                    role: state.user.role,
                })
            }
            _ => Err(Error::InvalidAccessToken("Token has been revoked.")),
        }
    }

    /// The caller from an `Authorization` header, if one was sent.
    ///
    /// A missing header is `Ok(None)`; a header with another scheme counts as missing; a bearer
    /// token that does not verify is an error (an optional-auth route still rejects bad tokens).
    ///
    /// # Errors
    /// [`Error::InvalidAccessToken`] when a bearer token was sent and refused.
    pub async fn authenticate_headers(&self, headers: &HeaderMap) -> Result<Option<Principal>> {
        match bearer_token(headers)? {
            Some(token) => self.authenticate(token).await.map(Some),
            None => Ok(None),
        }
    }

    // --- the caller's own account -----------------------------------------------------------

    /// The caller's account, from the same per-user cache as the access-token checks: a
    /// profile change made through another instance shows here within `token_state_ttl`
    /// (changes made through this instance show at once).
    ///
    /// # Errors
    /// [`Error::InvalidAccessToken`] when the account is gone.
    pub async fn me(&self, principal: &Principal) -> Result<User> {
        Ok(self.caller_state(principal).await?.user.clone())
    }

    /// [`AuthService::me`] as the JSON body `GET /auth/me` answers with: serialized once per
    /// read of the user's state and shared by every request until the state is read again,
    /// so the hot path of `me` neither reads the database nor serializes.
    ///
    /// # Errors
    /// As [`AuthService::me`].
    pub async fn me_json(&self, principal: &Principal) -> Result<bytes::Bytes> {
        self.caller_state(principal).await?.me_json()
    }

    /// The caller's cached state; the account being gone refuses the token.
    async fn caller_state(&self, principal: &Principal) -> Result<Arc<KnownState>> {
        self.states
            .get(self.store.as_ref(), principal.user_id)
            .await?
            .ok_or(Error::InvalidAccessToken("User not found."))
    }

    /// Changes the caller's email and/or display name.
    ///
    /// # Errors
    /// [`Error::Validation`] on bad fields, [`Error::Conflict`] on a taken email.
    pub async fn update_me(&self, principal: &Principal, req: UpdateMeRequest) -> Result<User> {
        let mut errors = FieldErrors::new();
        let email = errors.check("email", req.email.non_null()).flatten();
        let email = email.and_then(|e| errors.check("email", Email::parse(&e)));
        let display_name = errors
            .check("display_name", req.display_name.non_null())
            .flatten();
        let display_name =
            display_name.and_then(|d| errors.check("display_name", parse_display_name(&d)));
        errors.into_result()?;
        let changes = UserChanges {
            email,
            display_name,
        };
        let updated = self
            .store
            .update_user(principal.user_id, &changes, time::now())
            .await?;
        self.states.forget(principal.user_id);
        updated
            .map(User::from)
            .ok_or(Error::InvalidAccessToken("User not found."))
    }

    /// Changes the caller's password after checking the current one; ends every session and
    /// revokes outstanding access tokens.
    ///
    /// # Errors
    /// [`Error::Validation`] on a wrong current password (`errors.current_password`) or a weak
    /// new one (`errors.new_password`); [`Error::Throttled`] after repeated wrong passwords.
    pub async fn change_password(
        &self,
        principal: &Principal,
        req: ChangePasswordRequest,
    ) -> Result<()> {
        let user = self
            .confirm_password(principal, &req.current_password, "current_password")
            .await?;
        let new = Password::parse(&req.new_password, &user.username, &user.email)
            .map_err(|m| Error::field("new_password", m))?;
        if req.new_password == req.current_password {
            return Err(Error::field(
                "new_password",
                "The new password must differ from the current one.",
            ));
        }
        let hash = self.hasher.hash(new.expose()).await?;
        self.store
            .change_password(user.id, &hash, time::now())
            .await?;
        self.states.forget(user.id);
        Ok(())
    }

    /// Deletes the caller's account and everything they own, after checking their password.
    ///
    /// # Errors
    /// [`Error::Validation`] on a wrong password (`errors.password`); [`Error::Throttled`] after
    /// repeated wrong passwords.
    pub async fn delete_account(
        &self,
        principal: &Principal,
        req: DeleteAccountRequest,
    ) -> Result<()> {
        let user = self
            .confirm_password(principal, &req.password, "password")
            .await?;
        self.store.delete_user(user.id).await?;
        self.states.forget(user.id);
        Ok(())
    }

    async fn confirm_password(
        &self,
        principal: &Principal,
        password: &str,
        field: &str,
    ) -> Result<UserRecord> {
        let user = self
            .store
            .user_by_id(principal.user_id)
            .await?
            .ok_or(Error::InvalidAccessToken("User not found."))?;
        // A stolen access token must not become a password-guessing oracle.
        let key = Self::user_key(&user.username, Some(&user));
        if let Some(rate) = self.limits.auth_user {
            self.throttle.peek(&key, rate).await?.into_result()?;
        }
        if !self
            .hasher
            .verify(password, Some(&user.password_hash))
            .await?
        {
            if let Some(rate) = self.limits.auth_user {
                self.throttle.hit(&key, rate).await?;
            }
            return Err(Error::field(field, "The password is not correct."));
        }
        Ok(user)
    }

    // --- administration ---------------------------------------------------------------------

    /// Activates or deactivates a user. Deactivation ends their sessions and revokes their
    /// access tokens (on other instances within `token_state_ttl`).
    ///
    /// # Errors
    /// [`Error::NotFound`] when the user does not exist.
    pub async fn set_active(&self, user_id: Uuid, active: bool) -> Result<()> {
        let found = self.store.set_active(user_id, active, time::now()).await?;
        self.states.forget(user_id);
        found.then_some(()).ok_or(Error::NotFound)
    }

    /// Changes a user's role. The token version is bumped, so their outstanding access tokens
    /// stop working (on other instances within `token_state_ttl`); their sessions stay, and the
    /// next refresh issues tokens with the new role.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the user does not exist.
    pub async fn set_role(&self, user_id: Uuid, role: Role) -> Result<()> {
        let found = self.store.set_role(user_id, role, time::now()).await?;
        self.states.forget(user_id);
        found.then_some(()).ok_or(Error::NotFound)
    }

    /// Deletes expired refresh-token rows now. Also runs by itself at most hourly during logins
    /// and refreshes, so hosts need not schedule it.
    ///
    /// # Errors
    /// Database failures.
    pub async fn purge_expired(&self) -> Result<u64> {
        let now = time::now();
        self.last_purge.store(now.timestamp(), Ordering::Relaxed);
        self.store.purge_expired_tokens(now).await
    }

    // --- helpers ----------------------------------------------------------------------------

    fn new_session_row(
        &self,
        user_id: Uuid,
        family_id: Uuid,
        token_hash: Vec<u8>,
        now: Timestamp,
    ) -> NewRefreshToken {
        NewRefreshToken {
            id: Uuid::now_v7(),
            user_id,
            family_id,
            token_hash,
            created_at: now,
            expires_at: now + self.refresh_ttl,
        }
    }

    fn pair(
        &self,
        user_id: Uuid,
        role: Role,
        version: i64,
        refresh: String,
        now: Timestamp,
    ) -> Result<TokenPair> {
        Ok(TokenPair {
            access: self.tokens.issue_access(user_id, role, version, now)?,
            refresh,
            token_type: "Bearer".into(),
            expires_in: self.tokens.access_ttl_secs(),
        })
    }

    async fn purge_now_and_then(&self, now: Timestamp) {
        let last = self.last_purge.load(Ordering::Relaxed);
        if now.timestamp() - last < PURGE_INTERVAL_SECS {
            return;
        }
        // Only one caller wins the slot; the others go on without waiting.
        if self
            .last_purge
            .compare_exchange(last, now.timestamp(), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            match self.store.purge_expired_tokens(now).await {
                Ok(n) if n > 0 => tracing::info!(purged = n, "expired refresh tokens purged"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "purging expired refresh tokens failed"),
            }
        }
    }
}

/// The bearer token of an `Authorization` header.
///
/// `Ok(None)` when there is no header or it uses another scheme (no credentials for us).
///
/// # Errors
/// [`Error::InvalidAccessToken`] for `Bearer` with an empty or malformed token.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| {
        Error::InvalidAccessToken("Authorization header must contain only visible ASCII.")
    })?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = token.trim();
    if token.is_empty() || token.contains(' ') {
        return Err(Error::InvalidAccessToken(
            "Authorization header must contain two space-delimited values.",
        ));
    }
    Ok(Some(token))
}
