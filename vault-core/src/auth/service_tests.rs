//! Unit tests of [`AuthService`]'s decisions, in isolation: the store and the throttle are
//! mockall mocks (or the in-memory throttle), password hashing is real.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mockall::predicate::{always, eq};
use mockall::Sequence;
use uuid::Uuid;

use super::model::*;
use super::password::PasswordHasher;
use super::service::AuthService;
use super::store::{MockAuthStore, UserChanges};
use super::token::TokenCodec;
use crate::config::{Config, PasswordHashParams, Rate, Secret, ThrottleConfig};
use crate::error::Error;
use crate::principal::{Principal, Role};
use crate::throttle::{Decision, MemoryThrottle, MockThrottle, Throttle};
use crate::time;

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

// --- refresh ----------------------------------------------------------------------------------

#[tokio::test]
async fn refresh_replay_revokes_that_family_once_and_is_refused() {
    let family = Uuid::now_v7();
    let presented = TokenCodec::hash_refresh("vrt_stolen");
    let mut store = MockAuthStore::new();
    store
        .expect_rotate_refresh_token()
        .withf(move |p, new, now, expires| {
            p == presented.as_slice() && new != p && *expires - *now == chrono::Duration::days(7)
        })
        .times(1)
        .returning(move |_, _, _, _| Ok(Rotation::Reused { family_id: family }));
    store
        .expect_revoke_family()
        .with(eq(family), always())
        .times(1)
        .returning(|_, _| Ok(()));
    store.expect_token_state().never();
    store.expect_purge_expired_tokens().never();

    let error = service(store, no_throttle(), &config())
        .refresh("vrt_stolen", None)
        .await
        .expect_err("a replayed token is refused");
    assert!(
        matches!(error, Error::InvalidRefreshToken("Token has been revoked.")),
        "{error:?}"
    );
}

