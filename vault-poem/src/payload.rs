//! Request bodies of poem-openapi operations: documented from the model types, read and
//! decoded by the core's rules, so every body error is the contract's problem (415, 413,
//! `parse_error`, `validation_error` naming the field), never poem-openapi's own.

use std::marker::PhantomData;

use bytes::Bytes;
use http::StatusCode;
use poem::{Body, FromRequest, IntoResponse, Request, RequestBody, Response};
use poem_openapi::payload::{Form, Payload};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::de::DeserializeOwned;
use serde::Serialize;
use vault_core::wire;

use crate::error::into_poem;
use crate::extract::{JsonBody, RawBody};

/// The media type of JSON bodies, as the document names it.
const APPLICATION_JSON: &str = "application/json";

/// A JSON body: its schema is `T`'s, its decoding the core's ([`JsonBody`]'s rules). As a
/// response, `T` serialized by the core's encoder.
///
/// ```no_run
/// use poem_openapi::{Object, OpenApi};
/// use vault_poem::{ApiError, ApiAuth, Json};
///
/// #[derive(Object, serde::Deserialize, serde::Serialize)]
/// struct Note { text: String }
///
/// struct NotesApi;
///
/// #[OpenApi]
/// impl NotesApi {
///     #[oai(path = "/notes", method = "post")]
///     async fn create(&self, ApiAuth(_caller): ApiAuth, note: Json<Note>) -> Result<Json<Note>, ApiError> {
///         Ok(note)
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: Type> Payload for Json<T> {
    const CONTENT_TYPE: &'static str = APPLICATION_JSON;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<'a, T: Type + DeserializeOwned> ApiExtractor<'a> for Json<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: <Self as BodyDoc>::content(),
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let JsonBody(value) = <JsonBody<T> as FromRequest>::from_request(request, body).await?;
        Ok(Self(value))
    }
}

impl<T: Serialize + Send> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        into_poem(wire::json(StatusCode::OK, &self.0))
    }
}

impl<T: Type + Serialize + Send> poem_openapi::ApiResponse for Json<T> {
    fn meta() -> poem_openapi::registry::MetaResponses {
        poem_openapi::registry::MetaResponses {
            responses: vec![poem_openapi::registry::MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: <Self as BodyDoc>::content(),
                headers: Vec::new(),
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// How a request body is documented: its media types and their schemas.
pub trait BodyDoc {
    /// The media types the body may have.
    fn content() -> Vec<MetaMediaType>;

    /// Registers the schemas [`BodyDoc::content`] refers to.
    fn register(registry: &mut Registry);
}

impl<T: Type> BodyDoc for Json<T> {
    fn content() -> Vec<MetaMediaType> {
        vec![MetaMediaType {
            content_type: APPLICATION_JSON,
            schema: T::schema_ref(),
        }]
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type> BodyDoc for Form<T> {
    fn content() -> Vec<MetaMediaType> {
        vec![MetaMediaType {
            content_type: <Self as Payload>::CONTENT_TYPE,
            schema: T::schema_ref(),
        }]
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// A `multipart/form-data` body whose parts `T` describes (documentation only: the core reads
/// the parts).
#[derive(Debug)]
pub struct Multipart<T>(PhantomData<fn() -> T>);

impl<T: Type> BodyDoc for Multipart<T> {
    fn content() -> Vec<MetaMediaType> {
        vec![MetaMediaType {
            content_type: "multipart/form-data",
            schema: T::schema_ref(),
        }]
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// Either of two bodies (for example JSON or a form).
impl<A: BodyDoc, B: BodyDoc> BodyDoc for (A, B) {
    fn content() -> Vec<MetaMediaType> {
        let mut content = A::content();
        content.extend(B::content());
        content
    }

    fn register(registry: &mut Registry) {
        A::register(registry);
        B::register(registry);
    }
}

/// A body handed to the core as bytes, undecoded, and documented as `D`: the core counts the
/// request against the client's rate limit before it decodes it, so malformed requests are
/// throttled too. Over the configured limit it is refused (413) without buffering more.
#[derive(Debug)]
pub struct Unparsed<D>(pub Bytes, PhantomData<fn() -> D>);

impl<'a, D: BodyDoc> ApiExtractor<'a> for Unparsed<D> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        D::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: D::content(),
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let RawBody(bytes) = <RawBody as FromRequest>::from_request(request, body).await?;
        Ok(Self(bytes, PhantomData))
    }
}

/// A body the core reads as a stream (file uploads), documented as `D`.
#[derive(Debug)]
pub struct Streamed<D>(pub Body, PhantomData<fn() -> D>);

impl<'a, D: BodyDoc> ApiExtractor<'a> for Streamed<D> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        D::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: D::content(),
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let body = <Body as FromRequest>::from_request(request, body).await?;
        Ok(Self(body, PhantomData))
    }
}
