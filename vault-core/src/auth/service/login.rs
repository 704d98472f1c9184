//! Registration, login and accounts created by the host.

use std::net::IpAddr;

use http::HeaderMap;
use uuid::Uuid;

use super::attempts::Attempt;
use super::{AuthService, TokenRequest};
use crate::auth::model::*;
use crate::auth::token::TokenCodec;
use crate::error::{Error, FieldErrors, Result};
use crate::principal::Role;
use crate::time;
use crate::wire;

impl AuthService {
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
    /// [`Error::AuthenticationFailed`] after the same amount of hashing work. Each attempt
    /// takes a unit of its password-check budgets (`throttle.auth_user`: per name as typed,
    /// and the account's ceiling) before the password is checked, and gives it back when the
    /// login succeeds.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`], [`Error::Validation`] for a blank or overlong field,
    /// [`Error::Throttled`] over the per-IP limit or a spent password-check budget.
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
        let name = errors.check("username", LoginName::parse(login));
        errors.check("password", check_presented_password(password));
        let (Some(name), true) = (name, errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        let mut attempt = self.take_login_name(&name).await?;
        let checked = self.check_credentials(&name, password, &mut attempt).await;
        match checked {
            // A wrong guess keeps its units.
            Err(Error::AuthenticationFailed) => drop(attempt),
            // The right password, a spent ceiling or server trouble: no guess was judged.
            _ => self.give_back(attempt).await,
        }
        let user = checked?;
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

    /// The account `name` and `password` open, once `attempt` holds a unit of the name's
    /// budget: looks the name up, takes a unit of the account's ceiling, then checks the
    /// password (against a dummy hash when there is no account, so every failure costs the
    /// same).
    async fn check_credentials(
        &self,
        name: &LoginName,
        password: &str,
        attempt: &mut Attempt,
    ) -> Result<UserRecord> {
        let user = if name.could_name_an_account() {
            self.store.user_by_login(name.as_str()).await?
        } else {
            None
        };
        self.take_login_account(attempt, name, user.as_ref().map(|u| u.id))
            .await?;
        let verified = self
            .hasher
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        match user {
            Some(user) if verified && user.is_active => Ok(user),
            _ => Err(Error::AuthenticationFailed),
        }
    }
}
