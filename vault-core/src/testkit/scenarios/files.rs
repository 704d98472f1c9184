//! API.md §4, files: streamed uploads, checked types and sizes, downloads with ETag, and no
//! orphan blobs.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::testkit::{Ctx, Harness, TestUser};

/// A small valid PNG header followed by filler bytes.
fn png(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend((0..len).map(|i| (i % 251) as u8));
    bytes
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

async fn note(h: &Harness, user: &TestUser) -> String {
    let created = h
        .post("/api/resources")
        .bearer(&user.access)
        .json(json!({"kind": "file", "title": "a file"}))
        .send()
        .await
        .expect_status(201)
        .json();
    format!(
        "/api/resources/{}",
        created["id"].as_str().unwrap_or_default()
    )
}

pub async fn files_upload_download_replace_delete(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    let path = note(&h, &ada).await;
    let file_path = format!("{path}/file");
    let bytes = png(40_000);
    let resource = h
        .put(&file_path)
        .bearer(&ada.access)
        .multipart(&[("file", Some("../../Chart Q1.png"), "image/png", &bytes)])
        .send()
        .await
        .expect_status(200)
        .json();
    let sha = format!("{:x}", Sha256::digest(&bytes));
    assert_eq!(
        resource["file"]["name"], "Chart Q1.png",
        "path parts are dropped"
    );
    assert_eq!(resource["file"]["size"], bytes.len());
    assert_eq!(resource["file"]["content_type"], "image/png");
    assert_eq!(resource["file"]["sha256"], sha.as_str());
    assert_eq!(resource["file"]["download_url"], file_path.as_str());
    assert_eq!(h.database.blob_count(), 1);

    let download = h
        .get(&file_path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200);
    assert_eq!(download.body.as_ref(), bytes.as_slice());
    assert_eq!(download.header("content-type"), Some("image/png"));
    assert_eq!(
        download.header("content-length"),
        Some(bytes.len().to_string().as_str())
    );
    assert!(download
        .header("content-disposition")
        .is_some_and(|d| d.starts_with("attachment; filename=\"Chart Q1.png\"")));
    let etag = download.header("etag").unwrap_or_default().to_string();
    assert_eq!(etag, format!("\"{sha}\""));
    let cached = h
        .get(&file_path)
        .bearer(&ada.access)
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(cached.status.as_u16(), 304);
    assert!(cached.body.is_empty());
    h.get(&file_path)
        .bearer(&ada.access)
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .expect_status(200);

    // Replacing the file deletes the old blob.
    let replaced = h
        .put(&file_path)
        .bearer(&ada.access)
        .multipart(&[("file", Some("paper.pdf"), "application/pdf", &pdf())])
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(replaced["file"]["content_type"], "application/pdf");
    assert_eq!(h.database.blob_count(), 1, "the replaced blob is gone");
    let got = h
        .get(&file_path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200);
    assert_eq!(got.body.as_ref(), pdf().as_slice());

    h.delete(&file_path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(204);
    h.get(&file_path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");
    h.delete(&file_path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");
    let after = h
        .get(&path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert!(after["file"].is_null());
    assert_eq!(h.database.blob_count(), 0);
}

pub async fn file_uploads_are_checked(ctx: Ctx) {
    let h = ctx
        .start_with(|c| c.resources.uploads.max_bytes = 64 * 1024)
        .await;
    let ada = h.register("ada").await;
    let bob = h.register("bob").await;
    let path = note(&h, &ada).await;
    let file_path = format!("{path}/file");
    let put = |parts: Vec<(&'static str, Option<&'static str>, &'static str, Vec<u8>)>| {
        let h = &h;
        let path = file_path.clone();
        let token = ada.access.clone();
        async move {
            let borrowed: Vec<(&str, Option<&str>, &str, &[u8])> = parts
                .iter()
                .map(|(n, f, t, d)| (*n, *f, *t, d.as_slice()))
                .collect();
            h.put(&path)
                .bearer(&token)
                .multipart(&borrowed)
                .send()
                .await
        }
    };
    // Over the limit: refused while streaming, nothing stored.
    put(vec![("file", Some("big.png"), "image/png", png(70_000))])
        .await
        .expect_problem(413, "payload_too_large");
    // Declared and sniffed types must agree and be allowed; the refusal says which was wrong.
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0".to_vec();
    let pe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0".to_vec();
    let refusals: Vec<(&str, &'static str, Vec<u8>, &str)> = vec![
        (
            "an allowed type, other bytes",
            "application/pdf",
            png(100),
            "The file's content does not match its declared type \"application/pdf\" \
             (the bytes look like \"image/png\").",
        ),
        (
            "an executable declared as a PDF",
            "application/pdf",
            elf.clone(),
            "The file's content does not match its declared type \"application/pdf\" \
             (the bytes look like \"application/x-executable\").",
        ),
        (
            "an executable declared as text",
            "text/plain",
            pe.clone(),
            "The file's content does not match its declared type \"text/plain\" \
             (the bytes look like \"application/vnd.microsoft.portable-executable\").",
        ),
        (
            "bytes of no known type declared as an image",
            "image/png",
            b"\0\0\0\x18ftypmp42\0\0\0\0".to_vec(),
            "The file's content does not match its declared type \"image/png\" \
             (the bytes are of no allowed type).",
        ),
        (
            "a declared type off the list",
            "application/x-msdownload",
            pe.clone(),
            "Unsupported media type \"application/x-msdownload\" in request.",
        ),
        (
            "a declared type off the list, whatever the bytes",
            "text/html",
            b"<p>hello</p>".to_vec(),
            "Unsupported media type \"text/html\" in request.",
        ),
        (
            "undeclared bytes of a type not allowed",
            "application/octet-stream",
            elf,
            "The file's content is of no allowed type \
             (the bytes look like \"application/x-executable\").",
        ),
    ];
    for (case, declared, bytes, detail) in refusals {
        let problem = put(vec![("file", Some("upload"), declared, bytes)])
            .await
            .expect_problem(415, "unsupported_media_type");
        assert_eq!(problem["detail"], detail, "{case}");
    }
    put(vec![("file", Some("empty.txt"), "text/plain", Vec::new())])
        .await
        .expect_field_error(400, "file");
    put(vec![("document", Some("x.png"), "image/png", png(10))])
        .await
        .expect_field_error(400, "document");
    put(vec![
        ("file", Some("a.png"), "image/png", png(10)),
        ("file2", Some("b.png"), "image/png", png(10)),
    ])
    .await
    .expect_field_error(400, "file2");
    h.put(&file_path)
        .bearer(&ada.access)
        .json(json!({"file": "x"}))
        .send()
        .await
        .expect_problem(415, "unsupported_media_type");
    h.put(&file_path)
        .bearer(&ada.access)
        .raw("multipart/form-data; boundary=xyz", "garbage without parts")
        .send()
        .await
        .expect_problem(400, "parse_error");
    assert_eq!(h.database.blob_count(), 0, "no refused upload left a blob");
    // Markdown and octet-stream (sniffed) are accepted.
    let md = put(vec![(
        "file",
        Some("notes.md"),
        "text/markdown",
        b"# Title\n\nSome *notes*.".to_vec(),
    )])
    .await
    .expect_status(200)
    .json();
    assert_eq!(md["file"]["content_type"], "text/markdown");
    let sniffed = put(vec![(
        "file",
        Some("blob"),
        "application/octet-stream",
        pdf(),
    )])
    .await
    .expect_status(200)
    .json();
    assert_eq!(sniffed["file"]["content_type"], "application/pdf");
    // Someone else's resource does not exist for the upload, and their bytes are never read.
    h.put(&file_path)
        .bearer(&bob.access)
        .multipart(&[("file", Some("x.png"), "image/png", &png(10))])
        .send()
        .await
        .expect_problem(404, "not_found");
    h.get(&file_path)
        .bearer(&bob.access)
        .send()
        .await
        .expect_problem(404, "not_found");
    h.delete(&file_path)
        .bearer(&bob.access)
        .send()
        .await
        .expect_problem(404, "not_found");
    h.put("/api/resources/not-a-uuid/file")
        .bearer(&ada.access)
        .multipart(&[("file", Some("x.png"), "image/png", &png(10))])
        .send()
        .await
        .expect_problem(404, "not_found");
    assert_eq!(h.database.blob_count(), 1);
}

pub async fn files_never_outlive_their_rows(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    let first = note(&h, &ada).await;
    let second = note(&h, &ada).await;
    for path in [&first, &second] {
        h.put(&format!("{path}/file"))
            .bearer(&ada.access)
            .multipart(&[("file", Some("x.png"), "image/png", &png(1000))])
            .send()
            .await
            .expect_status(200);
    }
    assert_eq!(h.database.blob_count(), 2);
    h.delete(&first)
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(204);
    assert_eq!(
        h.database.blob_count(),
        1,
        "deleting a resource deletes its file"
    );
    h.delete("/api/auth/me")
        .bearer(&ada.access)
        .json(json!({"password": ada.password}))
        .send()
        .await
        .expect_status(204);
    assert_eq!(
        h.database.blob_count(),
        0,
        "deleting the account deletes every file"
    );
}
