//! The password-check budgets: taken atomically before the hasher runs, kept by failures,
//! given back by successes; per login name as typed, per account for confirmations, under an
//! account ceiling.

use std::sync::Arc;

use futures::future::join_all;
use mockall::Sequence;

use super::*;
use crate::throttle::{digest_key, Decision, MemoryThrottle};

/// A stored hash the hasher cannot parse: verifying against it is an internal error, so a
/// test whose answer is anything else proves the password was never checked.
const UNVERIFIABLE: &str = "not-a-phc-string";

/// Ada with [`UNVERIFIABLE`] as her hash.
async fn unverifiable_ada() -> UserRecord {
    let mut user = ada(PASSWORD).await;
    user.password_hash = UNVERIFIABLE.into();
    user
}

/// The service over `store` and a shared in-memory throttle the test can inspect.
fn service_with(store: MockAuthStore, throttle: &Arc<MemoryThrottle>, rate: Rate) -> AuthService {
    AuthService::new(
        Arc::new(store),
        Arc::clone(throttle) as Arc<dyn Throttle>,
        &config_with_user_limit(rate),
    )
    .expect("valid configuration")
}

fn is_throttled(result: &Result<TokenPair, Error>) -> bool {
    matches!(result, Err(Error::Throttled { retry_after }) if *retry_after >= 1)
}

fn is_refused(result: &Result<TokenPair, Error>) -> bool {
    matches!(result, Err(Error::AuthenticationFailed))
}

#[tokio::test]
async fn the_fixture_hash_cannot_be_verified() {
    assert!(hasher().verify(PASSWORD, Some(UNVERIFIABLE)).await.is_err());
}

// --- order: count first, then check -------------------------------------------------------------

#[tokio::test]
async fn a_spent_name_budget_refuses_before_the_store_or_the_hasher() {
    let mut throttle = MockThrottle::new();
    throttle
        .expect_hit()
        .withf(|key, _| key == digest_key("login", "ada"))
        .times(1)
        .returning(|_, _| {
            Ok(Decision::Deny {
                retry_after: std::time::Duration::from_secs(30),
            })
        });
    throttle.expect_refund().never();
    throttle.expect_peek().never();
    // No expectations: any store call panics.
    let error = service(
        MockAuthStore::new(),
        throttle,
        &config_with_user_limit(Rate::per_minute(5)),
    )
    .login(" ADA ", PASSWORD, None)
    .await
    .expect_err("throttled even with the right password");
    assert!(
        matches!(error, Error::Throttled { retry_after: 30 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_spent_account_ceiling_refuses_before_the_hasher_and_gives_the_name_unit_back() {
    let rate = Rate::per_minute(5);
    let user = unverifiable_ada().await;
    let account_key = format!("account:{}", user.id);
    let name_key = digest_key("login", "ada");
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
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(Some(user.clone())));
    throttle
        .expect_hit()
        .withf(move |k, r| k == account_key && r.count == 10 && r.period == rate.period)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| {
            Ok(Decision::Deny {
                retry_after: std::time::Duration::from_secs(4),
            })
        });
    throttle
        .expect_refund()
        .withf(move |k, r| k == name_key && *r == rate)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    store.expect_insert_refresh_token().never();

    let error = service(store, throttle, &config_with_user_limit(rate))
        .login("Ada", PASSWORD, None)
        .await
        .expect_err("ceiling spent");
    // Had the hasher run, the unverifiable hash would have made this an internal error.
    assert!(
        matches!(error, Error::Throttled { retry_after: 4 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_wrong_password_keeps_both_units() {
    let rate = Rate::per_minute(5);
    let user = ada(PASSWORD).await;
    let account_key = format!("account:{}", user.id);
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    let mut throttle = MockThrottle::new();
    throttle
        .expect_hit()
        .withf(|k, _| k == digest_key("login", "ada"))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(Decision::Allow));
    store
        .expect_user_by_login()
        .withf(|login| login == "ADA")
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(Some(user.clone())));
    throttle
        .expect_hit()
        .withf(move |k, _| k == account_key)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(Decision::Allow));
    throttle.expect_refund().never();
    store.expect_insert_refresh_token().never();

    let error = service(store, throttle, &config_with_user_limit(rate))
        .login("ADA", WRONG_PASSWORD, None)
        .await
        .expect_err("wrong password");
    assert!(matches!(error, Error::AuthenticationFailed), "{error:?}");
}

#[tokio::test]
async fn an_unknown_name_counts_like_a_known_one() {
    let rate = Rate::per_minute(5);
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    let mut throttle = MockThrottle::new();
    throttle
        .expect_hit()
        .withf(move |k, r| k == digest_key("login", "ghost") && *r == rate)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(Decision::Allow));
    store
        .expect_user_by_login()
        .withf(|login| login == "Ghost")
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(None));
    // As many throttle calls as for an account: a login costs the same either way.
    throttle
        .expect_hit()
        .withf(move |k, r| k == digest_key("account", "ghost") && r.count == 10)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(Decision::Allow));
    throttle.expect_refund().never();
    store.expect_insert_refresh_token().never();

    let error = service(store, throttle, &config_with_user_limit(rate))
        .login("Ghost", PASSWORD, None)
        .await
        .expect_err("unknown user");
    assert!(matches!(error, Error::AuthenticationFailed), "{error:?}");
}

