//! `with_layers` over a host's whole app: a server error is logged at ERROR with the request id
//! the client received; the host's own routes answer poem's errors (405, 404, extractor
//! rejections) and bare statuses as the contract's problem+json with an `X-Request-Id`, and
//! responses the host gives a body of its own are left alone.

use poem::http::{header, HeaderMap, StatusCode};
use poem::test::{TestClient, TestResponse};
use poem::web::Json;
use poem::{get, handler, Endpoint, Response, Route};
use serde_json::{json, Value};
use vault_core::error::PROBLEM_JSON;
use vault_core::testkit::logs::capture_errors;
use vault_poem::Methods;

#[handler]
fn boom() -> &'static str {
    panic!("handler failure for the test")
}

#[handler]
fn fine() -> &'static str {
    "fine"
}

#[tokio::test(flavor = "current_thread")]
async fn server_errors_are_logged_with_the_request_id_the_client_received() {
    let (_guard, errors) = capture_errors();
    let app = vault_poem::with_layers(Route::new().at("/boom", get(boom)).at("/fine", get(fine)));
    let client = TestClient::new(app);

    let ok = client.get("/fine").send().await;
    ok.assert_status_is_ok();
    assert!(errors.events().is_empty());

    let failed = client.get("/boom").send().await;
    failed.assert_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR);
    let id = failed
        .0
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

#[handler]
fn own_json_error() -> Response {
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .content_type("application/json")
        .body(json!({"error": "the host's own"}).to_string())
}

#[handler]
fn own_json_error_as_error() -> poem::Result<&'static str> {
    Err(poem::Error::from_response(
        Response::builder()
            .status(StatusCode::CONFLICT)
            .content_type("application/json")
            .body(json!({"error": "the host's own"}).to_string()),
    ))
}

#[handler]
fn bare_throttle() -> Response {
    Response::builder()
        .status(StatusCode::TOO_MANY_REQUESTS)
        .header(header::RETRY_AFTER, "7")
        .finish()
}

#[handler]
fn bare_teapot() -> StatusCode {
    StatusCode::IM_A_TEAPOT
}

#[handler]
fn takes_json(Json(body): Json<serde_json::Value>) -> String {
    body.to_string()
}

/// A host's app as `with_layers` sees it: its own plain poem routes.
fn host_app() -> impl Endpoint<Output = Response> {
    vault_poem::with_layers(
        Route::new()
            .at("/hello", Methods::new().get(fine))
            .at("/plain", get(fine))
            .at("/own-error", get(own_json_error))
            .at("/own-error-as-error", get(own_json_error_as_error))
            .at("/throttled", get(bare_throttle))
            .at("/teapot", get(bare_teapot))
            .at("/json", poem::post(takes_json)),
    )
}

/// The response's problem, after checking its media type and request id.
async fn problem(response: TestResponse) -> (StatusCode, HeaderMap, Value) {
    let status = response.0.status();
    let headers = response.0.headers().clone();
    assert_eq!(
        headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()),
        Some(PROBLEM_JSON.as_bytes())
    );
    assert!(
        headers.get("x-request-id").is_some_and(|id| !id.is_empty()),
        "x-request-id on {status}"
    );
    let body: Value = response
        .0
        .into_body()
        .into_json()
        .await
        .expect("problem JSON");
    assert_eq!(body["status"], status.as_u16());
    (status, headers, body)
}

#[tokio::test(flavor = "current_thread")]
async fn a_host_routes_wrong_method_is_a_405_problem_with_request_id() {
    let client = TestClient::new(host_app());
    let (status, headers, body) = problem(client.post("/hello").send().await).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["code"], "method_not_allowed");
    assert_eq!(body["detail"], "Method \"POST\" not allowed.");
    assert_eq!(headers[header::ALLOW], "GET");
    // poem's own RouteMethod cannot say its methods: a problem all the same, and no Allow
    // header rather than an empty one.
    let (status, headers, body) = problem(client.delete("/plain").send().await).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["code"], "method_not_allowed");
    assert!(headers.get(header::ALLOW).is_none());
}

#[tokio::test(flavor = "current_thread")]
async fn an_unknown_path_is_a_404_problem() {
    let client = TestClient::new(host_app());
    let (status, _, body) = problem(client.get("/nowhere").send().await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
}

#[tokio::test(flavor = "current_thread")]
async fn framework_rejections_and_bare_statuses_are_problems() {
    let client = TestClient::new(host_app());
    let malformed = client
        .post("/json")
        .content_type("application/json")
        .body("{not json")
        .send()
        .await;
    let (status, _, body) = problem(malformed).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "parse_error");
    let (status, headers, body) = problem(client.get("/throttled").send().await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], "throttled");
    assert_eq!(headers[header::RETRY_AFTER], "7");
}

#[tokio::test(flavor = "current_thread")]
async fn responses_the_host_chose_are_left_alone() {
    let client = TestClient::new(host_app());
    for (path, status) in [
        ("/own-error", StatusCode::BAD_REQUEST),
        ("/own-error-as-error", StatusCode::CONFLICT),
    ] {
        let response = client.get(path).send().await;
        response.assert_status(status);
        response.assert_content_type("application/json");
        assert!(response.0.headers().get("x-request-id").is_some());
        response
            .assert_json(json!({"error": "the host's own"}))
            .await;
    }
    // A status the contract has no code for stays bare.
    let response = client.get("/teapot").send().await;
    response.assert_status(StatusCode::IM_A_TEAPOT);
    assert!(response.0.headers().get(header::CONTENT_TYPE).is_none());
    response.assert_text("").await;
}
