//! File bytes (API.md §4): a [`BlobStore`] trait with a local-directory backend
//! ([`LocalBlobStore`], the default) and, behind the `s3` feature, an S3-compatible one
//! (`S3BlobStore`, for deployments with more than one instance).
//!
//! Stores move bytes as streams ([`BlobStream`]) both ways, so an upload or a download never
//! sits in memory whole. A `put` is atomic: readers see the previous object or the new one,
//! never a mix, and a failed `put` leaves nothing behind. [`ingest`] is the upload pipeline in
//! front of any store: size limit while streaming, SHA-256 on the way, and the content type
//! decided from the first bytes as well as from what the client declared.
//!
//! Keys are `{owner uuid}/{file uuid}` ([`object_key`]); anything else that reaches a store is a
//! programming error and is refused with [`Error::Internal`] ([`validate_key`]).

mod ingest;
mod local;
#[cfg(feature = "s3")]
mod s3;
mod sniff;
#[cfg(any(test, feature = "testkit"))]
pub mod suite;

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use uuid::Uuid;

pub use ingest::{ingest, StoredBlob, UploadLimits};
pub use local::LocalBlobStore;
#[cfg(feature = "s3")]
pub use s3::{S3BlobStore, S3Config};
pub use sniff::sniff;

/// The `object_store` crate `S3BlobStore` is built on, for
/// [`S3BlobStore::from_object_store`] callers that need the same version.
#[cfg(feature = "s3")]
pub use object_store;

use crate::error::{Error, Result};

/// A stream of chunks of an object's bytes. An `Err` item ends the stream as failed.
pub type BlobStream = futures::stream::BoxStream<'static, Result<Bytes>>;

/// A stored object on its way out: its size, then its bytes as a stream.
pub struct Blob {
    /// Size in bytes (what `Content-Length` should say).
    pub size: u64,
    /// The bytes, read lazily from the store.
    pub stream: BlobStream,
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blob")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A store of file bytes by key. Used as `Arc<dyn BlobStore>`.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Writes `body` under `key`, replacing any object there, and returns the bytes written.
    ///
    /// Atomic: until it returns `Ok`, readers see the previous object (or none); when it fails,
    /// or its future is dropped, no new object exists and the previous one is untouched.
    ///
    /// # Errors
    /// The first `Err` item of `body`, unchanged; [`Error::Unavailable`] when the store cannot
    /// be reached or written; [`Error::Internal`] for an invalid key or another fault.
    async fn put(&self, key: &str, body: BlobStream) -> Result<u64>;

    /// The object under `key`, streamed.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is none; [`Error::Unavailable`] when the store cannot be
    /// reached; [`Error::Internal`] for an invalid key. The stream itself may yield the same
    /// errors mid-way.
    async fn get(&self, key: &str) -> Result<Blob>;

    /// Removes the object under `key`. Idempotent: a missing object is not an error.
    ///
    /// # Errors
    /// [`Error::Unavailable`] when the store cannot be reached; [`Error::Internal`] for an
    /// invalid key or another fault.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Whether an object exists under `key`.
    ///
    /// # Errors
    /// [`Error::Unavailable`] when the store cannot be reached; [`Error::Internal`] for an
    /// invalid key.
    async fn exists(&self, key: &str) -> Result<bool>;
}

/// Longest key accepted (S3's limit).
const MAX_KEY_LEN: usize = 1024;

/// The key of file `id` of user `owner`: `{owner}/{id}`, both as hyphenated lowercase UUIDs.
pub fn object_key(owner: Uuid, id: Uuid) -> String {
    format!("{owner}/{id}")
}

/// Checks that `key` is a relative path of non-empty segments made of `[A-Za-z0-9_-]` joined by
/// `/` (so no `..`, no absolute path, nothing a file system or URL would reinterpret).
///
/// Keys are built by the core, never taken from a request, so a bad one is a bug.
///
/// # Errors
/// [`Error::Internal`] naming the key when it is not valid.
pub fn validate_key(key: &str) -> Result<()> {
    let valid = !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
    if valid {
        Ok(())
    } else {
        Err(Error::Internal(format!("invalid blob key {key:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_are_valid_keys() {
        let key = object_key(Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(key.len(), 73);
        validate_key(&key).unwrap();
    }

    #[test]
    fn valid_keys_pass() {
        for key in ["a", "A-b_9", "owner/file", "x/y/z", "0194-ab/0194_cd"] {
            validate_key(key).unwrap_or_else(|e| panic!("{key:?}: {e}"));
        }
    }

    #[test]
    fn bad_keys_are_internal_errors() {
        let long = "a".repeat(MAX_KEY_LEN + 1);
        for key in [
            "",
            "/",
            "/abs",
            "/etc/passwd",
            "a/",
            "a//b",
            "..",
            "../a",
            "a/../b",
            "a/..",
            ".",
            "./a",
            ".hidden",
            "a.b",
            "a b",
            "a\\b",
            "C:/x",
            "a/%2e%2e",
            "a\0b",
            "ünï",
            "a\nb",
            long.as_str(),
        ] {
            let err = validate_key(key).expect_err(key);
            assert!(matches!(err, Error::Internal(_)), "{key:?}: {err:?}");
        }
    }
}
