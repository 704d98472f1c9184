use std::io::Write;

use futures::stream;
use sha2::{Digest, Sha256};

use super::*;
use crate::blob::suite::{chunked, fresh_key, pattern, read_all};
use crate::blob::{LocalBlobStore, MockBlobStore};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const ELF: &[u8] = b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0\x40\x10\0\0";

fn local() -> (tempfile::TempDir, LocalBlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::new(dir.path()).unwrap();
    (dir, store)
}

fn defaults() -> Vec<String> {
    UploadLimits::default().allowed
}

/// A store that must never be written to: the upload is refused before the put.
fn untouched() -> MockBlobStore {
    let mut store = MockBlobStore::new();
    store.expect_put().never();
    store
}

async fn ingest_bytes(
    store: &dyn BlobStore,
    declared: Option<&str>,
    data: &[u8],
) -> Result<StoredBlob> {
    let key = fresh_key();
    ingest(
        store,
        &key,
        declared,
        chunked(data, 100),
        &UploadLimits::default(),
    )
    .await
}

#[test]
fn default_limits() {
    let limits = UploadLimits::default();
    assert_eq!(limits.max_bytes, 26_214_400);
    assert_eq!(limits.allowed.len(), 8);
    for media in [
        "application/pdf",
        "text/markdown",
        "application/epub+zip",
        "image/webp",
    ] {
        assert!(limits.allowed.iter().any(|a| a == media), "{media}");
    }
}

#[test]
fn deciding_the_content_type() {
    let allowed = defaults();
    let ok = |declared, sniffed| decide(declared, sniffed, &allowed).unwrap();
    assert_eq!(ok(Some("image/png"), Some("image/png")), "image/png");
    assert_eq!(ok(Some("IMAGE/PNG"), Some("image/png")), "image/png");
    assert_eq!(ok(None, Some("application/pdf")), "application/pdf");
    assert_eq!(ok(Some(""), Some("image/gif")), "image/gif");
    assert_eq!(
        ok(Some("application/octet-stream"), Some("image/jpeg")),
        "image/jpeg"
    );
    assert_eq!(
        ok(Some("text/plain; charset=utf-8"), Some("text/plain")),
        "text/plain"
    );
    assert_eq!(
        ok(Some("text/markdown;charset=UTF-8"), Some("text/plain")),
        "text/markdown"
    );
    assert_eq!(ok(None, Some("text/plain")), "text/plain");
}

/// The refusal `decide` gives: `Ok(media)` for a declared type off the list,
/// `Err((declared, sniffed))` for bytes that do not bear the declaration out.
fn refusal(
    declared: Option<&str>,
    sniffed: Option<&str>,
    allowed: &[String],
) -> std::result::Result<String, (Option<String>, Option<String>)> {
    match decide(declared, sniffed, allowed) {
        Err(Error::UnsupportedMediaType(media)) => Ok(media),
        Err(Error::ContentMismatch { declared, sniffed }) => Err((declared, sniffed)),
        other => panic!("{declared:?} / {sniffed:?}: {other:?}"),
    }
}

#[test]
fn a_declared_type_off_the_list_is_refused_whatever_the_bytes() {
    let allowed = defaults();
    let off_list = |declared, sniffed| refusal(Some(declared), sniffed, &allowed);
    assert_eq!(
        off_list("text/html", Some("text/plain")),
        Ok("text/html".into())
    );
    assert_eq!(
        off_list("application/x-msdownload", Some(sniff::PE)),
        Ok("application/x-msdownload".into())
    );
    assert_eq!(
        off_list("application/x-msdownload", None),
        Ok("application/x-msdownload".into())
    );
    assert_eq!(
        off_list("Video/MP4; codecs=avc1", None),
        Ok("video/mp4".into())
    );
}

#[test]
fn bytes_that_belie_an_allowed_declared_type_are_a_mismatch() {
    let allowed = defaults();
    let mismatch = |declared: &str, sniffed: Option<&str>| {
        refusal(Some(declared), sniffed, &allowed).expect_err("a mismatch, not an off-list type")
    };
    let pair = |declared: &str, sniffed: Option<&str>| {
        (Some(declared.to_string()), sniffed.map(String::from))
    };
    assert_eq!(
        mismatch("application/pdf", Some("image/png")),
        pair("application/pdf", Some("image/png"))
    );
    assert_eq!(
        mismatch("application/pdf", Some(sniff::ELF)),
        pair("application/pdf", Some(sniff::ELF))
    );
    assert_eq!(mismatch("text/plain", None), pair("text/plain", None));
    assert_eq!(
        mismatch("text/markdown", Some("image/png")),
        pair("text/markdown", Some("image/png"))
    );
    assert_eq!(
        mismatch("image/png", Some("text/plain")),
        pair("image/png", Some("text/plain"))
    );
}

