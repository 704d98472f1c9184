//! Blob backend for any S3-compatible store (AWS S3, MinIO, Ceph, moto), on `object_store`.
//!
//! Uploads stream through `object_store`'s `BufWriter`: an object smaller than one part goes up
//! in a single `PUT`, a larger one as a multipart upload of `part_size` parts. S3 makes an
//! object visible only when its `PUT` or `CompleteMultipartUpload` succeeds, so readers never
//! see a partial object; on any error the multipart upload is aborted. (If the `put` future is
//! *dropped* mid-way, an incomplete multipart upload stays invisible in the bucket until a
//! lifecycle rule such as `AbortIncompleteMultipartUpload` removes it: configure one.)

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, RetryConfig};
use tokio::io::AsyncWriteExt;

use super::{validate_key, Blob, BlobStore, BlobStream};
use crate::config::Secret;
use crate::error::{Error, Result};

/// The smallest part S3 accepts (but for the last one).
const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

/// Where and how to reach an S3-compatible bucket.
#[derive(Clone)]
pub struct S3Config {
    /// Bucket name. It must exist.
    pub bucket: String,
    /// Region, e.g. `eu-west-1`. Default `us-east-1` (what MinIO and moto expect).
    pub region: String,
    /// Endpoint URL for a non-AWS store, e.g. `http://127.0.0.1:9000` for MinIO; requests then
    /// use path-style URLs (`{endpoint}/{bucket}/{key}`). `None` for AWS itself.
    pub endpoint: Option<String>,
    /// Access key id; `None` to use the instance's role (web identity or instance metadata).
    pub access_key_id: Option<String>,
    /// Secret access key, with `access_key_id`.
    pub secret_access_key: Option<Secret>,
    /// Allow a plain `http://` endpoint (local MinIO, tests). Default `false`.
    pub allow_http: bool,
    /// Size of the parts of a multipart upload, and of what is buffered before one is sent.
    /// At least 5 MiB (S3's minimum). Default 8 MiB.
    pub part_size: usize,
}

impl S3Config {
    /// A configuration for `bucket` with the defaults above.
    pub fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            region: "us-east-1".into(),
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
            part_size: 8 * 1024 * 1024,
        }
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("allow_http", &self.allow_http)
            .field("part_size", &self.part_size)
            .finish()
    }
}

/// Objects in an S3-compatible bucket, one object per key.
#[derive(Clone)]
pub struct S3BlobStore {
    store: Arc<dyn ObjectStore>,
    part_size: usize,
}

impl fmt::Debug for S3BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3BlobStore")
            .field("store", &self.store.to_string())
            .field("part_size", &self.part_size)
            .finish()
    }
}

impl S3BlobStore {
    /// A store for the bucket `config` describes. Nothing is sent until the first request.
    ///
    /// Retries are bounded (3 retries within 15 s) so an unreachable store turns into
    /// [`Error::Unavailable`] promptly rather than after `object_store`'s default 3 minutes.
    ///
    /// # Errors
    /// [`Error::Config`] for a part size under 5 MiB, a secret that is not UTF-8, or settings
    /// `object_store` refuses (a bad endpoint URL, say).
    pub fn new(config: S3Config) -> Result<Self> {
        if config.part_size < MIN_PART_SIZE {
            return Err(Error::Config(format!(
                "S3 part size {} is under S3's minimum of {MIN_PART_SIZE} bytes",
                config.part_size
            )));
        }
        let mut builder = AmazonS3Builder::new()
            // Client options first: `with_client_options` replaces all of them, including
            // the `allow_http` flag set below.
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(60)),
            )
            .with_allow_http(config.allow_http)
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(15),
                ..RetryConfig::default()
            });
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false);
        }
        if let Some(id) = &config.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &config.secret_access_key {
            let secret = std::str::from_utf8(secret.expose())
                .map_err(|_| Error::Config("the S3 secret access key is not UTF-8".into()))?;
            builder = builder.with_secret_access_key(secret);
        }
        let store = builder
            .build()
            .map_err(|e| Error::Config(format!("S3 blob store: {e}")))?;
        Ok(Self::from_object_store(Arc::new(store), config.part_size))
    }

    /// A store over any `object_store` backend (Google Cloud Storage, Azure, in-memory, ...),
    /// uploading in parts of `part_size` bytes once an object outgrows one part.
    pub fn from_object_store(store: Arc<dyn ObjectStore>, part_size: usize) -> Self {
        Self {
            store,
            part_size: part_size.max(1),
        }
    }

    /// The `object_store` behind this store.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    fn path_of(key: &str) -> Result<Path> {
        validate_key(key)?;
        Path::parse(key).map_err(Error::internal)
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, key: &str, mut body: BlobStream) -> Result<u64> {
        let path = Self::path_of(key)?;
        // At most two parts in flight: memory per upload stays around 3 × part_size.
        let mut writer = BufWriter::with_capacity(Arc::clone(&self.store), path, self.part_size)
            .with_max_concurrency(2);
        let mut size = 0u64;
        let streamed: Result<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                size += chunk.len() as u64;
                writer.put(chunk).await.map_err(write_error)?;
            }
            Ok(())
        }
        .await;
        if let Err(error) = streamed {
            // Nothing was sent yet, or a multipart upload is under way: abort it so no parts
            // linger. The object under `key` (if any) is untouched either way.
            if let Err(abort) = writer.abort().await {
                tracing::warn!(%abort, key, "could not abort a failed multipart upload");
            }
            return Err(error);
        }
        // Sends a small object in one PUT, or completes the multipart upload (aborting it
        // itself when completion fails).
        writer
            .shutdown()
            .await
            .map_err(|e| io_error(e, write_error))?;
        Ok(size)
    }

    async fn get(&self, key: &str) -> Result<Blob> {
        let path = Self::path_of(key)?;
        let result = self.store.get(&path).await.map_err(store_error)?;
        let size = result.meta.size;
        let stream = result.into_stream().map(|chunk| chunk.map_err(store_error));
        Ok(Blob {
            size,
            stream: stream.boxed(),
        })
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = Self::path_of(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }

    async fn exists(&self, key: &str) -> Result<bool> {
        let path = Self::path_of(key)?;
        match self.store.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(store_error(e)),
        }
    }
}

