//! The upload pipeline of API.md §4: from a request body to a stored, hashed, typed object.
//!
//! 1. Read the first bytes (up to 512) and decide the content type from them *and* the
//!    declared type, before anything is written: a PNG declared as `application/pdf`, or an
//!    executable declared as `text/plain`, is refused (415).
//! 2. Stream the rest into the store, counting bytes as they pass and hashing them (SHA-256).
//!    One byte over the limit fails the stream, which makes the store's atomic `put` abort:
//!    nothing is kept (413). The body is never held in memory whole.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{stream, StreamExt};
use sha2::{Digest, Sha256};

use super::sniff::{self, sniff, SNIFF_LEN};
use super::{validate_key, BlobStore, BlobStream};
use crate::error::{Error, Result};

/// The catch-all type clients send when they do not know better; it defers to sniffing.
const OCTET_STREAM: &str = "application/octet-stream";

/// What an upload may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadLimits {
    /// Largest accepted size in bytes (inclusive).
    pub max_bytes: u64,
    /// Accepted content types, without parameters (`image/png`). Only types the sniffer
    /// recognises can be proven (PDF, PNG, JPEG, WebP, GIF, EPUB), plus `text/*` types, which
    /// any valid UTF-8 text without NUL bytes may be declared as.
    pub allowed: Vec<String>,
}

impl Default for UploadLimits {
    /// 25 MiB of PDF, PNG, JPEG, WebP, GIF, plain text, Markdown or EPUB.
    fn default() -> Self {
        Self {
            max_bytes: 25 * 1024 * 1024,
            allowed: [
                sniff::PDF,
                sniff::PNG,
                sniff::JPEG,
                sniff::WEBP,
                sniff::GIF,
                sniff::TEXT,
                sniff::MARKDOWN,
                sniff::EPUB,
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// An object [`ingest`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// Its key in the store.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, lowercase hex (also a good `ETag`).
    pub sha256: String,
    /// The decided content type, without parameters.
    pub content_type: String,
}

/// Checks and stores an upload under `key`, replacing any object there (only once the new one
/// is complete and accepted).
///
/// `declared_type` is the client's `Content-Type` for the file (parameters such as
/// `; charset=utf-8` are ignored); `None` or `application/octet-stream` means "sniff it".
///
/// # Errors
/// - [`Error::Validation`] on `file` when the body is empty;
/// - [`Error::UnsupportedMediaType`] (with the declared type) when the declared type is not in
///   `limits.allowed`;
/// - [`Error::ContentMismatch`] when the bytes are not what was declared, or (nothing specific
///   declared) of no allowed type;
/// - [`Error::PayloadTooLarge`] when the body is over `limits.max_bytes` (nothing is stored);
/// - the body's own errors, and the store's ([`Error::Unavailable`], [`Error::Internal`]).
pub async fn ingest(
    store: &dyn BlobStore,
    key: &str,
    declared_type: Option<&str>,
    body: BlobStream,
    limits: &UploadLimits,
) -> Result<StoredBlob> {
    validate_key(key)?;
    let limit = limits.max_bytes;
    let too_large = || Error::PayloadTooLarge { limit };
    let mut body = body.fuse();

    // 1. The head: whole chunks until at least SNIFF_LEN bytes, or the end.
    let mut head: Vec<Bytes> = Vec::new();
    let mut head_len = 0u64;
    let mut ended = false;
    while head_len < SNIFF_LEN as u64 {
        match body.next().await {
            Some(chunk) => {
                let chunk = chunk?;
                head_len += chunk.len() as u64;
                if head_len > limit {
                    return Err(too_large());
                }
                head.push(chunk);
            }
            None => {
                ended = true;
                break;
            }
        }
    }
    if head_len == 0 {
        return Err(Error::field("file", "The submitted file is empty."));
    }
    let mut prefix = Vec::with_capacity(SNIFF_LEN);
    for chunk in &head {
        let room = SNIFF_LEN - prefix.len();
        prefix.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    let truncated = !ended || head_len > prefix.len() as u64;
    let content_type = decide(declared_type, sniff(&prefix, truncated), &limits.allowed)?;

    // 2. Everything, counted and hashed on the way into the store.
    let tally = Arc::new(Mutex::new(Tally::default()));
    let counted = {
        let tally = Arc::clone(&tally);
        stream::iter(head.into_iter().map(Ok))
            .chain(body)
            .map(move |chunk| {
                let chunk = chunk?;
                let mut tally = lock(&tally);
                tally.size += chunk.len() as u64;
                if tally.size > limit {
                    tally.over_limit = true;
                    return Err(Error::PayloadTooLarge { limit });
                }
                tally.hasher.update(&chunk);
                Ok(chunk)
            })
            .boxed()
    };
    let written = store.put(key, counted).await;
    let tally = lock(&tally);
    let written = match written {
        // The store may report the abort its own way; the cause is the limit.
        Err(_) if tally.over_limit => return Err(too_large()),
        other => other?,
    };
    if written != tally.size {
        return Err(Error::Internal(format!(
            "blob store wrote {written} bytes of {} for {key}",
            tally.size
        )));
    }
    Ok(StoredBlob {
        key: key.to_string(),
        size: tally.size,
        sha256: format!("{:x}", tally.hasher.clone().finalize()),
        content_type,
    })
}

/// Bytes seen so far by the counting stream.
#[derive(Default)]
struct Tally {
    size: u64,
    over_limit: bool,
    hasher: Sha256,
}

fn lock(tally: &Mutex<Tally>) -> std::sync::MutexGuard<'_, Tally> {
    // Poisoned only if a hasher update panicked; the counts are still what they were.
    tally.lock().unwrap_or_else(|e| e.into_inner())
}

/// `text/plain; charset=UTF-8` → `text/plain`.
fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The content type to store: the declared one when the bytes agree with it, the sniffed one
/// when nothing useful was declared; both must be allowed.
///
/// A declared type off the allow-list is refused as such, whatever the bytes; an allowed one
/// the bytes do not bear out is refused as a mismatch, naming what the bytes look like.
fn decide(declared: Option<&str>, sniffed: Option<&str>, allowed: &[String]) -> Result<String> {
    let is_allowed = |media: &str| allowed.iter().any(|a| essence(a) == media);
    let declared = declared
        .map(essence)
        .filter(|d| !d.is_empty() && d != OCTET_STREAM);
    match declared {
        None => match sniffed {
            Some(sniffed) if is_allowed(sniffed) => Ok(sniffed.to_string()),
            _ => Err(Error::ContentMismatch {
                declared: None,
                sniffed: sniffed.map(String::from),
            }),
        },
        Some(declared) if !is_allowed(&declared) => Err(Error::UnsupportedMediaType(declared)),
        Some(declared) => {
            // Markdown (or CSV, ...) cannot be told from plain text by its bytes: any text
            // type may be declared for bytes that sniff as text.
            let agrees = sniffed == Some(declared.as_str())
                || (sniffed == Some(sniff::TEXT) && declared.starts_with("text/"));
            if agrees {
                Ok(declared)
            } else {
                Err(Error::ContentMismatch {
                    declared: Some(declared),
                    sniffed: sniffed.map(String::from),
                })
            }
        }
    }
}

#[cfg(test)]
#[path = "ingest_tests.rs"]
mod tests;