#[test]
fn undeclared_bytes_of_no_allowed_type_are_a_mismatch() {
    let allowed = defaults();
    for declared in [None, Some(""), Some("application/octet-stream")] {
        assert_eq!(refusal(declared, None, &allowed), Err((None, None)));
        assert_eq!(
            refusal(declared, Some(sniff::ELF), &allowed),
            Err((None, Some(sniff::ELF.to_string())))
        );
    }
}

#[test]
fn the_sniffed_type_must_be_allowed_too() {
    let only_pdf = vec!["application/pdf".to_string()];
    assert_eq!(
        refusal(None, Some("image/png"), &only_pdf),
        Err((None, Some("image/png".to_string())))
    );
    let csv = vec!["text/csv; charset=utf-8".to_string()];
    assert_eq!(
        decide(Some("text/csv"), Some("text/plain"), &csv).unwrap(),
        "text/csv"
    );
}

#[tokio::test]
async fn png_declared_as_pdf_is_415_before_writing() {
    let err = ingest_bytes(&untouched(), Some("application/pdf"), PNG)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ContentMismatch { declared: Some(d), sniffed: Some(s) }
            if d == "application/pdf" && s == "image/png"),
        "{err:?}"
    );
    assert_eq!(err.status(), http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn executable_declared_as_text_is_415() {
    let mut elf = ELF.to_vec();
    elf.extend(pattern(4096, 9));
    let err = ingest_bytes(&untouched(), Some("text/plain"), &elf)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_problem().detail,
        "The file's content does not match its declared type \"text/plain\" \
         (the bytes look like \"application/x-executable\")."
    );
    let err = ingest_bytes(&untouched(), None, &elf).await.unwrap_err();
    assert!(
        matches!(&err, Error::ContentMismatch { declared: None, sniffed: Some(s) }
            if s == "application/x-executable"),
        "{err:?}"
    );
}

#[tokio::test]
async fn empty_upload_is_a_validation_error_on_file() {
    let empty: BlobStream = stream::iter([Ok(Bytes::new()), Ok(Bytes::new())]).boxed();
    let err = ingest(
        &untouched(),
        &fresh_key(),
        None,
        empty,
        &UploadLimits::default(),
    )
    .await
    .unwrap_err();
    let Error::Validation(errors) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        errors.get("file"),
        Some(["The submitted file is empty.".to_string()].as_slice())
    );
}

