//! Starts the embedding example: its own operation and Vault's answer over HTTP, errors in
//! Vault's shape, one document lists both, and the example finds its JWT secret as the
//! example servers do.

use serde_json::json;
use vault_core::testkit::smoke::{Server, WireResponse};

const BINARY: &str = env!("CARGO_BIN_EXE_vault-embed-poem");

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
fn host_operation_sits_next_to_vault_in_one_service_and_document() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(BINARY, dir.path(), &[]);
    let anonymous = server.request("GET", "/api/hello", &[], None);
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
    let hello = server.request("GET", "/api/hello", &[("authorization", &bearer)], None);
    assert_eq!(hello.status, 200, "{}", hello.body);
    assert_eq!(hello.json()["message"], "Hello, host!");
    let slash = server.request("GET", "/api/hello/", &[("authorization", &bearer)], None);
    assert_eq!(slash.status, 200, "{}", slash.body);

    // The host's operation follows Vault's conventions too.
    for method in ["POST", "DELETE"] {
        let wrong = server.request(method, "/api/hello", &[("authorization", &bearer)], None);
        assert_eq!(wrong.status, 405, "{method}: {}", wrong.body);
        assert_problem(&wrong, "method_not_allowed");
        assert_eq!(wrong.header("allow"), Some("GET"));
    }
    for path in ["/api/nowhere", "/nowhere"] {
        let missing = server.request("GET", path, &[], None);
        assert_eq!(missing.status, 404);
        assert_problem(&missing, "not_found");
    }

    let doc = server.request("GET", "/api/openapi.json", &[], None);
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    let hello_op = &doc["paths"]["/api/hello"]["get"];
    assert_eq!(hello_op["operationId"], "hello");
    assert_eq!(
        hello_op["security"],
        json!([{"bearer": []}, {"oauth2": []}])
    );
    assert!(doc["paths"]["/api/auth/register"]["post"].is_object());
    assert!(doc["paths"]["/api/resources/{id}"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Greeting"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

#[test]
fn the_jwt_secret_comes_from_the_variable_or_a_private_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("embed.db.jwt-secret");
    let secret = "an-embedding-host-secret-of-40-bytes-xyz";
    let server = Server::start(BINARY, dir.path(), &[("VAULT_JWT_SECRET", secret)]);
    let anonymous = server.request("GET", "/api/hello", &[], None);
    assert_eq!(anonymous.status, 401);
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
