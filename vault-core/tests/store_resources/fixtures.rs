//! Fixtures of the store suite: users, timestamps, fields, listings and raw SQL.

use super::*;

// --- fixtures ---------------------------------------------------------------------------------

/// Creates user `name` (resources and tags reference users); returns the id.
pub(crate) async fn user(ctx: &Ctx, name: &str) -> Uuid {
    insert_user(ctx.auth.as_ref(), name).await
}

/// A fixed instant in the past, plus `seconds`: scenarios choose their own timestamps.
pub(crate) fn at(seconds: i64) -> Timestamp {
    chrono::DateTime::from_timestamp_micros(1_795_342_530_123_456).expect("valid timestamp")
        + Duration::seconds(seconds)
}

pub(crate) fn note(title: &str) -> ResourceFields {
    ResourceFields {
        kind: ResourceKind::Note,
        title: title.to_string(),
        body: String::new(),
        url: None,
        favorite: false,
    }
}

pub(crate) fn link(title: &str, url: &str) -> ResourceFields {
    ResourceFields {
        kind: ResourceKind::Link,
        url: Some(url.to_string()),
        ..note(title)
    }
}

pub(crate) fn with_body(fields: ResourceFields, body: &str) -> ResourceFields {
    ResourceFields {
        body: body.to_string(),
        ..fields
    }
}

pub(crate) fn favorite(fields: ResourceFields) -> ResourceFields {
    ResourceFields {
        favorite: true,
        ..fields
    }
}

pub(crate) fn of_kind(kind: ResourceKind, title: &str) -> ResourceFields {
    ResourceFields {
        kind,
        ..note(title)
    }
}

/// Tag names as the service passes them (the caller lists them sorted).
pub(crate) fn tags(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_string()).collect()
}

/// Creates a resource of `owner` at `at(seconds)`.
pub(crate) async fn create(
    ctx: &Ctx,
    owner: Uuid,
    fields: &ResourceFields,
    names: &[&str],
    seconds: i64,
) -> ResourceRecord {
    ctx.store
        .create_resource(owner, Uuid::now_v7(), fields, &tags(names), at(seconds))
        .await
        .expect("create_resource")
}

pub(crate) async fn get(ctx: &Ctx, owner: Uuid, id: Uuid) -> Option<ResourceRecord> {
    ctx.store
        .get_resource(owner, id)
        .await
        .expect("get_resource")
}

pub(crate) async fn fetch(ctx: &Ctx, owner: Uuid, id: Uuid) -> ResourceRecord {
    get(ctx, owner, id).await.expect("resource exists")
}

/// No filter, default order.
pub(crate) fn everything() -> ResourceFilter {
    ResourceFilter {
        kind: None,
        tags: Vec::new(),
        favorite: None,
        search: None,
        ordering: None,
    }
}

pub(crate) fn searching(words: &str) -> ResourceFilter {
    ResourceFilter {
        search: Some(words.to_string()),
        ..everything()
    }
}

pub(crate) fn tagged(names: &[&str]) -> ResourceFilter {
    ResourceFilter {
        tags: tags(names),
        ..everything()
    }
}

pub(crate) fn page(page: u64, page_size: u64) -> PageRequest {
    PageRequest { page, page_size }
}

/// The first 100 matches and the total.
pub(crate) async fn list(
    ctx: &Ctx,
    owner: Uuid,
    filter: &ResourceFilter,
) -> (u64, Vec<ResourceRecord>) {
    ctx.store
        .list_resources(owner, filter, page(1, 100))
        .await
        .expect("list_resources")
}

/// Ids of the first 100 matches, in order; asserts the total agrees.
pub(crate) async fn ids(ctx: &Ctx, owner: Uuid, filter: &ResourceFilter) -> Vec<Uuid> {
    let (count, rows) = list(ctx, owner, filter).await;
    assert_eq!(
        count,
        rows.len() as u64,
        "count agrees with the rows of {filter:?}"
    );
    rows.iter().map(|r| r.id).collect()
}

/// Ids of the matches, sorted: for filters whose order does not matter.
pub(crate) async fn id_set(ctx: &Ctx, owner: Uuid, filter: &ResourceFilter) -> Vec<Uuid> {
    let mut found = ids(ctx, owner, filter).await;
    found.sort();
    found
}

