//! Where deep pages of a plain listing start, remembered per owner, so that asking for a deep
//! page again, or for the page after it, seeks in the index instead of walking `OFFSET`.
//!
//! `?page=400&page_size=20` has to skip 7 980 index entries before it reads a row: on
//! PostgreSQL about 1.7 ms of executor time, page 1's cost several times over. When a page at
//! offset [`DEEP`] or more is listed, its first row's sort key marks where that offset starts
//! (inclusive) and its last row's key where the next page starts (exclusive), together with
//! the owner's data version read in the same statement (`resource_counts.version`, see
//! `db::search_cache`). A later request for either offset, with the same ordering, reads
//! `(sort key, id) <= mark` (or `<`, `>=`, `>` by direction) `LIMIT n` instead — the index
//! seek page 1 costs — and checks the version returned with the rows: any write to the
//! owner's resources since (by this process or any other) discards the answer and the page is
//! listed the usual way. A first jump to a deep page still walks its offset.
//!
//! [`RememberedPages`] goes one step further for pages asked for again and again (page 1 of a
//! dashboard above all): the page's rows as last read, with the version and total of that
//! read. Asked again, the page costs one lookup of the owner's counts row; only if its version
//! is still the remembered one are the remembered rows the answer (any write since, by any
//! process, raises it: the rows are then read afresh). A PostgreSQL page then costs the
//! backend one primary-key lookup instead of the page query, and the server no row decoding.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::resources::{ListedRows, OrderField, ResourceRecord};
use crate::time::Timestamp;

/// The smallest offset worth a mark: shallower pages walk a few hundred index entries at
/// most, cheaper than remembering them.
pub(crate) const DEEP: u64 = 200;

/// How many marks all owners hold together.
const CAPACITY: u64 = 16_384;

/// How long an unused mark or page stays.
const IDLE: Duration = Duration::from_secs(600);

/// How many rows all remembered pages hold together (a few KiB each: a few MiB in all).
const PAGE_ROWS: u64 = 8_192;

/// The sort key value of a row under an ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SortValue {
    /// `created_at` or `updated_at`.
    Time(Timestamp),
    /// `title`.
    Text(String),
}

/// Where the rows from one offset of one listing start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mark {
    /// The owner's data version the mark was read at.
    pub(crate) version: i64,
    /// The sort key of the row at (inclusive) or just before (exclusive) the offset.
    pub(crate) value: SortValue,
    /// That row's id (the tie-break of every ordering).
    pub(crate) id: Uuid,
    /// Whether that row itself is the first of the offset.
    pub(crate) inclusive: bool,
}

/// The ordering a listing uses: `(field, descending)`, newest first by default.
pub(crate) fn effective(ordering: Option<(OrderField, bool)>) -> (OrderField, bool) {
    ordering.unwrap_or((OrderField::CreatedAt, true))
}

impl Mark {
    fn of(record: &ResourceRecord, field: OrderField, version: i64, inclusive: bool) -> Self {
        let value = match field {
            OrderField::CreatedAt => SortValue::Time(record.created_at),
            OrderField::UpdatedAt => SortValue::Time(record.updated_at),
            OrderField::Title => SortValue::Text(record.title.clone()),
        };
        Self {
            version,
            value,
            id: record.id,
            inclusive,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    owner: Uuid,
    field: OrderField,
    descending: bool,
    offset: u64,
}

/// The remembered marks of one store (shared by its clones).
#[derive(Clone)]
pub(crate) struct PageMarks {
    entries: moka::sync::Cache<Key, Arc<Mark>>,
}

impl std::fmt::Debug for PageMarks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageMarks")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl Default for PageMarks {
    fn default() -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_idle(IDLE)
                .build(),
        }
    }
}

impl PageMarks {
    /// The mark of `offset` in `owner`'s listing by `ordering`, if one is remembered (to be
    /// checked against the owner's version).
    pub(crate) fn get(
        &self,
        owner: Uuid,
        ordering: Option<(OrderField, bool)>,
        offset: u64,
    ) -> Option<Arc<Mark>> {
        if offset < DEEP {
            return None;
        }
        let (field, descending) = effective(ordering);
        self.entries.get(&Key {
            owner,
            field,
            descending,
            offset,
        })
    }

    /// Remembers where the page at `offset` (`rows`, read at `version`) and the page after it
    /// start. A page of fewer than `limit` rows is the last: nothing follows it.
    pub(crate) fn record(
        &self,
        owner: Uuid,
        ordering: Option<(OrderField, bool)>,
        version: i64,
        offset: u64,
        limit: u64,
        rows: &[ResourceRecord],
    ) {
        let (field, descending) = effective(ordering);
        let key = |offset| Key {
            owner,
            field,
            descending,
            offset,
        };
        if let Some(first) = rows.first() {
            if offset >= DEEP {
                self.entries
                    .insert(key(offset), Arc::new(Mark::of(first, field, version, true)));
            }
        }
        let next = offset.saturating_add(limit);
        match rows.last() {
            Some(last) if next >= DEEP && rows.len() as u64 == limit => {
                self.entries
                    .insert(key(next), Arc::new(Mark::of(last, field, version, false)));
            }
            _ => {}
        }
    }

    /// Forgets the mark of `offset` (its version turned out stale).
    pub(crate) fn remove(&self, owner: Uuid, ordering: Option<(OrderField, bool)>, offset: u64) {
        let (field, descending) = effective(ordering);
        self.entries.invalidate(&Key {
            owner,
            field,
            descending,
            offset,
        });
    }
}

