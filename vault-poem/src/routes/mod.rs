//! Route tables, one module per API module. Every path answers with and without a trailing
//! slash (clients ported from DRF use the slash).

mod auth;
mod meta;
mod resources;

use std::sync::Arc;

use poem::error::MethodNotAllowedError;
use poem::{Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Route};

pub use auth::routes as auth;
pub use meta::{docs, health};
pub use resources::routes as resources;

/// Every API module (for nesting under a prefix), with docs and OpenAPI, behind the general
/// rate limits of API.md §9.
pub fn api() -> impl Endpoint<Output = poem::Response> {
    docs(resources(auth(Route::new()))).around(crate::extract::throttle)
}

/// Adds `endpoint` at `path` and at `path/`; other methods get the problem+json 405 with
/// `Allow: {allow}` (poem's own 405 does not say which methods exist).
pub(crate) fn both<E>(
    route: Route,
    path: &str,
    allow: &'static [&'static str],
    endpoint: E,
) -> Route
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let endpoint = Arc::new(
        endpoint
            .into_endpoint()
            .around(move |next, request| async move {
                let method = request.method().clone();
                match next.call(request).await {
                    Ok(output) => Ok(output.into_response()),
                    Err(error) if error.is::<MethodNotAllowedError>() => {
                        Err(crate::error::method_not_allowed(&method, allow).into())
                    }
                    Err(error) => Err(error),
                }
            }),
    );
    route
        .at(path, Arc::clone(&endpoint))
        .at(format!("{path}/"), endpoint)
}
