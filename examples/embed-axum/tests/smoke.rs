//! Starts the embedding example and calls its own route with a Vault token.

use serde_json::json;
use vault_core::testkit::smoke::Server;

#[test]
fn host_route_greets_the_authenticated_user() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(env!("CARGO_BIN_EXE_vault-embed-axum"), dir.path(), &[]);
    let anonymous = server.request("GET", "/hello", &[], None);
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json()["code"], "not_authenticated");
    let registered = server.request(
        "POST",
        "/api/auth/register",
        &[],
        Some(&json!({"username": "host", "email": "host@example.com", "password": "sturdy-quokka-2931"})),
    );
    assert_eq!(registered.status, 201, "{}", registered.body);
    let bearer = format!(
        "Bearer {}",
        registered.json()["access"].as_str().unwrap_or_default()
    );
    let hello = server.request("GET", "/hello", &[("authorization", &bearer)], None);
    assert_eq!(hello.status, 200, "{}", hello.body);
    assert_eq!(hello.json()["message"], "Hello, host!");
}