#[tokio::test]
async fn store_trouble_gives_the_unit_back() {
    let mut store = MockAuthStore::new();
    store
        .expect_user_by_login()
        .times(1)
        .returning(|_| Err(Error::Unavailable("database down".into())));
    let throttle = Arc::new(MemoryThrottle::new());
    let service = service_with(store, &throttle, Rate::per_minute(5));

    let error = service
        .login("ada", PASSWORD, None)
        .await
        .expect_err("store down");
    assert!(matches!(error, Error::Unavailable(_)), "{error:?}");
    assert!(throttle.is_empty(), "no unit kept: {}", throttle.len());
}

// --- concurrency --------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_simultaneous_guesses_get_at_most_the_budget_of_password_checks() {
    let user = ada(PASSWORD).await;
    let mut store = MockAuthStore::new();
    // Every guess that gets past its name's budget is looked up, then checked; exactly ten
    // lookups means exactly ten password checks, in both rounds together.
    store
        .expect_user_by_login()
        .times(10)
        .returning(move |_| Ok(Some(user.clone())));
    store.expect_insert_refresh_token().never();
    let throttle = Arc::new(MemoryThrottle::new());
    let service = service_with(store, &throttle, Rate::per_minute(10));

    for round in 0..2 {
        let results = join_all((0..40).map(|_| service.login("ada", WRONG_PASSWORD, ip()))).await;
        let refused = results.iter().filter(|r| is_refused(r)).count();
        let throttled = results.iter().filter(|r| is_throttled(r)).count();
        assert_eq!(throttled + refused, 40, "round {round}: {results:?}");
        assert_eq!(refused, if round == 0 { 10 } else { 0 }, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_simultaneous_confirmations_get_at_most_the_budget_of_password_checks() {
    let user = ada(PASSWORD).await;
    let id = user.id;
    let mut store = MockAuthStore::new();
    store
        .expect_user_by_id()
        .returning(move |_| Ok(Some(user.clone())));
    store.expect_delete_user().never();
    store.expect_change_password().never();
    let throttle = Arc::new(MemoryThrottle::new());
    let service = service_with(store, &throttle, Rate::per_minute(10));

    let caller = principal(id);
    let deletions = (0..20).map(|_| {
        service.delete_account(
            &caller,
            DeleteAccountRequest {
                password: WRONG_PASSWORD.into(),
            },
        )
    });
    let changes = (0..20).map(|_| {
        service.change_password(
            &caller,
            ChangePasswordRequest {
                current_password: WRONG_PASSWORD.into(),
                new_password: "another-sturdy-quokka-77".into(),
            },
        )
    });
    let (mut results, changed) = tokio::join!(join_all(deletions), join_all(changes));
    results.extend(changed);
    let checked = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Validation(_))))
        .count();
    let throttled = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Throttled { .. })))
        .count();
    assert_eq!((checked, throttled), (10, 30), "{results:?}");
    // Even the right password now waits: the budget is spent.
    let error = service
        .delete_account(
            &principal(id),
            DeleteAccountRequest {
                password: PASSWORD.into(),
            },
        )
        .await
        .expect_err("budget spent");
    assert!(matches!(error, Error::Throttled { .. }), "{error:?}");
}

// --- what the budgets are keyed by --------------------------------------------------------------

#[tokio::test]
async fn spelling_a_name_differently_spends_the_same_budget() {
    let user = ada(PASSWORD).await;
    let mut store = MockAuthStore::new();
    store
        .expect_user_by_login()
        .times(2)
        .returning(move |_| Ok(Some(user.clone())));
    store.expect_insert_refresh_token().never();
    let throttle = Arc::new(MemoryThrottle::new());
    let service = service_with(store, &throttle, Rate::per_minute(2));

    for login in ["ada", "ADA"] {
        assert!(is_refused(
            &service.login(login, WRONG_PASSWORD, None).await
        ));
    }
    for login in ["Ada", " ada ", "aDa\t"] {
        assert!(
            is_throttled(&service.login(login, PASSWORD, None).await),
            "{login}"
        );
    }
}

