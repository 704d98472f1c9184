//! The blob store suite against a real S3-compatible server (moto, MinIO) at
//! `VAULT_TEST_S3_ENDPOINT`, e.g. `http://127.0.0.1:9199`. Each test creates its own bucket.
//! Without the variable the tests are ignored (vault-core's build script turns it into
//! `cfg(vault_test_s3)`); one run anyway (`--ignored`) fails, saying why.
//!
//! Credentials default to `test` / `test` (moto accepts anything); for MinIO set
//! `VAULT_TEST_S3_ACCESS_KEY` and `VAULT_TEST_S3_SECRET_KEY` to its root credentials.
#![cfg(feature = "s3")]

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;
use vault_core::blob::object_store::aws::AmazonS3Builder;
use vault_core::blob::object_store::path::Path;
use vault_core::blob::object_store::signer::Signer;
use vault_core::blob::{suite, BlobStore, S3BlobStore, S3Config};
use vault_core::{Error, Secret};

const PART_SIZE: usize = 5 * 1024 * 1024;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn config(endpoint: &str, bucket: &str) -> S3Config {
    let mut config = S3Config::new(bucket);
    config.endpoint = Some(endpoint.to_string());
    config.access_key_id = Some(env_or("VAULT_TEST_S3_ACCESS_KEY", "test"));
    config.secret_access_key = Some(Secret::new(env_or("VAULT_TEST_S3_SECRET_KEY", "test")));
    config.allow_http = endpoint.starts_with("http://");
    config.part_size = PART_SIZE;
    config
}

/// The S3 server under test.
///
/// # Panics
/// When `VAULT_TEST_S3_ENDPOINT` is unset: the test was built with it and run without, or run
/// with `--ignored`; passing would hide that nothing ran.
fn endpoint() -> String {
    std::env::var("VAULT_TEST_S3_ENDPOINT")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| {
            panic!(
                "this S3 test runs but VAULT_TEST_S3_ENDPOINT is not set: set it (e.g. \
                 http://127.0.0.1:9199), or leave it unset for the whole `cargo test` so that \
                 the S3 tests are built as ignored"
            )
        })
}

/// A store over a new, empty bucket.
async fn s3_store() -> S3BlobStore {
    let endpoint = endpoint();
    let bucket = format!("vault-test-{}", Uuid::now_v7().simple());
    create_bucket(&endpoint, &bucket).await;
    S3BlobStore::new(config(&endpoint, &bucket)).expect("S3 config")
}

/// `object_store` cannot create buckets: send a presigned `PUT /{bucket}/` (path style) over a
/// bare HTTP/1.1 connection, which works on moto and MinIO alike.
async fn create_bucket(endpoint: &str, bucket: &str) {
    let c = config(endpoint, bucket);
    let signer = AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_bucket_name(bucket)
        .with_region(&c.region)
        .with_allow_http(true)
        .with_access_key_id(c.access_key_id.as_deref().expect("access key"))
        .with_secret_access_key(env_or("VAULT_TEST_S3_SECRET_KEY", "test"))
        .build()
        .expect("signer");
    let url = signer
        .signed_url(http::Method::PUT, &Path::from(""), Duration::from_secs(300))
        .await
        .expect("presigned URL");
    assert_eq!(
        url.scheme(),
        "http",
        "the test creates buckets over plain HTTP only"
    );
    let host = url.host_str().expect("endpoint host").to_string();
    let port = url.port_or_known_default().expect("endpoint port");
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.clone(),
    };
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    let mut tcp = TcpStream::connect((host.as_str(), port))
        .await
        .unwrap_or_else(|e| panic!("cannot reach the S3 server at {endpoint}: {e}"));
    let request = format!(
        "PUT {target} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    tcp.read_to_end(&mut response).await.expect("receive");
    let response = String::from_utf8_lossy(&response);
    let status = response.split_whitespace().nth(1).unwrap_or_default();
    assert_eq!(status, "200", "creating bucket {bucket}: {response}");
}

#[tokio::test]
#[cfg_attr(not(vault_test_s3), ignore = "needs VAULT_TEST_S3_ENDPOINT")]
async fn round_trip() {
    let store = s3_store().await;
    suite::round_trip(&store).await;
}

#[tokio::test]
#[cfg_attr(not(vault_test_s3), ignore = "needs VAULT_TEST_S3_ENDPOINT")]
async fn empty_object() {
    let store = s3_store().await;
    suite::empty_object(&store).await;
}

