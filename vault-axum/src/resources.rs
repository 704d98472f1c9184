//! API.md §4: resources and tags, private to their owner.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, IF_NONE_MATCH};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use futures::{StreamExt, TryStreamExt};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vault_core::page::{Page, Query};
use vault_core::resources::{Resource, ResourceInput, ResourceKind, ResourcePatch, Tag, TagInput};
use vault_core::schema::FileUpload;
use vault_core::{wire, Error, Vault};

use crate::error::{ApiError, Reply};
use crate::extract::{AuthUser, JsonBody, PathParam};
use crate::routing::Routes;

type Answer = Result<Reply, ApiError>;

#[derive(OpenApi)]
#[openapi(tags((name = "resources", description = "Notes, links, files, references and their tags")))]
struct ResourcesApi;

/// `/resources/...` and `/tags/...` under [`vault_core::HttpConfig::api_prefix`], documented,
/// behind the general rate limits of API.md §9: the caller's resources, their files and tags.
pub fn router(vault: &Vault) -> OpenApiRouter<Vault> {
    Routes::new(&vault.config().http.api_prefix, ResourcesApi::openapi())
        .add(routes!(list_resources, create_resource))
        .add(routes!(
            get_resource,
            replace_resource,
            patch_resource,
            delete_resource
        ))
        .add(routes!(download_file, upload_file, delete_file))
        .add(routes!(list_tags, create_tag))
        .add(routes!(get_tag, rename_tag, delete_tag))
        .done()
        .layer(axum::middleware::from_fn_with_state(
            vault.clone(),
            crate::extract::throttle,
        ))
}

#[utoipa::path(get, path = "/resources", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("search" = Option<String>, Query, description = "Words matched in title, body, url and tag names (ranked)"),
        ("kind" = Option<ResourceKind>, Query), ("tag" = Option<Vec<String>>, Query, description = "Repeatable; all must match"),
        ("favorite" = Option<bool>, Query), ("ordering" = Option<String>, Query, description = "created_at, updated_at or title, optionally prefixed with -"),
        ("page" = Option<u64>, Query), ("page_size" = Option<u64>, Query, description = "Default 20, clamped to 100")),
    responses((status = 200, description = "A page of the caller's resources", body = Page<Resource>),
        (status = 400, description = "Bad query parameter"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "Invalid page")))]
async fn list_resources(State(vault): State<Vault>, AuthUser(user): AuthUser, uri: Uri) -> Answer {
    let page = vault
        .resources()
        .list_json(&user, &Query::parse(uri.query()))
        .await?;
    Ok(wire::json_body(StatusCode::OK, page).into())
}

#[utoipa::path(post, path = "/resources", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    request_body = ResourceInput,
    responses((status = 201, description = "Created (tags created on the fly)", body = Resource,
            headers(("Location" = String, description = "The new resource's path"))),
        (status = 400, description = "Invalid input"), (status = 401, description = "Not authenticated")))]
async fn create_resource(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    JsonBody(input): JsonBody<ResourceInput>,
) -> Answer {
    let resource = vault.resources().create(&user, input).await?;
    Ok(wire::created(&vault.resources().location(resource.id), &resource).into())
}

#[utoipa::path(get, path = "/resources/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The resource", body = Resource), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller")))]
async fn get_resource(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
) -> Answer {
    let resource = vault.resources().get(&user, &id).await?;
    Ok(wire::json(StatusCode::OK, &resource).into())
}

