//! Behaviour every [`BlobStore`] must have, as scenarios any backend's tests call (the local
//! store's unit tests, `tests/blob_s3.rs` against an S3-compatible server, a host's own store).
//!
//! Each scenario panics on failure and uses fresh keys, so scenarios can share one store.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures::{stream, StreamExt};
use uuid::Uuid;

use super::{ingest, object_key, Blob, BlobStore, BlobStream, UploadLimits};
use crate::error::Error;

/// A fresh `{owner}/{file}` key.
pub fn fresh_key() -> String {
    object_key(Uuid::now_v7(), Uuid::now_v7())
}

/// `len` bytes of a repeating, position-dependent pattern (so a shifted chunk shows).
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ seed.wrapping_mul(31))
        .collect()
}

/// `data` as a stream of chunks of `chunk` bytes.
pub fn chunked(data: &[u8], chunk: usize) -> BlobStream {
    let chunks: Vec<_> = data
        .chunks(chunk.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(chunks).boxed()
}

/// Reads a whole blob, checking its declared size against what the stream gave.
pub async fn read_all(blob: Blob) -> Vec<u8> {
    let Blob { size, mut stream } = blob;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("a chunk of the stored object"));
    }
    assert_eq!(
        out.len() as u64,
        size,
        "size does not match the streamed bytes"
    );
    out
}

async fn get_bytes(store: &dyn BlobStore, key: &str) -> Vec<u8> {
    read_all(store.get(key).await.expect("get an existing object")).await
}

/// What is put comes back, with its size, through several chunks each way.
pub async fn round_trip(store: &dyn BlobStore) {
    let key = fresh_key();
    let data = pattern(300 * 1024 + 7, 1);
    assert!(!store.exists(&key).await.expect("exists"));
    let written = store.put(&key, chunked(&data, 40_000)).await.expect("put");
    assert_eq!(written, data.len() as u64);
    assert!(store.exists(&key).await.expect("exists"));
    assert_eq!(get_bytes(store, &key).await, data);
}

/// An empty object is an object.
pub async fn empty_object(store: &dyn BlobStore) {
    let key = fresh_key();
    assert_eq!(store.put(&key, chunked(&[], 1)).await.expect("put"), 0);
    assert!(store.exists(&key).await.expect("exists"));
    assert!(get_bytes(store, &key).await.is_empty());
}

/// A second put under a key replaces the first, whatever the sizes.
pub async fn overwrite_replaces_the_object(store: &dyn BlobStore) {
    let key = fresh_key();
    let long = pattern(100_000, 2);
    let short = pattern(10, 3);
    store.put(&key, chunked(&long, 8192)).await.expect("put");
    store
        .put(&key, chunked(&short, 4))
        .await
        .expect("put again");
    assert_eq!(get_bytes(store, &key).await, short);
    store
        .put(&key, chunked(&long, 8192))
        .await
        .expect("put a third time");
    assert_eq!(get_bytes(store, &key).await, long);
}

/// Delete removes the object; deleting what is not there is fine.
pub async fn delete_is_idempotent(store: &dyn BlobStore) {
    let key = fresh_key();
    store
        .put(&key, chunked(b"to be deleted", 4))
        .await
        .expect("put");
    store.delete(&key).await.expect("delete");
    assert!(!store.exists(&key).await.expect("exists"));
    assert!(matches!(store.get(&key).await, Err(Error::NotFound)));
    store.delete(&key).await.expect("delete again");
    store
        .delete(&fresh_key())
        .await
        .expect("delete a never-seen key");
}

/// A key never written is `NotFound` for `get` and `false` for `exists`.
pub async fn missing_is_not_found(store: &dyn BlobStore) {
    let key = fresh_key();
    let got = store.get(&key).await.map(drop);
    assert!(matches!(got, Err(Error::NotFound)), "{got:?}");
    assert!(!store.exists(&key).await.expect("exists"));
}