#[tokio::test]
#[cfg_attr(not(vault_test_s3), ignore = "needs VAULT_TEST_S3_ENDPOINT")]
async fn overwrite_replaces_the_object() {
    let store = s3_store().await;
    suite::overwrite_replaces_the_object(&store).await;
}

#[tokio::test]
#[cfg_attr(not(vault_test_s3), ignore = "needs VAULT_TEST_S3_ENDPOINT")]
async fn delete_is_idempotent() {
    let store = s3_store().await;
    suite::delete_is_idempotent(&store).await;
}

#[tokio::test]
#[cfg_attr(not(vault_test_s3), ignore = "needs VAULT_TEST_S3_ENDPOINT")]
async fn missing_is_not_found() {
    let store = s3_store().await;
    suite::missing_is_not_found(&store).await;
}

#[tokio::test]
#[cfg_attr(not(vault_test_s3), ignore = "needs VAULT_TEST_S3_ENDPOINT")]
async fn failing_stream_leaves_nothing() {
    let store = s3_store().await;
    suite::failing_stream_leaves_nothing(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(vault_test_s3), ignore = "needs VAULT_TEST_S3_ENDPOINT")]
async fn concurrent_readers_never_see_partial_objects() {
    let store = s3_store().await;
    suite::concurrent_readers_never_see_partial_objects(Arc::new(store)).await;
}

#[tokio::test]
#[cfg_attr(not(vault_test_s3), ignore = "needs VAULT_TEST_S3_ENDPOINT")]
async fn bad_keys_are_refused() {
    let store = s3_store().await;
    suite::bad_keys_are_refused(&store).await;
}

#[tokio::test]
#[cfg_attr(not(vault_test_s3), ignore = "needs VAULT_TEST_S3_ENDPOINT")]
async fn ingest_over_the_limit_leaves_nothing() {
    let store = s3_store().await;
    suite::ingest_over_the_limit_leaves_nothing(&store).await;
}

/// Larger than two parts: the multipart path, end to end.
#[tokio::test]
#[cfg_attr(not(vault_test_s3), ignore = "needs VAULT_TEST_S3_ENDPOINT")]
async fn multipart_round_trip() {
    let store = s3_store().await;
    let key = suite::fresh_key();
    let data = suite::pattern(2 * PART_SIZE + 123_457, 11);
    let written = store
        .put(&key, suite::chunked(&data, 256 * 1024))
        .await
        .expect("multipart put");
    assert_eq!(written, data.len() as u64);
    let blob = store.get(&key).await.expect("get");
    assert_eq!(blob.size, data.len() as u64);
    assert!(suite::read_all(blob).await == data, "bytes differ");
}

/// A multipart upload that fails after some parts went up is aborted: no object, and the
/// previous one is intact.
#[tokio::test]
#[cfg_attr(not(vault_test_s3), ignore = "needs VAULT_TEST_S3_ENDPOINT")]
async fn failed_multipart_upload_leaves_nothing() {
    let store = s3_store().await;
    let key = suite::fresh_key();
    let before = suite::pattern(1000, 12);
    let failing = || {
        suite::chunked(&suite::pattern(2 * PART_SIZE + 1, 13), 512 * 1024)
            .chain(futures::stream::iter([Err(Error::Parse(
                "client went away".into(),
            ))]))
            .boxed()
    };
    assert!(matches!(
        store.put(&key, failing()).await,
        Err(Error::Parse(_))
    ));
    assert!(!store.exists(&key).await.expect("exists"));

    store
        .put(&key, suite::chunked(&before, 100))
        .await
        .expect("put");
    assert!(store.put(&key, failing()).await.is_err());
    let blob = store.get(&key).await.expect("get");
    assert_eq!(suite::read_all(blob).await, before);
}

/// A bucket that does not exist is a server fault, not a missing object.
#[tokio::test]
#[cfg_attr(not(vault_test_s3), ignore = "needs VAULT_TEST_S3_ENDPOINT")]
async fn a_missing_bucket_is_not_not_found_on_put() {
    let store = S3BlobStore::new(config(&endpoint(), "vault-test-no-such-bucket")).expect("config");
    let err = store
        .put(&suite::fresh_key(), suite::chunked(b"x", 1))
        .await
        .expect_err("no bucket");
    assert!(!matches!(err, Error::NotFound), "{err:?}");
}
