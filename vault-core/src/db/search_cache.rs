//! Ranked search results remembered per owner, so that paging through a search (or asking for
//! it again) does not rank every hit again.
//!
//! A full-text search has to score every hit to know which twenty come first and count them
//! all for `count`: its cost grows with the number of hits (a word in 1 % of 100 000 resources
//! is 1 000 hits), on SQLite (FTS5 `bm25`) as on PostgreSQL (`ts_rank`). Search engines answer
//! repeated queries from a request cache invalidated when the index changes; this is the same
//! idea at the owner's scale:
//!
//! - The first request of a search runs one statement that returns the ids of the first
//!   [`REMEMBERED_HITS`] hits in rank order, the exact number of hits and the owner's data
//!   **version** (`resource_counts.version`, raised by a trigger on every insert, update and
//!   delete of the owner's resources; tag links and names are mirrored in
//!   `resources.tag_names`, so they count too).
//! - Every page, first or later, is then read by id in one statement that also returns the
//!   owner's current version. Only when that version equals the remembered one is the
//!   remembered order used; otherwise the search is ranked afresh. Because the check happens in
//!   the statement that reads the rows, a write by any process — another server instance on
//!   the same database included — is seen at once: nothing is ever served stale.
//! - Entries are per owner (the owner is part of the key and of every statement), bounded by
//!   the number of ids they hold ([`CAPACITY`]) and dropped after [`IDLE`] unused.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::resources::ResourceFilter;

/// How many hits of one search are remembered, best first (250 pages of 20). Pages past them
/// are listed directly, as without the cache.
pub(crate) const REMEMBERED_HITS: u64 = 5_000;

/// How many ids all remembered searches hold together (16 bytes each: 4 MiB).
const CAPACITY: u64 = 262_144;

/// How long an unused entry stays.
const IDLE: Duration = Duration::from_secs(600);

/// One search of one owner: the owner and everything that decides which hits and in what
/// order (the rendered search text, the other filters, the ordering).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SearchKey {
    owner: Uuid,
    query: String,
}

impl SearchKey {
    /// The key of `filter`'s search (already rendered for the backend as `search`) for `owner`.
    pub(crate) fn new(owner: Uuid, search: &str, filter: &ResourceFilter) -> Self {
        let ResourceFilter {
            kind,
            tags,
            favorite,
            search: _,
            ordering,
        } = filter;
        Self {
            owner,
            query: format!("{search}\u{0}{kind:?}\u{0}{tags:?}\u{0}{favorite:?}\u{0}{ordering:?}"),
        }
    }
}

/// A remembered search: the owner's version it was ranked at, its exact number of hits and
/// the ids of the first (up to [`REMEMBERED_HITS`]) hits, best first.
#[derive(Debug)]
pub(crate) struct Hits {
    pub(crate) version: i64,
    pub(crate) total: u64,
    pub(crate) ids: Box<[Uuid]>,
}

impl Hits {
    /// The ids of the page `offset..offset + limit`: `Some(ids)` (empty past the last hit)
    /// when the remembered ids cover it, `None` when it lies past them.
    pub(crate) fn page(&self, offset: u64, limit: u64) -> Option<&[Uuid]> {
        if offset >= self.total {
            return Some(&[]);
        }
        let end = offset.saturating_add(limit).min(self.total);
        let (start, end) = (usize::try_from(offset).ok()?, usize::try_from(end).ok()?);
        self.ids.get(start..end)
    }
}

/// The remembered searches of one store (shared by its clones).
#[derive(Clone)]
pub(crate) struct SearchCache {
    entries: moka::sync::Cache<SearchKey, Arc<Hits>>,
}

impl std::fmt::Debug for SearchCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchCache")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl Default for SearchCache {
    fn default() -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .weigher(|_, hits: &Arc<Hits>| {
                    u32::try_from(hits.ids.len().saturating_add(1)).unwrap_or(u32::MAX)
                })
                .time_to_idle(IDLE)
                .build(),
        }
    }
}

impl SearchCache {
    /// The remembered hits of `key`, if any (to be checked against the owner's version).
    pub(crate) fn get(&self, key: &SearchKey) -> Option<Arc<Hits>> {
        self.entries.get(key)
    }

    /// Remembers `hits` for `key`, replacing an older ranking.
    pub(crate) fn insert(&self, key: SearchKey, hits: Arc<Hits>) {
        self.entries.insert(key, hits);
    }

    /// Forgets `key` (its remembered version turned out stale).
    pub(crate) fn remove(&self, key: &SearchKey) {
        self.entries.invalidate(key);
    }
}

#[cfg(test)]
mod tests {
    use super::{Hits, SearchKey};
    use crate::resources::{OrderField, ResourceFilter};
    use uuid::Uuid;

    fn hits(total: u64, remembered: usize) -> Hits {
        Hits {
            version: 1,
            total,
            ids: (0..remembered).map(|_| Uuid::now_v7()).collect(),
        }
    }

    #[test]
    fn pages_are_cut_from_the_remembered_ids() {
        let all = hits(45, 45);
        assert_eq!(all.page(0, 20), Some(&all.ids[0..20]));
        assert_eq!(all.page(40, 20), Some(&all.ids[40..45]));
        assert_eq!(all.page(45, 20), Some(&[][..]));
        assert_eq!(all.page(u64::MAX, 20), Some(&[][..]));
        // Only a prefix remembered: pages past it are not answered from memory.
        let prefix = hits(1_000, 100);
        assert_eq!(prefix.page(80, 20), Some(&prefix.ids[80..100]));
        assert_eq!(prefix.page(90, 20), None);
        assert_eq!(prefix.page(100, 20), None);
        assert_eq!(prefix.page(2_000, 20), Some(&[][..]));
    }

    #[test]
    fn keys_tell_apart_owners_filters_and_orderings() {
        let owner = Uuid::now_v7();
        let filter = ResourceFilter::default();
        let key = SearchKey::new(owner, "rust", &filter);
        assert_eq!(key, SearchKey::new(owner, "rust", &filter));
        assert_ne!(key, SearchKey::new(Uuid::now_v7(), "rust", &filter));
        assert_ne!(key, SearchKey::new(owner, "rusty", &filter));
        let variants = [
            ResourceFilter {
                favorite: Some(true),
                ..ResourceFilter::default()
            },
            ResourceFilter {
                tags: vec!["x".into()],
                ..ResourceFilter::default()
            },
            ResourceFilter {
                ordering: Some((OrderField::Title, false)),
                ..ResourceFilter::default()
            },
        ];
        for other in &variants {
            assert_ne!(key, SearchKey::new(owner, "rust", other), "{other:?}");
        }
        // The raw search text is not part of the key: the rendered one (given) is.
        let spelled_differently = ResourceFilter {
            search: Some("  RUST ".into()),
            ..ResourceFilter::default()
        };
        assert_eq!(key, SearchKey::new(owner, "rust", &spelled_differently));
    }
}
