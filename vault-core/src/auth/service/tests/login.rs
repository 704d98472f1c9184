//! Login, registration and per-IP throttling (the password-check budgets are in `attempts`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mockall::Sequence;

use super::*;
use crate::auth::token::TokenCodec;
use crate::throttle::{digest_key, Decision, MemoryThrottle};

// --- login ------------------------------------------------------------------------------------

#[tokio::test]
async fn login_of_an_inactive_user_with_the_right_password_fails_and_counts() {
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
        .expect_hit()
        .times(2)
        .returning(|_, _| Ok(Decision::Allow));
    throttle.expect_refund().never();

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
async fn login_opens_a_session_and_gives_its_units_back() {
    let rate = Rate::per_minute(5);
    let user = ada(PASSWORD).await;
    let (user_id, version) = (user.id, user.token_version);
    let name_key = digest_key("login", "ada@example.com");
    let account_key = format!("account:{user_id}");
    let session: Arc<Mutex<Option<NewRefreshToken>>> = Arc::default();
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    let mut throttle = MockThrottle::new();
    let key = name_key.clone();
    throttle
        .expect_hit()
        .withf(move |k, r| k == key && *r == rate)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(Decision::Allow));
    store
        .expect_user_by_login()
        .withf(|login| login == "ada@example.com")
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(Some(user.clone())));
    let key = account_key.clone();
    throttle
        .expect_hit()
        .withf(move |k, r| k == key && r.count == 10)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(Decision::Allow));
    // The password was right: both units come back, before the session is opened.
    let key = name_key.clone();
    throttle
        .expect_refund()
        .withf(move |k, r| k == key && *r == rate)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    let key = account_key.clone();
    throttle
        .expect_refund()
        .withf(move |k, r| k == key && r.count == 10)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    let saved = Arc::clone(&session);
    store
        .expect_insert_refresh_token()
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |row| {
            *saved.lock().expect("lock") = Some(row.clone());
            Ok(())
        });
    store
        .expect_purge_expired_tokens()
        .times(1)
        .returning(|_| Ok(0));
    store.expect_replace_password_hash().never();
    throttle.expect_peek().never();
    let service = service(store, throttle, &config_with_user_limit(rate));

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

#[test]
fn registration_location_is_me_under_the_prefix() {
    let mut config = config();
    assert_eq!(
        service(MockAuthStore::new(), no_throttle(), &config).me_location(),
        "/api/auth/me"
    );
    config.http.api_prefix = "/v1/vault".into();
    assert_eq!(
        service(MockAuthStore::new(), no_throttle(), &config).me_location(),
        "/v1/vault/auth/me"
    );
    config.http.api_prefix = String::new();
    assert_eq!(
        service(MockAuthStore::new(), no_throttle(), &config).me_location(),
        "/auth/me"
    );
}
