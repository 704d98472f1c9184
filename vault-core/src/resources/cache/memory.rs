//! The one bounded memory of a [`super::CachingResourceStore`]: remembered pages, page marks and
//! search rankings in a single `quick_cache`, weighed in bytes.
//!
//! Every entry carries its weight, computed once when it is made from the real sizes of what it
//! holds (each row's strings by their capacity, each id, the key's text) plus a fixed overhead
//! per entry for the cache's own bookkeeping. The cache evicts (and refuses an entry heavier
//! than its share) so that the weighed total never exceeds the bound it was given. Entries do
//! not expire with time: each is checked against the owner's data version before use, so an
//! old entry is never wrong, only possibly stale and then dropped; idle ones are evicted as
//! the bound requires.

use std::mem::size_of;
use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, OptionsBuilder, Weighter};
use uuid::Uuid;

use super::hits::Hits;
use super::marks::Mark;
use crate::resources::{OrderField, ResourceRecord};

/// A fixed allowance per entry for what the cache itself holds beside key and value (its slot,
/// hash table entry and the `Arc` header).
const ENTRY_OVERHEAD: u64 = 96;

/// How many shards the cache is split into at most (each holds an equal share of the bound; an
/// entry heavier than nearly a whole share is not kept).
const SHARDS: usize = 16;

/// The bytes a remembered page is assumed to take on average, to size the cache's table.
const TYPICAL_ENTRY: u64 = 4 * 1024;

/// What is remembered, always for one owner.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Key {
    /// A plain listing's page `offset..offset + limit` by (field, descending).
    Page {
        owner: Uuid,
        field: OrderField,
        descending: bool,
        offset: u64,
        limit: u64,
    },
    /// Where the rows from `offset` start in a plain listing by (field, descending).
    Mark {
        owner: Uuid,
        field: OrderField,
        descending: bool,
        offset: u64,
    },
    /// A search: the owner and everything that decides its hits and their order.
    Search { owner: Uuid, query: Box<str> },
}

impl Key {
    /// The heap bytes the key holds beyond its own size.
    fn heap_bytes(&self) -> u64 {
        match self {
            Self::Search { query, .. } => query.len() as u64,
            Self::Page { .. } | Self::Mark { .. } => 0,
        }
    }
}

/// A plain listing's page as last read: the owner's data version and total at that read, and
/// its rows.
#[derive(Debug)]
pub(super) struct RememberedPage {
    pub(super) version: i64,
    pub(super) total: u64,
    pub(super) records: Arc<[ResourceRecord]>,
}

/// A remembered value with its weight, computed once.
#[derive(Debug, Clone)]
pub(super) enum Entry {
    Page(Arc<RememberedPage>, u64),
    Mark(Arc<Mark>, u64),
    Search(Arc<Hits>, u64),
}

impl Entry {
    /// A page, weighed by its rows' real sizes.
    pub(super) fn page(page: RememberedPage) -> Self {
        let rows: u64 = page.records.iter().map(record_bytes).sum();
        let bytes = size_of::<RememberedPage>() as u64 + rows;
        Self::Page(Arc::new(page), bytes)
    }

    /// A mark, weighed with its sort key's text.
    pub(super) fn mark(mark: Mark) -> Self {
        let bytes = size_of::<Mark>() as u64 + mark.heap_bytes();
        Self::Mark(Arc::new(mark), bytes)
    }

    /// A ranking, weighed by its ids.
    pub(super) fn search(hits: Hits) -> Self {
        let bytes = size_of::<Hits>() as u64 + (hits.ids.len() * size_of::<Uuid>()) as u64;
        Self::Search(Arc::new(hits), bytes)
    }

    fn bytes(&self) -> u64 {
        match self {
            Self::Page(_, bytes) | Self::Mark(_, bytes) | Self::Search(_, bytes) => *bytes,
        }
    }
}

/// The bytes one row takes: the record itself and every string it owns.
fn record_bytes(record: &ResourceRecord) -> u64 {
    let text = |s: &String| s.capacity() as u64;
    let optional = |s: &Option<String>| s.as_ref().map_or(0, text);
    size_of::<ResourceRecord>() as u64
        + text(&record.title)
        + text(&record.body)
        + text(&record.tag_names)
        + optional(&record.url)
        + optional(&record.file_key)
        + optional(&record.file_name)
        + optional(&record.file_type)
        + optional(&record.file_sha256)
}

/// Weighs an entry: key, value and the fixed overhead.
#[derive(Debug, Clone, Copy)]
struct Weigh;

impl Weighter<Key, Entry> for Weigh {
    fn weight(&self, key: &Key, entry: &Entry) -> u64 {
        ENTRY_OVERHEAD + size_of::<Key>() as u64 + key.heap_bytes() + entry.bytes()
    }
}

/// The bounded map of remembered entries (shared by the layer's clones).
#[derive(Clone)]
pub(super) struct Memory {
    entries: Arc<Cache<Key, Entry, Weigh>>,
    bound: u64,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory")
            .field("entries", &self.entries.len())
            .field("bytes", &self.entries.weight())
            .field("bound", &self.bound)
            .finish()
    }
}

impl Memory {
    /// An empty memory that never holds more than `bound` weighed bytes.
    pub(super) fn new(bound: u64) -> Self {
        // Each shard gets `ceil(capacity / shards)`: asking for `SHARDS - 1` bytes less keeps
        // the shards' sum within `bound`.
        let capacity = bound.saturating_sub(SHARDS as u64 - 1);
        let items = usize::try_from((bound / TYPICAL_ENTRY).clamp(64, 1 << 20)).unwrap_or(64);
        let options = OptionsBuilder::new()
            .shards(SHARDS)
            .estimated_items_capacity(items)
            .weight_capacity(capacity)
            .build();
        let entries = match options {
            Ok(options) => Cache::with_options(
                options,
                Weigh,
                DefaultHashBuilder::default(),
                Default::default(),
            ),
            // Every option above is set, so building cannot fail; keep nothing if it does.
            Err(_) => Cache::with_weighter(1, 0, Weigh),
        };
        Self {
            entries: Arc::new(entries),
            bound,
        }
    }

    pub(super) fn get(&self, key: &Key) -> Option<Entry> {
        self.entries.get(key)
    }

    pub(super) fn insert(&self, key: Key, entry: Entry) {
        self.entries.insert(key, entry);
    }

    pub(super) fn remove(&self, key: &Key) {
        self.entries.remove(key);
    }

    /// The weighed bytes held now.
    pub(super) fn weight(&self) -> u64 {
        self.entries.weight()
    }

    /// The bound given at creation.
    pub(super) fn bound(&self) -> u64 {
        self.bound
    }
}
