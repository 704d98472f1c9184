//! The routing conventions of API.md §1 around an `OpenApiService`: every path answers with
//! and without a trailing slash (clients ported from DRF use the slash), and a known path
//! called with another method is a problem+json 405 whose `Allow` header lists the methods
//! the APIs declare for that path (poem's own 405 does not say which methods exist).

use std::str::FromStr;
use std::sync::Arc;

use poem::error::MethodNotAllowedError;
use poem::http::uri::PathAndQuery;
use poem::http::{Method, Uri};
use poem::{Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Request, Response, RouteMethod};
use poem_openapi::{OpenApi, OpenApiService, Webhook};
use vault_core::Error;

use crate::error::ApiError;

/// An `OpenApiService` with Vault's routing conventions: trailing slashes, and 405 with
/// `Allow` derived from the operations of `T`. Mount it where the service's paths start
/// (`Route::nest(prefix, vault_poem::serve(service))`) and give it the [`vault_core::Vault`]
/// as request data.
///
/// ```no_run
/// use poem::{EndpointExt, Route};
/// use poem_openapi::OpenApiService;
/// use vault_poem::{AuthApi, ResourcesApi};
///
/// # fn mount(vault: vault_core::Vault) -> impl poem::Endpoint {
/// let service = OpenApiService::new((AuthApi, ResourcesApi), "My app", "1.0").url_prefix("/api");
/// let spec = service.spec_endpoint();
/// let app = Route::new()
///     .at("/openapi.json", spec)
///     .nest("/api", vault_poem::serve(service).around(vault_poem::throttle))
///     .data(vault);
/// vault_poem::with_layers(app)
/// # }
/// ```
pub fn serve<T, W>(service: OpenApiService<T, W>) -> impl Endpoint<Output = Response>
where
    T: OpenApi + 'static,
    W: Webhook + 'static,
{
    let methods = Arc::new(MethodTable::of::<T>());
    service
        .into_endpoint()
        .around(move |next, mut request: Request| {
            let methods = Arc::clone(&methods);
            async move {
                strip_trailing_slash(&mut request);
                // Cheap (reference-counted) copies, read only for a 405.
                let uri = request.uri().clone();
                let method = request.method().clone();
                match next.call(request).await {
                    Ok(response) => Ok(response.into_response()),
                    Err(error) if error.is::<MethodNotAllowedError>() => {
                        Err(ApiError(Error::MethodNotAllowed {
                            method: method.to_string(),
                            allow: methods.allowed(uri.path()),
                        })
                        .into())
                    }
                    Err(error) => Err(error),
                }
            }
        })
}

/// A plain poem route's endpoints by method, as poem's [`RouteMethod`] (which it uses), whose
/// 405 names the methods in `Allow`: poem's own 405 cannot say which methods the route takes,
/// so [`with_layers`](crate::with_layers) answers it with a problem without `Allow`.
///
/// ```
/// use poem::{handler, Route};
/// use vault_poem::Methods;
///
/// #[handler]
/// fn hello() -> &'static str {
///     "hello"
/// }
///
/// // POST /hello: 405 problem+json with `Allow: GET`.
/// let app = vault_poem::with_layers(Route::new().at("/hello", Methods::new().get(hello)));
/// # let _ = app;
/// ```
#[derive(Default)]
pub struct Methods {
    route: RouteMethod,
    allow: Vec<String>,
}

impl Methods {
    /// No methods yet: every request is a 405.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `method` with `endpoint`.
    #[must_use]
    pub fn method<E>(self, method: Method, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        let Self { route, mut allow } = self;
        allow.push(method.to_string());
        Self {
            route: route.method(method, endpoint),
            allow,
        }
    }

    /// Answers GET with `endpoint` (and HEAD, as poem does, without listing it).
    #[must_use]
    pub fn get<E>(self, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.method(Method::GET, endpoint)
    }

    /// Answers POST with `endpoint`.
    #[must_use]
    pub fn post<E>(self, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.method(Method::POST, endpoint)
    }

