//! Multipart uploads: any declared type, boundary, part headers and bytes, cut anywhere,
//! arriving in chunks of any size or failing mid-way, into the upload pipeline of
//! `PUT /resources/{id}/file`: a stored file or a 4xx, never a panic or a server error, and
//! never a blob that no resource points at (nor a resource pointing at a missing blob).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use bytes::Bytes;
use futures::StreamExt;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use sha2::{Digest, Sha256};
use vault_core::testkit::Backend;
use vault_core::{Database, Error};

use super::{budget, check, hostile_text, is_client_error, on_both_databases, runtime, World};

/// The upload limit of these properties: small, so that generated files cross it.
const MAX_BYTES: u64 = 1024;

/// How long a stalled upload is waited for before its request is dropped.
const STALL: std::time::Duration = std::time::Duration::from_millis(100);

/// One part of a multipart body.
#[derive(Debug, Clone)]
struct Part {
    /// The `Content-Disposition` line, or none.
    disposition: Option<String>,
    /// The `Content-Type` line's value, or none.
    content_type: Option<String>,
    /// Other header lines, as sent.
    headers: Vec<String>,
    /// The part's bytes.
    bytes: Vec<u8>,
}

/// How the body reaches the pipeline.
#[derive(Debug, Clone)]
struct Upload {
    /// The request's `Content-Type`.
    content_type: Option<String>,
    /// The whole body.
    body: Vec<u8>,
    /// Sizes of the chunks it arrives in (cycled).
    chunks: Vec<usize>,
    /// The body stream fails after this many chunks (a client gone mid-way).
    fails_after: Option<usize>,
    /// The body stream stalls for good after this many chunks, and the request is dropped (a
    /// server timing the client out, or shutting down).
    stalls_after: Option<usize>,
}

fn file_bytes() -> impl Strategy<Value = Vec<u8>> {
    let tail = proptest::collection::vec(any::<u8>(), 0..1500);
    prop_oneof![
        "[ -~\n]{0,1500}".prop_map(String::into_bytes),
        tail.clone()
            .prop_map(|tail| [b"\x89PNG\r\n\x1a\n".as_slice(), &tail].concat()),
        tail.clone()
            .prop_map(|tail| [b"%PDF-1.7\n".as_slice(), &tail].concat()),
        tail.clone()
            .prop_map(|tail| [b"MZ\x90\x00".as_slice(), &tail].concat()),
        tail,
        Just(Vec::new()),
    ]
}

fn part() -> impl Strategy<Value = Part> {
    let name = prop_oneof![
        6 => Just("file".to_string()),
        1 => proptest::sample::select(&["", "files", "FILE", "file\"", "title"][..])
            .prop_map(str::to_string),
        1 => hostile_text(),
    ];
    let file_name = prop_oneof![
        Just(None),
        Just(Some("paper.pdf".to_string())),
        proptest::sample::select(
            &[
                "../../etc/passwd",
                "C:\\x\\a.png",
                "..",
                "",
                "a\0b.txt",
                "\u{202e}gnp.exe"
            ][..]
        )
        .prop_map(|n| Some(n.to_string())),
        hostile_text().prop_map(Some),
    ];
    let disposition = prop_oneof![
        8 => (name, file_name).prop_map(|(name, file)| {
            let mut line = format!("form-data; name=\"{name}\"");
            if let Some(file) = file {
                line.push_str(&format!("; filename=\"{file}\""));
            }
            Some(line)
        }),
        1 => Just(None),
        1 => hostile_text().prop_map(Some),
    ];
    let content_type = prop_oneof![
        Just(None),
        proptest::sample::select(
            &[
                "text/plain",
                "text/plain; charset=utf-8",
                "image/png",
                "application/pdf",
                "application/octet-stream",
                "application/x-msdownload",
                "text/html",
                "",
            ][..]
        )
        .prop_map(|t| Some(t.to_string())),
        "[ -~]{0,30}".prop_map(Some),
    ];
    let headers = proptest::collection::vec(
        prop_oneof![
            "[A-Za-z-]{1,12}: [ -~]{0,20}",
            hostile_text(),
            Just("Content-Length: 99999999999999999999".to_string()),
            Just("Content-Transfer-Encoding: base64".to_string()),
        ],
        0..3,
    );
    (disposition, content_type, headers, file_bytes()).prop_map(
        |(disposition, content_type, headers, bytes)| Part {
            disposition,
            content_type,
            headers,
            bytes,
        },
    )
}

