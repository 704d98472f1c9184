//! What each operation of API.md §4 answers, as documentation (see [`crate::Answer`]): the
//! handlers return the core's response, so these variants are declared, never built.

#![allow(dead_code)]

use poem::{Body, IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::ApiResponse;
use vault_core::page::Page;
use vault_core::resources::{Resource, Tag};

use crate::answer::ProblemJson;
use crate::payload::Json;

/// GET /resources.
#[derive(ApiResponse)]
pub(crate) enum ListResources {
    /// A page of the caller's resources
    #[oai(status = 200)]
    Ok(Json<Page<Resource>>),
    /// Bad query parameter
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// Invalid page
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// POST /resources.
#[derive(ApiResponse)]
pub(crate) enum CreateResource {
    /// Created (tags created on the fly)
    #[oai(status = 201)]
    Created(
        Json<Resource>,
        /// The new resource's path
        #[oai(header = "Location")]
        String,
    ),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
}

/// GET /resources/{id}.
#[derive(ApiResponse)]
pub(crate) enum GetResource {
    /// The resource
    #[oai(status = 200)]
    Ok(Json<Resource>),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such resource of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// PUT /resources/{id}.
#[derive(ApiResponse)]
pub(crate) enum ReplaceResource {
    /// Replaced: omitted optional fields return to their defaults
    #[oai(status = 200)]
    Ok(Json<Resource>),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such resource of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// PATCH /resources/{id}.
#[derive(ApiResponse)]
pub(crate) enum PatchResource {
    /// Only the given fields changed
    #[oai(status = 200)]
    Ok(Json<Resource>),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such resource of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// DELETE /resources/{id}.
#[derive(ApiResponse)]
pub(crate) enum DeleteResource {
    /// Deleted, with its file
    #[oai(status = 204)]
    NoContent,
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such resource of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// GET /resources/{id}/file.
#[derive(ApiResponse)]
pub(crate) enum DownloadFile {
    /// The bytes, with Content-Type, Content-Length, Content-Disposition and ETag
    #[oai(status = 200)]
    Ok(FileBytes),
    /// Unchanged since the given ETag
    #[oai(status = 304)]
    NotModified,
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such resource of the caller, or no file
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// PUT /resources/{id}/file.
#[derive(ApiResponse)]
pub(crate) enum UploadFile {
    /// Stored (replacing any previous file)
    #[oai(status = 200)]
    Ok(Json<Resource>),
    /// No `file` part, or an extra part
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such resource of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// Over the upload limit
    #[oai(status = 413)]
    PayloadTooLarge(ProblemJson),
    /// Not multipart, or a file type not allowed
    #[oai(status = 415)]
    UnsupportedMediaType(ProblemJson),
}

/// DELETE /resources/{id}/file.
#[derive(ApiResponse)]
pub(crate) enum DeleteFile {
    /// The file and its bytes are gone
    #[oai(status = 204)]
    NoContent,
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such resource of the caller, or no file
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// GET /tags.
#[derive(ApiResponse)]
pub(crate) enum ListTags {
    /// A page of the caller's tags, by name
    #[oai(status = 200)]
    Ok(Json<Page<Tag>>),
    /// Bad query parameter
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// Invalid page
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// POST /tags.
#[derive(ApiResponse)]
pub(crate) enum CreateTag {
    /// Created
    #[oai(status = 201)]
    Created(
        Json<Tag>,
        /// The new tag's path
        #[oai(header = "Location")]
        String,
    ),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// Name taken
    #[oai(status = 409)]
    Conflict(ProblemJson),
}

/// GET /tags/{id}.
#[derive(ApiResponse)]
pub(crate) enum GetTag {
    /// The tag
    #[oai(status = 200)]
    Ok(Json<Tag>),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such tag of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// PATCH /tags/{id}.
#[derive(ApiResponse)]
pub(crate) enum RenameTag {
    /// Renamed
    #[oai(status = 200)]
    Ok(Json<Tag>),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such tag of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// Name taken
    #[oai(status = 409)]
    Conflict(ProblemJson),
}

/// DELETE /tags/{id}.
#[derive(ApiResponse)]
pub(crate) enum DeleteTag {
    /// Deleted and detached from every resource
    #[oai(status = 204)]
    NoContent,
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such tag of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// A file's bytes, of any media type (the response carries the stored one).
pub(crate) struct FileBytes(Body);

impl Payload for FileBytes {
    /// Whatever type the file was stored as.
    const CONTENT_TYPE: &'static str = "*/*";

    /// Any bytes: no schema constrains them.
    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::ANY))
    }
}

impl IntoResponse for FileBytes {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type("application/octet-stream")
            .body(self.0)
    }
}
