//! The resources service: validation, ownership scoping and the answers of API.md §4.

use std::sync::Arc;

use bytes::Bytes;
use uuid::Uuid;

use super::files;
use super::model::*;
use super::store::{FileColumns, OrderField, ResourceFilter, ResourceRecord, ResourceStore};
use crate::blob::{ingest, object_key, BlobStore, BlobStream, UploadLimits};
use crate::error::{Error, FieldErrors, Result};
use crate::ownership::{scope, Policy, Verb};
use crate::page::{Page, Query};
use crate::principal::Principal;
use crate::time;

/// Resources and tags. Obtain it from [`crate::Vault::resources`].
pub struct ResourceService {
    store: Arc<dyn ResourceStore>,
    blobs: Arc<dyn BlobStore>,
    limits: UploadLimits,
    api_prefix: String,
    public_base_url: Option<String>,
    responses: Option<super::responses::PageResponses>,
}

impl std::fmt::Debug for ResourceService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceService").finish_non_exhaustive()
    }
}

/// A path id: malformed ids are simply not found (never 500, never 400).
///
/// # Errors
/// [`Error::NotFound`] when `raw` is not a UUID.
pub fn parse_id(raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| Error::NotFound)
}

fn owner(caller: &Principal, verb: Verb) -> Result<Uuid> {
    scope(Policy::Private, Some(caller), verb, false)?
        .owner()
        .ok_or(Error::PermissionDenied)
}

impl ResourceService {
    /// The service over a store and a blob store; links use `api_prefix` and `public_base_url`.
    pub fn new(
        store: Arc<dyn ResourceStore>,
        blobs: Arc<dyn BlobStore>,
        limits: UploadLimits,
        api_prefix: &str,
        public_base_url: Option<String>,
    ) -> Self {
        Self {
            store,
            blobs,
            limits,
            api_prefix: api_prefix.to_string(),
            public_base_url,
            responses: None,
        }
    }

    /// Remembers the serialized `results` of listing pages the store identifies by the owner's
    /// data version (see [`super::ListedPage::version`]), within `max_bytes`, so that a page
    /// asked for again is not serialized again. `None` or 0: every page is serialized.
    #[must_use]
    pub fn with_response_cache(mut self, max_bytes: Option<u64>) -> Self {
        self.responses = max_bytes
            .filter(|bytes| *bytes > 0)
            .map(super::responses::PageResponses::new);
        self
    }

    /// The path of a resource (for `Location`).
    pub fn location(&self, id: Uuid) -> String {
        format!("{}/resources/{id}", self.api_prefix)
    }

    /// The path of a tag (for `Location`).
    pub fn tag_location(&self, id: Uuid) -> String {
        format!("{}/tags/{id}", self.api_prefix)
    }