/// A multipart body: the parts, each framed by `boundary`, and the closing delimiter if
/// `closed`.
fn assemble(boundary: &str, parts: &[Part], closed: bool) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        if let Some(line) = &part.disposition {
            body.extend_from_slice(format!("Content-Disposition: {line}\r\n").as_bytes());
        }
        if let Some(value) = &part.content_type {
            body.extend_from_slice(format!("Content-Type: {value}\r\n").as_bytes());
        }
        for line in &part.headers {
            body.extend_from_slice(format!("{line}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&part.bytes);
        body.extend_from_slice(b"\r\n");
    }
    if closed {
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    }
    body
}

fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..200, 1..4)
}

/// Uploads as a client means them: one `file` part whose declared type may or may not agree
/// with its bytes, under or over the limit, arriving in any chunks, now and then cut off by
/// the client.
fn well_formed_upload() -> impl Strategy<Value = Upload> {
    let file = prop_oneof![
        (
            "[ -~\n]{1,1500}",
            proptest::sample::select(
                &[
                    None,
                    Some("text/plain"),
                    Some("text/markdown"),
                    Some("image/png")
                ][..]
            )
        )
            .prop_map(|(text, declared)| (declared, text.into_bytes())),
        (
            proptest::collection::vec(any::<u8>(), 0..1500),
            proptest::sample::select(
                &[
                    None,
                    Some("image/png"),
                    Some("application/octet-stream"),
                    Some("application/pdf")
                ][..]
            )
        )
            .prop_map(|(tail, declared)| (
                declared,
                [b"\x89PNG\r\n\x1a\n".as_slice(), &tail].concat()
            )),
        proptest::collection::vec(any::<u8>(), 0..1500).prop_map(|tail| (
            Some("application/pdf"),
            [b"%PDF-1.7\n".as_slice(), &tail].concat()
        )),
    ];
    (
        "[A-Za-z0-9'()+_,./:=?-]{1,70}",
        file,
        proptest::option::of("[ -~]{0,20}"),
        chunk_sizes(),
        proptest::option::weighted(0.1, 0usize..8),
        proptest::option::weighted(0.1, 0usize..8),
    )
        .prop_map(
            |(boundary, (declared, bytes), file_name, chunks, fails_after, stalls_after)| {
                let mut disposition = "form-data; name=\"file\"".to_string();
                if let Some(name) = file_name {
                    disposition.push_str(&format!("; filename=\"{}\"", name.replace('"', "")));
                }
                let part = Part {
                    disposition: Some(disposition),
                    content_type: declared.map(str::to_string),
                    headers: Vec::new(),
                    bytes,
                };
                Upload {
                    content_type: Some(format!("multipart/form-data; boundary=\"{boundary}\"")),
                    body: assemble(&boundary, &[part], true),
                    chunks,
                    fails_after,
                    stalls_after,
                }
            },
        )
}