#[tokio::test]
async fn a_spent_username_says_nothing_about_which_email_is_linked() {
    let user = ada(PASSWORD).await;
    let mut store = MockAuthStore::new();
    store.expect_user_by_login().returning(move |login| {
        Ok(["ada", "ada@example.com"]
            .contains(&login)
            .then(|| user.clone()))
    });
    store.expect_insert_refresh_token().never();
    let throttle = Arc::new(MemoryThrottle::new());
    let service = service_with(store, &throttle, Rate::per_minute(3));

    for _ in 0..3 {
        assert!(is_refused(
            &service.login("ada", WRONG_PASSWORD, None).await
        ));
    }
    assert!(is_throttled(
        &service.login("ada", WRONG_PASSWORD, None).await
    ));
    // The linked email and unlinked ones answer alike, guess after guess, until each name's
    // own budget is spent.
    for round in 0..4 {
        let mut answers = Vec::new();
        for email in ["ada@example.com", "bob@example.com", "eve@example.org"] {
            answers.push(is_throttled(
                &service.login(email, WRONG_PASSWORD, None).await,
            ));
        }
        assert_eq!(answers, vec![round == 3; 3], "round {round}");
    }
}

#[tokio::test]
async fn the_account_ceiling_bounds_guesses_over_all_its_names() {
    let user = ada(PASSWORD).await;
    let id = user.id;
    let names = ["ada", "ada@example.com", "ada@new.example.com"];
    let mut store = MockAuthStore::new();
    let found = user.clone();
    store
        .expect_user_by_login()
        .returning(move |login| Ok(names.contains(&login).then(|| found.clone())));
    store
        .expect_user_by_id()
        .returning(move |_| Ok(Some(user.clone())));
    store.expect_insert_refresh_token().never();
    let throttle = Arc::new(MemoryThrottle::new());
    let service = service_with(store, &throttle, Rate::per_minute(2));

    // Two names, two budgets of two: four guesses, which the ceiling (four) allows.
    for login in ["ada", "ada", "ada@example.com", "ada@example.com"] {
        assert!(is_refused(
            &service.login(login, WRONG_PASSWORD, None).await
        ));
    }
    // A third name (an email changed by whoever holds a token) brings no fresh guesses, nor
    // does a confirmation.
    assert!(is_throttled(
        &service
            .login("ada@new.example.com", WRONG_PASSWORD, None)
            .await
    ));
    let error = service
        .delete_account(
            &principal(id),
            DeleteAccountRequest {
                password: WRONG_PASSWORD.into(),
            },
        )
        .await
        .expect_err("ceiling spent");
    assert!(matches!(error, Error::Throttled { .. }), "{error:?}");
    // The refused attempts took nothing: the third name's own budget is untouched.
    assert_eq!(
        throttle
            .peek(
                &digest_key("login", "ada@new.example.com"),
                Rate::per_minute(2)
            )
            .await
            .expect("peek"),
        Decision::Allow
    );
}

#[tokio::test]
async fn successes_give_their_units_back() {
    let user = ada(PASSWORD).await;
    let id = user.id;
    let mut store = MockAuthStore::new();
    let found = user.clone();
    store
        .expect_user_by_login()
        .returning(move |_| Ok(Some(found.clone())));
    store
        .expect_user_by_id()
        .returning(move |_| Ok(Some(user.clone())));
    store.expect_insert_refresh_token().returning(|_| Ok(()));
    store.expect_purge_expired_tokens().returning(|_| Ok(0));
    store.expect_token_state().returning(|_| Ok(None));
    store.expect_change_password().returning(|_, _, _| Ok(true));
    let throttle = Arc::new(MemoryThrottle::new());
    let service = service_with(store, &throttle, Rate::per_minute(2));

    for _ in 0..5 {
        service.login("ada", PASSWORD, None).await.expect("login");
    }
    for _ in 0..5 {
        service
            .change_password(
                &principal(id),
                ChangePasswordRequest {
                    current_password: PASSWORD.into(),
                    new_password: "another-sturdy-quokka-77".into(),
                },
            )
            .await
            .expect("change");
    }
    assert!(throttle.is_empty(), "{} counters left", throttle.len());
}

// --- bounded input, bounded memory ----------------------------------------------------------------