pub(crate) fn sorted(records: &[&ResourceRecord]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = records.iter().map(|r| r.id).collect();
    ids.sort();
    ids
}

/// Every tag of `owner` as (name, resource_count), by name.
pub(crate) async fn tag_counts(ctx: &Ctx, owner: Uuid) -> Vec<(String, i64)> {
    all_tags(ctx, owner)
        .await
        .into_iter()
        .map(|t| (t.name, t.resource_count))
        .collect()
}

pub(crate) async fn all_tags(ctx: &Ctx, owner: Uuid) -> Vec<Tag> {
    let (count, tags) = ctx
        .store
        .list_tags(owner, None, page(1, 100))
        .await
        .expect("list_tags");
    assert_eq!(count, tags.len() as u64, "tag count agrees with the rows");
    tags
}

pub(crate) async fn tag_named(ctx: &Ctx, owner: Uuid, name: &str) -> Tag {
    all_tags(ctx, owner)
        .await
        .into_iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("tag {name:?} exists"))
}

pub(crate) fn counts(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(n, c)| ((*n).to_string(), *c)).collect()
}

/// The fields a conflict or validation error names, or a panic describing what came instead.
pub(crate) fn error_fields<T: std::fmt::Debug>(
    result: vault_core::Result<T>,
    conflict: bool,
) -> Vec<String> {
    let errors = match (result, conflict) {
        (Err(Error::Conflict(errors)), true) | (Err(Error::Validation(errors)), false) => errors,
        (other, _) => panic!(
            "expected Error::{}, got {other:?}",
            if conflict { "Conflict" } else { "Validation" }
        ),
    };
    let value = serde_json::to_value(&errors).expect("field errors serialize");
    let map = value.as_object().expect("field errors are an object");
    for (field, messages) in map {
        let messages = messages.as_array().expect("messages are a list");
        assert!(!messages.is_empty(), "{field} has a message");
    }
    map.keys().cloned().collect()
}

pub(crate) fn conflict_fields<T: std::fmt::Debug>(result: vault_core::Result<T>) -> Vec<String> {
    error_fields(result, true)
}

pub(crate) fn validation_fields<T: std::fmt::Debug>(result: vault_core::Result<T>) -> Vec<String> {
    error_fields(result, false)
}

// --- raw SQL (what the trait does not expose) -------------------------------------------------

/// Runs `sql` with `$1` bound to `id`; returns the rows affected.
pub(crate) async fn exec(db: &Database, sql: &str, id: Uuid) -> u64 {
    let result = match db {
        Database::Sqlite(pool) => sqlx::query(sql)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        Database::Postgres(pool) => sqlx::query(sql)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    };
    result.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `SELECT count(*) …` with `$1` bound to `id`.
pub(crate) async fn count_where(db: &Database, sql: &str, id: Uuid) -> i64 {
    let result = match db {
        Database::Sqlite(pool) => sqlx::query_scalar(sql).bind(id).fetch_one(pool).await,
        Database::Postgres(pool) => sqlx::query_scalar(sql).bind(id).fetch_one(pool).await,
    };
    result.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The names of the tags actually linked to resource `id` (through `resource_tags`), sorted.
pub(crate) async fn linked_tag_names(db: &Database, id: Uuid) -> Vec<String> {
    let sql = "SELECT t.name FROM resource_tags rt JOIN tags t ON t.id = rt.tag_id \
               WHERE rt.resource_id = $1 ORDER BY t.name";
    let result = match db {
        Database::Sqlite(pool) => sqlx::query_scalar(sql).bind(id).fetch_all(pool).await,
        Database::Postgres(pool) => sqlx::query_scalar(sql).bind(id).fetch_all(pool).await,
    };
    result.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The keys queued in `blob_garbage`, sorted.
pub(crate) async fn blob_garbage(db: &Database) -> Vec<String> {
    let sql = "SELECT key FROM blob_garbage ORDER BY key";
    let result = match db {
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
    };
    result.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Attaches a (pretend) stored file with blob key `key` to resource `id`.
pub(crate) async fn attach_file(db: &Database, id: Uuid, key: &str) {
    let sql = format!(
        "UPDATE resources SET file_key = '{key}', file_name = 'paper.pdf', file_size = 3, \
         file_type = 'application/pdf', file_sha256 = 'abc' WHERE id = $1"
    );
    assert_eq!(exec(db, &sql, id).await, 1, "resource {id} exists");
}
