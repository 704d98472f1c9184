//! Responses of poem-openapi operations: the core's exact bytes, documented by a declaration.
//!
//! The core builds every answer (status, headers, body serialized once, sometimes cached), so
//! an operation returns that response unchanged as an [`Answer<D>`]; `D` is a
//! `#[derive(ApiResponse)]` enum that only declares the statuses, descriptions and schemas the
//! operation can answer with. Every operation may also answer 500 and 503 (problem+json).

use std::marker::PhantomData;

use bytes::Bytes;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::ApiResponse;
use vault_core::error::PROBLEM_JSON;
use vault_core::Problem;

use crate::error::into_poem;

/// The core's response to an operation, documented as `D` plus the 500 and 503 every operation
/// can answer.
pub struct Answer<D>(Response, PhantomData<fn() -> D>);

impl<D> From<http::Response<Bytes>> for Answer<D> {
    fn from(response: http::Response<Bytes>) -> Self {
        Self(into_poem(response), PhantomData)
    }
}

impl<D> From<Response> for Answer<D> {
    fn from(response: Response) -> Self {
        Self(response, PhantomData)
    }
}

impl<D> IntoResponse for Answer<D> {
    fn into_response(self) -> Response {
        self.0
    }
}

impl<D: ApiResponse> ApiResponse for Answer<D> {
    fn meta() -> MetaResponses {
        let mut meta = D::meta();
        for (status, description) in [(500, "Server error"), (503, "Database unavailable")] {
            if !meta.responses.iter().any(|r| r.status == Some(status)) {
                meta.responses.push(MetaResponse {
                    description,
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: PROBLEM_JSON,
                        schema: Problem::schema_ref(),
                    }],
                    headers: Vec::new(),
                });
            }
        }
        meta
    }

    fn register(registry: &mut Registry) {
        D::register(registry);
        Problem::register(registry);
    }
}

/// An error answer: the contract's problem document (`application/problem+json`).
#[derive(Debug, Clone)]
pub struct ProblemJson(pub Problem);

impl Payload for ProblemJson {
    const CONTENT_TYPE: &'static str = PROBLEM_JSON;

    fn schema_ref() -> MetaSchemaRef {
        Problem::schema_ref()
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

impl IntoResponse for ProblemJson {
    fn into_response(self) -> Response {
        into_poem(self.0.to_response())
    }
}
