//! API.md §4: resources and tags, private to their owner.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header::{CONTENT_TYPE, IF_NONE_MATCH};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures::{StreamExt, TryStreamExt};
use vault_core::page::Query;
use vault_core::resources::{ResourceInput, ResourcePatch, TagInput};
use vault_core::{wire, Error, Vault};

use super::Table;
use crate::error::{ApiError, Reply};
use crate::extract::{AuthUser, JsonBody};

type Answer = Result<Reply, ApiError>;

/// `/resources/...` and `/tags/...` routes.
pub fn router() -> Router<Vault> {
    table(Table::new("")).done()
}

/// Adds the `/resources/...` and `/tags/...` routes to `t`.
pub(crate) fn table(t: Table<'_>) -> Table<'_> {
    t.both("/resources", &["GET", "POST"], get(list).post(create))
        .both(
            "/resources/{id}",
            &["GET", "PUT", "PATCH", "DELETE"],
            get(read).put(replace).patch(patch).delete(remove),
        )
        .both(
            "/resources/{id}/file",
            &["GET", "PUT", "DELETE"],
            get(download).put(upload).delete(remove_file),
        )
        .both("/tags", &["GET", "POST"], get(list_tags).post(create_tag))
        .both(
            "/tags/{id}",
            &["GET", "PATCH", "DELETE"],
            get(read_tag).patch(rename_tag).delete(delete_tag),
        )
}

async fn list(State(vault): State<Vault>, AuthUser(user): AuthUser, uri: Uri) -> Answer {
    let page = vault
        .resources()
        .list_json(&user, &Query::parse(uri.query()))
        .await?;
    Ok(wire::json_body(StatusCode::OK, page).into())
}

async fn create(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    JsonBody(input): JsonBody<ResourceInput>,
) -> Answer {
    let resource = vault.resources().create(&user, input).await?;
    Ok(wire::created(&vault.resources().location(resource.id), &resource).into())
}

async fn read(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Answer {
    let resource = vault.resources().get(&user, &id).await?;
    Ok(wire::json(StatusCode::OK, &resource).into())
}

async fn replace(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ResourceInput>,
) -> Answer {
    let resource = vault.resources().replace(&user, &id, input).await?;
    Ok(wire::json(StatusCode::OK, &resource).into())
}

async fn patch(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ResourcePatch>,
) -> Answer {
    let resource = vault.resources().patch(&user, &id, input).await?;
    Ok(wire::json(StatusCode::OK, &resource).into())
}

async fn remove(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Answer {
    vault.resources().delete(&user, &id).await?;
    Ok(wire::no_content().into())
}

async fn upload(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
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

async fn download(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
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

async fn remove_file(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Answer {
    vault.resources().remove_file(&user, &id).await?;
    Ok(wire::no_content().into())
}

async fn list_tags(State(vault): State<Vault>, AuthUser(user): AuthUser, uri: Uri) -> Answer {
    let page = vault
        .resources()
        .list_tags(&user, &Query::parse(uri.query()))
        .await?;
    Ok(wire::json(StatusCode::OK, &page).into())
}

async fn create_tag(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    JsonBody(input): JsonBody<TagInput>,
) -> Answer {
    let tag = vault.resources().create_tag(&user, input).await?;
    Ok(wire::created(&vault.resources().tag_location(tag.id), &tag).into())
}

async fn read_tag(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Answer {
    let tag = vault.resources().get_tag(&user, &id).await?;
    Ok(wire::json(StatusCode::OK, &tag).into())
}

async fn rename_tag(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<TagInput>,
) -> Answer {
    let tag = vault.resources().rename_tag(&user, &id, input).await?;
    Ok(wire::json(StatusCode::OK, &tag).into())
}

async fn delete_tag(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Answer {
    vault.resources().delete_tag(&user, &id).await?;
    Ok(wire::no_content().into())
}
