//! Where deep pages of a plain listing start, remembered per owner, so that asking for a deep
//! page again, or for the page after it, seeks in the index instead of walking `OFFSET`.
//!
//! `?page=400&page_size=20` has to skip 7 980 index entries before it reads a row: on
//! PostgreSQL about 1.7 ms of executor time, page 1's cost several times over. When a page at
//! offset [`DEEP`] or more is listed, its first row's sort key marks where that offset starts
//! (inclusive) and its last row's key where the next page starts (exclusive), together with
//! the owner's data version read in the same statement. A later request for either offset,
//! with the same ordering, reads `(sort key, id) <= mark` (or `<`, `>=`, `>` by direction)
//! `LIMIT n` instead — the index seek page 1 costs — and checks the version returned with the
//! rows: any write to the owner's resources since (by this process or any other) discards the
//! answer and the page is listed the usual way. A first jump to a deep page still walks its
//! offset.

use uuid::Uuid;

use super::memory::{Entry, Key};
use crate::resources::{OrderField, PageStart, ResourceRecord, SortValue};

/// The smallest offset worth a mark: shallower pages walk a few hundred index entries at
/// most, cheaper than remembering them.
pub(crate) const DEEP: u64 = 200;

/// Where the rows from one offset of one listing start, and the owner's data version when
/// that was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) version: i64,
    pub(crate) start: PageStart,
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
            start: PageStart {
                value,
                id: record.id,
                inclusive,
            },
        }
    }

    /// The heap bytes the mark holds beyond its own size.
    pub(super) fn heap_bytes(&self) -> u64 {
        match &self.start.value {
            SortValue::Text(text) => text.capacity() as u64,
            SortValue::Time(_) => 0,
        }
    }
}

/// The ordering a listing uses: `(field, descending)`, newest first by default.
pub(crate) fn effective(ordering: Option<(OrderField, bool)>) -> (OrderField, bool) {
    ordering.unwrap_or((OrderField::CreatedAt, true))
}

/// The key of the mark of `offset` in `owner`'s listing by `ordering`.
pub(super) fn key(owner: Uuid, ordering: Option<(OrderField, bool)>, offset: u64) -> Key {
    let (field, descending) = effective(ordering);
    Key::Mark {
        owner,
        field,
        descending,
        offset,
    }
}

/// The marks a page at `offset` (`rows`, read at `version`) leaves: where it starts (when
/// deep) and where the page after it starts (when that is deep and this page is full; a page
/// of fewer than `limit` rows is the last).
pub(super) fn marks_of(
    owner: Uuid,
    ordering: Option<(OrderField, bool)>,
    version: i64,
    offset: u64,
    limit: u64,
    rows: &[ResourceRecord],
) -> Vec<(Key, Entry)> {
    let (field, _) = effective(ordering);
    let mut marks = Vec::new();
    if let Some(first) = rows.first() {
        if offset >= DEEP {
            marks.push((
                key(owner, ordering, offset),
                Entry::mark(Mark::of(first, field, version, true)),
            ));
        }
    }
    let next = offset.saturating_add(limit);
    match rows.last() {
        Some(last) if next >= DEEP && rows.len() as u64 == limit => {
            marks.push((
                key(owner, ordering, next),
                Entry::mark(Mark::of(last, field, version, false)),
            ));
        }
        _ => {}
    }
    marks
}

#[cfg(test)]
mod tests {
    use super::{key, marks_of, Mark, DEEP};
    use crate::resources::cache::memory::{Entry, Key, Memory};
    use crate::resources::{OrderField, ResourceKind, ResourceRecord, SortValue};
    use uuid::Uuid;

    fn row(title: &str) -> ResourceRecord {
        ResourceRecord::sample(Uuid::now_v7(), ResourceKind::Note, title)
    }

    /// A memory holding what `marks_of` leaves, and a lookup like the layer's.
    struct Marks(Memory);

    impl Marks {
        fn new() -> Self {
            Self(Memory::new(1 << 20))
        }

        fn record(
            &self,
            owner: Uuid,
            ordering: Option<(OrderField, bool)>,
            version: i64,
            offset: u64,
            limit: u64,
            rows: &[ResourceRecord],
        ) {
            for (key, entry) in marks_of(owner, ordering, version, offset, limit, rows) {
                self.0.insert(key, entry);
            }
        }

        fn get(
            &self,
            owner: Uuid,
            ordering: Option<(OrderField, bool)>,
            offset: u64,
        ) -> Option<Mark> {
            match self.0.get(&key(owner, ordering, offset)) {
                Some(Entry::Mark(mark, _)) => Some((*mark).clone()),
                _ => None,
            }
        }

        fn remove(&self, owner: Uuid, ordering: Option<(OrderField, bool)>, offset: u64) {
            let key: Key = key(owner, ordering, offset);
            self.0.remove(&key);
        }
    }

    #[test]
    fn deep_pages_mark_themselves_and_the_next_page() {
        let marks = Marks::new();
        let owner = Uuid::now_v7();
        let rows: Vec<ResourceRecord> = ["a", "b", "c"].into_iter().map(row).collect();
        let by_title = Some((OrderField::Title, false));
        marks.record(owner, by_title, 7, DEEP, 3, &rows);
        let own = marks.get(owner, by_title, DEEP).expect("own offset marked");
        assert_eq!(
            (
                own.version,
                &own.start.value,
                own.start.id,
                own.start.inclusive
            ),
            (7, &SortValue::Text("a".into()), rows[0].id, true)
        );
        let next = marks
            .get(owner, by_title, DEEP + 3)
            .expect("next offset marked");
        assert_eq!(
            (&next.start.value, next.start.id, next.start.inclusive),
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
        let marks = Marks::new();
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