/// A stream that fails mid-way fails the put with the stream's error, leaves no object, and
/// leaves a previous object under the key untouched.
pub async fn failing_stream_leaves_nothing(store: &dyn BlobStore) {
    let failing = |data: &[u8]| -> BlobStream {
        chunked(data, 16 * 1024)
            .chain(stream::iter([Err(Error::Unavailable(
                "client went away".into(),
            ))]))
            .chain(chunked(b"never read", 4))
            .boxed()
    };
    let key = fresh_key();
    let error = store
        .put(&key, failing(&pattern(100_000, 4)))
        .await
        .expect_err("a failing body fails the put");
    assert!(matches!(error, Error::Unavailable(_)), "{error:?}");
    assert!(!store.exists(&key).await.expect("exists"));
    assert!(matches!(store.get(&key).await, Err(Error::NotFound)));

    let before = pattern(5000, 5);
    store.put(&key, chunked(&before, 1000)).await.expect("put");
    store
        .put(&key, failing(&pattern(70_000, 6)))
        .await
        .expect_err("a failing replacement fails");
    assert_eq!(get_bytes(store, &key).await, before);
}

/// While one task keeps replacing an object, readers only ever see one whole version.
pub async fn concurrent_readers_never_see_partial_objects(store: Arc<dyn BlobStore>) {
    const ROUNDS: usize = 12;
    let key = fresh_key();
    let versions = [pattern(256 * 1024, 7), pattern(320 * 1024 + 3, 8)];
    store
        .put(&key, chunked(&versions[0], 64 * 1024))
        .await
        .expect("first version");

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (store, key, versions) = (Arc::clone(&store), key.clone(), versions.clone());
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let mut reads = 0usize;
                while !done.load(Ordering::Acquire) || reads == 0 {
                    let seen = read_all(store.get(&key).await.expect("always an object")).await;
                    assert!(
                        versions.contains(&seen),
                        "read a partial or mixed object of {} bytes",
                        seen.len()
                    );
                    reads += 1;
                    tokio::task::yield_now().await;
                }
                reads
            })
        })
        .collect();
    for round in 0..ROUNDS {
        let data = &versions[(round + 1) % 2];
        // Small chunks with yields between them give readers time to look mid-write.
        let body = chunked(data, 16 * 1024)
            .then(|chunk| async {
                tokio::task::yield_now().await;
                chunk
            })
            .boxed();
        store.put(&key, body).await.expect("replace");
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        assert!(reader.await.expect("reader") > 0);
    }
}

/// Keys that could escape the store's namespace are refused as programming errors by every
/// method, before anything is written.
pub async fn bad_keys_are_refused(store: &dyn BlobStore) {
    for key in [
        "",
        "../escape",
        "/abs/path",
        "a//b",
        "a/",
        "a/../b",
        "a.b",
        "a b",
    ] {
        let internal = |r: Result<(), Error>| matches!(r, Err(Error::Internal(_)));
        assert!(
            internal(store.put(key, chunked(b"x", 1)).await.map(drop)),
            "put {key:?}"
        );
        assert!(internal(store.get(key).await.map(drop)), "get {key:?}");
        assert!(internal(store.delete(key).await), "delete {key:?}");
        assert!(
            internal(store.exists(key).await.map(drop)),
            "exists {key:?}"
        );
    }
}

/// [`ingest`] over its limit mid-stream is `PayloadTooLarge` and stores nothing; at the limit
/// it stores the object.
pub async fn ingest_over_the_limit_leaves_nothing(store: &dyn BlobStore) {
    let limits = UploadLimits {
        max_bytes: 64 * 1024,
        ..UploadLimits::default()
    };
    let mut text = b"# notes\n".to_vec();
    text.resize(64 * 1024 + 1, b'a');
    let key = fresh_key();
    let error = ingest(
        store,
        &key,
        Some("text/plain"),
        chunked(&text, 8 * 1024),
        &limits,
    )
    .await
    .expect_err("one byte over the limit");
    assert!(
        matches!(error, Error::PayloadTooLarge { limit } if limit == 64 * 1024),
        "{error:?}"
    );
    assert!(!store.exists(&key).await.expect("exists"));

    let stored = ingest(
        store,
        &key,
        Some("text/plain"),
        chunked(&text[..64 * 1024], 8 * 1024),
        &limits,
    )
    .await
    .expect("exactly at the limit");
    assert_eq!(stored.size, 64 * 1024);
    assert_eq!(get_bytes(store, &key).await, &text[..64 * 1024]);
}