/// Uploads as an attacker sends them: any boundary, declared or not, any parts, cut anywhere,
/// a byte changed.
fn hostile_upload() -> impl Strategy<Value = Upload> {
    let boundary = prop_oneof![
        4 => "[A-Za-z0-9'()+_,./:=?-]{1,70}",
        1 => hostile_text(),
    ];
    let declared = prop_oneof![
        6 => Just(None::<String>),
        1 => hostile_text().prop_map(Some),
        1 => Just(Some(String::new())),
    ];
    let request_type = prop_oneof![
        8 => Just("multipart/form-data; boundary={}"),
        1 => Just("multipart/form-data; boundary=\"{}\""),
        1 => Just("multipart/form-data"),
        1 => Just("multipart/mixed; boundary={}"),
        1 => Just("text/plain"),
        1 => Just("{}"),
    ];
    let body_edit = prop_oneof![
        6 => Just(None),
        1 => (any::<usize>(), any::<u8>()).prop_map(Some),
    ];
    (
        (boundary, declared, request_type),
        proptest::collection::vec(part(), 0..3),
        (any::<bool>(), any::<Option<usize>>(), body_edit),
        chunk_sizes(),
        proptest::option::weighted(0.15, 0usize..8),
    )
        .prop_map(
            |(
                (boundary, declared, request_type),
                parts,
                (closed, cut, edit),
                chunks,
                fails_after,
            )| {
                let mut body = assemble(&boundary, &parts, closed);
                if let Some(cut) = cut {
                    body.truncate(cut % (body.len() + 1));
                }
                if let Some((at, byte)) = edit {
                    if !body.is_empty() {
                        let at = at % body.len();
                        body[at] = byte;
                    }
                }
                let content_type =
                    Some(request_type.replace("{}", declared.as_deref().unwrap_or(&boundary)));
                Upload {
                    content_type,
                    body,
                    chunks,
                    fails_after,
                    stalls_after: None,
                }
            },
        )
}

fn upload() -> impl Strategy<Value = Upload> {
    prop_oneof![well_formed_upload(), hostile_upload()]
}

/// The upload's body as the adapters hand it over: chunks, possibly ending in an error.
fn stream(upload: &Upload) -> vault_core::blob::BlobStream {
    let mut items: Vec<vault_core::Result<Bytes>> = Vec::new();
    let mut rest = upload.body.as_slice();
    for size in upload.chunks.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at((*size).min(rest.len()));
        items.push(Ok(Bytes::copy_from_slice(chunk)));
        rest = tail;
    }
    if let Some(after) = upload.fails_after {
        items.truncate(after);
        items.push(Err(Error::Parse("the client closed the connection".into())));
    }
    match upload.stalls_after {
        Some(after) => {
            items.truncate(after);
            futures::stream::iter(items)
                .chain(futures::stream::pending())
                .boxed()
        }
        None => futures::stream::iter(items).boxed(),
    }
}

/// The blobs on disk (`owner/file`, temporary files apart) and what is in the temporary
/// directory.
fn blobs_on_disk(root: &Path) -> (BTreeSet<String>, usize) {
    let mut blobs = BTreeSet::new();
    let mut temporary = 0;
    for owner in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let owner_name = owner.file_name().to_string_lossy().into_owned();
        for entry in std::fs::read_dir(owner.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if owner_name == ".tmp" {
                temporary += 1;
            } else {
                blobs.insert(format!("{owner_name}/{name}"));
            }
        }
    }
    (blobs, temporary)
}

/// The blob keys resources point at.
async fn referenced_keys(database: &Database) -> BTreeSet<String> {
    let sql = "SELECT file_key FROM resources WHERE file_key IS NOT NULL";
    let keys: Vec<String> = match database {
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
    }
    .expect("file keys");
    keys.into_iter().collect()
}

/// The keys queued for collection: a blob an upload stored but never attached, because it was
/// dropped in between (a client gone, a process killed), waits there to be deleted.
async fn queued_keys(database: &Database) -> BTreeSet<String> {
    let sql = "SELECT key FROM blob_garbage";
    let keys: Vec<String> = match database {
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
    }
    .expect("queued keys");
    keys.into_iter().collect()
}

on_both_databases! {
    /// Any upload is a stored file or a 4xx, and leaves no blob that no resource points at.
    uploads_store_a_file_or_answer_4xx_and_leave_no_partial_blob => super::uploads_on;
}

