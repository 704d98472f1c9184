//! Unit tests of [`AuthService`]'s decisions, in isolation: the store and the throttle are
//! mockall mocks (or the in-memory throttle), password hashing is real. By topic: `login`
//! (login, registration, per-IP throttling), `attempts` (the password-check budgets),
//! `sessions` (refresh and logout), `tokens` (access tokens and the state cache behind them),
//! `account` (the caller's own account and administration).

use std::net::IpAddr;
use std::sync::Arc;

use uuid::Uuid;

use super::AuthService;
use crate::auth::model::*;
use crate::auth::password::PasswordHasher;
use crate::auth::store::MockAuthStore;
use crate::config::{Config, PasswordHashParams, Rate, Secret, ThrottleConfig};
use crate::error::Error;
use crate::principal::{Principal, Role};
use crate::throttle::{MockThrottle, Throttle};
use crate::time;

mod account;
mod attempts;
mod login;
mod sessions;
mod tokens;

const PASSWORD: &str = "sturdy-quokka-2931";
const WRONG_PASSWORD: &str = "sturdy-quokka-2932";

// --- fixtures ---------------------------------------------------------------------------------

/// The brief's configuration, with throttling off (tests that throttle turn it on).
fn config() -> Config {
    let mut config = Config::new("sqlite::memory:", Secret::new(vec![7u8; 32]));
    config.throttle = ThrottleConfig::off();
    config
}

/// [`config`] with only the per-account limit of failed logins.
fn config_with_user_limit(rate: Rate) -> Config {
    let mut config = config();
    config.throttle.auth_user = Some(rate);
    config
}

fn service(store: MockAuthStore, throttle: impl Throttle, config: &Config) -> AuthService {
    AuthService::new(Arc::new(store), Arc::new(throttle), config).expect("valid configuration")
}

/// A throttle that must never be asked (throttling is off, or the test expects no call).
fn no_throttle() -> MockThrottle {
    MockThrottle::new()
}

fn hasher() -> PasswordHasher {
    PasswordHasher::new(PasswordHashParams::default(), 1).expect("argon2 parameters")
}

async fn hash(password: &str) -> String {
    hasher().hash(password).await.expect("hash")
}

/// Ada's stored row, with a real hash of `password`.
async fn ada(password: &str) -> UserRecord {
    let now = time::now();
    UserRecord {
        id: Uuid::now_v7(),
        username: "ada".into(),
        email: "ada@example.com".into(),
        display_name: "Ada".into(),
        password_hash: hash(password).await,
        role: Role::User,
        is_active: true,
        token_version: 2,
        created_at: now,
        updated_at: now,
    }
}

fn state(token_version: i64, is_active: bool, role: Role) -> TokenState {
    TokenState {
        token_version,
        user: User {
            id: Uuid::now_v7(),
            username: "ada".into(),
            email: "ada@example.com".into(),
            display_name: "Ada".into(),
            role,
            is_active,
            created_at: time::now(),
        },
    }
}

fn ip() -> Option<IpAddr> {
    Some("203.0.113.9".parse().expect("IP literal"))
}

fn register_request(username: &str, email: &str, password: &str) -> RegisterRequest {
    RegisterRequest {
        username: username.into(),
        email: email.into(),
        password: password.into(),
        display_name: None,
    }
}

fn principal(user_id: Uuid) -> Principal {
    Principal {
        user_id,
        role: Role::User,
    }
}

fn field_errors(error: Error) -> crate::error::FieldErrors {
    match error {
        Error::Validation(errors) => errors,
        other => panic!("expected a validation error, got {other:?}"),
    }
}
