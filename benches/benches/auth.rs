//! Criterion benchmarks of the authentication hot paths.
//!
//! - `password/*`: argon2id hashing and verification at the default (OWASP minimum)
//!   parameters, m=19456 KiB, t=2, p=1, through [`PasswordHasher`] (blocking thread + semaphore).
//! - `token/*`: signing and verifying an HS256 access token with [`TokenCodec`].
//! - `extract/*`: a real [`Vault`] on a temporary SQLite file with one registered user;
//!   `authenticate` is [`AuthService::authenticate`](vault_core::auth::AuthService::authenticate)
//!   with a warm revocation-state cache, `axum_auth_user` is the whole axum extractor
//!   ([`vault_axum::AuthUser`]) from request `Parts` carrying `Authorization: Bearer …`.
//!   Target: token verification plus principal extraction ≤ 10 µs.
//!
//! Run with `cargo bench -p vault-benches --bench auth`.

use std::hint::black_box;
use std::time::Duration;

use axum::extract::FromRequestParts;
use criterion::{criterion_main, BatchSize, Criterion, SamplingMode};
use serde_json::json;
use tokio::runtime::Runtime;
use uuid::Uuid;
use vault_axum::AuthUser;
use vault_core::auth::{PasswordHasher, TokenCodec};
use vault_core::config::PasswordHashParams;
use vault_core::{Config, Role, Secret, ThrottleConfig, Vault};

const PASSWORD: &str = "sturdy-quokka-2931";

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("bench setup: tokio runtime")
}

fn config(database_url: &str) -> Config {
    let mut config = Config::new(database_url, Secret::new(vec![7u8; 32]));
    config.throttle = ThrottleConfig::off();
    config
}

/// argon2id hash and verify. Each takes tens of milliseconds, so few samples in flat mode.
fn password(c: &mut Criterion) {
    let rt = runtime();
    let hasher = PasswordHasher::new(PasswordHashParams::default(), 1)
        .expect("bench setup: argon2 accepts the default parameters");
    let hash = rt
        .block_on(hasher.hash(PASSWORD))
        .expect("bench setup: hashing works");
    assert!(
        rt.block_on(hasher.verify(PASSWORD, Some(&hash)))
            .expect("bench setup: verifying works"),
        "bench setup: the password must verify against its own hash"
    );

    let mut group = c.benchmark_group("password");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("hash", |b| {
        b.to_async(&rt).iter(|| hasher.hash(black_box(PASSWORD)));
    });
    group.bench_function("verify", |b| {
        b.to_async(&rt)
            .iter(|| hasher.verify(black_box(PASSWORD), Some(black_box(hash.as_str()))));
    });
    group.finish();
}

/// Signing and verifying an access token, without any state lookup.
fn token(c: &mut Criterion) {
    let codec = TokenCodec::new(&config("sqlite::memory:"));
    let user_id = Uuid::now_v7();
    let now = vault_core::time::now();
    let token = codec
        .issue_access(user_id, Role::User, 0, now)
        .expect("bench setup: issuing works");
    let claims = codec
        .verify_access(&token)
        .expect("bench setup: a fresh token verifies");
    assert_eq!(
        claims.sub, user_id,
        "bench setup: round trip keeps the subject"
    );

    let mut group = c.benchmark_group("token");
    group.bench_function("issue_access", |b| {
        b.iter(|| codec.issue_access(black_box(user_id), Role::User, 0, black_box(now)));
    });
    group.bench_function("verify_access", |b| {
        b.iter(|| codec.verify_access(black_box(&token)));
    });
    group.finish();
}

/// The authenticated-user path of a real `Vault`: token verification plus the cached
/// revocation-state lookup, directly and through the axum extractor.
fn extract(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("bench setup: temporary directory");
    let url = format!("sqlite://{}", dir.path().join("vault.db").display());
    let vault = rt
        .block_on(Vault::open(config(&url)))
        .expect("bench setup: Vault opens on a temporary SQLite file");
    let request = serde_json::from_value(json!({
        "username": "bench",
        "email": "bench@example.com",
        "password": PASSWORD,
    }))
    .expect("bench setup: register request decodes");
    let registered = rt
        .block_on(vault.auth().register(request, None))
        .expect("bench setup: registration succeeds");
    let token = registered.access;
    let user_id = registered.user.id;

    let request = http::Request::builder()
        .uri("/me")
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(())
        .expect("bench setup: request builds");
    let (parts, ()) = request.into_parts();

    // Warm the revocation-state cache and check both paths accept the token.
    let principal = rt
        .block_on(vault.auth().authenticate(&token))
        .expect("bench setup: the token authenticates");
    assert_eq!(principal.user_id, user_id, "bench setup: right user");
    let AuthUser(principal) = rt
        .block_on(AuthUser::from_request_parts(&mut parts.clone(), &vault))
        .expect("bench setup: the extractor accepts the token");
    assert_eq!(principal.user_id, user_id, "bench setup: right user");

    let mut group = c.benchmark_group("extract");
    group.bench_function("authenticate", |b| {
        b.to_async(&rt)
            .iter(|| vault.auth().authenticate(black_box(&token)));
    });
    group.bench_function("axum_auth_user", |b| {
        let vault = &vault;
        // Fresh `Parts` per iteration (built outside the timing): the extractor caches the
        // principal in the request extensions, which must not carry over.
        b.to_async(&rt).iter_batched(
            || parts.clone(),
            |mut parts| async move { AuthUser::from_request_parts(&mut parts, vault).await },
            BatchSize::SmallInput,
        );
    });
    group.finish();
    drop(vault);
    drop(dir);
}

/// Every benchmark of this file (what `criterion_group!` would generate, but documented).
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    password(&mut c);
    token(&mut c);
    extract(&mut c);
}

criterion_main!(benches);