fn uploads_on(backend: Backend) {
    let runtime = runtime();
    let (world, id) = runtime.block_on(async {
        let world = World::open(backend, |config| {
            config.resources.uploads.max_bytes = MAX_BYTES;
        })
        .await;
        let input = vault_core::wire::decode_json(br#"{"kind":"file","title":"upload target"}"#)
            .expect("a valid resource");
        let resource = world
            .vault
            .resources()
            .create(&world.caller, input)
            .await
            .expect("created");
        (world, resource.id.to_string())
    });
    let files = world.database.files_dir();
    let outcomes = std::sync::Mutex::new(BTreeMap::<u16, usize>::new());
    check(384, upload(), |upload| {
        let resources = world.vault.resources();
        let (result, referenced) = runtime.block_on(async {
            let attach = resources.attach_file(
                &world.caller,
                &id,
                upload.content_type.as_deref(),
                stream(&upload),
            );
            let result = if upload.stalls_after.is_some() {
                tokio::time::timeout(STALL, attach).await.ok()
            } else {
                Some(attach.await)
            };
            (result, referenced_keys(world.vault.database()).await)
        });
        let Some(result) = result else {
            // Dropped mid-way: only what is left behind matters. A blob stored but not yet
            // attached stays queued for collection, never unaccounted for.
            let queued = runtime.block_on(queued_keys(world.vault.database()));
            let (on_disk, temporary) = blobs_on_disk(&files);
            prop_assert_eq!(temporary, 0, "a temporary file is left");
            prop_assert!(
                referenced.is_subset(&on_disk),
                "a referenced blob is missing"
            );
            let unaccounted: Vec<&String> = on_disk
                .iter()
                .filter(|key| !referenced.contains(*key) && !queued.contains(*key))
                .collect();
            prop_assert!(unaccounted.is_empty(), "orphan blobs: {unaccounted:?}");
            return Ok(());
        };
        let status = result
            .as_ref()
            .map_or_else(|e| e.status().as_u16(), |_| 200);
        *outcomes
            .lock()
            .expect("one case at a time")
            .entry(status)
            .or_default() += 1;
        match &result {
            Ok(resource) => {
                let file = resource.file.as_ref().expect("an attached file");
                prop_assert!(file.size <= MAX_BYTES);
                let download = runtime.block_on(resources.download(&world.caller, &id, None));
                let Ok(vault_core::resources::files::Download::File { body, .. }) = download else {
                    return Err(TestCaseError::fail(format!("{download:?}")));
                };
                let bytes: Vec<Bytes> = runtime
                    .block_on(body.collect::<Vec<_>>())
                    .into_iter()
                    .collect::<Result<_, _>>()
                    .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                let bytes = bytes.concat();
                prop_assert_eq!(bytes.len() as u64, file.size);
                prop_assert_eq!(format!("{:x}", Sha256::digest(&bytes)), file.sha256.clone());
            }
            Err(error) => is_client_error(error)?,
        }
        let (on_disk, temporary) = blobs_on_disk(&files);
        prop_assert_eq!(temporary, 0, "a temporary file is left");
        prop_assert_eq!(
            &on_disk,
            &referenced,
            "blobs on disk are the ones resources point at"
        );
        prop_assert!(referenced.len() <= 1);
        Ok(())
    });
    runtime.block_on(world.vault.database().close());
    // The generators are meant to reach every answer; a change that made them miss one
    // would leave that path untested.
    let outcomes = outcomes.into_inner().expect("cases are over");
    eprintln!("{backend:?} uploads by status: {outcomes:?}");
    if budget(384).cases >= 384 {
        for status in [200, 400, 413, 415] {
            assert!(
                outcomes.contains_key(&status),
                "no case answered {status}: {outcomes:?}"
            );
        }
    }
}
