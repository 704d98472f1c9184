//! API.md §10: the OpenAPI document of every module, and the offline docs page that shows it.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use poem::error::MethodNotAllowedError;
use poem::http::header::CONTENT_TYPE;
use poem::web::{Data, Path};
use poem::{get, handler, Endpoint, EndpointExt, IntoResponse, Response, Route};
use poem_openapi::{LicenseObject, OpenApi, OpenApiService};
use serde_json::Value;
use vault_core::error::PROBLEM_JSON;
use vault_core::{Error, Vault};

use crate::error::{into_poem, ApiError};
use crate::{AuthApi, FlashcardsApi, HealthApi, ResourcesApi};

/// The document's title.
pub(crate) const TITLE: &str = "Vault API";
/// The document's version: this crate's.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The OpenAPI document [`crate::app`] serves at `{api_prefix}/openapi.json`: every operation
/// of [`AuthApi`], [`ResourcesApi`], [`FlashcardsApi`] (under `api_prefix`) and [`HealthApi`] (at the root), as
/// poem-openapi builds it from their declarations, with the OAuth2 token URL under
/// `api_prefix`.
pub fn document(api_prefix: &str) -> String {
    let spec = OpenApiService::new(
        (AuthApi, ResourcesApi, FlashcardsApi, HealthApi),
        TITLE,
        VERSION,
    )
    .description(
        "Accounts, sessions and personal data modules. Errors are RFC 9457 problem documents.",
    )
    .license(LicenseObject::new("MIT OR Apache-2.0").identifier("MIT OR Apache-2.0"))
    .spec();
    let Ok(mut doc) = serde_json::from_str::<Value>(&spec) else {
        return spec;
    };
    // poem-openapi's `url_prefix` moves every path; health stays at the root.
    let root: HashSet<String> = HealthApi::meta()
        .into_iter()
        .flat_map(|api| api.paths)
        .map(|path| path.path)
        .collect();
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        *paths = std::mem::take(paths)
            .into_iter()
            .map(|(path, item)| {
                if root.contains(&path) {
                    (path, item)
                } else {
                    (format!("{api_prefix}{path}"), item)
                }
            })
            .collect();
    }
    for operation in doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        document_body_problems(operation);
    }
    if let Some(schemas) = doc.pointer_mut("/components/schemas") {
        name_date_format(schemas);
    }
    if let Some(password) = doc.pointer_mut("/components/securitySchemes/oauth2/flows/password") {
        let token_url = format!("{api_prefix}/auth/token");
        *password = serde_json::json!({ "tokenUrl": token_url, "scopes": {} });
    }
    serde_json::to_string(&doc).unwrap_or(spec)
}

/// poem-openapi documents chrono's `NaiveDate` as format `naive-date`; a `YYYY-MM-DD` string
/// is OpenAPI's registered format `date` (what validators and generated clients know).
fn name_date_format(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("format").and_then(Value::as_str) == Some("naive-date") {
                map.insert("format".into(), Value::from("date"));
            }
            map.values_mut().for_each(name_date_format);
        }
        Value::Array(items) => items.iter_mut().for_each(name_date_format),
        _ => {}
    }
}

/// Gives an operation that reads a body the 413 and 415 every body can meet (problem+json),
/// unless it declares them itself: the payload types read bodies for every operation alike.
fn document_body_problems(operation: &mut Value) {
    if operation.get("requestBody").is_none() {
        return;
    }
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (status, description) in [("413", "Body too large"), ("415", "Unsupported media type")] {
        responses.entry(status).or_insert_with(|| {
            serde_json::json!({
                "description": description,
                "content": { PROBLEM_JSON: { "schema": { "$ref": "#/components/schemas/Problem" } } },
            })
        });
    }
}

/// `/openapi.json` (serving `document`) and the docs page at `/docs`, each with and without a
/// trailing slash; the page's assets at `/docs/{file}`.
pub(crate) fn routes(route: Route, document: String) -> Route {
    let document = Bytes::from(document);
    let openapi = get_only(get(poem::endpoint::make_sync(move |_| {
        Response::builder()
            .header(CONTENT_TYPE, "application/json")
            .body(document.clone())
    })));
    let page = get_only(get(docs_page));
    route
        .at("/openapi.json", Arc::clone(&openapi))
        .at("/openapi.json/", openapi)
        .at("/docs", Arc::clone(&page))
        .at("/docs/", page)
        .at("/docs/*file", get(docs_file))
}

/// A GET-only route whose other methods get the problem+json 405 with `Allow: GET`.
fn get_only<E: Endpoint + 'static>(endpoint: E) -> Arc<impl Endpoint<Output = Response>> {
    Arc::new(endpoint.around(|next, request| async move {
        let method = request.method().to_string();
        match next.call(request).await {
            Ok(output) => Ok(output.into_response()),
            Err(error) if error.is::<MethodNotAllowedError>() => {
                Err(ApiError(Error::MethodNotAllowed {
                    method,
                    allow: vec!["GET".into()],
                })
                .into())
            }
            Err(error) => Err(error),
        }
    }))
}

#[handler]
fn docs_page(vault: Data<&Vault>) -> Response {
    into_poem(vault.docs_response(""))
}

#[handler]
fn docs_file(vault: Data<&Vault>, Path(file): Path<String>) -> Response {
    into_poem(vault.docs_response(&file))
}
