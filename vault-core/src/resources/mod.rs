//! The knowledge-vault module (API.md §4): resources (notes, links, files, references) and their
//! tags, private to their owner, with filters, ordering and ranked full-text search.

mod cache;
pub mod files;
pub mod model;
mod responses;
mod service;
pub mod store;

pub use cache::CachingResourceStore;
pub use model::*;
pub use service::ResourceService;
#[cfg(any(test, feature = "mock"))]
pub use store::MockResourceStore;
pub use store::{
    FileColumns, ListedPage, OrderField, OwnerVersion, PageStart, RankedIds, ResourceFilter,
    ResourceRecord, ResourceStore, SortValue, VersionedRows,
};
