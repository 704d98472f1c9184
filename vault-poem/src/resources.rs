//! API.md §4: resources and tags, private to their owner, as the poem-openapi
//! [`ResourcesApi`].

mod answers;

use futures::{StreamExt, TryStreamExt};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, Request, Response};
use poem_openapi::param::Path;
use poem_openapi::OpenApi;
use vault_core::page::Query;
use vault_core::resources::{ResourceInput, ResourceKind, ResourcePatch, TagInput};
use vault_core::schema::FileUpload;
use vault_core::{wire, Error, Vault};

use crate::answer::Answer;
use crate::error::ApiError;
use crate::params::{ApiAuth, HeaderParam, Id, QueryParam};
use crate::payload::{Json, Multipart, Streamed};
use crate::tags::ApiTags;

/// The `/resources/...` and `/tags/...` operations. Paths are relative to where the service is
/// mounted (`/api` in [`crate::app`]); the [`Vault`] must be request data.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResourcesApi;

type Answers<D> = Result<Answer<D>, ApiError>;

/// The query string as the core parses it (its errors are the contract's).
fn query(request: &Request) -> Query {
    Query::parse(request.uri().query())
}

// List parameters are documented one by one and parsed by the core from the raw query string.
#[OpenApi(tag = "ApiTags::Resources")]
impl ResourcesApi {
    #[oai(path = "/resources", method = "get", operation_id = "list_resources")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        request: &Request,
        /// Words matched in title, body, url and tag names (ranked)
        #[oai(name = "search")]
        _search: QueryParam<String>,
        #[oai(name = "kind")] _kind: QueryParam<ResourceKind>,
        /// Repeatable; all must match
        #[oai(name = "tag")]
        _tag: QueryParam<Vec<String>>,
        #[oai(name = "favorite")] _favorite: QueryParam<bool>,
        /// created_at, updated_at or title, optionally prefixed with -
        #[oai(name = "ordering")]
        _ordering: QueryParam<String>,
        #[oai(name = "page")] _page: QueryParam<u64>,
        /// Default 20, clamped to 100
        #[oai(name = "page_size")]
        _page_size: QueryParam<u64>,
    ) -> Answers<answers::ListResources> {
        let page = vault.resources().list_json(&user, &query(request)).await?;
        Ok(wire::json_body(StatusCode::OK, page).into())
    }

    #[oai(path = "/resources", method = "post", operation_id = "create_resource")]
    async fn create(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        Json(input): Json<ResourceInput>,
    ) -> Answers<answers::CreateResource> {
        let resource = vault.resources().create(&user, input).await?;
        let location = vault.resources().location(resource.id);
        Ok(wire::created(&location, &resource).into())
    }

    #[oai(path = "/resources/:id", method = "get", operation_id = "get_resource")]
    async fn read(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
    ) -> Answers<answers::GetResource> {
        let resource = vault.resources().get(&user, id.as_str()).await?;
        Ok(wire::json(StatusCode::OK, &resource).into())
    }

    #[oai(
        path = "/resources/:id",
        method = "put",
        operation_id = "replace_resource"
    )]
    async fn replace(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
        Json(input): Json<ResourceInput>,
    ) -> Answers<answers::ReplaceResource> {
        let resource = vault.resources().replace(&user, id.as_str(), input).await?;
        Ok(wire::json(StatusCode::OK, &resource).into())
    }

    #[oai(
        path = "/resources/:id",
        method = "patch",
        operation_id = "patch_resource"
    )]
    async fn patch(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
        Json(input): Json<ResourcePatch>,
    ) -> Answers<answers::PatchResource> {
        let resource = vault.resources().patch(&user, id.as_str(), input).await?;
        Ok(wire::json(StatusCode::OK, &resource).into())
    }

    #[oai(
        path = "/resources/:id",
        method = "delete",
        operation_id = "delete_resource"
    )]
    async fn remove(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
    ) -> Answers<answers::DeleteResource> {
        vault.resources().delete(&user, id.as_str()).await?;
        Ok(wire::no_content().into())
    }

    #[oai(
        path = "/resources/:id/file",
        method = "get",
        operation_id = "download_file"
    )]
    async fn download(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
        request: &Request,
        #[oai(name = "If-None-Match")] _if_none_match: HeaderParam<String>,
    ) -> Answers<answers::DownloadFile> {
        let if_none_match = request.header(poem::http::header::IF_NONE_MATCH);
        let download = vault
            .resources()
            .download(&user, id.as_str(), if_none_match)
            .await?;
        let (parts, body) = download.into_response().into_parts();
        let body = body.map_or_else(Body::empty, |stream| {
            Body::from_bytes_stream(stream.map_err(std::io::Error::other))
        });
        let mut response = Response::builder().status(parts.status).body(body);
        *response.headers_mut() = parts.headers;
        Ok(response.into())
    }

    #[oai(
        path = "/resources/:id/file",
        method = "put",
        operation_id = "upload_file"
    )]
    async fn upload(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
        request: &Request,
        file: Streamed<Multipart<FileUpload>>,
    ) -> Answers<answers::UploadFile> {
        let content_type = request.content_type().map(str::to_string);
        let body = file
            .0
            .into_bytes_stream()
            .map_err(|e| Error::Parse(format!("could not read the request body: {e}")))
            .boxed();
        let resource = vault
            .resources()
            .attach_file(&user, id.as_str(), content_type.as_deref(), body)
            .await?;
        Ok(wire::json(StatusCode::OK, &resource).into())
    }

    #[oai(
        path = "/resources/:id/file",
        method = "delete",
        operation_id = "delete_file"
    )]
    async fn remove_file(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
    ) -> Answers<answers::DeleteFile> {
        vault.resources().remove_file(&user, id.as_str()).await?;
        Ok(wire::no_content().into())
    }

    #[oai(path = "/tags", method = "get", operation_id = "list_tags")]
    async fn list_tags(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        request: &Request,
        /// Substring of the name
        #[oai(name = "search")]
        _search: QueryParam<String>,
        #[oai(name = "page")] _page: QueryParam<u64>,
        #[oai(name = "page_size")] _page_size: QueryParam<u64>,
    ) -> Answers<answers::ListTags> {
        let page = vault.resources().list_tags(&user, &query(request)).await?;
        Ok(wire::json(StatusCode::OK, &page).into())
    }

    #[oai(path = "/tags", method = "post", operation_id = "create_tag")]
    async fn create_tag(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        Json(input): Json<TagInput>,
    ) -> Answers<answers::CreateTag> {
        let tag = vault.resources().create_tag(&user, input).await?;
        let location = vault.resources().tag_location(tag.id);
        Ok(wire::created(&location, &tag).into())
    }

    #[oai(path = "/tags/:id", method = "get", operation_id = "get_tag")]
    async fn read_tag(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
    ) -> Answers<answers::GetTag> {
        let tag = vault.resources().get_tag(&user, id.as_str()).await?;
        Ok(wire::json(StatusCode::OK, &tag).into())
    }

    #[oai(path = "/tags/:id", method = "patch", operation_id = "rename_tag")]
    async fn rename_tag(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
        Json(input): Json<TagInput>,
    ) -> Answers<answers::RenameTag> {
        let tag = vault
            .resources()
            .rename_tag(&user, id.as_str(), input)
            .await?;
        Ok(wire::json(StatusCode::OK, &tag).into())
    }

    #[oai(path = "/tags/:id", method = "delete", operation_id = "delete_tag")]
    async fn delete_tag(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
    ) -> Answers<answers::DeleteTag> {
        vault.resources().delete_tag(&user, id.as_str()).await?;
        Ok(wire::no_content().into())
    }
}
