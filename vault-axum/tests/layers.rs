//! `with_layers`: a server error is logged at ERROR with the request id the client received,
//! whatever the log level of the per-request span (DEBUG).

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use tower::ServiceExt;
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
