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
//!   version ([`crate::resources::ResourceStore::ranked_ids`]).
//! - Every page, first or later, is then read by id in one statement that also returns the
//!   owner's current version ([`crate::resources::ResourceStore::resources_by_id`]). Only when
//!   that version equals the remembered one is the remembered order used; otherwise the search
//!   is ranked afresh. Because the check happens in the statement that reads the rows, a write
//!   by any process — another server instance on the same database included — is seen at once:
//!   nothing is ever served stale.
//! - Entries are per owner (the owner is part of the key and of every statement).

use uuid::Uuid;

use super::memory::Key;
use crate::db::search::SearchQuery;
use crate::resources::ResourceFilter;

/// How many hits of one search are remembered, best first (250 pages of 20). Pages past them
/// are listed directly, as without the cache.
pub(crate) const REMEMBERED_HITS: u64 = 5_000;

/// The key of `filter`'s search (`query`, parsed) for `owner`: the owner and everything that
/// decides which hits and in what order (the search in a canonical spelling, the other
/// filters, the ordering).
pub(super) fn key(owner: Uuid, query: &SearchQuery, filter: &ResourceFilter) -> Key {
    let ResourceFilter {
        kind,
        tags,
        favorite,
        search: _,
        ordering,
    } = filter;
    let search = query.to_websearch();
    Key::Search {
        owner,
        query: format!("{search}\u{0}{kind:?}\u{0}{tags:?}\u{0}{favorite:?}\u{0}{ordering:?}")
            .into_boxed_str(),
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

#[cfg(test)]
mod tests {
    use super::{key, Hits};
    use crate::db::search::SearchQuery;
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
        let rust = SearchQuery::parse("rust");
        let key_of = |owner, query: &str, filter: &ResourceFilter| {
            key(owner, &SearchQuery::parse(query), filter)
        };
        let the_key = key(owner, &rust, &filter);
        assert_eq!(the_key, key_of(owner, "rust", &filter));
        assert_ne!(the_key, key_of(Uuid::now_v7(), "rust", &filter));
        assert_ne!(the_key, key_of(owner, "rusty", &filter));
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
            assert_ne!(the_key, key(owner, &rust, other), "{other:?}");
        }
        // The raw search text is not part of the key: the parsed one (given) is, so spellings
        // of the same search share it.
        let spelled_differently = ResourceFilter {
            search: Some("  RUST ".into()),
            ..ResourceFilter::default()
        };
        assert_eq!(the_key, key(owner, &rust, &spelled_differently));
        assert_eq!(the_key, key_of(owner, "  RUST ", &filter));
    }
}