#[tokio::test]
async fn refresh_of_unknown_or_refused_tokens_revokes_nothing() {
    for outcome in [Rotation::Unknown, Rotation::Refused] {
        let mut store = MockAuthStore::new();
        let answer = outcome.clone();
        store
            .expect_rotate_refresh_token()
            .times(1)
            .returning(move |_, _, _, _| Ok(answer.clone()));
        store.expect_revoke_family().never();
        store.expect_token_state().never();
        store.expect_purge_expired_tokens().never();

        let error = service(store, no_throttle(), &config())
            .refresh("vrt_whatever", None)
            .await
            .expect_err("refused");
        assert!(
            matches!(error, Error::InvalidRefreshToken(_)),
            "{outcome:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn refresh_issues_a_pair_from_current_state_and_purges_at_most_hourly() {
    let user_id = Uuid::now_v7();
    let stored: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let mut store = MockAuthStore::new();
    let seen = Arc::clone(&stored);
    store
        .expect_rotate_refresh_token()
        .times(2)
        .returning(move |_, new_hash, _, _| {
            seen.lock().expect("lock").push(new_hash.to_vec());
            Ok(Rotation::Rotated { user_id })
        });
    // Role and version come from the current state, read once (then cached).
    store
        .expect_token_state()
        .with(eq(user_id))
        .times(1)
        .returning(|_| Ok(Some(state(4, true, Role::Admin))));
    store
        .expect_purge_expired_tokens()
        .times(1)
        .returning(|_| Ok(3));
    store.expect_revoke_family().never();
    let service = service(store, no_throttle(), &config());

    let first = service.refresh("vrt_one", None).await.expect("refresh");
    let second = service
        .refresh(&first.refresh, None)
        .await
        .expect("refresh");

    for pair in [&first, &second] {
        let claims = service
            .tokens()
            .verify_access(&pair.access)
            .expect("access");
        assert_eq!(
            (claims.sub, claims.ver, claims.role),
            (user_id, 4, Role::Admin)
        );
        assert_eq!(pair.token_type, "Bearer");
        assert_eq!(pair.expires_in, 1800);
    }
    assert_ne!(first.refresh, "vrt_one");
    assert_ne!(first.refresh, second.refresh);
    let stored = stored.lock().expect("lock").clone();
    assert_eq!(
        stored,
        vec![
            TokenCodec::hash_refresh(&first.refresh),
            TokenCodec::hash_refresh(&second.refresh)
        ],
        "the store keeps the hashes of exactly the tokens handed out"
    );
}

#[tokio::test]
async fn refresh_for_an_inactive_or_deleted_user_is_refused() {
    for current in [Some(state(0, false, Role::User)), None] {
        let user_id = Uuid::now_v7();
        let mut store = MockAuthStore::new();
        store
            .expect_rotate_refresh_token()
            .times(1)
            .returning(move |_, _, _, _| Ok(Rotation::Rotated { user_id }));
        store
            .expect_token_state()
            .with(eq(user_id))
            .times(1)
            .returning({
                let current = current.clone();
                move |_| Ok(current.clone())
            });
        store
            .expect_purge_expired_tokens()
            .times(1)
            .returning(|_| Ok(0));

        let error = service(store, no_throttle(), &config())
            .refresh("vrt_one", None)
            .await
            .expect_err("refused");
        assert!(
            matches!(error, Error::InvalidRefreshToken(_)),
            "{current:?}: {error:?}"
        );
    }
}

// --- login ------------------------------------------------------------------------------------

#[tokio::test]
async fn login_of_an_unknown_user_fails_and_counts_against_the_login() {
    let rate = Rate::per_minute(5);
    let mut store = MockAuthStore::new();
    store
        .expect_user_by_login()
        .withf(|login| login == "Ghost")
        .times(1)
        .returning(|_| Ok(None));
    store.expect_insert_refresh_token().never();
    let mut throttle = MockThrottle::new();
    throttle
        .expect_peek()
        .withf(move |key, r| key == "auth-user:ghost" && *r == rate)
        .times(1)
        .returning(|_, _| Ok(Decision::Allow));
    throttle
        .expect_hit()
        .withf(move |key, r| key == "auth-user:ghost" && *r == rate)
        .times(1)
        .returning(|_, _| Ok(Decision::Allow));

    let error = service(store, throttle, &config_with_user_limit(rate))
        .login("Ghost", PASSWORD, None)
        .await
        .expect_err("unknown user");
    assert!(matches!(error, Error::AuthenticationFailed), "{error:?}");
}

#[tokio::test]
async fn login_with_a_wrong_password_counts_against_the_account() {
    let rate = Rate::per_minute(5);
    let user = ada(PASSWORD).await;
    let key = format!("auth-user:{}", user.id);
    let mut store = MockAuthStore::new();
    store
        .expect_user_by_login()
        .times(1)
        .returning(move |_| Ok(Some(user.clone())));
    store.expect_insert_refresh_token().never();
    let mut throttle = MockThrottle::new();
    let peek_key = key.clone();
    throttle
        .expect_peek()
        .withf(move |k, _| k == peek_key)
        .times(1)
        .returning(|_, _| Ok(Decision::Allow));
    throttle
        .expect_hit()
        .withf(move |k, _| k == key)
        .times(1)
        .returning(|_, _| Ok(Decision::Allow));

    let error = service(store, throttle, &config_with_user_limit(rate))
        .login("ADA", WRONG_PASSWORD, None)
        .await
        .expect_err("wrong password");
    assert!(matches!(error, Error::AuthenticationFailed), "{error:?}");
}

#[tokio::test]
async fn login_of_an_inactive_user_with_the_right_password_fails() {
    let mut user = ada(PASSWORD).await;
    user.is_active = false;
    let mut store = MockAuthStore::new();
    store
        .expect_user_by_login()
        .times(1)
        .returning(move |_| Ok(Some(user.clone())));
    store.expect_insert_refresh_token().never();
    store.expect_replace_password_hash().never();
    let mut throttle = MockThrottle::new();
    throttle
        .expect_peek()
        .times(1)
        .returning(|_, _| Ok(Decision::Allow));
    throttle
        .expect_hit()
        .times(1)
        .returning(|_, _| Ok(Decision::Allow));

    let error = service(
        store,
        throttle,
        &config_with_user_limit(Rate::per_minute(5)),
    )
    .login("ada", PASSWORD, None)
    .await
    .expect_err("inactive user");
    assert!(matches!(error, Error::AuthenticationFailed), "{error:?}");
}

#[tokio::test]
async fn login_opens_a_session_without_counting_a_failure() {
    let user = ada(PASSWORD).await;
    let (user_id, version) = (user.id, user.token_version);
    let session: Arc<Mutex<Option<NewRefreshToken>>> = Arc::default();
    let mut store = MockAuthStore::new();
    store
        .expect_user_by_login()
        .withf(|login| login == "ada@example.com")
        .times(1)
        .returning(move |_| Ok(Some(user.clone())));
    let saved = Arc::clone(&session);
    store
        .expect_insert_refresh_token()
        .times(1)
        .returning(move |row| {
            *saved.lock().expect("lock") = Some(row.clone());
            Ok(())
        });
    store
        .expect_purge_expired_tokens()
        .times(1)
        .returning(|_| Ok(0));
    store.expect_replace_password_hash().never();
    let mut throttle = MockThrottle::new();
    throttle
        .expect_peek()
        .times(1)
        .returning(|_, _| Ok(Decision::Allow));
    throttle.expect_hit().never();
    let service = service(
        store,
        throttle,
        &config_with_user_limit(Rate::per_minute(5)),
    );

    let pair = service
        .login("ada@example.com", PASSWORD, None)
        .await
        .expect("login");
    let claims = service
        .tokens()
        .verify_access(&pair.access)
        .expect("access");
    assert_eq!((claims.sub, claims.ver), (user_id, version));
    let row = session
        .lock()
        .expect("lock")
        .clone()
        .expect("a session row");
    assert_eq!(row.user_id, user_id);
    assert_eq!(row.token_hash, TokenCodec::hash_refresh(&pair.refresh));
    assert_eq!(row.expires_at - row.created_at, chrono::Duration::days(7));
}

#[tokio::test]
async fn login_rehashes_a_hash_made_with_other_parameters() {
    let stronger = PasswordHasher::new(
        PasswordHashParams {
            memory_kib: 19_456,
            iterations: 3,
            parallelism: 1,
        },
        1,
    )
    .expect("argon2 parameters");
    let mut user = ada(PASSWORD).await;
    user.password_hash = stronger.hash(PASSWORD).await.expect("hash");
    let user_id = user.id;
    let mut store = MockAuthStore::new();
    store
        .expect_user_by_login()
        .times(1)
        .returning(move |_| Ok(Some(user.clone())));
    store
        .expect_replace_password_hash()
        .withf(move |id, hash| {
            *id == user_id && hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        })
        .times(1)
        .returning(|_, _| Ok(()));
    store
        .expect_insert_refresh_token()
        .times(1)
        .returning(|_| Ok(()));
    store
        .expect_purge_expired_tokens()
        .times(1)
        .returning(|_| Ok(0));

    service(store, no_throttle(), &config())
        .login("ada", PASSWORD, None)
        .await
        .expect("login");
}

#[tokio::test]
async fn login_to_a_throttled_account_is_refused_before_the_password_is_checked() {
    let user = ada(PASSWORD).await;
    let mut store = MockAuthStore::new();
    store
        .expect_user_by_login()
        .times(1)
        .returning(move |_| Ok(Some(user.clone())));
    store.expect_insert_refresh_token().never();
    let mut throttle = MockThrottle::new();
    throttle.expect_peek().times(1).returning(|_, _| {
        Ok(Decision::Deny {
            retry_after: Duration::from_secs(30),
        })
    });
    throttle.expect_hit().never();

    let error = service(
        store,
        throttle,
        &config_with_user_limit(Rate::per_minute(5)),
    )
    .login("ada", PASSWORD, None)
    .await
    .expect_err("throttled even with the right password");
    assert!(
        matches!(error, Error::Throttled { retry_after: 30 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn failed_logins_share_one_budget_for_username_and_email() {
    let user = ada(PASSWORD).await;
    let mut store = MockAuthStore::new();
    store
        .expect_user_by_login()
        .times(3)
        .returning(move |_| Ok(Some(user.clone())));
    store.expect_insert_refresh_token().never();
    let service = service(
        store,
        MemoryThrottle::new(),
        &config_with_user_limit(Rate::per_minute(2)),
    );

    for login in ["ada", "ada@example.com"] {
        let error = service
            .login(login, WRONG_PASSWORD, None)
            .await
            .expect_err("wrong password");
        assert!(matches!(error, Error::AuthenticationFailed), "{error:?}");
    }
    let error = service
        .login("ADA", PASSWORD, None)
        .await
        .expect_err("the account's budget is spent");
    assert!(
        matches!(error, Error::Throttled { retry_after } if retry_after >= 1),
        "{error:?}"
    );
}

#[tokio::test]
async fn blank_credentials_are_validation_errors_without_store_calls() {
    let service = service(MockAuthStore::new(), no_throttle(), &config());
    let errors = field_errors(service.login("", "", None).await.expect_err("blank"));
    assert!(errors.get("username").is_some(), "{errors:?}");
    assert!(errors.get("password").is_some(), "{errors:?}");
}

// --- registration -----------------------------------------------------------------------------

#[tokio::test]
async fn register_with_invalid_fields_never_calls_the_store() {
    let mut store = MockAuthStore::new();
    store.expect_create_user().never();
    let service = service(store, no_throttle(), &config());

    let mut request = register_request("a b", "not-an-email", "short");
    request.display_name = Some("bell\u{7}".into());
    let errors = field_errors(service.register(request, None).await.expect_err("invalid"));
    for field in ["username", "email", "password", "display_name"] {
        assert!(errors.get(field).is_some(), "{field}: {errors:?}");
    }

    // Valid fields, but the password is the username: only `password` is named.
    let request = register_request("lovelace-ada", "ada@example.com", "lovelace-ada");
    let errors = field_errors(service.register(request, None).await.expect_err("invalid"));
    assert!(errors.get("password").is_some(), "{errors:?}");
    assert!(errors.get("username").is_none(), "{errors:?}");
    assert!(errors.get("email").is_none(), "{errors:?}");
}

#[tokio::test]
async fn register_passes_the_store_conflict_through_unchanged() {
    let mut store = MockAuthStore::new();
    store
        .expect_create_user()
        .withf(|user, first| {
            first
                .as_ref()
                .is_some_and(|t| t.user_id == user.id && t.family_id != user.id)
        })
        .times(1)
        .returning(|_, _| {
            Err(Error::conflict(
                "email",
                "A user with that email already exists.",
            ))
        });

    let error = service(store, no_throttle(), &config())
        .register(register_request("ada", "ada@example.com", PASSWORD), None)
        .await
        .expect_err("clash");
    match error {
        Error::Conflict(errors) => {
            assert_eq!(
                errors.get("email"),
                Some(&["A user with that email already exists.".to_string()][..])
            );
            assert!(errors.get("username").is_none());
        }
        other => panic!("expected Error::Conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn register_stores_a_validated_user_and_returns_a_working_pair() {
    let first: Arc<Mutex<Option<NewRefreshToken>>> = Arc::default();
    let saved = Arc::clone(&first);
    let mut store = MockAuthStore::new();
    store
        .expect_create_user()
        .times(1)
        .returning(move |user, token| {
            *saved.lock().expect("lock") = token;
            Ok(UserRecord {
                id: user.id,
                username: user.username.as_str().into(),
                email: user.email.as_str().into(),
                display_name: user.display_name.clone(),
                password_hash: user.password_hash.clone(),
                role: user.role,
                is_active: true,
                token_version: 0,
                created_at: user.created_at,
                updated_at: user.created_at,
            })
        });
    let service = service(store, no_throttle(), &config());

    let mut request = register_request("Ada", "Ada@Example.COM", PASSWORD);
    request.display_name = Some("  Ada Lovelace ".into());
    let response = service.register(request, None).await.expect("register");
    assert_eq!(response.user.username, "Ada");
    assert_eq!(response.user.email, "Ada@example.com");
    assert_eq!(response.user.display_name, "Ada Lovelace");
    assert_eq!(
        response.user.role,
        Role::User,
        "registration never makes admins"
    );
    let claims = service
        .tokens()
        .verify_access(&response.access)
        .expect("access");
    assert_eq!((claims.sub, claims.ver), (response.user.id, 0));
    let token = first
        .lock()
        .expect("lock")
        .clone()
        .expect("a first session");
    assert_eq!(
        token.token_hash,
        TokenCodec::hash_refresh(&response.refresh)
    );
    assert_eq!(token.user_id, response.user.id);
}

// --- throttling by IP -------------------------------------------------------------------------

#[tokio::test]
async fn ip_denial_is_throttled_before_any_store_call() {
    let mut config = config();
    config.throttle.auth_ip = Some(Rate::per_minute(10));
    config.throttle.auth_user = Some(Rate::per_minute(10));
    for (wait, expected) in [
        (Duration::from_millis(1_500), 2),
        (Duration::from_millis(0), 1),
    ] {
        let mut throttle = MockThrottle::new();
        throttle
            .expect_hit()
            .withf(|key, rate| key == "auth-ip:203.0.113.9" && *rate == Rate::per_minute(10))
            .times(5)
            .returning(move |_, _| Ok(Decision::Deny { retry_after: wait }));
        throttle.expect_peek().never();
        // No expectations: any store call panics.
        let service = service(MockAuthStore::new(), throttle, &config);

        let json = {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            headers
        };
        let results = [
            service
                .register(register_request("ada", "ada@example.com", PASSWORD), ip())
                .await
                .map(drop),
            service.login("ada", PASSWORD, ip()).await.map(drop),
            service.refresh("vrt_x", ip()).await.map(drop),
            // The raw-body entry points count before decoding: garbage is throttled too.
            service
                .register_http(&json, b"{not json", ip())
                .await
                .map(drop),
            service.token_http(&json, b"", ip()).await.map(drop),
        ];
        for result in results {
            match result {
                Err(Error::Throttled { retry_after }) => {
                    assert!(retry_after >= 1);
                    assert_eq!(retry_after, expected);
                }
                other => panic!("expected Error::Throttled, got {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn ip_limit_counts_per_address() {
    let mut config = config();
    config.throttle.auth_ip = Some(Rate::per_minute(2));
    let mut store = MockAuthStore::new();
    store
        .expect_rotate_refresh_token()
        .times(3)
        .returning(|_, _, _, _| Ok(Rotation::Unknown));
    let service = service(store, MemoryThrottle::new(), &config);

    for _ in 0..2 {
        let error = service.refresh("vrt_x", ip()).await.expect_err("unknown");
        assert!(matches!(error, Error::InvalidRefreshToken(_)), "{error:?}");
    }
    let error = service.refresh("vrt_x", ip()).await.expect_err("throttled");
    assert!(
        matches!(error, Error::Throttled { retry_after } if retry_after >= 1),
        "{error:?}"
    );
    let other: Option<IpAddr> = Some("198.51.100.7".parse().expect("IP literal"));
    let error = service.refresh("vrt_x", other).await.expect_err("unknown");
    assert!(matches!(error, Error::InvalidRefreshToken(_)), "{error:?}");
}

// --- access tokens ----------------------------------------------------------------------------

#[tokio::test]
async fn authenticate_caches_state_until_logout_all_forgets_it() {
    let id = Uuid::now_v7();
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    store
        .expect_token_state()
        .with(eq(id))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(0, true, Role::User))));
    store
        .expect_end_all_sessions()
        .with(eq(id), always())
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    store
        .expect_token_state()
        .with(eq(id))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(1, true, Role::User))));
    let service = service(store, no_throttle(), &config());
    let old = service
        .tokens()
        .issue_access(id, Role::User, 0, time::now())
        .expect("issue");

    let caller = service.authenticate(&old).await.expect("first");
    assert_eq!(caller, principal(id));
    assert_eq!(service.authenticate(&old).await.expect("cached"), caller);

    service.logout_all(&caller).await.expect("logout_all");
    let error = service
        .authenticate(&old)
        .await
        .expect_err("revoked at once on this instance");
    assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");

    let new = service
        .tokens()
        .issue_access(id, Role::User, 1, time::now())
        .expect("issue");
    assert_eq!(
        service.authenticate(&new).await.expect("new version"),
        caller
    );
}

#[tokio::test]
async fn authenticate_without_a_cache_reads_state_every_time() {
    let id = Uuid::now_v7();
    let mut store = MockAuthStore::new();
    store
        .expect_token_state()
        .with(eq(id))
        .times(2)
        .returning(|_| Ok(Some(state(0, true, Role::User))));
    let mut config = config();
    config.auth.token_state_ttl = Duration::ZERO;
    let service = service(store, no_throttle(), &config);
    let token = service
        .tokens()
        .issue_access(id, Role::User, 0, time::now())
        .expect("issue");
    service.authenticate(&token).await.expect("first");
    service.authenticate(&token).await.expect("second");
}

#[tokio::test]
async fn authenticate_takes_the_role_from_current_state() {
    let id = Uuid::now_v7();
    let mut store = MockAuthStore::new();
    store
        .expect_token_state()
        .times(1)
        .returning(|_| Ok(Some(state(3, true, Role::User))));
    let service = service(store, no_throttle(), &config());
    let token = service
        .tokens()
        .issue_access(id, Role::Admin, 3, time::now())
        .expect("issue");
    let caller = service.authenticate(&token).await.expect("valid");
    assert_eq!(
        caller.role,
        Role::User,
        "a demoted admin's token is not admin"
    );
}

#[tokio::test]
async fn authenticate_refuses_other_versions_inactive_and_deleted_users() {
    for current in [
        Some(state(1, true, Role::User)),
        Some(state(0, false, Role::User)),
        None,
    ] {
        let id = Uuid::now_v7();
        let mut store = MockAuthStore::new();
        // Refusals are cached too (deleted users included): one read for two attempts.
        store.expect_token_state().with(eq(id)).times(1).returning({
            let current = current.clone();
            move |_| Ok(current.clone())
        });
        let service = service(store, no_throttle(), &config());
        let token = service
            .tokens()
            .issue_access(id, Role::User, 0, time::now())
            .expect("issue");
        for _ in 0..2 {
            let error = service.authenticate(&token).await.expect_err("refused");
            assert!(
                matches!(error, Error::InvalidAccessToken(_)),
                "{current:?}: {error:?}"
            );
        }
    }
}

#[tokio::test]
async fn authenticate_refuses_forged_tokens_without_store_calls() {
    let service = service(MockAuthStore::new(), no_throttle(), &config());
    let foreign = TokenCodec::new(&Config::new("sqlite::memory:", Secret::new(vec![8u8; 32])))
        .issue_access(Uuid::now_v7(), Role::Admin, 0, time::now())
        .expect("issue");
    for token in ["garbage", "a.b.c", foreign.as_str()] {
        let error = service.authenticate(token).await.expect_err("forged");
        assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");
    }
}

// --- the caller's own account -----------------------------------------------------------------

#[tokio::test]
async fn password_change_with_a_wrong_current_password_changes_nothing() {
    let user = ada(PASSWORD).await;
    let id = user.id;
    let key = format!("auth-user:{id}");
    let mut store = MockAuthStore::new();
    store
        .expect_user_by_id()
        .with(eq(id))
        .times(1)
        .returning(move |_| Ok(Some(user.clone())));
    store.expect_change_password().never();
    let mut throttle = MockThrottle::new();
    let peek_key = key.clone();
    throttle
        .expect_peek()
        .withf(move |k, _| k == peek_key)
        .times(1)
        .returning(|_, _| Ok(Decision::Allow));
    throttle
        .expect_hit()
        .withf(move |k, _| k == key)
        .times(1)
        .returning(|_, _| Ok(Decision::Allow));

    let request = ChangePasswordRequest {
        current_password: WRONG_PASSWORD.into(),
        new_password: "another-sturdy-quokka-77".into(),
    };
    let errors = field_errors(
        service(
            store,
            throttle,
            &config_with_user_limit(Rate::per_minute(5)),
        )
        .change_password(&principal(id), request)
        .await
        .expect_err("wrong current password"),
    );
    assert!(errors.get("current_password").is_some(), "{errors:?}");
}

#[tokio::test]
async fn password_change_refuses_weak_or_unchanged_new_passwords() {
    for new_password in ["password123", PASSWORD, "ada"] {
        let user = ada(PASSWORD).await;
        let id = user.id;
        let mut store = MockAuthStore::new();
        store
            .expect_user_by_id()
            .times(1)
            .returning(move |_| Ok(Some(user.clone())));
        store.expect_change_password().never();
        let request = ChangePasswordRequest {
            current_password: PASSWORD.into(),
            new_password: new_password.into(),
        };
        let errors = field_errors(
            service(store, no_throttle(), &config())
                .change_password(&principal(id), request)
                .await
                .expect_err("refused"),
        );
        assert!(
            errors.get("new_password").is_some(),
            "{new_password}: {errors:?}"
        );
    }
}

#[tokio::test]
async fn password_change_stores_the_new_hash_and_forgets_cached_state() {
    const NEW: &str = "another-sturdy-quokka-77";
    let user = ada(PASSWORD).await;
    let id = user.id;
    let new_hash: Arc<Mutex<Option<String>>> = Arc::default();
    let saved = Arc::clone(&new_hash);
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(2, true, Role::User))));
    store
        .expect_user_by_id()
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(Some(user.clone())));
    store
        .expect_change_password()
        .withf(move |user_id, _, _| *user_id == id)
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_, hash, _| {
            *saved.lock().expect("lock") = Some(hash.to_string());
            Ok(true)
        });
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(3, true, Role::User))));
    let service = service(store, no_throttle(), &config());
    let token = service
        .tokens()
        .issue_access(id, Role::User, 2, time::now())
        .expect("issue");

    let caller = service.authenticate(&token).await.expect("valid before");
    service
        .change_password(
            &caller,
            ChangePasswordRequest {
                current_password: PASSWORD.into(),
                new_password: NEW.into(),
            },
        )
        .await
        .expect("change_password");
    let error = service
        .authenticate(&token)
        .await
        .expect_err("revoked after the change");
    assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");

    let stored = new_hash.lock().expect("lock").clone().expect("a new hash");
    assert!(hasher().verify(NEW, Some(&stored)).await.expect("verify"));
    assert!(!hasher()
        .verify(PASSWORD, Some(&stored))
        .await
        .expect("verify"));
}

