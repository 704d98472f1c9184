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

#[test]
fn one_document_has_the_host_operation_next_to_vaults() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(env!("CARGO_BIN_EXE_vault-embed-axum"), dir.path(), &[]);
    let response = server.request("GET", "/api/openapi.json", &[], None);
    assert_eq!(response.status, 200, "{}", response.body);
    let document = response.json();
    assert_eq!(document["info"]["title"], "Embedding example");
    let paths = &document["paths"];
    assert_eq!(paths["/hello"]["get"]["tags"][0], "host");
    assert!(paths["/hello"]["get"]["responses"]["200"].is_object());
    assert_eq!(paths["/api/auth/register"]["post"]["tags"][0], "auth");
    assert!(paths["/api/resources/{id}"]["get"].is_object());
    assert!(document["components"]["schemas"]["Greeting"].is_object());
    assert!(document["components"]["schemas"]["Resource"].is_object());
    // The docs page reads that same document.
    let init = server.request("GET", "/api/docs/swagger-initializer.js", &[], None);
    assert_eq!(init.status, 200);
    assert!(init.body.contains("/api/openapi.json"), "{}", init.body);
}
