//! [`PageResponses`]: the serialized `results` of listing pages, remembered by the identity of
//! the rows they were made from, so that a page asked for again (page 1 of a dashboard above
//! all) is answered without serializing its rows again — serialization was about half of the
//! CPU of answering a remembered page.
//!
//! A page's rows are identified by the owner, the listing (filters, ordering, search), the
//! page, and the owner's data version the store read them at ([`super::ListedPage::version`]):
//! any write to the owner's resources raises the version, by whatever process, so the same key
//! always stands for the same rows and an entry is never wrong — a changed page has a new key,
//! and the old entry is evicted in time. Pages whose version the store does not report are
//! serialized every time. Bounded in bytes like the store's cache layer; no expiry with time.

use std::mem::size_of;
use std::sync::Arc;

use bytes::Bytes;
use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, OptionsBuilder, Weighter};
use uuid::Uuid;

use super::store::ResourceFilter;
use crate::error::Result;

/// A fixed allowance per entry for the cache's own bookkeeping.
const ENTRY_OVERHEAD: u64 = 96;

/// The bytes a page's `results` are assumed to take on average, to size the cache's table.
const TYPICAL_ENTRY: u64 = 8 * 1024;

/// The identity of a page's rows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    owner: Uuid,
    /// The listing's filters, ordering and search (as the service normalised them).
    listing: Box<str>,
    offset: u64,
    limit: u64,
    version: i64,
}

#[derive(Debug, Clone, Copy)]
struct Weigh;

impl Weighter<Key, Bytes> for Weigh {
    fn weight(&self, key: &Key, results: &Bytes) -> u64 {
        ENTRY_OVERHEAD
            + size_of::<Key>() as u64
            + key.listing.len() as u64
            + size_of::<Bytes>() as u64
            + results.len() as u64
    }
}

/// Serialized `results` of listing pages, within a bound in bytes (clones share them).
#[derive(Clone)]
pub(crate) struct PageResponses {
    entries: Arc<Cache<Key, Bytes, Weigh>>,
}

impl std::fmt::Debug for PageResponses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageResponses")
            .field("entries", &self.entries.len())
            .field("bytes", &self.entries.weight())
            .finish()
    }
}

impl PageResponses {
    /// An empty cache that never holds more than `bound` weighed bytes.
    pub(crate) fn new(bound: u64) -> Self {
        const SHARDS: usize = 16;
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
        }
    }

    /// The `results` of the page `offset..offset + limit` of `owner`'s `filter` listing, read at
    /// `version`: remembered, or made by `serialize` and remembered.
    ///
    /// # Errors
    /// As `serialize` (nothing is remembered then).
    pub(crate) fn results(
        &self,
        owner: Uuid,
        filter: &ResourceFilter,
        (offset, limit): (u64, u64),
        version: i64,
        serialize: impl FnOnce() -> Result<Bytes>,
    ) -> Result<Bytes> {
        let key = Key {
            owner,
            listing: format!("{filter:?}").into_boxed_str(),
            offset,
            limit,
            version,
        };
        if let Some(results) = self.entries.get(&key) {
            return Ok(results);
        }
        let results = serialize()?;
        self.entries.insert(key, results.clone());
        Ok(results)
    }

    /// The weighed bytes held now.
    #[cfg(test)]
    fn weight(&self) -> u64 {
        self.entries.weight()
    }
}

#[cfg(test)]
mod tests {
    use super::PageResponses;
    use crate::resources::{OrderField, ResourceFilter};
    use bytes::Bytes;
    use uuid::Uuid;

    #[test]
    fn a_page_is_serialized_once_per_version_and_listing() {
        let responses = PageResponses::new(1 << 20);
        let owner = Uuid::now_v7();
        let everything = ResourceFilter::default();
        let made = |text: &'static str| move || Ok(Bytes::from_static(text.as_bytes()));
        let first = responses.results(owner, &everything, (0, 20), 7, made("[1]"));
        assert_eq!(first.expect("serialized"), "[1]");
        // Remembered: not serialized again.
        let again = responses.results(owner, &everything, (0, 20), 7, || {
            panic!("serialized twice")
        });
        assert_eq!(again.expect("remembered"), "[1]");
        // Another version, page, owner or listing is other rows.
        let by_title = ResourceFilter {
            ordering: Some((OrderField::Title, false)),
            ..ResourceFilter::default()
        };
        for (owner, filter, page, version) in [
            (owner, &everything, (0, 20), 8),
            (owner, &everything, (20, 20), 7),
            (owner, &everything, (0, 10), 7),
            (Uuid::now_v7(), &everything, (0, 20), 7),
            (owner, &by_title, (0, 20), 7),
        ] {
            let other = responses.results(owner, filter, page, version, made("[2]"));
            assert_eq!(other.expect("serialized"), "[2]");
        }
    }

    #[test]
    fn the_weighed_size_stays_within_the_bound() {
        let bound = 64 * 1024;
        let responses = PageResponses::new(bound);
        let owner = Uuid::now_v7();
        let page = Bytes::from(vec![b'x'; 3_000]);
        for version in 0..200 {
            let results =
                responses.results(owner, &ResourceFilter::default(), (0, 20), version, || {
                    Ok(page.clone())
                });
            assert_eq!(results.expect("serialized").len(), 3_000);
            assert!(responses.weight() <= bound, "{}", responses.weight());
        }
        assert!(responses.weight() > 3_000, "something is remembered");
    }
}
