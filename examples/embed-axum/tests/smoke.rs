//! Starts the embedding example and calls its own route with a Vault token: the host's route
//! answers errors in Vault's shape, and the example finds its JWT secret as the example
//! servers do.

use serde_json::json;
use vault_core::testkit::smoke::{Server, WireResponse};

const BINARY: &str = env!("CARGO_BIN_EXE_vault-embed-axum");

/// A problem+json answer with `code` and a request id.
fn assert_problem(response: &WireResponse, code: &str) {
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json"),
        "{}",
        response.body
    );
    assert_eq!(response.json()["code"], code);
    assert!(response
        .header("x-request-id")
        .is_some_and(|id| !id.is_empty()));
}

#[test]
fn host_route_greets_the_authenticated_user() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(BINARY, dir.path(), &[]);
    let anonymous = server.request("GET", "/hello", &[], None);
    assert_eq!(anonymous.status, 401);
    assert_problem(&anonymous, "not_authenticated");
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
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
    let server = Server::start(BINARY, dir.path(), &[]);
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

#[test]
fn the_host_routes_framework_errors_are_problems() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(BINARY, dir.path(), &[]);
    let wrong = server.request("POST", "/hello", &[], None);
    assert_eq!(wrong.status, 405, "{}", wrong.body);
    assert_problem(&wrong, "method_not_allowed");
    assert_eq!(wrong.header("allow"), Some("GET,HEAD"));
    let missing = server.request("GET", "/nowhere", &[], None);
    assert_eq!(missing.status, 404);
    assert_problem(&missing, "not_found");
}

#[test]
fn the_jwt_secret_comes_from_the_variable_or_a_private_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("embed.db.jwt-secret");
    let secret = "an-embedding-host-secret-of-40-bytes-xyz";
    let server = Server::start(BINARY, dir.path(), &[("VAULT_JWT_SECRET", secret)]);
    assert_eq!(server.request("GET", "/health/live", &[], None).status, 200);
    assert!(
        !file.exists(),
        "VAULT_JWT_SECRET is read, no file generated"
    );
    drop(server);
    let _server = Server::start(BINARY, dir.path(), &[]);
    assert!(file.exists(), "without the variable, a secret is generated");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("secret file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
