//! [`SqlResourceStore`]: the [`ResourceStore`] over SQLite or PostgreSQL, by topic: writes of
//! resources ([`write`]), listings ([`list`]) and the ranked reads of searches ([`search`]),
//! tags ([`tags`]) and files ([`files`]). The dialects differ only in full-text search (FTS5 vs.
//! tsvector), string aggregation and row locks; see [`Dialect`].
//!
//! The store remembers nothing between calls; [`crate::resources::CachingResourceStore`] is
//! the layer that does, in front of it.
//!
//! Every call naming one object or creating one is settled against the owner's account (see
//! [`super::owner_settled`]): for an owner deleted through another instance, it is 401
//! `token_not_valid`, never a 404 for the missing row or a 500 for the broken foreign key.

mod files;
mod list;
mod search;
mod tags;
mod write;

use async_trait::async_trait;
use uuid::Uuid;

use super::{owner_settled, Database, Dialect};
use crate::error::Result;
use crate::page::PageRequest;
use crate::resources::{
    FileColumns, ListedPage, OrderField, OwnerVersion, PageStart, RankedIds, ResourceChanges,
    ResourceFields, ResourceFilter, ResourceKind, ResourceRecord, ResourceStore, Tag,
    VersionedRows,
};
use crate::time::Timestamp;

/// The resources store over a [`Database`] (clones share the pool).
#[derive(Debug, Clone)]
pub struct SqlResourceStore {
    db: Database,
}

impl SqlResourceStore {
    /// The store over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// The columns of a [`ResourceRecord`], in the order its `FromRow` decodes them by position;
/// every statement that reads records selects exactly these first.
const COLUMNS: &str = "r.id, r.kind, r.title, r.body, r.url, r.favorite, r.tag_names, r.file_key, \
     r.file_name, r.file_size, r.file_type, r.file_sha256, r.created_at, r.updated_at";

/// Decodes a [`ResourceRecord`] from the first 14 columns of a row, in `COLUMNS` order: by
/// position, because looking each column up by name was ~15 % of the CPU of a listed page,
/// and without sqlx's per-value type compatibility check (another ~6 %: every statement
/// selects these columns of the one table, and each value's decoding still refuses malformed
/// or NULL input for a non-optional field).
impl<'r, R> sqlx::FromRow<'r, R> for ResourceRecord
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    Uuid: sqlx::Decode<'r, R::Database>,
    String: sqlx::Decode<'r, R::Database>,
    bool: sqlx::Decode<'r, R::Database>,
    i64: sqlx::Decode<'r, R::Database>,
    Timestamp: sqlx::Decode<'r, R::Database>,
{
    fn from_row(row: &'r R) -> std::result::Result<Self, sqlx::Error> {
        let kind: String = row.try_get_unchecked(1)?;
        Ok(Self {
            id: row.try_get_unchecked(0)?,
            kind: ResourceKind::try_from(kind).map_err(|e| sqlx::Error::ColumnDecode {
                index: "kind".into(),
                source: Box::new(e),
            })?,
            title: row.try_get_unchecked(2)?,
            body: row.try_get_unchecked(3)?,
            url: row.try_get_unchecked(4)?,
            favorite: row.try_get_unchecked(5)?,
            tag_names: row.try_get_unchecked(6)?,
            file_key: row.try_get_unchecked(7)?,
            file_name: row.try_get_unchecked(8)?,
            file_size: row.try_get_unchecked(9)?,
            file_type: row.try_get_unchecked(10)?,
            file_sha256: row.try_get_unchecked(11)?,
            created_at: row.try_get_unchecked(12)?,
            updated_at: row.try_get_unchecked(13)?,
        })
    }
}

#[async_trait]
impl ResourceStore for SqlResourceStore {
    async fn create_resource(
        &self,
        owner: Uuid,
        id: Uuid,
        fields: &ResourceFields,
        tags: &[String],
        now: Timestamp,
    ) -> Result<ResourceRecord> {
        let created = write::create(&self.db, owner, id, fields, tags, now).await;
        owner_settled(&self.db, owner, created).await
    }

    async fn get_resource(&self, owner: Uuid, id: Uuid) -> Result<Option<ResourceRecord>> {
        let found = write::get(&self.db, owner, id).await;
        owner_settled(&self.db, owner, found).await
    }

    async fn replace_resource(
        &self,
        owner: Uuid,
        id: Uuid,
        fields: &ResourceFields,
        tags: &[String],
        now: Timestamp,
    ) -> Result<Option<ResourceRecord>> {
        let replaced = write::replace(&self.db, owner, id, fields, tags, now).await;
        owner_settled(&self.db, owner, replaced).await
    }

    async fn patch_resource(
        &self,
        owner: Uuid,
        id: Uuid,
        changes: &ResourceChanges,
        now: Timestamp,
    ) -> Result<Option<ResourceRecord>> {
        let patched = write::patch(&self.db, owner, id, changes, now).await;
        owner_settled(&self.db, owner, patched).await
    }

