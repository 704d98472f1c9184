//! How a module's handlers become routes and documentation at once.
//!
//! Every module registers each of its paths with one utoipa-axum `routes!` call: the handlers'
//! `#[utoipa::path]` attributes give both the methods axum routes and the operations the
//! document lists, so neither can exist without the other. [`Routes::add`] then applies the
//! contract's conventions that are the same for every path: the API prefix, the same route with
//! a trailing slash, a problem+json 405 whose `Allow` lists the documented methods, and
//! problem+json bodies for the documented error statuses.

use std::sync::Arc;

use axum::http::Method;
use utoipa::openapi::path::{Operation, PathItem, Paths};
use utoipa::openapi::security::{
    Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::openapi::{Components, Content, OpenApi, Ref, RefOr, Response};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use vault_core::error::PROBLEM_JSON;
use vault_core::{Problem, Vault};

/// A module's router being built: its paths go under one prefix.
pub(crate) struct Routes {
    router: OpenApiRouter<Vault>,
    prefix: String,
}

impl Routes {
    /// An empty module whose document starts as `document` (its tag) and whose paths go under
    /// `prefix` (empty, or `/segment...`).
    pub(crate) fn new(prefix: &str, document: OpenApi) -> Self {
        Self {
            router: OpenApiRouter::with_openapi(document),
            prefix: prefix.to_string(),
        }
    }

    /// Registers the handlers of one `routes!` call (one path, one handler per method) at the
    /// prefixed path and at the same path with a trailing slash (clients ported from DRF send
    /// it), documented once, without the slash.
    pub(crate) fn add(
        self,
        (mut schemas, paths, method_router): UtoipaMethodRouter<Vault>,
    ) -> Self {
        let Self { mut router, prefix } = self;
        <Problem as ToSchema>::schemas(&mut schemas);
        schemas.push((Problem::name().into_owned(), Problem::schema()));
        for (path, mut item) in paths.paths {
            let allow = allowed_methods(&item);
            for operation in operations(&mut item) {
                document_problems(operation);
            }
            // axum cannot tell which methods a path takes once several paths share a method
            // router; the documented operations can.
            let method_router = method_router.clone().fallback(move |method: Method| {
                crate::error::method_not_allowed(method, Arc::clone(&allow))
            });
            let full = format!("{prefix}{path}");
            let mut documented = Paths::new();
            documented.paths.insert(full.clone(), item);
            router = router
                .routes((schemas.clone(), documented, method_router.clone()))
                .route(&format!("{full}/"), method_router);
        }
        Self { router, prefix }
    }

    /// The finished router, with the security schemes its operations name.
    pub(crate) fn done(self) -> OpenApiRouter<Vault> {
        let Self { mut router, prefix } = self;
        add_security_schemes(router.get_openapi_mut(), &prefix);
        router
    }
}

/// The methods a documented path takes, in the order the `Allow` header lists them.
fn allowed_methods(item: &PathItem) -> Arc<[&'static str]> {
    [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
        ("HEAD", &item.head),
        ("OPTIONS", &item.options),
        ("TRACE", &item.trace),
    ]
    .into_iter()
    .filter_map(|(name, operation)| operation.as_ref().map(|_| name))
    .collect()
}

/// Every operation of a path item.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.post,
        &mut item.put,
        &mut item.patch,
        &mut item.delete,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// Gives every 4xx/5xx response declared without content the problem+json body, the
/// operation the 500 and 503 any request can meet, and an operation that reads a body the 413
/// and 415 every body can meet. Handlers declare error statuses by status and description
/// only, so the body cannot be forgotten or declared differently.
fn document_problems(operation: &mut Operation) {
    let mut statuses = vec![("500", "Server error"), ("503", "Database unavailable")];
    if operation.request_body.is_some() {
        statuses.extend([("413", "Body too large"), ("415", "Unsupported media type")]);
    }
    for (status, description) in statuses {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(Response::new(description)));
    }
    for (status, response) in &mut operation.responses.responses {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let (true, RefOr::T(response)) = (is_error, response) {
            if response.content.is_empty() {
                response.content.insert(
                    PROBLEM_JSON.to_string(),
                    Content::new(Some(RefOr::Ref(Ref::from_schema_name(Problem::name())))),
                );
            }
        }
    }
}

/// The `bearer` and `oauth2` schemes the authenticated operations name; OAuth2's token URL
/// is POST /auth/token under the API prefix, which is runtime configuration.
fn add_security_schemes(document: &mut OpenApi, prefix: &str) {
    let uses_security =
        document.paths.paths.values_mut().any(|item| {
            operations(item).any(|op| op.security.as_ref().is_some_and(|s| !s.is_empty()))
        });
    if !uses_security {
        return;
    }
    let components = document.components.get_or_insert_with(Components::new);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An access token from POST /auth/token"))
                .build(),
        ),
    );
    components.add_security_scheme(
        "oauth2",
        SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(
            format!("{prefix}/auth/token"),
            Scopes::new(),
        ))])),
    );
}
