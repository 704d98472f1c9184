//! `with_layers`: a server error is logged at ERROR with the request id the client received.

use poem::test::TestClient;
use poem::{get, handler, Route};
use vault_core::testkit::logs::capture_errors;

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
