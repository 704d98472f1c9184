//! The knowledge-vault module (API.md §4): resources (notes, links, files, references) and their
//! tags, private to their owner, with filters, ordering and ranked full-text search.

pub mod files;
pub mod model;
mod service;
pub mod store;

pub use model::*;
pub use service::ResourceService;
#[cfg(any(test, feature = "mock"))]
pub use store::MockResourceStore;
pub use store::{
    FileColumns, ListedRows, OrderField, ResourceFilter, ResourceRecord, ResourceStore,
};