/// `Generic` is what network failures, timeouts and 5xx answers become after retries: the
/// store is unreachable. Refused credentials and the like are configuration faults.
fn store_error(error: object_store::Error) -> Error {
    match error {
        object_store::Error::NotFound { .. } => Error::NotFound,
        object_store::Error::Generic { .. } => Error::Unavailable(error.to_string()),
        other => Error::Internal(other.to_string()),
    }
}

/// Errors of writes: "not found" there means the bucket is missing, a deployment fault (500),
/// not a missing object (404).
fn write_error(error: object_store::Error) -> Error {
    match error {
        object_store::Error::NotFound { .. } => {
            Error::Internal(format!("S3 bucket missing: {error}"))
        }
        other => store_error(other),
    }
}

/// `BufWriter`'s shutdown reports through `std::io::Error`; recover the store's error from it.
fn io_error(error: std::io::Error, map: fn(object_store::Error) -> Error) -> Error {
    if error
        .get_ref()
        .is_some_and(|inner| inner.is::<object_store::Error>())
    {
        if let Some(inner) = error.into_inner() {
            if let Ok(store) = inner.downcast::<object_store::Error>() {
                return map(*store);
            }
        }
        return Error::Internal("object store error".into());
    }
    Error::Unavailable(error.to_string())
}

#[cfg(test)]
mod tests {
    use object_store::memory::InMemory;

    use super::*;
    use crate::blob::suite;

    /// Tiny parts, so the multipart path runs too.
    fn in_memory() -> S3BlobStore {
        S3BlobStore::from_object_store(Arc::new(InMemory::new()), 64 * 1024)
    }

    #[tokio::test]
    async fn the_store_suite_on_an_in_memory_object_store() {
        let store = in_memory();
        suite::round_trip(&store).await;
        suite::empty_object(&store).await;
        suite::overwrite_replaces_the_object(&store).await;
        suite::delete_is_idempotent(&store).await;
        suite::missing_is_not_found(&store).await;
        suite::failing_stream_leaves_nothing(&store).await;
        suite::bad_keys_are_refused(&store).await;
        suite::ingest_over_the_limit_leaves_nothing(&store).await;
        suite::concurrent_readers_never_see_partial_objects(Arc::new(store)).await;
    }

    #[tokio::test]
    async fn a_failed_multipart_upload_leaves_no_object() {
        let memory = Arc::new(InMemory::new());
        let store = S3BlobStore::from_object_store(memory.clone(), 64 * 1024);
        let key = suite::fresh_key();
        let body = suite::chunked(&suite::pattern(300 * 1024, 1), 32 * 1024)
            .chain(futures::stream::iter([Err(Error::Parse("cut".into()))]))
            .boxed();
        assert!(matches!(store.put(&key, body).await, Err(Error::Parse(_))));
        let listed: Vec<_> = memory.list(None).collect().await;
        assert!(listed.is_empty(), "{listed:?}");
    }

    #[test]
    fn config_checks() {
        let mut config = S3Config::new("bucket");
        config.part_size = 1024;
        assert!(matches!(S3BlobStore::new(config), Err(Error::Config(_))));

        let mut config = S3Config::new("bucket");
        config.endpoint = Some("http://127.0.0.1:9".into());
        config.access_key_id = Some("id".into());
        config.secret_access_key = Some(Secret::new("hunter2"));
        config.allow_http = true;
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        S3BlobStore::new(config).unwrap();
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_unavailable() {
        let mut config = S3Config::new("bucket");
        // Port 9 (discard) on loopback: connection refused at once.
        config.endpoint = Some("http://127.0.0.1:9".into());
        config.access_key_id = Some("id".into());
        config.secret_access_key = Some(Secret::new("secret"));
        config.allow_http = true;
        let store = S3BlobStore::new(config).unwrap();
        let key = suite::fresh_key();
        let started = std::time::Instant::now();
        let err = store.exists(&key).await.unwrap_err();
        assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
        // Refused for the right reason: the request was sent (plain HTTP was allowed).
        assert!(!format!("{err:?}").contains("builder error"), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(30));
    }
}