    fn to_resource(&self, r: ResourceRecord) -> Resource {
        let tags = r.tags();
        let file = match (
            r.file_key,
            r.file_name,
            r.file_size,
            r.file_type,
            r.file_sha256,
        ) {
            (Some(_), Some(name), Some(size), Some(content_type), Some(sha256)) => Some(FileInfo {
                name,
                size: size.unsigned_abs(),
                content_type,
                sha256,
                download_url: format!("{}/resources/{}/file", self.api_prefix, r.id),
            }),
            _ => None,
        };
        Resource {
            id: r.id,
            kind: r.kind,
            title: r.title,
            body: r.body,
            url: r.url,
            tags,
            favorite: r.favorite,
            file,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    /// GET /resources: filters, ordering, search and pagination from the query string.
    /// Page links point at `{api_prefix}/resources`.
    ///
    /// # Errors
    /// [`Error::Validation`] naming a bad query parameter; [`Error::InvalidPage`].
    pub async fn list(&self, caller: &Principal, query: &Query) -> Result<Page<Resource>> {
        let (owner, filter, page) = self.list_request(caller, query)?;
        let listed = self.store.list_page(owner, &filter, page).await?;
        let results = listed
            .records
            .iter()
            .map(|r| self.to_resource(r.clone()))
            .collect();
        page.into_page(
            listed.total,
            results,
            &self.list_path(),
            query,
            self.public_base_url.as_deref(),
        )
    }

    /// [`Self::list`] as the JSON body `GET /resources` answers with. With a response cache
    /// (see [`Self::with_response_cache`]), the `results` of a page whose rows the store
    /// identifies by version are serialized once, and answering it again writes only `count`
    /// and the links.
    ///
    /// # Errors
    /// As [`Self::list`].
    pub async fn list_json(&self, caller: &Principal, query: &Query) -> Result<Bytes> {
        let (owner, filter, page) = self.list_request(caller, query)?;
        let listed = self.store.list_page(owner, &filter, page).await?;
        let envelope = page.into_page(
            listed.total,
            Vec::<()>::new(),
            &self.list_path(),
            query,
            self.public_base_url.as_deref(),
        )?;
        let serialize = || {
            let resources: Vec<Resource> = listed
                .records
                .iter()
                .map(|r| self.to_resource(r.clone()))
                .collect();
            serde_json::to_vec(&resources)
                .map(Bytes::from)
                .map_err(Error::internal)
        };
        let results = match (&self.responses, listed.version) {
            (Some(responses), Some(version)) => responses.results(
                owner,
                &filter,
                (page.offset(), page.limit()),
                version,
                serialize,
            )?,
            _ => serialize()?,
        };
        envelope.to_json_with_results(&results)
    }

    fn list_path(&self) -> String {
        format!("{}/resources", self.api_prefix)
    }

    /// The owner, filter and page a `GET /resources` query asks for, every bad parameter
    /// named at once.
    fn list_request(
        &self,
        caller: &Principal,
        query: &Query,
    ) -> Result<(Uuid, ResourceFilter, crate::page::PageRequest)> {
        let owner = owner(caller, Verb::Read)?;
        let mut errors = FieldErrors::new();
        let page = match query.page_request() {
            Ok(page) => Some(page),
            Err(Error::Validation(e)) => {
                errors.merge(e);
                None
            }
            Err(other) => return Err(other),
        };
        // A parameter already refused (a NUL in it) is not parsed again.
        let fresh = |errors: &FieldErrors, name: &str| errors.get(name).is_none();
        let kind = query
            .get("kind")
            .filter(|_| fresh(&errors, "kind"))
            .and_then(|k| errors.check("kind", ResourceKind::parse(k)));
        let favorite = match query.bool("favorite") {
            Ok(f) => f,
            Err(Error::Validation(e)) if fresh(&errors, "favorite") => {
                errors.merge(e);
                None
            }
            Err(Error::Validation(_)) => None,
            Err(other) => return Err(other),
        };
        let ordering = query
            .get("ordering")
            .filter(|_| fresh(&errors, "ordering"))
            .and_then(|o| errors.check("ordering", parse_ordering(o)));
        let mut tags = Vec::new();
        if fresh(&errors, "tag") {
            let mut problems: Vec<String> = Vec::new();
            for raw in query.get_all("tag") {
                match parse_tag(raw) {
                    Ok(tag) => tags.push(tag),
                    Err(message) if !problems.contains(&message) => problems.push(message),
                    Err(_) => {}
                }
            }
            for message in problems {
                errors.add("tag", message);
            }
        }
        tags.sort();
        tags.dedup();
        let search = query.search_text(SEARCH_MAX, &mut errors);
        errors.clone().into_result()?;
        let page = page.ok_or(Error::Validation(errors))?;
        let filter = ResourceFilter {
            kind,
            tags,
            favorite,
            search,
            ordering,
        };
        Ok((owner, filter, page))
    }

    /// POST /resources.
    ///
    /// # Errors
    /// [`Error::Validation`] on bad fields.
    pub async fn create(&self, caller: &Principal, input: ResourceInput) -> Result<Resource> {
        let owner = owner(caller, Verb::Write)?;
        let (fields, tags) = validate_input(input)?;
        let record = self
            .store
            .create_resource(owner, Uuid::now_v7(), &fields, &tags, time::now())
            .await?;
        Ok(self.to_resource(record))
    }

    /// GET /resources/{id}.
    ///
    /// # Errors
    /// [`Error::NotFound`] for unknown, malformed or other users' ids.
    pub async fn get(&self, caller: &Principal, id: &str) -> Result<Resource> {
        let owner = owner(caller, Verb::Read)?;
        let record = self
            .store
            .get_resource(owner, parse_id(id)?)
            .await?
            .ok_or(Error::NotFound)?;
        Ok(self.to_resource(record))
    }

    /// PUT /resources/{id}: every writable field; omitted optional ones return to defaults.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Validation`].
    pub async fn replace(
        &self,
        caller: &Principal,
        id: &str,
        input: ResourceInput,
    ) -> Result<Resource> {
        let owner = owner(caller, Verb::Write)?;
        let id = parse_id(id)?;
        let (fields, tags) = validate_input(input)?;
        let record = self
            .store
            .replace_resource(owner, id, &fields, &tags, time::now())
            .await?
            .ok_or(Error::NotFound)?;
        Ok(self.to_resource(record))
    }

    /// PATCH /resources/{id}: only the given fields.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Validation`] (including a link left without `url`).
    pub async fn patch(
        &self,
        caller: &Principal,
        id: &str,
        patch: ResourcePatch,
    ) -> Result<Resource> {
        let owner = owner(caller, Verb::Write)?;
        let id = parse_id(id)?;
        let mut errors = FieldErrors::new();
        let kind = errors.check("kind", patch.kind.non_null()).flatten();
        let title = errors
            .check("title", patch.title.non_null())
            .flatten()
            .and_then(|t| errors.check("title", parse_title(&t)));
        let body = errors
            .check("body", patch.body.non_null())
            .flatten()
            .and_then(|b| errors.check("body", parse_body(&b)));
        let url = match patch.url {
            crate::wire::Patch::Missing => None,
            crate::wire::Patch::Null => Some(None),
            crate::wire::Patch::Value(u) => errors.check("url", parse_url(&u)).map(Some),
        };
        let favorite = errors
            .check("favorite", patch.favorite.non_null())
            .flatten();
        let tags = errors
            .check("tags", patch.tags.non_null())
            .flatten()
            .and_then(|t| parse_tags(&t, &mut errors));
        errors.into_result()?;
        let changes = ResourceChanges {
            kind,
            title,
            body,
            url,
            favorite,
            tags,
        };
        let record = self
            .store
            .patch_resource(owner, id, &changes, time::now())
            .await?
            .ok_or(Error::NotFound)?;
        Ok(self.to_resource(record))
    }

    /// DELETE /resources/{id} (its file goes too).
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn delete(&self, caller: &Principal, id: &str) -> Result<()> {
        let owner = owner(caller, Verb::Write)?;
        if self.store.delete_resource(owner, parse_id(id)?).await? {
            self.collect_garbage().await;
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    /// PUT /resources/{id}/file: streams the `file` part of a multipart body into the blob
    /// store (size limit enforced while reading, SHA-256 on the way, type sniffed and checked),
    /// then attaches it, replacing any previous file. Nothing is left behind on failure, nor
    /// by a crash: the key is queued for deletion a day ahead before the blob is stored
    /// ([`ResourceStore::reserve_blob`]) and taken off by the attaching transaction.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedMediaType`] for a body that is not multipart or
    /// a declared file type not allowed; [`Error::ContentMismatch`] for bytes that are not what
    /// was declared (or of no allowed type); [`Error::PayloadTooLarge`]; [`Error::Validation`]
    /// on `file`.
    pub async fn attach_file(
        &self,
        caller: &Principal,
        id: &str,
        content_type: Option<&str>,
        body: BlobStream,
    ) -> Result<Resource> {
        let owner = owner(caller, Verb::Write)?;
        let id = parse_id(id)?;
        // Refuse before reading a byte when the resource is not the caller's.
        self.store
            .get_resource(owner, id)
            .await?
            .ok_or(Error::NotFound)?;
        let limit = self.limits.max_bytes;
        let part = files::file_part(content_type, body, limit).await?;
        let key = object_key(owner, Uuid::now_v7());
        // Queued for deletion before the blob exists, taken off when it is attached: a crash
        // in between leaves a key to collect, not an orphan.
        self.store.reserve_blob(&key).await?;
        let stored = match ingest(
            self.blobs.as_ref(),
            &key,
            part.declared_type.as_deref(),
            part.body,
            &self.limits,
        )
        .await
        {
            Ok(stored) => stored,
            Err(error) => {
                // Nothing was kept: the reservation has nothing left to guard.
                self.forget_reservation(&key).await;
                return Err(error);
            }
        };
        let attached = async {
            files::no_more_parts(part.rest, limit).await?;
            let columns = FileColumns {
                key: stored.key.clone(),
                name: part.name,
                size: i64::try_from(stored.size).unwrap_or(i64::MAX),
                content_type: stored.content_type.clone(),
                sha256: stored.sha256.clone(),
            };
            self.store
                .set_file(owner, id, &columns, time::now())
                .await?
                .ok_or(Error::NotFound)
        }
        .await;
        match attached {
            Ok(record) => {
                self.collect_garbage().await;
                Ok(self.to_resource(record))
            }
            Err(error) => {
                match self.blobs.delete(&stored.key).await {
                    Ok(()) => self.forget_reservation(&stored.key).await,
                    // Still reserved: collected when the reservation falls due.
                    Err(cleanup) => {
                        tracing::warn!(key = %stored.key, %cleanup, "could not delete the blob of a failed upload");
                    }
                }
                Err(error)
            }
        }
    }

    /// Takes the key of an upload that stored nothing (or whose blob was deleted again) off the
    /// deletion queue; should that fail, it falls due in a day and is collected then.
    async fn forget_reservation(&self, key: &str) {
        if let Err(error) = self.store.forget_blob_garbage(&[key.to_string()]).await {
            tracing::warn!(%key, %error, "could not clear the reservation of a failed upload");
        }
    }

    /// GET /resources/{id}/file: the bytes, or 304 when `If-None-Match` matches.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the resource or its file does not exist.
    pub async fn download(
        &self,
        caller: &Principal,
        id: &str,
        if_none_match: Option<&str>,
    ) -> Result<files::Download> {
        let owner = owner(caller, Verb::Read)?;
        let record = self
            .store
            .get_resource(owner, parse_id(id)?)
            .await?
            .ok_or(Error::NotFound)?;
        let (Some(key), Some(name), Some(content_type), Some(sha256)) = (
            record.file_key,
            record.file_name,
            record.file_type,
            record.file_sha256,
        ) else {
            return Err(Error::NotFound);
        };
        let etag = format!("\"{sha256}\"");
        if if_none_match.is_some_and(|inm| files::matches_etag(inm, &etag)) {
            return Ok(files::Download::NotModified { etag });
        }
        let blob = self.blobs.get(&key).await?;
        Ok(files::Download::File {
            name,
            content_type,
            size: blob.size,
            etag,
            body: blob.stream,
        })
    }

    /// DELETE /resources/{id}/file.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the resource does not exist or has no file.
    pub async fn remove_file(&self, caller: &Principal, id: &str) -> Result<()> {
        let owner = owner(caller, Verb::Write)?;
        match self
            .store
            .clear_file(owner, parse_id(id)?, time::now())
            .await?
        {
            Some(true) => {
                self.collect_garbage().await;
                Ok(())
            }
            _ => Err(Error::NotFound),
        }
    }

    /// Deletes the blobs whose rows are gone (queued by the database in the same transaction as
    /// the change). Runs after every change that can free a blob; failures are retried the next
    /// time.
    pub async fn collect_garbage(&self) {
        let keys = match self.store.blob_garbage(100).await {
            Ok(keys) => keys,
            Err(error) => {
                tracing::warn!(%error, "reading the blob garbage queue failed");
                return;
            }
        };
        let mut done = Vec::with_capacity(keys.len());
        for key in keys {
            let deleted = match self.store.blob_in_use(&key).await {
                Ok(true) => Ok(()),
                Ok(false) => self.blobs.delete(&key).await,
                Err(error) => Err(error),
            };
            match deleted {
                Ok(()) => done.push(key),
                Err(error) => tracing::warn!(%key, %error, "deleting a blob failed; will retry"),
            }
        }
        if let Err(error) = self.store.forget_blob_garbage(&done).await {
            tracing::warn!(%error, "clearing the blob garbage queue failed");
        }
    }
}

fn parse_ordering(raw: &str) -> Result<(OrderField, bool), String> {
    let (descending, name) = match raw.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, raw),
    };
    let field = match name {
        "created_at" => OrderField::CreatedAt,
        "updated_at" => OrderField::UpdatedAt,
        "title" => OrderField::Title,
        _ => {
            return Err(format!(
                "\"{raw}\" is not a valid ordering: created_at, updated_at or title, optionally prefixed with '-'."
            ))
        }
    };
    Ok((field, descending))
}

fn validate_input(input: ResourceInput) -> Result<(ResourceFields, Vec<String>)> {
    let mut errors = FieldErrors::new();
    let title = errors.check("title", parse_title(&input.title));
    let body = errors.check(
        "body",
        parse_body(input.body.as_deref().unwrap_or_default()),
    );
    let url = match input.url.as_deref() {
        None => Some(None),
        Some(u) => errors.check("url", parse_url(u)).map(Some),
    };
    if input.kind == ResourceKind::Link && matches!(url, Some(None)) {
        errors.add("url", "This field is required for links.");
    }
    let tags = parse_tags(input.tags.as_deref().unwrap_or_default(), &mut errors);
    errors.clone().into_result()?;
    match (title, body, url, tags) {
        (Some(title), Some(body), Some(url), Some(tags)) => Ok((
            ResourceFields {
                kind: input.kind,
                title,
                body,
                url,
                favorite: input.favorite.unwrap_or(false),
            },
            tags,
        )),
        _ => Err(Error::Validation(errors)),
    }
}

#[path = "service_tags.rs"]
mod tags;

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
