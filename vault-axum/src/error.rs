//! Core answers and errors as axum responses.

use std::any::Any;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::future::BoxFuture;
use vault_core::error::PROBLEM_JSON;
use vault_core::{Error, Problem};

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

/// The layer that answers a bodiless error response with the contract's problem for its
/// status (what [`crate::with_layers`] documents), leaving every other response as it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BareErrorsLayer;

impl<S> tower::Layer<S> for BareErrorsLayer {
    type Service = BareErrors<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BareErrors { inner }
    }
}

/// The service of [`BareErrorsLayer`].
#[derive(Debug, Clone)]
pub(crate) struct BareErrors<S> {
    inner: S,
}

impl<S> tower::Service<Request> for BareErrors<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // A 405's detail names the method; the request is gone once the response exists.
        let method = request.method().clone();
        let response = self.inner.call(request);
        Box::pin(async move { Ok(problem_for_bare_error(&method, response.await?)) })
    }
}

/// The contract's problem in place of an error response without a body, keeping its status
/// and headers (`Allow`, `Retry-After`, ...); any other response as it is.
fn problem_for_bare_error(method: &Method, response: Response) -> Response {
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    if !is_error || !is_bodiless(&response) || is_problem(response.headers()) {
        return response;
    }
    let Some(problem) = Problem::for_status(status, method.as_str()) else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    let (problem_parts, body) = problem.to_response().into_parts();
    // The new body's length is its own; hyper sets the header from it.
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &problem_parts.headers {
        if name == header::CONTENT_TYPE || !parts.headers.contains_key(name) {
            parts.headers.insert(name, value.clone());
        }
    }
    Response::from_parts(parts, Body::from(body))
}

/// An empty body that is not a HEAD answer's stripped one: axum's router empties the body of
/// a response to HEAD but keeps the `Content-Length` of what GET would have sent.
fn is_bodiless(response: &Response) -> bool {
    response.body().size_hint().exact() == Some(0)
        && response
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_none_or(|length| length.as_bytes() == b"0")
}

fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(PROBLEM_JSON.as_bytes()))
}