/// A plain listing's page as last read: the owner's data version and total at that read, and
/// its rows.
#[derive(Debug)]
pub(crate) struct Remembered {
    pub(crate) version: i64,
    pub(crate) total: u64,
    pub(crate) rows: Arc<ListedRows>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    owner: Uuid,
    field: OrderField,
    descending: bool,
    offset: u64,
    limit: u64,
}

impl PageKey {
    fn new(owner: Uuid, ordering: Option<(OrderField, bool)>, offset: u64, limit: u64) -> Self {
        let (field, descending) = effective(ordering);
        Self {
            owner,
            field,
            descending,
            offset,
            limit,
        }
    }
}

/// The remembered pages of one store (shared by its clones), bounded by their rows.
#[derive(Clone)]
pub(crate) struct RememberedPages {
    entries: moka::sync::Cache<PageKey, Arc<Remembered>>,
}

impl std::fmt::Debug for RememberedPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RememberedPages")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl Default for RememberedPages {
    fn default() -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(PAGE_ROWS)
                .weigher(|_, page: &Arc<Remembered>| {
                    u32::try_from(page.rows.records.len().saturating_add(1)).unwrap_or(u32::MAX)
                })
                .time_to_idle(IDLE)
                .build(),
        }
    }
}

impl RememberedPages {
    /// The page `offset..offset + limit` of `owner`'s listing by `ordering` as last read, if
    /// remembered (to be checked against the owner's version).
    pub(crate) fn get(
        &self,
        owner: Uuid,
        ordering: Option<(OrderField, bool)>,
        offset: u64,
        limit: u64,
    ) -> Option<Arc<Remembered>> {
        self.entries
            .get(&PageKey::new(owner, ordering, offset, limit))
    }

    /// Remembers a page just read (at `version`, with the owner's `total`).
    pub(crate) fn insert(
        &self,
        owner: Uuid,
        ordering: Option<(OrderField, bool)>,
        offset: u64,
        limit: u64,
        remembered: Remembered,
    ) {
        self.entries.insert(
            PageKey::new(owner, ordering, offset, limit),
            Arc::new(remembered),
        );
    }

    /// Forgets a page (its version turned out stale).
    pub(crate) fn remove(
        &self,
        owner: Uuid,
        ordering: Option<(OrderField, bool)>,
        offset: u64,
        limit: u64,
    ) {
        self.entries
            .invalidate(&PageKey::new(owner, ordering, offset, limit));
    }
}

#[cfg(test)]
mod tests {
    use super::{PageMarks, SortValue, DEEP};
    use crate::resources::{OrderField, ResourceKind, ResourceRecord};
    use uuid::Uuid;

    fn row(title: &str) -> ResourceRecord {
        ResourceRecord::sample(Uuid::now_v7(), ResourceKind::Note, title)
    }

    #[test]
    fn deep_pages_mark_themselves_and_the_next_page() {
        let marks = PageMarks::default();
        let owner = Uuid::now_v7();
        let rows: Vec<ResourceRecord> = ["a", "b", "c"].into_iter().map(row).collect();
        let by_title = Some((OrderField::Title, false));
        marks.record(owner, by_title, 7, DEEP, 3, &rows);
        let own = marks.get(owner, by_title, DEEP).expect("own offset marked");
        assert_eq!(
            (own.version, &own.value, own.id, own.inclusive),
            (7, &SortValue::Text("a".into()), rows[0].id, true)
        );
        let next = marks
            .get(owner, by_title, DEEP + 3)
            .expect("next offset marked");
        assert_eq!(
            (&next.value, next.id, next.inclusive),
            (&SortValue::Text("c".into()), rows[2].id, false)
        );
        // Other owners, orderings and offsets have no mark.
        assert!(marks.get(Uuid::now_v7(), by_title, DEEP).is_none());
        assert!(marks
            .get(owner, Some((OrderField::Title, true)), DEEP)
            .is_none());
        assert!(marks.get(owner, None, DEEP).is_none());
        assert!(marks.get(owner, by_title, DEEP + 1).is_none());
        marks.remove(owner, by_title, DEEP);
        assert!(marks.get(owner, by_title, DEEP).is_none());
    }

    #[test]
    fn shallow_and_last_pages_leave_no_mark() {
        let marks = PageMarks::default();
        let owner = Uuid::now_v7();
        let rows: Vec<ResourceRecord> = ["a", "b"].into_iter().map(row).collect();
        // A shallow page: only the next offset, and only once it is deep.
        marks.record(owner, None, 1, 0, 2, &rows);
        assert!(marks.get(owner, None, 2).is_none());
        marks.record(owner, None, 1, DEEP - 2, 2, &rows);
        assert!(marks.get(owner, None, DEEP - 2).is_none());
        assert!(marks.get(owner, None, DEEP).is_some());
        // A short (last) page marks itself, not a page after it.
        marks.record(owner, None, 1, DEEP + 10, 5, &rows);
        assert!(marks.get(owner, None, DEEP + 10).is_some());
        assert!(marks.get(owner, None, DEEP + 15).is_none());
        // Default ordering is newest first: the same key as asking for it explicitly.
        assert!(marks
            .get(owner, Some((OrderField::CreatedAt, true)), DEEP)
            .is_some());
    }
}
