//! [`CachingResourceStore`]: what the resources module remembers between requests, as a layer
//! in front of any [`ResourceStore`] (as tower-sessions' `CachingSessionStore` is in front of a
//! session store). Writes pass straight through; listings are answered from memory when the
//! store confirms, in the statement that reads them, that the owner's data has not changed:
//!
//! - **Pages** of a plain listing (any ordering, any page) are remembered whole with the owner's
//!   data version and total of their read. Asked again, one lookup of the owner's counts row
//!   ([`ResourceStore::owner_version`]) decides: same version, the remembered rows are the
//!   answer; otherwise the page is read afresh.
//! - **Deep pages** leave marks of where they and the next page start ([`marks`]): asked again,
//!   they seek the index instead of walking the offset.
//! - **Searches** are ranked once and paged by id ([`hits`]).
//!
//! Every check is against the version the database itself maintains (triggers raise it on
//! every write of the owner's resources), so several processes over one database stay correct:
//! nothing is served that a fresh read would not answer. Everything remembered lives in one
//! memory bounded in bytes ([`memory`]); entries do not expire with time, since a stale one is
//! never used.

mod hits;
mod marks;
mod memory;

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use self::hits::{Hits, REMEMBERED_HITS};
use self::marks::DEEP;
use self::memory::{Entry, Key, Memory, RememberedPage};
use super::model::{ResourceChanges, ResourceFields, Tag};
use super::store::{
    FileColumns, ListedPage, OrderField, OwnerVersion, PageStart, RankedIds, ResourceFilter,
    ResourceRecord, ResourceStore, VersionedRows,
};
use crate::db::search::SearchQuery;
use crate::error::Result;
use crate::page::PageRequest;
use crate::time::Timestamp;

/// A [`ResourceStore`] that remembers listings of the store it wraps, within a bound in bytes
/// (see the module documentation). Clones share the memory.
#[derive(Clone)]
pub struct CachingResourceStore {
    inner: Arc<dyn ResourceStore>,
    memory: Memory,
}

impl std::fmt::Debug for CachingResourceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachingResourceStore")
            .field("memory", &self.memory)
            .finish_non_exhaustive()
    }
}

impl CachingResourceStore {
    /// The bound of [`crate::Database::resource_store`]'s cache: 64 MiB.
    pub const DEFAULT_BYTES: u64 = 64 * 1024 * 1024;

    /// `inner` behind a memory of at most `max_bytes` (weighed: rows by the real sizes of their
    /// strings, ids, keys and a fixed overhead per entry).
    pub fn new(inner: Arc<dyn ResourceStore>, max_bytes: u64) -> Self {
        Self {
            inner,
            memory: Memory::new(max_bytes),
        }
    }

    /// The weighed bytes remembered now (never more than [`Self::max_bytes`]).
    pub fn weighed_bytes(&self) -> u64 {
        self.memory.weight()
    }

    /// The bound given at creation.
    pub fn max_bytes(&self) -> u64 {
        self.memory.bound()
    }

    /// A page of an unfiltered listing: remembered whole, sought from a mark, or read afresh.
    async fn plain_listing(
        &self,
        owner: Uuid,
        ordering: Option<(OrderField, bool)>,
        page: PageRequest,
    ) -> Result<ListedPage> {
        let (offset, limit) = (page.offset(), page.limit());
        let page_key = page_key(owner, ordering, offset, limit);
        if let Some(Entry::Page(known, _)) = self.memory.get(&page_key) {
            let current = self.inner.owner_version(owner).await?;
            if current.is_some_and(|c| c.version == known.version) {
                return Ok(ListedPage {
                    total: known.total,
                    records: Arc::clone(&known.records),
                    version: Some(known.version),
                });
            }
            self.memory.remove(&page_key);
        }
        if offset >= DEEP {
            let mark_key = marks::key(owner, ordering, offset);
            if let Some(Entry::Mark(mark, _)) = self.memory.get(&mark_key) {
                let sought = self
                    .inner
                    .plain_page(owner, ordering, page, Some(mark.start.clone()))
                    .await?;
                match sought {
                    Some(rows) if rows.owner.version == mark.version => {
                        return Ok(self.remember(owner, ordering, page, rows));
                    }
                    _ => self.memory.remove(&mark_key),
                }
            }
        }
        match self.inner.plain_page(owner, ordering, page, None).await? {
            Some(rows) => Ok(self.remember(owner, ordering, page, rows)),
            // No rows: an empty vault or a page past the end; the total tells which.
            None => Ok(ListedPage {
                total: self
                    .inner
                    .owner_version(owner)
                    .await?
                    .map_or(0, |o| o.total),
                ..ListedPage::default()
            }),
        }
    }

