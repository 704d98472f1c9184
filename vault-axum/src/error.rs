//! Core answers and errors as axum responses.

use std::any::Any;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use vault_core::Error;

/// A core error as an axum response (problem+json with its headers).
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.to_response().map(Body::from)
    }
}

/// A response built by the core (status, headers, body), as an axum response.
#[derive(Debug)]
pub struct Reply(pub http::Response<Bytes>);

impl From<http::Response<Bytes>> for Reply {
    fn from(response: http::Response<Bytes>) -> Self {
        Self(response)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        self.0.map(Body::from)
    }
}

/// Fallback for unknown routes.
pub(crate) async fn not_found() -> ApiError {
    ApiError(Error::NotFound)
}

/// The answer for a known route called with a method it does not take.
pub(crate) async fn method_not_allowed(method: Method, allow: Arc<[&'static str]>) -> ApiError {
    ApiError(Error::MethodNotAllowed {
        method: method.to_string(),
        allow: allow.iter().map(|m| (*m).to_string()).collect(),
    })
}

/// A panic in a handler: logged by the core, answered without details.
pub(crate) fn panic_response(cause: Box<dyn Any + Send + 'static>) -> Response {
    let text = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError(Error::Internal(format!("handler panicked: {text}"))).into_response()
}