    /// Answers PUT with `endpoint`.
    #[must_use]
    pub fn put<E>(self, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.method(Method::PUT, endpoint)
    }

    /// Answers PATCH with `endpoint`.
    #[must_use]
    pub fn patch<E>(self, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.method(Method::PATCH, endpoint)
    }

    /// Answers DELETE with `endpoint`.
    #[must_use]
    pub fn delete<E>(self, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.method(Method::DELETE, endpoint)
    }
}

impl Endpoint for Methods {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let method = request.method().clone();
        match self.route.call(request).await {
            Err(error) if error.is::<MethodNotAllowedError>() => {
                Err(ApiError(Error::MethodNotAllowed {
                    method: method.to_string(),
                    allow: self.allow.clone(),
                })
                .into())
            }
            answered => answered,
        }
    }
}

/// `/auth/me/` is `/auth/me` (the root `/` stays).
fn strip_trailing_slash(request: &mut Request) {
    let uri = request.uri();
    let path = uri.path();
    let Some(trimmed) = path.strip_suffix('/').filter(|p| !p.is_empty()) else {
        return;
    };
    let rebuilt = match uri.query() {
        Some(query) => format!("{trimmed}?{query}"),
        None => trimmed.to_string(),
    };
    let Ok(path_and_query) = PathAndQuery::from_str(&rebuilt) else {
        return;
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query);
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
}

/// Each declared path template (`/resources/{id}`, as segments) with its methods, in the
/// order the operations are declared.
#[derive(Debug, Default)]
struct MethodTable(Vec<(Vec<String>, Vec<Method>)>);

impl MethodTable {
    fn of<T: OpenApi>() -> Self {
        let mut table = Self::default();
        for path in T::meta().into_iter().flat_map(|api| api.paths) {
            let segments = segments(&path.path).map(str::to_string).collect();
            let methods = path.operations.into_iter().map(|op| op.method);
            match table.0.iter_mut().find(|(known, _)| *known == segments) {
                Some((_, known)) => known.extend(methods),
                None => table.0.push((segments, methods.collect())),
            }
        }
        table
    }

    /// The methods of the template `path` matches (`{name}` matches any one segment).
    fn allowed(&self, path: &str) -> Vec<String> {
        let wanted: Vec<&str> = segments(path).collect();
        self.0
            .iter()
            .find(|(template, _)| {
                template.len() == wanted.len()
                    && template.iter().zip(&wanted).all(|(t, w)| {
                        (t.starts_with('{') && t.ends_with('}') && !w.is_empty()) || t == w
                    })
            })
            .map(|(_, methods)| methods.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuthApi, FlashcardsApi, HealthApi, ResourcesApi};

    #[test]
    fn allow_lists_the_declared_methods_in_order() {
        let table = MethodTable::of::<(AuthApi, ResourcesApi, FlashcardsApi, HealthApi)>();
        assert_eq!(table.allowed("/auth/me"), ["GET", "PATCH", "DELETE"]);
        assert_eq!(table.allowed("/auth/register"), ["POST"]);
        assert_eq!(
            table.allowed("/resources/0190/file"),
            ["GET", "PUT", "DELETE"]
        );
        assert_eq!(
            table.allowed("/resources/x"),
            ["GET", "PUT", "PATCH", "DELETE"]
        );
        assert_eq!(table.allowed("/health/live"), ["GET"]);
        assert!(table.allowed("/nowhere").is_empty());
    }

    #[test]
    fn trailing_slashes_are_stripped_but_not_the_root() {
        for (given, expected) in [
            ("/api/auth/me/", "/api/auth/me"),
            ("/api/tags/?page=2", "/api/tags?page=2"),
            ("/", "/"),
            ("/health/live", "/health/live"),
        ] {
            let mut request = Request::builder().uri(Uri::from_static(given)).finish();
            strip_trailing_slash(&mut request);
            assert_eq!(request.uri().to_string(), expected);
        }
    }
}