    /// Remembers a plain listing's page just read, and the marks it leaves.
    fn remember(
        &self,
        owner: Uuid,
        ordering: Option<(OrderField, bool)>,
        page: PageRequest,
        rows: VersionedRows,
    ) -> ListedPage {
        let (offset, limit) = (page.offset(), page.limit());
        let OwnerVersion { total, version } = rows.owner;
        for (key, entry) in marks::marks_of(owner, ordering, version, offset, limit, &rows.records)
        {
            self.memory.insert(key, entry);
        }
        let records: Arc<[ResourceRecord]> = rows.records.into();
        self.memory.insert(
            page_key(owner, ordering, offset, limit),
            Entry::page(RememberedPage {
                version,
                total,
                records: Arc::clone(&records),
            }),
        );
        ListedPage {
            total,
            records,
            version: Some(version),
        }
    }

    /// A page of a search: from its remembered ranking while the owner's data is unchanged,
    /// else ranked afresh (and remembered).
    async fn search_listing(
        &self,
        owner: Uuid,
        query: &SearchQuery,
        filter: &ResourceFilter,
        page: PageRequest,
    ) -> Result<ListedPage> {
        let key = hits::key(owner, query, filter);
        if let Some(Entry::Search(known, _)) = self.memory.get(&key) {
            if let Some(found) = self.page_of_hits(owner, &known, page).await? {
                return Ok(found);
            }
            self.memory.remove(&key);
        }
        let ranked = self
            .inner
            .ranked_ids(owner, filter, REMEMBERED_HITS)
            .await?;
        if ranked.ids.is_empty() {
            return Ok(ListedPage::default());
        }
        let hits = Hits {
            version: ranked.version.unwrap_or(i64::MIN),
            total: ranked.total,
            ids: ranked.ids.into_boxed_slice(),
        };
        if let Some(found) = self.page_of_hits(owner, &hits, page).await? {
            self.memory.insert(key, Entry::search(hits));
            return Ok(found);
        }
        // A page past the remembered hits, or a write landed between the two statements: list
        // it directly, like any filtered listing.
        self.inner.list_page(owner, filter, page).await
    }

    /// The page `page` of remembered search `hits` of `owner`, read by id together with the
    /// owner's current data version: `None` when that version is not the remembered one
    /// (something changed: rank afresh) or the page lies past the remembered ids.
    async fn page_of_hits(
        &self,
        owner: Uuid,
        hits: &Hits,
        page: PageRequest,
    ) -> Result<Option<ListedPage>> {
        let Some(ids) = hits.page(page.offset(), page.limit()) else {
            return Ok(None);
        };
        let answer = |records: Vec<ResourceRecord>| ListedPage {
            total: hits.total,
            records: records.into(),
            version: Some(hits.version),
        };
        if ids.is_empty() {
            let current = self.inner.owner_version(owner).await?;
            let unchanged = current.is_some_and(|c| c.version == hits.version);
            return Ok(unchanged.then(|| answer(Vec::new())));
        }
        let rows = self.inner.resources_by_id(owner, ids).await?;
        // Every hit still there and nothing changed since the ranking: any write to the owner's
        // resources (a deletion too) raises the version.
        if rows.len() != ids.len() || rows.iter().any(|(version, _)| *version != hits.version) {
            return Ok(None);
        }
        let mut rows: Vec<Option<ResourceRecord>> =
            rows.into_iter().map(|(_, record)| Some(record)).collect();
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            let found = rows
                .iter_mut()
                .find(|row| row.as_ref().is_some_and(|record| record.id == *id))
                .and_then(Option::take);
            match found {
                Some(record) => records.push(record),
                None => return Ok(None),
            }
        }
        Ok(Some(answer(records)))
    }
}

/// The key of a plain listing's page.
fn page_key(owner: Uuid, ordering: Option<(OrderField, bool)>, offset: u64, limit: u64) -> Key {
    let (field, descending) = marks::effective(ordering);
    Key::Page {
        owner,
        field,
        descending,
        offset,
        limit,
    }
}

