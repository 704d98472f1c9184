//! The tag endpoints of [`ResourceService`] (a child module of `service`, in a file of its own).

use uuid::Uuid;

use super::{owner, parse_id, ResourceService};
use crate::error::{Error, FieldErrors, Result};
use crate::ownership::Verb;
use crate::page::{Page, Query};
use crate::principal::Principal;
use crate::resources::model::{parse_tag, Tag, TagInput};
use crate::time;

impl ResourceService {
    /// GET /tags: `?search=` (substring of the name, at most
    /// [`SEARCH_MAX`](crate::resources::SEARCH_MAX) characters) and pagination. Page links
    /// point at `{api_prefix}/tags`.
    ///
    /// # Errors
    /// [`Error::Validation`] on bad pagination or search text; [`Error::InvalidPage`].
    pub async fn list_tags(&self, caller: &Principal, query: &Query) -> Result<Page<Tag>> {
        let path = format!("{}/tags", self.api_prefix);
        let owner = owner(caller, Verb::Read)?;
        let (page, mut errors) = match query.page_request() {
            Ok(page) => (Some(page), FieldErrors::new()),
            Err(Error::Validation(errors)) => (None, errors),
            Err(other) => return Err(other),
        };
        let search = query
            .search_text(crate::resources::SEARCH_MAX, &mut errors)
            .map(|s| s.to_lowercase());
        let page = match page {
            Some(page) if errors.is_empty() => page,
            _ => return Err(Error::Validation(errors)),
        };
        let (count, tags) = self.store.list_tags(owner, search, page).await?;
        page.into_page(count, tags, &path, query, self.public_base_url.as_deref())
    }

    /// POST /tags.
    ///
    /// # Errors
    /// [`Error::Validation`] on a bad name, [`Error::Conflict`] when taken.
    pub async fn create_tag(&self, caller: &Principal, input: TagInput) -> Result<Tag> {
        let owner = owner(caller, Verb::Write)?;
        let name = parse_tag(&input.name).map_err(|m| Error::field("name", m))?;
        self.store
            .create_tag(owner, Uuid::now_v7(), &name, time::now())
            .await
    }

    /// GET /tags/{id}.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn get_tag(&self, caller: &Principal, id: &str) -> Result<Tag> {
        let owner = owner(caller, Verb::Read)?;
        self.store
            .get_tag(owner, parse_id(id)?)
            .await?
            .ok_or(Error::NotFound)
    }

    /// PATCH /tags/{id}: rename.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Validation`], [`Error::Conflict`] when the name is taken.
    pub async fn rename_tag(&self, caller: &Principal, id: &str, input: TagInput) -> Result<Tag> {
        let owner = owner(caller, Verb::Write)?;
        let id = parse_id(id)?;
        let name = parse_tag(&input.name).map_err(|m| Error::field("name", m))?;
        self.store
            .rename_tag(owner, id, &name)
            .await?
            .ok_or(Error::NotFound)
    }

    /// DELETE /tags/{id}: detaches it from every resource.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn delete_tag(&self, caller: &Principal, id: &str) -> Result<()> {
        let owner = owner(caller, Verb::Write)?;
        if self.store.delete_tag(owner, parse_id(id)?).await? {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }
}