#[utoipa::path(put, path = "/resources/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)), request_body = ResourceInput,
    responses((status = 200, description = "Replaced: omitted optional fields return to their defaults", body = Resource),
        (status = 400, description = "Invalid input"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller")))]
async fn replace_resource(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
    JsonBody(input): JsonBody<ResourceInput>,
) -> Answer {
    let resource = vault.resources().replace(&user, &id, input).await?;
    Ok(wire::json(StatusCode::OK, &resource).into())
}

#[utoipa::path(patch, path = "/resources/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)), request_body = ResourcePatch,
    responses((status = 200, description = "Only the given fields changed", body = Resource),
        (status = 400, description = "Invalid input"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller")))]
async fn patch_resource(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
    JsonBody(input): JsonBody<ResourcePatch>,
) -> Answer {
    let resource = vault.resources().patch(&user, &id, input).await?;
    Ok(wire::json(StatusCode::OK, &resource).into())
}

#[utoipa::path(delete, path = "/resources/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted, with its file"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller")))]
async fn delete_resource(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
) -> Answer {
    vault.resources().delete(&user, &id).await?;
    Ok(wire::no_content().into())
}

#[utoipa::path(put, path = "/resources/{id}/file", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)), request_body(content = FileUpload, content_type = "multipart/form-data"),
    responses((status = 200, description = "Stored (replacing any previous file)", body = Resource),
        (status = 400, description = "No `file` part, or an extra part"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller"), (status = 413, description = "Over the upload limit"),
        (status = 415, description = "Not multipart, or a file type not allowed")))]
async fn upload_file(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
    request: Request,
) -> Answer {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = request
        .into_body()
        .into_data_stream()
        .map_err(|e| Error::Parse(format!("could not read the request body: {e}")))
        .boxed();
    let resource = vault
        .resources()
        .attach_file(&user, &id, content_type.as_deref(), body)
        .await?;
    Ok(wire::json(StatusCode::OK, &resource).into())
}

#[utoipa::path(get, path = "/resources/{id}/file", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path), ("If-None-Match" = Option<String>, Header)),
    responses((status = 200, description = "The bytes, with Content-Type, Content-Length, Content-Disposition and ETag",
            content_type = "*/*"),
        (status = 304, description = "Unchanged since the given ETag"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller, or no file")))]
async fn download_file(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let if_none_match = headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    let download = vault
        .resources()
        .download(&user, &id, if_none_match)
        .await?;
    Ok(download
        .into_response()
        .map(|body| body.map_or_else(Body::empty, Body::from_stream)))
}

#[utoipa::path(delete, path = "/resources/{id}/file", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "The file and its bytes are gone"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller, or no file")))]
async fn delete_file(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
) -> Answer {
    vault.resources().remove_file(&user, &id).await?;
    Ok(wire::no_content().into())
}

#[utoipa::path(get, path = "/tags", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("search" = Option<String>, Query, description = "Substring of the name"), ("page" = Option<u64>, Query), ("page_size" = Option<u64>, Query)),
    responses((status = 200, description = "A page of the caller's tags, by name", body = Page<Tag>),
        (status = 400, description = "Bad query parameter"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "Invalid page")))]
async fn list_tags(State(vault): State<Vault>, AuthUser(user): AuthUser, uri: Uri) -> Answer {
    let page = vault
        .resources()
        .list_tags(&user, &Query::parse(uri.query()))
        .await?;
    Ok(wire::json(StatusCode::OK, &page).into())
}

#[utoipa::path(post, path = "/tags", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    request_body = TagInput,
    responses((status = 201, description = "Created", body = Tag,
            headers(("Location" = String, description = "The new tag's path"))), (status = 400, description = "Invalid input"),
        (status = 401, description = "Not authenticated"), (status = 409, description = "Name taken")))]
async fn create_tag(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    JsonBody(input): JsonBody<TagInput>,
) -> Answer {
    let tag = vault.resources().create_tag(&user, input).await?;
    Ok(wire::created(&vault.resources().tag_location(tag.id), &tag).into())
}

#[utoipa::path(get, path = "/tags/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The tag", body = Tag), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such tag of the caller")))]
async fn get_tag(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
) -> Answer {
    let tag = vault.resources().get_tag(&user, &id).await?;
    Ok(wire::json(StatusCode::OK, &tag).into())
}

#[utoipa::path(patch, path = "/tags/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)), request_body = TagInput,
    responses((status = 200, description = "Renamed", body = Tag), (status = 400, description = "Invalid input"),
        (status = 401, description = "Not authenticated"), (status = 404, description = "No such tag of the caller"),
        (status = 409, description = "Name taken")))]
async fn rename_tag(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
    JsonBody(input): JsonBody<TagInput>,
) -> Answer {
    let tag = vault.resources().rename_tag(&user, &id, input).await?;
    Ok(wire::json(StatusCode::OK, &tag).into())
}

#[utoipa::path(delete, path = "/tags/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted and detached from every resource"),
        (status = 401, description = "Not authenticated"), (status = 404, description = "No such tag of the caller")))]
async fn delete_tag(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
) -> Answer {
    vault.resources().delete_tag(&user, &id).await?;
    Ok(wire::no_content().into())
}
