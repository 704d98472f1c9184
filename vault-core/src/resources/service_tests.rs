//! Unit tests of [`ResourceService`]'s decisions, with a mockall store (a child module of
//! `service`, in a file of its own).

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use mockall::predicate::eq;
use uuid::Uuid;

use super::*;
use crate::blob::{LocalBlobStore, MockBlobStore};
use crate::principal::Role;
use crate::resources::store::MockResourceStore;

fn caller() -> Principal {
    Principal {
        user_id: Uuid::now_v7(),
        role: Role::User,
    }
}

fn record(id: Uuid) -> ResourceRecord {
    ResourceRecord::sample(id, ResourceKind::File, "t")
}

fn multipart(data: &'static [u8]) -> (String, BlobStream) {
    let body = format!(
        "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.pdf\"\r\nContent-Type: application/pdf\r\n\r\n{}\r\n--b--\r\n",
        String::from_utf8_lossy(data)
    );
    let stream = futures::stream::iter(vec![Ok(Bytes::from(body))]).boxed();
    ("multipart/form-data; boundary=b".to_string(), stream)
}

#[tokio::test]
async fn invalid_input_never_reaches_the_store() {
    let store = MockResourceStore::new(); // no expectations: any call panics
    let service = ResourceService::new(
        Arc::new(store),
        Arc::new(MockBlobStore::new()),
        UploadLimits::default(),
        "/api",
        None,
    );
    let input: ResourceInput =
        serde_json::from_value(serde_json::json!({"kind": "link", "title": ""})).unwrap();
    let error = service.create(&caller(), input).await.unwrap_err();
    match error {
        Error::Validation(fields) => {
            assert!(
                fields.get("title").is_some() && fields.get("url").is_some(),
                "{fields:?}"
            );
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert!(matches!(
        service.get(&caller(), "not-a-uuid").await,
        Err(Error::NotFound)
    ));
}

#[tokio::test]
async fn a_failed_attach_deletes_the_new_blob() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(LocalBlobStore::new(dir.path()).unwrap());
    let id = Uuid::now_v7();
    let mut store = MockResourceStore::new();
    store
        .expect_get_resource()
        .returning(move |_, id| Ok(Some(record(id))));
    // The key is reserved before any byte is stored.
    let reserved_in = dir.path().to_path_buf();
    store.expect_reserve_blob().times(1).returning(move |_| {
        assert_eq!(walk(&reserved_in), 0, "reserved before the blob is stored");
        Ok(())
    });
    // The resource vanished between the check and the attach.
    store
        .expect_set_file()
        .times(1)
        .returning(|_, _, _, _| Ok(None));
    store.expect_blob_garbage().times(0);
    // The blob deleted again, its reservation is forgotten.
    store
        .expect_forget_blob_garbage()
        .withf(|keys: &[String]| keys.len() == 1)
        .times(1)
        .returning(|_| Ok(()));
    let service = ResourceService::new(
        Arc::new(store),
        blobs.clone(),
        UploadLimits::default(),
        "/api",
        None,
    );
    let (content_type, body) = multipart(b"%PDF-1.7\n%%EOF\n");
    let error = service
        .attach_file(&caller(), &id.to_string(), Some(&content_type), body)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound), "{error:?}");
    let left: usize = walk(dir.path());
    assert_eq!(left, 0, "the uploaded blob was deleted again");
}

#[tokio::test]
async fn a_refused_upload_forgets_its_reservation_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(LocalBlobStore::new(dir.path()).unwrap());
    let id = Uuid::now_v7();
    let mut store = MockResourceStore::new();
    store
        .expect_get_resource()
        .returning(move |_, id| Ok(Some(record(id))));
    let reserved = Arc::new(std::sync::Mutex::new(None::<String>));
    let remember = Arc::clone(&reserved);
    store.expect_reserve_blob().times(1).returning(move |key| {
        *remember.lock().unwrap() = Some(key.to_string());
        Ok(())
    });
    let forgotten = Arc::clone(&reserved);
    store
        .expect_forget_blob_garbage()
        .withf(move |keys: &[String]| {
            forgotten.lock().unwrap().as_deref() == keys.first().map(String::as_str)
                && keys.len() == 1
        })
        .times(1)
        .returning(|_| Ok(()));
    store.expect_set_file().times(0);
    let service = ResourceService::new(
        Arc::new(store),
        blobs.clone(),
        UploadLimits::default(),
        "/api",
        None,
    );
    // An executable declared as a PDF: 415 (the bytes do not match), after the reservation.
    let (content_type, body) = multipart(b"MZ\x90\x00 not a document");
    let error = service
        .attach_file(&caller(), &id.to_string(), Some(&content_type), body)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::ContentMismatch { .. }), "{error:?}");
    assert_eq!(error.status(), http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(walk(dir.path()), 0, "nothing stored");
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn garbage_collection_keeps_keys_in_use_and_retries_failures() {
    let mut store = MockResourceStore::new();
    store.expect_blob_garbage().returning(|_| {
        Ok(vec![
            "u/in-use".to_string(),
            "u/gone".to_string(),
            "u/failing".to_string(),
        ])
    });
    store
        .expect_blob_in_use()
        .with(eq("u/in-use"))
        .returning(|_| Ok(true));
    store.expect_blob_in_use().returning(|_| Ok(false));
    store
        .expect_forget_blob_garbage()
        .withf(|keys: &[String]| keys == ["u/in-use".to_string(), "u/gone".to_string()])
        .times(1)
        .returning(|_| Ok(()));
    let mut blobs = MockBlobStore::new();
    blobs
        .expect_delete()
        .with(eq("u/gone"))
        .times(1)
        .returning(|_| Ok(()));
    blobs
        .expect_delete()
        .with(eq("u/failing"))
        .times(1)
        .returning(|_| Err(Error::Unavailable("disk gone".into())));
    blobs.expect_delete().with(eq("u/in-use")).times(0);
    let service = ResourceService::new(
        Arc::new(store),
        Arc::new(blobs),
        UploadLimits::default(),
        "/api",
        None,
    );
    service.collect_garbage().await;
}