#[tokio::test]
async fn an_overlong_login_name_is_refused_before_any_count_or_lookup() {
    let mut throttle = MockThrottle::new();
    throttle.expect_hit().never();
    throttle.expect_peek().never();
    // No store expectations: a lookup panics.
    let service = service(
        MockAuthStore::new(),
        throttle,
        &config_with_user_limit(Rate::per_minute(5)),
    );
    for name in ["x".repeat(255), "é".repeat(255), "y".repeat(1 << 20)] {
        let errors = field_errors(
            service
                .login(&name, PASSWORD, None)
                .await
                .expect_err("too long"),
        );
        assert_eq!(
            errors.get("username"),
            Some(&["Ensure this field has no more than 254 characters.".to_string()][..])
        );
        assert!(errors.get("password").is_none(), "{errors:?}");
    }
}

#[tokio::test]
async fn three_hundred_huge_usernames_leave_the_counters_empty() {
    let throttle = Arc::new(MemoryThrottle::new());
    let service = service_with(MockAuthStore::new(), &throttle, Rate::per_minute(10));
    let mut name = "u".repeat(1 << 20);
    for i in 0..300u32 {
        name.replace_range(..4, &format!("{i:04}"));
        let error = service
            .login(&name, WRONG_PASSWORD, None)
            .await
            .expect_err("too long");
        assert!(matches!(error, Error::Validation(_)), "{error:?}");
    }
    assert_eq!(throttle.table_bytes(), 0);
}

#[tokio::test]
async fn counters_of_the_longest_names_are_as_small_as_any() {
    let mut store = MockAuthStore::new();
    store.expect_user_by_login().returning(|_| Ok(None));
    let throttle = Arc::new(MemoryThrottle::new());
    // Per hour, so no counter is full again (and swept) while the test runs.
    let hourly = Rate {
        count: 10,
        period: std::time::Duration::from_secs(3600),
    };
    let service = service_with(store, &throttle, hourly);
    let mut name = "n".repeat(254);
    for i in 0..300u32 {
        name.replace_range(..4, &format!("{i:04}"));
        let result = service.login(&name, WRONG_PASSWORD, None).await;
        assert!(is_refused(&result), "{result:?}");
    }
    // A name counter and a ceiling counter each; 254-byte names cost 25-byte buckets.
    assert_eq!(throttle.len(), 600);
    assert!(
        throttle.table_bytes() <= 2048 * 25 + 16,
        "{}",
        throttle.table_bytes()
    );
}

#[tokio::test]
async fn names_no_account_can_have_are_never_looked_up() {
    let mut throttle = MockThrottle::new();
    throttle
        .expect_hit()
        .times(2)
        .returning(|_, _| Ok(Decision::Allow));
    throttle.expect_refund().never();
    // No store expectations: a lookup panics. PostgreSQL's lower() would match this Kelvin
    // sign to an account "kate"; SQLite's would not.
    let error = service(
        MockAuthStore::new(),
        throttle,
        &config_with_user_limit(Rate::per_minute(5)),
    )
    .login("\u{212A}ate", PASSWORD, None)
    .await
    .expect_err("no such account");
    assert!(matches!(error, Error::AuthenticationFailed), "{error:?}");
}

#[tokio::test]
async fn overlong_passwords_and_refresh_tokens_are_refused_before_any_count_or_lookup() {
    let mut throttle = MockThrottle::new();
    throttle.expect_hit().never();
    throttle.expect_peek().never();
    // No store expectations: a lookup panics.
    let service = service(MockAuthStore::new(), throttle, &config());
    let long = "p".repeat(PRESENTED_PASSWORD_MAX + 1);
    let message =
        format!("Ensure this field has no more than {PRESENTED_PASSWORD_MAX} characters.");
    let errors = field_errors(
        service
            .login("ada", &long, None)
            .await
            .expect_err("too long"),
    );
    assert_eq!(errors.get("password"), Some(&[message.clone()][..]));
    let caller = principal(Uuid::now_v7());
    let errors = field_errors(
        service
            .delete_account(
                &caller,
                DeleteAccountRequest {
                    password: long.clone(),
                },
            )
            .await
            .expect_err("too long"),
    );
    assert_eq!(errors.get("password"), Some(&[message.clone()][..]));
    let errors = field_errors(
        service
            .change_password(
                &caller,
                ChangePasswordRequest {
                    current_password: long.clone(),
                    new_password: "another-sturdy-passphrase".into(),
                },
            )
            .await
            .expect_err("too long"),
    );
    assert_eq!(errors.get("current_password"), Some(&[message][..]));
    let token = "r".repeat(PRESENTED_REFRESH_MAX + 1);
    assert!(matches!(
        service.logout(&token).await,
        Err(Error::InvalidRefreshToken(_))
    ));
    assert!(matches!(
        service.refresh(&token, None).await,
        Err(Error::InvalidRefreshToken(_))
    ));
}