#[async_trait]
impl ResourceStore for CachingResourceStore {
    async fn list_page(
        &self,
        owner: Uuid,
        filter: &ResourceFilter,
        page: PageRequest,
    ) -> Result<ListedPage> {
        if let Some(search) = filter.search.as_deref() {
            let query = SearchQuery::parse(search);
            if query.is_empty() {
                // Only punctuation or exclusions: nothing can match.
                return Ok(ListedPage::default());
            }
            return self.search_listing(owner, &query, filter, page).await;
        }
        if filter.kind.is_none() && filter.tags.is_empty() && filter.favorite.is_none() {
            return self.plain_listing(owner, filter.ordering, page).await;
        }
        self.inner.list_page(owner, filter, page).await
    }

    // Everything else passes through: writes need no invalidation (every remembered answer is
    // checked against the owner's data version, which every write raises).

    async fn create_resource(
        &self,
        owner: Uuid,
        id: Uuid,
        fields: &ResourceFields,
        tags: &[String],
        now: Timestamp,
    ) -> Result<ResourceRecord> {
        self.inner
            .create_resource(owner, id, fields, tags, now)
            .await
    }

    async fn get_resource(&self, owner: Uuid, id: Uuid) -> Result<Option<ResourceRecord>> {
        self.inner.get_resource(owner, id).await
    }

    async fn replace_resource(
        &self,
        owner: Uuid,
        id: Uuid,
        fields: &ResourceFields,
        tags: &[String],
        now: Timestamp,
    ) -> Result<Option<ResourceRecord>> {
        self.inner
            .replace_resource(owner, id, fields, tags, now)
            .await
    }

    async fn patch_resource(
        &self,
        owner: Uuid,
        id: Uuid,
        changes: &ResourceChanges,
        now: Timestamp,
    ) -> Result<Option<ResourceRecord>> {
        self.inner.patch_resource(owner, id, changes, now).await
    }

    async fn delete_resource(&self, owner: Uuid, id: Uuid) -> Result<bool> {
        self.inner.delete_resource(owner, id).await
    }

    async fn owner_version(&self, owner: Uuid) -> Result<Option<OwnerVersion>> {
        self.inner.owner_version(owner).await
    }

    async fn plain_page(
        &self,
        owner: Uuid,
        ordering: Option<(OrderField, bool)>,
        page: PageRequest,
        from: Option<PageStart>,
    ) -> Result<Option<VersionedRows>> {
        self.inner.plain_page(owner, ordering, page, from).await
    }

    async fn ranked_ids(
        &self,
        owner: Uuid,
        filter: &ResourceFilter,
        limit: u64,
    ) -> Result<RankedIds> {
        self.inner.ranked_ids(owner, filter, limit).await
    }

    async fn resources_by_id(
        &self,
        owner: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<(i64, ResourceRecord)>> {
        self.inner.resources_by_id(owner, ids).await
    }

    async fn set_file(
        &self,
        owner: Uuid,
        id: Uuid,
        file: &FileColumns,
        now: Timestamp,
    ) -> Result<Option<ResourceRecord>> {
        self.inner.set_file(owner, id, file, now).await
    }

    async fn clear_file(&self, owner: Uuid, id: Uuid, now: Timestamp) -> Result<Option<bool>> {
        self.inner.clear_file(owner, id, now).await
    }

    async fn reserve_blob(&self, key: &str) -> Result<()> {
        self.inner.reserve_blob(key).await
    }

    async fn blob_garbage(&self, limit: i64) -> Result<Vec<String>> {
        self.inner.blob_garbage(limit).await
    }

    async fn forget_blob_garbage(&self, keys: &[String]) -> Result<()> {
        self.inner.forget_blob_garbage(keys).await
    }

    async fn blob_in_use(&self, key: &str) -> Result<bool> {
        self.inner.blob_in_use(key).await
    }

    async fn list_tags(
        &self,
        owner: Uuid,
        search: Option<String>,
        page: PageRequest,
    ) -> Result<(u64, Vec<Tag>)> {
        self.inner.list_tags(owner, search, page).await
    }

    async fn create_tag(&self, owner: Uuid, id: Uuid, name: &str, now: Timestamp) -> Result<Tag> {
        self.inner.create_tag(owner, id, name, now).await
    }

    async fn get_tag(&self, owner: Uuid, id: Uuid) -> Result<Option<Tag>> {
        self.inner.get_tag(owner, id).await
    }

    async fn rename_tag(&self, owner: Uuid, id: Uuid, name: &str) -> Result<Option<Tag>> {
        self.inner.rename_tag(owner, id, name).await
    }

    async fn delete_tag(&self, owner: Uuid, id: Uuid) -> Result<bool> {
        self.inner.delete_tag(owner, id).await
    }
}