#[tokio::test]
async fn account_deletion_needs_the_password_and_forgets_cached_state() {
    let user = ada(PASSWORD).await;
    let id = user.id;
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(2, true, Role::User))));
    store
        .expect_user_by_id()
        .times(2)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(Some(user.clone())));
    store
        .expect_delete_user()
        .with(eq(id))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(true));
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(None));
    let service = service(store, no_throttle(), &config());
    let token = service
        .tokens()
        .issue_access(id, Role::User, 2, time::now())
        .expect("issue");
    let caller = service.authenticate(&token).await.expect("valid before");

    let errors = field_errors(
        service
            .delete_account(
                &caller,
                DeleteAccountRequest {
                    password: WRONG_PASSWORD.into(),
                },
            )
            .await
            .expect_err("wrong password"),
    );
    assert!(errors.get("password").is_some(), "{errors:?}");

    service
        .delete_account(
            &caller,
            DeleteAccountRequest {
                password: PASSWORD.into(),
            },
        )
        .await
        .expect("delete_account");
    let error = service
        .authenticate(&token)
        .await
        .expect_err("gone after deletion");
    assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");
}

#[tokio::test]
async fn profile_updates_validate_before_the_store() {
    let id = Uuid::now_v7();
    let mut store = MockAuthStore::new();
    store.expect_update_user().never();
    let service = service(store, no_throttle(), &config());

    let request = UpdateMeRequest {
        email: crate::wire::Patch::Value("nope".into()),
        display_name: crate::wire::Patch::Null,
    };
    let errors = field_errors(
        service
            .update_me(&principal(id), request)
            .await
            .expect_err("invalid"),
    );
    assert!(errors.get("email").is_some(), "{errors:?}");
    assert!(errors.get("display_name").is_some(), "{errors:?}");
}