#[tokio::test]
async fn markdown_is_accepted_and_hashed() {
    let (_dir, store) = local();
    let text = "# Notes\n\n- first\n- *second* — ünïcödé\n";
    let stored = ingest_bytes(
        &store,
        Some("text/markdown; charset=utf-8"),
        text.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(stored.content_type, "text/markdown");
    assert_eq!(stored.size, text.len() as u64);
    assert_eq!(
        stored.sha256,
        format!("{:x}", Sha256::digest(text.as_bytes()))
    );
    let back = read_all(store.get(&stored.key).await.unwrap()).await;
    assert_eq!(back, text.as_bytes());
}

#[tokio::test]
async fn sha256_matches_known_values() {
    let (_dir, store) = local();
    // `printf 'hello world\n' | sha256sum`
    let stored = ingest_bytes(&store, Some("text/plain"), b"hello world\n")
        .await
        .unwrap();
    assert_eq!(
        stored.sha256,
        "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"
    );
    // `printf 'abc' | sha256sum` (FIPS 180-2 example), one byte per chunk.
    let key = fresh_key();
    let stored = ingest(
        &store,
        &key,
        None,
        chunked(b"abc", 1),
        &UploadLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        stored,
        StoredBlob {
            key,
            size: 3,
            sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into(),
            content_type: "text/plain".into(),
        }
    );
}

#[tokio::test]
async fn a_large_binary_streams_through_in_chunks() {
    let (_dir, store) = local();
    let mut png = PNG.to_vec();
    png.extend(pattern(3 * 1024 * 1024 + 11, 10));
    let key = fresh_key();
    let stored = ingest(
        &store,
        &key,
        Some("image/png"),
        chunked(&png, 64 * 1024),
        &UploadLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(stored.size, png.len() as u64);
    assert_eq!(stored.sha256, format!("{:x}", Sha256::digest(&png)));
    assert_eq!(read_all(store.get(&key).await.unwrap()).await, png);
}

#[tokio::test]
async fn sniffing_sees_across_tiny_chunks() {
    let (_dir, store) = local();
    let key = fresh_key();
    let stored = ingest(
        &store,
        &key,
        Some("image/png"),
        chunked(PNG, 1),
        &UploadLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(stored.content_type, "image/png");
}

#[tokio::test]
async fn over_the_limit_mid_stream_leaves_nothing() {
    let (_dir, store) = local();
    crate::blob::suite::ingest_over_the_limit_leaves_nothing(&store).await;
}

#[tokio::test]
async fn over_the_limit_in_the_head_is_refused_before_writing() {
    let limits = UploadLimits {
        max_bytes: 100,
        ..UploadLimits::default()
    };
    let err = ingest(
        &untouched(),
        &fresh_key(),
        None,
        chunked(&[b'a'; 300], 50),
        &limits,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::PayloadTooLarge { limit: 100 }));
}

#[tokio::test]
async fn over_the_limit_wins_whatever_error_the_store_reports() {
    let mut store = MockBlobStore::new();
    store
        .expect_put()
        .times(1)
        .returning(|_, _| Err(Error::Unavailable("disk gone".into())));
    // A store that reads the body and reports the abort in its own words.
    struct Draining;
    #[async_trait::async_trait]
    impl BlobStore for Draining {
        async fn put(&self, _: &str, mut body: BlobStream) -> Result<u64> {
            while let Some(chunk) = body.next().await {
                if chunk.is_err() {
                    return Err(Error::Internal("aborted multipart upload".into()));
                }
            }
            Ok(0)
        }
        async fn get(&self, _: &str) -> Result<crate::blob::Blob> {
            Err(Error::NotFound)
        }
        async fn delete(&self, _: &str) -> Result<()> {
            Ok(())
        }
        async fn exists(&self, _: &str) -> Result<bool> {
            Ok(false)
        }
    }
    let limits = UploadLimits {
        max_bytes: 1000,
        ..UploadLimits::default()
    };
    let err = ingest(
        &Draining,
        &fresh_key(),
        None,
        chunked(&[b'a'; 2000], 600),
        &limits,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::PayloadTooLarge { limit: 1000 }),
        "{err:?}"
    );
    // Other store errors pass through unchanged.
    let err = ingest(&store, &fresh_key(), None, chunked(b"small", 5), &limits)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn a_store_that_loses_bytes_is_an_internal_error() {
    let mut store = MockBlobStore::new();
    store.expect_put().returning(|_, _| Ok(1));
    let err = ingest_bytes(&store, None, b"three").await.unwrap_err();
    assert!(matches!(err, Error::Internal(_)), "{err:?}");
}

#[tokio::test]
async fn epub_and_webp_are_sniffed() {
    let (_dir, store) = local();
    let mut epub = Vec::new();
    epub.write_all(b"PK\x03\x04\x14\0\0\0\0\0").unwrap();
    epub.write_all(&[0; 16]).unwrap();
    epub.write_all(&8u16.to_le_bytes()).unwrap();
    epub.write_all(&0u16.to_le_bytes()).unwrap();
    epub.write_all(b"mimetypeapplication/epub+zip").unwrap();
    epub.write_all(b"PK\x03\x04rest of the archive").unwrap();
    let stored = ingest_bytes(&store, Some("application/epub+zip"), &epub)
        .await
        .unwrap();
    assert_eq!(stored.content_type, "application/epub+zip");
    let stored = ingest_bytes(&store, Some("application/octet-stream"), &epub)
        .await
        .unwrap();
    assert_eq!(stored.content_type, "application/epub+zip");

    let webp = b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0";
    let stored = ingest_bytes(&store, Some("image/webp"), webp)
        .await
        .unwrap();
    assert_eq!(stored.content_type, "image/webp");
}

#[tokio::test]
async fn a_failing_body_fails_the_upload() {
    let (_dir, store) = local();
    let key = fresh_key();
    let body = chunked(&[b'a'; 2000], 700)
        .chain(stream::iter([Err(Error::Parse(
            "truncated multipart".into(),
        ))]))
        .boxed();
    let err = ingest(&store, &key, None, body, &UploadLimits::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Parse(_)), "{err:?}");
    assert!(!store.exists(&key).await.unwrap());
}
