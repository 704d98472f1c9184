//! The storage trait of the resources module (resources and tags). Every method is scoped to
//! one owner: the owner is in every WHERE clause, so another user's rows do not exist here.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use bytes::Bytes;
use uuid::Uuid;

use super::model::{ResourceChanges, ResourceFields, ResourceKind, Tag};
use crate::error::Result;
use crate::page::PageRequest;
use crate::time::Timestamp;

/// Sort keys of `?ordering=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderField {
    /// `created_at` (the default, newest first).
    CreatedAt,
    /// `updated_at`.
    UpdatedAt,
    /// `title`.
    Title,
}

/// Filters and order of GET /resources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    /// Only this kind.
    pub kind: Option<ResourceKind>,
    /// Only resources carrying every one of these tags.
    pub tags: Vec<String>,
    /// Only favorites (or only non-favorites).
    pub favorite: Option<bool>,
    /// Full-text search words.
    pub search: Option<String>,
    /// Explicit order; `None`: by relevance when searching, else newest first.
    pub ordering: Option<(OrderField, bool)>,
}

/// A stored resource with its tags and file columns.
///
/// Decoded from rows by column position (see `db::resources`), not by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRecord {
    /// Id.
    pub id: Uuid,
    /// Kind.
    pub kind: ResourceKind,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// URL.
    pub url: Option<String>,
    /// Favorite.
    pub favorite: bool,
    /// Tag names joined by `\n` (tags cannot contain control characters), sorted.
    pub tag_names: String,
    /// Blob key of the attached file.
    pub file_key: Option<String>,
    /// Original file name.
    pub file_name: Option<String>,
    /// File size.
    pub file_size: Option<i64>,
    /// File media type.
    pub file_type: Option<String>,
    /// File SHA-256, hex.
    pub file_sha256: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl ResourceRecord {
    /// A note-like record for unit tests: `id`, `kind`, `title`, everything else empty, created
    /// and updated now.
    #[cfg(test)]
    pub(crate) fn sample(id: Uuid, kind: ResourceKind, title: &str) -> Self {
        let now = crate::time::now();
        Self {
            id,
            kind,
            title: title.into(),
            body: String::new(),
            url: None,
            favorite: false,
            tag_names: String::new(),
            file_key: None,
            file_name: None,
            file_size: None,
            file_type: None,
            file_sha256: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// The tag names.
    pub fn tags(&self) -> Vec<String> {
        if self.tag_names.is_empty() {
            Vec::new()
        } else {
            self.tag_names.split('\n').map(str::to_string).collect()
        }
    }
}

/// The stored description of a resource's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileColumns {
    /// Blob key in the blob store.
    pub key: String,
    /// Original file name.
    pub name: String,
    /// Size in bytes.
    pub size: i64,
    /// Media type.
    pub content_type: String,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// The rows of one page of a listing, as a store read them, shareable with the store's
/// memory of that page (see [`ResourceStore::list_resources_shared`]).
#[derive(Debug, Default)]
pub struct ListedRows {
    /// The rows, in page order.
    pub records: Vec<ResourceRecord>,
    /// The page's `results` as the API serializes them: made by the service on first use
    /// and kept with the rows, so a page the store remembers is answered again without
    /// serializing it again (the rows never change; a changed page is a new `ListedRows`).
    pub rendered: OnceLock<Bytes>,
}

impl ListedRows {
    /// Rows not yet serialized, ready to share.
    pub fn shared(records: Vec<ResourceRecord>) -> Arc<Self> {
        Arc::new(Self {
            records,
            rendered: OnceLock::new(),
        })
    }

    /// The rows themselves: moved out when nothing else holds them, copied otherwise.
    pub fn into_records(rows: Arc<Self>) -> Vec<ResourceRecord> {
        Arc::try_unwrap(rows).map_or_else(|rows| rows.records.clone(), |rows| rows.records)
    }
}

/// Resources and tags of one owner at a time.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ResourceStore: Send + Sync + 'static {
    /// Inserts a resource and its tags (created on the fly) in one transaction.
    ///
    /// # Errors
    /// Database failures.
    async fn create_resource(
        &self,
        owner: Uuid,
        id: Uuid,
        fields: &ResourceFields,
        tags: &[String],
        now: Timestamp,
    ) -> Result<ResourceRecord>;

    /// One resource of `owner`.
    ///
    /// # Errors
    /// Database failures.
    async fn get_resource(&self, owner: Uuid, id: Uuid) -> Result<Option<ResourceRecord>>;

    /// Replaces every writable field and the tag set (PUT).
    ///
    /// # Errors
    /// Database failures.
    async fn replace_resource(
        &self,
        owner: Uuid,
        id: Uuid,
        fields: &ResourceFields,
        tags: &[String],
        now: Timestamp,
    ) -> Result<Option<ResourceRecord>>;

    /// Changes only the given fields (PATCH), column by column so concurrent patches of
    /// different fields do not undo each other.
    ///
    /// # Errors
    /// [`crate::Error::Validation`] on `url` when the result would be a link without one.
    async fn patch_resource(
        &self,
        owner: Uuid,
        id: Uuid,
        changes: &ResourceChanges,
        now: Timestamp,
    ) -> Result<Option<ResourceRecord>>;

    /// Deletes a resource (its file is queued for deletion in the same transaction).
    ///
    /// # Errors
    /// Database failures.
    async fn delete_resource(&self, owner: Uuid, id: Uuid) -> Result<bool>;

    /// A page of `owner`'s resources and the total count: two queries whatever the page. The
    /// rows come shared rather than copied: a store that remembers pages (the SQL stores do,
    /// see `db::page_marks`) hands out the remembered rows themselves, with the slot in which
    /// the service keeps their serialized form.
    ///
    /// # Errors
    /// Database failures.
    async fn list_resources_shared(
        &self,
        owner: Uuid,
        filter: &ResourceFilter,
        page: PageRequest,
    ) -> Result<(u64, Arc<ListedRows>)>;

    /// [`Self::list_resources_shared`] with rows of the caller's own.
    ///
    /// # Errors
    /// Database failures.
    async fn list_resources(
        &self,
        owner: Uuid,
        filter: &ResourceFilter,
        page: PageRequest,
    ) -> Result<(u64, Vec<ResourceRecord>)> {
        let (total, rows) = self.list_resources_shared(owner, filter, page).await?;
        Ok((total, ListedRows::into_records(rows)))
    }

    /// Attaches a file (replacing any previous one, whose blob is queued for deletion in the
    /// same transaction). `None` when the resource does not exist.
    ///
    /// # Errors
    /// Database failures.
    async fn set_file(
        &self,
        owner: Uuid,
        id: Uuid,
        file: &FileColumns,
        now: Timestamp,
    ) -> Result<Option<ResourceRecord>>;

    /// Detaches the file (its blob is queued for deletion). `None` when the resource does not
    /// exist, `Some(false)` when it had no file.
    ///
    /// # Errors
    /// Database failures.
    async fn clear_file(&self, owner: Uuid, id: Uuid, now: Timestamp) -> Result<Option<bool>>;

    /// Blob keys whose rows are gone, oldest first, at most `limit`.
    ///
    /// # Errors
    /// Database failures.
    async fn blob_garbage(&self, limit: i64) -> Result<Vec<String>>;

    /// Forgets garbage keys whose blobs were deleted.
    ///
    /// # Errors
    /// Database failures.
    async fn forget_blob_garbage(&self, keys: &[String]) -> Result<()>;

    /// Whether a blob key is referenced by a resource (a garbage key may have been reused).
    ///
    /// # Errors
    /// Database failures.
    async fn blob_in_use(&self, key: &str) -> Result<bool>;

    /// A page of `owner`'s tags (by name) with resource counts, optionally filtered by a
    /// substring of the name.
    ///
    /// # Errors
    /// Database failures.
    async fn list_tags(
        &self,
        owner: Uuid,
        search: Option<String>,
        page: PageRequest,
    ) -> Result<(u64, Vec<Tag>)>;

    /// Creates a tag.
    ///
    /// # Errors
    /// [`crate::Error::Conflict`] on `name` when `owner` has it already.
    async fn create_tag(&self, owner: Uuid, id: Uuid, name: &str, now: Timestamp) -> Result<Tag>;

    /// One tag of `owner`.
    ///
    /// # Errors
    /// Database failures.
    async fn get_tag(&self, owner: Uuid, id: Uuid) -> Result<Option<Tag>>;

    /// Renames a tag (the resources carrying it follow).
    ///
    /// # Errors
    /// [`crate::Error::Conflict`] on `name` when `owner` has it already.
    async fn rename_tag(&self, owner: Uuid, id: Uuid, name: &str) -> Result<Option<Tag>>;

    /// Deletes a tag, detaching it from every resource.
    ///
    /// # Errors
    /// Database failures.
    async fn delete_tag(&self, owner: Uuid, id: Uuid) -> Result<bool>;
}