    async fn delete_resource(&self, owner: Uuid, id: Uuid) -> Result<bool> {
        let deleted = write::delete(&self.db, owner, id).await;
        owner_settled(&self.db, owner, deleted).await
    }

    async fn list_page(
        &self,
        owner: Uuid,
        filter: &ResourceFilter,
        page: PageRequest,
    ) -> Result<ListedPage> {
        list::page(&self.db, owner, filter, page).await
    }

    async fn owner_version(&self, owner: Uuid) -> Result<Option<OwnerVersion>> {
        list::owner_version(&self.db, owner).await
    }

    async fn plain_page(
        &self,
        owner: Uuid,
        ordering: Option<(OrderField, bool)>,
        page: PageRequest,
        from: Option<PageStart>,
    ) -> Result<Option<VersionedRows>> {
        list::plain_page(&self.db, owner, ordering, page, from).await
    }

    async fn ranked_ids(
        &self,
        owner: Uuid,
        filter: &ResourceFilter,
        limit: u64,
    ) -> Result<RankedIds> {
        search::ranked_ids(&self.db, owner, filter, limit).await
    }

    async fn resources_by_id(
        &self,
        owner: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<(i64, ResourceRecord)>> {
        search::resources_by_id(&self.db, owner, ids).await
    }

    async fn set_file(
        &self,
        owner: Uuid,
        id: Uuid,
        file: &FileColumns,
        now: Timestamp,
    ) -> Result<Option<ResourceRecord>> {
        let set = files::set(&self.db, owner, id, file, now).await;
        owner_settled(&self.db, owner, set).await
    }

    async fn clear_file(&self, owner: Uuid, id: Uuid, now: Timestamp) -> Result<Option<bool>> {
        let cleared = files::clear(&self.db, owner, id, now).await;
        owner_settled(&self.db, owner, cleared).await
    }

    async fn reserve_blob(&self, key: &str) -> Result<()> {
        files::reserve(&self.db, key).await
    }

    async fn blob_garbage(&self, limit: i64) -> Result<Vec<String>> {
        files::garbage(&self.db, limit).await
    }

    async fn forget_blob_garbage(&self, keys: &[String]) -> Result<()> {
        files::forget_garbage(&self.db, keys).await
    }

    async fn blob_in_use(&self, key: &str) -> Result<bool> {
        files::in_use(&self.db, key).await
    }

    async fn list_tags(
        &self,
        owner: Uuid,
        search: Option<String>,
        page: PageRequest,
    ) -> Result<(u64, Vec<Tag>)> {
        tags::list(&self.db, owner, search, page).await
    }

    async fn create_tag(&self, owner: Uuid, id: Uuid, name: &str, now: Timestamp) -> Result<Tag> {
        let created = tags::create(&self.db, owner, id, name, now).await;
        owner_settled(&self.db, owner, created).await
    }

    async fn get_tag(&self, owner: Uuid, id: Uuid) -> Result<Option<Tag>> {
        let found = tags::get(&self.db, owner, id).await;
        owner_settled(&self.db, owner, found).await
    }

    async fn rename_tag(&self, owner: Uuid, id: Uuid, name: &str) -> Result<Option<Tag>> {
        let renamed = tags::rename(&self.db, owner, id, name).await;
        owner_settled(&self.db, owner, renamed).await
    }

    async fn delete_tag(&self, owner: Uuid, id: Uuid) -> Result<bool> {
        let deleted = tags::delete(&self.db, owner, id).await;
        owner_settled(&self.db, owner, deleted).await
    }
}

/// The first statement of a transaction that changes tags without going through a resource
/// row first: it takes the owner's `resource_counts` row (which the triggers on `resources`
/// update) before any tag row, in the order resource writes take them (resource, counts, then
/// tags), so the two can never wait for each other in a cycle on PostgreSQL.
const BUMP_VERSION: &str = "UPDATE resource_counts SET version = version + 1 WHERE owner_id = $1";

impl Dialect {
    /// Recomputes `tag_names` of the resources carrying tag `$1`, leaving out tag `$2` (pass
    /// the nil UUID to leave out nothing).
    fn refresh_tag_names(self) -> &'static str {
        match self {
            Self::Sqlite => "UPDATE resources SET tag_names = COALESCE((SELECT group_concat(t.name, char(10) ORDER BY t.name) \
                 FROM resource_tags rt JOIN tags t ON t.id = rt.tag_id \
                 WHERE rt.resource_id = resources.id AND t.id <> $2), '') \
                 WHERE id IN (SELECT resource_id FROM resource_tags WHERE tag_id = $1)",
            Self::Postgres => "UPDATE resources SET tag_names = COALESCE((SELECT string_agg(t.name, E'\\n' ORDER BY t.name) \
                 FROM resource_tags rt JOIN tags t ON t.id = rt.tag_id \
                 WHERE rt.resource_id = resources.id AND t.id <> $2), '') \
                 WHERE id IN (SELECT resource_id FROM resource_tags WHERE tag_id = $1)",
        }
    }
}