#[tokio::test]
async fn profile_updates_pass_validated_changes_and_notice_deleted_users() {
    let id = Uuid::now_v7();
    let mut store = MockAuthStore::new();
    store
        .expect_update_user()
        .withf(move |user_id, changes, _| {
            *user_id == id
                && changes
                    == &UserChanges {
                        email: Some(Email::parse("Ada@example.org").expect("email")),
                        display_name: None,
                    }
        })
        .times(1)
        .returning(|_, _, _| Ok(None));
    store.expect_token_state().times(1).returning(|_| Ok(None));
    let service = service(store, no_throttle(), &config());

    let request = UpdateMeRequest {
        email: crate::wire::Patch::Value("Ada@EXAMPLE.org".into()),
        display_name: crate::wire::Patch::Missing,
    };
    let error = service
        .update_me(&principal(id), request)
        .await
        .expect_err("user gone");
    assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");
    let error = service.me(&principal(id)).await.expect_err("user gone");
    assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");
}

#[tokio::test]
async fn me_is_served_from_the_cached_state_until_a_profile_update_forgets_it() {
    let before = state(0, true, Role::User);
    let id = before.user.id;
    let mut after = before.clone();
    after.user.display_name = "Countess".into();
    let record = {
        let mut record = ada(PASSWORD).await;
        record.id = id;
        record.display_name = "Countess".into();
        record
    };
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    let first = before.clone();
    store
        .expect_token_state()
        .with(eq(id))
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(Some(first.clone())));
    store
        .expect_update_user()
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_, _, _| Ok(Some(record.clone())));
    let second = after.clone();
    store
        .expect_token_state()
        .with(eq(id))
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(Some(second.clone())));
    store.expect_user_by_id().never();
    let service = service(store, no_throttle(), &config());
    let token = service
        .tokens()
        .issue_access(id, Role::User, 0, time::now())
        .expect("issue");

    // One read serves the token check and every `me` after it.
    let caller = service.authenticate(&token).await.expect("authenticate");
    assert_eq!(service.me(&caller).await.expect("me"), before.user);
    assert_eq!(service.me(&caller).await.expect("me again"), before.user);
    let json = |user: &User| bytes::Bytes::from(serde_json::to_vec(user).expect("json"));
    assert_eq!(
        service.me_json(&caller).await.expect("me json"),
        json(&before.user)
    );

    let request = UpdateMeRequest {
        email: crate::wire::Patch::Missing,
        display_name: crate::wire::Patch::Value("Countess".into()),
    };
    let updated = service.update_me(&caller, request).await.expect("update");
    assert_eq!(updated.display_name, "Countess");
    // The update is visible at once on this instance, not after the cache's TTL.
    assert_eq!(service.me(&caller).await.expect("me after"), after.user);
    // So is the body `GET /auth/me` answers with.
    assert_eq!(
        service.me_json(&caller).await.expect("me json after"),
        json(&after.user)
    );
}

