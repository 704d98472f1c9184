//! `with_layers` over a host's whole app: a server error is logged at ERROR with the request id
//! the client received, whatever the log level of the per-request span (DEBUG); the host's own
//! routes answer framework errors (405, 404, bare statuses) as the contract's problem+json with
//! an `X-Request-Id`, and responses the host gives a body of its own are left alone.

use axum::body::{Body, Bytes};
use axum::http::{header, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::json;
use tower::ServiceExt;
use vault_core::error::PROBLEM_JSON;
use vault_core::testkit::logs::capture_errors;

async fn boom() -> &'static str {
    panic!("handler failure for the test")
}

async fn fine() -> &'static str {
    "fine"
}

#[tokio::test(flavor = "current_thread")]
async fn server_errors_are_logged_with_the_request_id_the_client_received() {
    let (_guard, errors) = capture_errors();
    let app = vault_axum::with_layers(
        Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(fine)),
    );
    let get = |path: &str| {
        http::Request::get(path)
            .body(Body::empty())
            .expect("request")
    };

    let ok = app.clone().oneshot(get("/fine")).await.expect("infallible");
    assert_eq!(ok.status(), 200);
    assert!(errors.events().is_empty());

    let failed = app.oneshot(get("/boom")).await.expect("infallible");
    assert_eq!(failed.status(), 500);
    let id = failed
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("x-request-id on the 500")
        .to_string();
    assert!(!id.is_empty());
    let logged = errors.events();
    assert!(
        logged
            .iter()
            .any(|(message, request_id)| message == "server error response" && *request_id == id),
        "no ERROR line with request id {id}: {logged:?}"
    );
}

/// A host's app as `with_layers` sees it: its own routes, each answering in its own way.
fn host_app() -> Router {
    async fn own_json_error() -> impl IntoResponse {
        let body = json!({"error": "the host's own"}).to_string();
        (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
    }
    async fn bare_conflict() -> impl IntoResponse {
        (StatusCode::CONFLICT, [(header::CONTENT_LENGTH, "0")])
    }
    async fn bare_throttle() -> impl IntoResponse {
        (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "7")])
    }
    async fn bare_teapot() -> StatusCode {
        StatusCode::IM_A_TEAPOT
    }
    vault_axum::with_layers(
        Router::new()
            .route("/hello", get(fine))
            .route("/own-error", get(own_json_error))
            .route("/conflict", get(bare_conflict))
            .route("/throttled", get(bare_throttle))
            .route("/teapot", get(bare_teapot)),
    )
}

async fn call(app: &Router, method: Method, path: &str) -> (http::response::Parts, Bytes) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .expect("request");
    let (parts, body) = app
        .clone()
        .oneshot(request)
        .await
        .expect("infallible")
        .into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    (parts, bytes)
}

fn problem(parts: &http::response::Parts, body: &[u8]) -> serde_json::Value {
    assert_eq!(
        parts
            .headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.as_bytes()),
        Some(PROBLEM_JSON.as_bytes()),
        "{:?}",
        String::from_utf8_lossy(body)
    );
    assert!(
        parts
            .headers
            .get("x-request-id")
            .is_some_and(|id| !id.is_empty()),
        "x-request-id on {}",
        parts.status
    );
    let problem: serde_json::Value = serde_json::from_slice(body).expect("problem JSON");
    assert_eq!(problem["status"], parts.status.as_u16());
    problem
}

#[tokio::test(flavor = "current_thread")]
async fn a_host_routes_wrong_method_is_a_405_problem_with_allow_and_request_id() {
    let app = host_app();
    let (parts, body) = call(&app, Method::POST, "/hello").await;
    assert_eq!(parts.status, StatusCode::METHOD_NOT_ALLOWED);
    let problem = problem(&parts, &body);
    assert_eq!(problem["code"], "method_not_allowed");
    assert_eq!(problem["detail"], "Method \"POST\" not allowed.");
    assert_eq!(
        parts.headers[header::ALLOW],
        "GET,HEAD",
        "axum's Allow is kept"
    );
    assert_eq!(content_length(&parts), body.len());
}

fn content_length(parts: &http::response::Parts) -> usize {
    parts.headers[header::CONTENT_LENGTH]
        .to_str()
        .ok()
        .and_then(|l| l.parse().ok())
        .expect("content-length")
}

#[tokio::test(flavor = "current_thread")]
async fn an_unknown_path_is_a_404_problem() {
    let app = host_app();
    for method in [Method::GET, Method::DELETE] {
        let (parts, body) = call(&app, method, "/nowhere").await;
        assert_eq!(parts.status, StatusCode::NOT_FOUND);
        assert_eq!(problem(&parts, &body)["code"], "not_found");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn bare_statuses_become_problems_and_keep_their_headers() {
    let app = host_app();
    let (parts, body) = call(&app, Method::GET, "/conflict").await;
    assert_eq!(parts.status, StatusCode::CONFLICT);
    assert_eq!(problem(&parts, &body)["code"], "conflict");
    assert_eq!(
        content_length(&parts),
        body.len(),
        "the length is the problem's, not the empty body's"
    );
    let (parts, body) = call(&app, Method::GET, "/throttled").await;
    assert_eq!(parts.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(problem(&parts, &body)["code"], "throttled");
    assert_eq!(parts.headers[header::RETRY_AFTER], "7");
}

#[tokio::test(flavor = "current_thread")]
async fn responses_the_host_chose_are_left_alone() {
    let app = host_app();
    let (parts, body) = call(&app, Method::GET, "/own-error").await;
    assert_eq!(parts.status, StatusCode::BAD_REQUEST);
    assert_eq!(parts.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).expect("JSON"),
        json!({"error": "the host's own"})
    );
    assert!(parts.headers.get("x-request-id").is_some());
    // HEAD: axum empties the body but the response is still the host's JSON one.
    let (parts, body) = call(&app, Method::HEAD, "/own-error").await;
    assert_eq!(parts.status, StatusCode::BAD_REQUEST);
    assert_eq!(parts.headers[header::CONTENT_TYPE], "application/json");
    assert!(body.is_empty());
    // A status the contract has no code for stays bare.
    let (parts, body) = call(&app, Method::GET, "/teapot").await;
    assert_eq!(parts.status, StatusCode::IM_A_TEAPOT);
    assert!(parts.headers.get(header::CONTENT_TYPE).is_none());
    assert!(body.is_empty());
    // A host's own fallback is the host's.
    let app = vault_axum::with_layers(
        Router::new().fallback(|| async { (StatusCode::NOT_FOUND, "no such page") }),
    );
    let (parts, body) = call(&app, Method::GET, "/anything").await;
    assert_eq!(parts.status, StatusCode::NOT_FOUND);
    assert_eq!(&body[..], b"no such page");
}
