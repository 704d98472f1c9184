//! Core answers and errors as poem responses, and the layer that makes every error
//! problem+json.

use std::any::Any;
use std::sync::Arc;

use bytes::Bytes;
use poem::error::{NotFoundError, ParsePathError, ResponseError};
use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use vault_core::error::PROBLEM_JSON;
use vault_core::{Error, Problem};

/// A core error as a poem error (problem+json with its headers).
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ApiError {}

/// As the error side of an operation's result: its statuses are declared by the operation's
/// answer (see [`crate::Answer`]), so it adds none.
impl poem_openapi::ApiResponse for ApiError {
    fn meta() -> poem_openapi::registry::MetaResponses {
        poem_openapi::registry::MetaResponses {
            responses: Vec::new(),
        }
    }

    fn register(_registry: &mut poem_openapi::registry::Registry) {}
}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.0.status()
    }

    fn as_response(&self) -> Response {
        into_poem(self.0.to_response())
    }
}

/// A response built by the core, as a poem response.
pub fn into_poem(response: http::Response<Bytes>) -> Response {
    let (parts, body) = response.into_parts();
    let mut out = Response::builder().status(parts.status).body(body);
    *out.headers_mut() = parts.headers;
    out
}

/// Maps any poem error to the contract's problem (our own errors keep their exact form), gives
/// a bodiless error response the problem for its status, and gives every response an
/// `X-Request-Id` (the client's, or a new UUID). Every 5xx is logged at ERROR with that id, its
/// status and latency, so a client's id finds the core's error line. What is and is not
/// rewritten is listed at [`crate::with_layers`].
///
/// # Errors
/// Never: every error becomes a response.
pub async fn problem_layer<E: Endpoint>(
    next: Arc<E>,
    mut request: Request,
) -> poem::Result<Response> {
    let id = request
        .headers()
        .get("x-request-id")
        .filter(|v| !v.is_empty())
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .unwrap_or(HeaderValue::from_static("unknown"))
        });
    request.headers_mut().insert("x-request-id", id.clone());
    let method = request.method().clone();
    let started = std::time::Instant::now();
    let mut response = match next.call(request).await {
        Ok(output) => problem_for_bare_error(&method, output.into_response()),
        // A response the handler built itself (a poem-openapi `ApiResponse` as the error, say).
        Err(error) if error.is_from_response() => {
            problem_for_bare_error(&method, error.into_response())
        }
        Err(error) => problem_for(&error, &method),
    };
    if response.status().is_server_error() {
        let latency = started.elapsed();
        tracing::error!(
            request_id = %id.to_str().unwrap_or_default(),
            status = response.status().as_u16(),
            ?latency,
            "server error response"
        );
    }
    response.headers_mut().insert("x-request-id", id);
    Ok(response)
}

fn problem_for(error: &poem::Error, method: &Method) -> Response {
    if let Some(own) = error.downcast_ref::<ApiError>() {
        return own.as_response();
    }
    // poem's router drops a path segment that does not percent-decode to UTF-8 and then
    // refuses the path (`ParsePathError`): such a path names nothing, as in the contract.
    let core = if error.is::<NotFoundError>() || error.is::<ParsePathError>() {
        Error::NotFound
    } else {
        match error.status() {
            StatusCode::NOT_FOUND => Error::NotFound,
            // poem-openapi's own security schemes refuse with a bare 401 / 403.
            StatusCode::UNAUTHORIZED => Error::NotAuthenticated,
            StatusCode::FORBIDDEN => Error::PermissionDenied,
            // poem's own 405 does not say which methods exist (without [`crate::Methods`] or
            // [`crate::serve`]), and poem's body limits do not say the limit: the problems
            // for the bare statuses claim neither.
            status @ (StatusCode::METHOD_NOT_ALLOWED
            | StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::UNSUPPORTED_MEDIA_TYPE) => {
                if let Some(problem) = Problem::for_status(status, method.as_str()) {
                    return into_poem(problem.to_response());
                }
                Error::Parse(error.to_string())
            }
            status if status.is_client_error() => Error::Parse(error.to_string()),
            _ => Error::Internal(error.to_string()),
        }
    };
    into_poem(core.to_response())
}

/// The contract's problem in place of an error response without a body, keeping its status
/// and headers (`Allow`, `Retry-After`, ...); any other response as it is.
fn problem_for_bare_error(method: &Method, response: Response) -> Response {
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    // poem answers HEAD with GET's response emptied: a bare one cannot be told from the
    // host's own.
    if !is_error || *method == Method::HEAD {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let is_problem = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let problem = if body.is_empty() && !is_problem {
        Problem::for_status(status, method.as_str())
    } else {
        None
    };
    let Some(problem) = problem else {
        return Response::from_parts(parts, body);
    };
    let (problem_parts, problem_body) = problem.to_response().into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &problem_parts.headers {
        if name == header::CONTENT_TYPE || !parts.headers.contains_key(name) {
            parts.headers.insert(name, value.clone());
        }
    }
    Response::from_parts(parts, problem_body.into())
}

/// A panic in a handler: logged by the core, answered without details.
pub(crate) fn panic_response(cause: Box<dyn Any + Send + 'static>) -> Response {
    let text = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    into_poem(Error::Internal(format!("handler panicked: {text}")).to_response())
}