#[tokio::test]
async fn logout_refuses_forged_tokens_and_accepts_genuine_ones() {
    for known in [false, true] {
        let mut store = MockAuthStore::new();
        let expected = TokenCodec::hash_refresh("vrt_session");
        store
            .expect_revoke_session_of()
            .withf(move |hash, _| hash == expected.as_slice())
            .times(1)
            .returning(move |_, _| Ok(known));
        let result = service(store, no_throttle(), &config())
            .logout("vrt_session")
            .await;
        match (known, result) {
            (true, Ok(())) => {}
            (false, Err(Error::InvalidRefreshToken(_))) => {}
            (known, other) => panic!("known {known}: {other:?}"),
        }
    }
}

// --- administration ---------------------------------------------------------------------------

#[tokio::test]
async fn admin_changes_of_unknown_users_are_not_found() {
    let id = Uuid::now_v7();
    let mut store = MockAuthStore::new();
    store
        .expect_set_active()
        .with(eq(id), eq(false), always())
        .times(1)
        .returning(|_, _, _| Ok(false));
    store
        .expect_set_role()
        .with(eq(id), eq(Role::Admin), always())
        .times(1)
        .returning(|_, _, _| Ok(false));
    let service = service(store, no_throttle(), &config());
    assert!(matches!(
        service.set_active(id, false).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        service.set_role(id, Role::Admin).await,
        Err(Error::NotFound)
    ));
}

#[tokio::test]
async fn deactivation_and_role_changes_forget_cached_state() {
    let id = Uuid::now_v7();
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(0, true, Role::User))));
    store
        .expect_set_role()
        .with(eq(id), eq(Role::Admin), always())
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _| Ok(true));
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(1, true, Role::Admin))));
    store
        .expect_set_active()
        .with(eq(id), eq(false), always())
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _| Ok(true));
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(2, false, Role::Admin))));
    let service = service(store, no_throttle(), &config());

    let v0 = service
        .tokens()
        .issue_access(id, Role::User, 0, time::now())
        .expect("issue");
    service.authenticate(&v0).await.expect("valid");
    service.set_role(id, Role::Admin).await.expect("set_role");
    assert!(
        service.authenticate(&v0).await.is_err(),
        "old version refused"
    );
    let v1 = service
        .tokens()
        .issue_access(id, Role::User, 1, time::now())
        .expect("issue");
    assert_eq!(
        service.authenticate(&v1).await.expect("new version").role,
        Role::Admin
    );
    service.set_active(id, false).await.expect("set_active");
    let error = service
        .authenticate(&v1)
        .await
        .expect_err("inactive at once on this instance");
    assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");
}
