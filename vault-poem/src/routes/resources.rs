//! API.md §4: resources and tags, private to their owner.

use futures::{StreamExt, TryStreamExt};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{get, handler, Body, Request, Response, Route};
use vault_core::page::Query;
use vault_core::resources::{ResourceInput, ResourcePatch, TagInput};
use vault_core::{wire, Error, Vault};

use super::both;
use crate::error::{into_poem, ApiError};
use crate::extract::{AuthUser, JsonBody};

type Answer = Result<Response, ApiError>;

/// Adds the `/resources/...` and `/tags/...` routes to `route`.
pub fn routes(route: Route) -> Route {
    let mut r = route;
    r = both(r, "/resources", &["GET", "POST"], get(list).post(create));
    r = both(
        r,
        "/resources/:id",
        &["GET", "PUT", "PATCH", "DELETE"],
        get(read).put(replace).patch(patch).delete(remove),
    );
    r = both(
        r,
        "/resources/:id/file",
        &["GET", "PUT", "DELETE"],
        get(download).put(upload).delete(remove_file),
    );
    r = both(
        r,
        "/tags",
        &["GET", "POST"],
        get(list_tags).post(create_tag),
    );
    r = both(
        r,
        "/tags/:id",
        &["GET", "PATCH", "DELETE"],
        get(read_tag).patch(rename_tag).delete(delete_tag),
    );
    r
}

#[handler]
async fn list(vault: Data<&Vault>, AuthUser(user): AuthUser, request: &Request) -> Answer {
    let page = vault
        .resources()
        .list_json(&user, &Query::parse(request.uri().query()))
        .await?;
    Ok(into_poem(wire::json_body(StatusCode::OK, page)))
}

#[handler]
async fn create(
    vault: Data<&Vault>,
    AuthUser(user): AuthUser,
    JsonBody(input): JsonBody<ResourceInput>,
) -> Answer {
    let resource = vault.resources().create(&user, input).await?;
    Ok(into_poem(wire::created(
        &vault.resources().location(resource.id),
        &resource,
    )))
}

#[handler]
async fn read(vault: Data<&Vault>, AuthUser(user): AuthUser, Path(id): Path<String>) -> Answer {
    let resource = vault.resources().get(&user, &id).await?;
    Ok(into_poem(wire::json(StatusCode::OK, &resource)))
}

#[handler]
async fn replace(
    vault: Data<&Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ResourceInput>,
) -> Answer {
    let resource = vault.resources().replace(&user, &id, input).await?;
    Ok(into_poem(wire::json(StatusCode::OK, &resource)))
}

#[handler]
async fn patch(
    vault: Data<&Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ResourcePatch>,
) -> Answer {
    let resource = vault.resources().patch(&user, &id, input).await?;
    Ok(into_poem(wire::json(StatusCode::OK, &resource)))
}

#[handler]
async fn remove(vault: Data<&Vault>, AuthUser(user): AuthUser, Path(id): Path<String>) -> Answer {
    vault.resources().delete(&user, &id).await?;
    Ok(into_poem(wire::no_content()))
}

#[handler]
async fn upload(
    vault: Data<&Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    request: &Request,
    body: Body,
) -> Answer {
    let content_type = request.content_type().map(str::to_string);
    let body = body
        .into_bytes_stream()
        .map_err(|e| Error::Parse(format!("could not read the request body: {e}")))
        .boxed();
    let resource = vault
        .resources()
        .attach_file(&user, &id, content_type.as_deref(), body)
        .await?;
    Ok(into_poem(wire::json(StatusCode::OK, &resource)))
}

#[handler]
async fn download(
    vault: Data<&Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    request: &Request,
) -> Answer {
    let if_none_match = request.header(poem::http::header::IF_NONE_MATCH);
    let download = vault
        .resources()
        .download(&user, &id, if_none_match)
        .await?;
    let (parts, body) = download.into_response().into_parts();
    let mut response =
        Response::builder()
            .status(parts.status)
            .body(body.map_or_else(Body::empty, |stream| {
                Body::from_bytes_stream(stream.map_err(std::io::Error::other))
            }));
    *response.headers_mut() = parts.headers;
    Ok(response)
}

#[handler]
async fn remove_file(
    vault: Data<&Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Answer {
    vault.resources().remove_file(&user, &id).await?;
    Ok(into_poem(wire::no_content()))
}

#[handler]
async fn list_tags(vault: Data<&Vault>, AuthUser(user): AuthUser, request: &Request) -> Answer {
    let page = vault
        .resources()
        .list_tags(&user, &Query::parse(request.uri().query()))
        .await?;
    Ok(into_poem(wire::json(StatusCode::OK, &page)))
}

#[handler]
async fn create_tag(
    vault: Data<&Vault>,
    AuthUser(user): AuthUser,
    JsonBody(input): JsonBody<TagInput>,
) -> Answer {
    let tag = vault.resources().create_tag(&user, input).await?;
    Ok(into_poem(wire::created(
        &vault.resources().tag_location(tag.id),
        &tag,
    )))
}

#[handler]
async fn read_tag(vault: Data<&Vault>, AuthUser(user): AuthUser, Path(id): Path<String>) -> Answer {
    let tag = vault.resources().get_tag(&user, &id).await?;
    Ok(into_poem(wire::json(StatusCode::OK, &tag)))
}

#[handler]
async fn rename_tag(
    vault: Data<&Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<TagInput>,
) -> Answer {
    let tag = vault.resources().rename_tag(&user, &id, input).await?;
    Ok(into_poem(wire::json(StatusCode::OK, &tag)))
}

#[handler]
async fn delete_tag(
    vault: Data<&Vault>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Answer {
    vault.resources().delete_tag(&user, &id).await?;
    Ok(into_poem(wire::no_content()))
}
