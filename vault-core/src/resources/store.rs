//! The storage trait of the resources module (resources and tags). Every method is scoped to
//! one owner: the owner is in every WHERE clause, so another user's rows do not exist here.

use std::sync::Arc;

use async_trait::async_trait;
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

/// One page of a listing as a store read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedPage {
    /// Matches over all pages.
    pub total: u64,
    /// The rows, in page order. Shared rather than owned: a caching layer hands out the rows
    /// it remembers without copying them.
    pub records: Arc<[ResourceRecord]>,
    /// The owner's data version these rows were read at, when the read says (any write to
    /// the owner's resources raises it, see [`OwnerVersion`]): the same listing and page at
    /// the same version are the same rows. `None` when unknown.
    pub version: Option<i64>,
}

/// An owner's maintained resource count and data version (`resource_counts`). The version is
/// raised by the database itself on every insert, update and delete of the owner's resources
/// (tag links and names are mirrored in the resources, so they count too), by any process:
/// what was read at a version is still true while the version is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnerVersion {
    /// The owner's number of resources.
    pub total: u64,
    /// The data version.
    pub version: i64,
}

/// The value of a listing's sort key in one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    /// `created_at` or `updated_at`.
    Time(Timestamp),
    /// `title`.
    Text(String),
}

/// Where a page of an unfiltered listing starts, as a position in its order rather than an
/// offset: `(sort key, id)` of a row, and whether that row is the page's first (inclusive) or
/// the last one before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageStart {
    /// The sort key of that row.
    pub value: SortValue,
    /// Its id (the tie-break of every ordering).
    pub id: Uuid,
    /// Whether that row itself is the first of the page.
    pub inclusive: bool,
}

/// A page of an unfiltered listing with the owner's [`OwnerVersion`] read in the same
/// statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedRows {
    /// The rows, in page order (never empty).
    pub records: Vec<ResourceRecord>,
    /// The owner's count and version when they were read.
    pub owner: OwnerVersion,
}

/// The first hits of a listing in order (by relevance for a search), with their exact number
/// and the owner's data version, read in one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedIds {
    /// The owner's data version of the ranking (`None` when the owner has none yet).
    pub version: Option<i64>,
    /// The exact number of matches.
    pub total: u64,
    /// The ids of the first matches, in order.
    pub ids: Vec<Uuid>,
}

/// Resources and tags of one owner at a time.
///
/// Every call that creates an object or names one by id answers
/// [`crate::Error::InvalidAccessToken`] when `owner`'s account no longer exists (deleted
/// through another server instance while this one still trusted its access token), rather than
/// a miss or a broken foreign key.
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

    /// A page of `owner`'s resources and the total count, in a constant number of statements
    /// whatever the page.
    ///
    /// # Errors
    /// Database failures.
    async fn list_page(
        &self,
        owner: Uuid,
        filter: &ResourceFilter,
        page: PageRequest,
    ) -> Result<ListedPage>;

    /// [`Self::list_page`] with rows of the caller's own.
    ///
    /// # Errors
    /// Database failures.
    async fn list_resources(
        &self,
        owner: Uuid,
        filter: &ResourceFilter,
        page: PageRequest,
    ) -> Result<(u64, Vec<ResourceRecord>)> {
        let listed = self.list_page(owner, filter, page).await?;
        Ok((listed.total, listed.records.to_vec()))
    }

    // --- version-checked reads, for caching layers (see `CachingResourceStore`) ---------------

    /// `owner`'s [`OwnerVersion`]; `None` while the owner never had a resource.
    ///
    /// # Errors
    /// Database failures.
    async fn owner_version(&self, owner: Uuid) -> Result<Option<OwnerVersion>>;

    /// The page `page` of `owner`'s unfiltered listing by `ordering` (`None`: newest first)
    /// with the owner's [`OwnerVersion`] read in the same statement; `None` when the page has
    /// no rows. `from` starts the page at a position instead of skipping `page.offset()` rows
    /// (an index seek: a deep page then costs what the first does).
    ///
    /// # Errors
    /// Database failures.
    async fn plain_page(
        &self,
        owner: Uuid,
        ordering: Option<(OrderField, bool)>,
        page: PageRequest,
        from: Option<PageStart>,
    ) -> Result<Option<VersionedRows>>;

    /// The ids of the first `limit` matches of `filter` for `owner`, best first when
    /// searching, with their exact number and the owner's data version, in one statement.
    ///
    /// # Errors
    /// Database failures.
    async fn ranked_ids(
        &self,
        owner: Uuid,
        filter: &ResourceFilter,
        limit: u64,
    ) -> Result<RankedIds>;

    /// The resources of `owner` among `ids`, in no particular order, each with the owner's
    /// current data version (read in the same statement); missing ids are left out.
    ///
    /// # Errors
    /// Database failures.
    async fn resources_by_id(
        &self,
        owner: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<(i64, ResourceRecord)>>;

    /// Attaches a file (replacing any previous one, whose blob is queued for deletion in the
    /// same transaction) and takes its key off the deletion queue ([`Self::reserve_blob`]), in
    /// one transaction. `None` when the resource does not exist.
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

    /// Queues `key` for deletion a day from now, before an upload stores a blob under it: if
    /// the process dies between storing the blob and attaching it ([`Self::set_file`] takes
    /// the key off the queue in the same transaction), the blob is not left orphaned but
    /// collected once the key falls due. A day is far longer than any upload takes.
    ///
    /// # Errors
    /// Database failures.
    async fn reserve_blob(&self, key: &str) -> Result<()>;

    /// Queued blob keys that are due (their rows are gone, or their upload reserved them a day
    /// ago and never attached them), oldest first, at most `limit`.
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
