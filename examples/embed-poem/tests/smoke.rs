//! Starts the embedding example: its own operation and Vault's answer over HTTP, errors in
//! Vault's shape, and one document lists both.

use serde_json::json;
use vault_core::testkit::smoke::Server;

#[test]
fn host_operation_sits_next_to_vault_in_one_service_and_document() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(env!("CARGO_BIN_EXE_vault-embed-poem"), dir.path(), &[]);
    let anonymous = server.request("GET", "/api/hello", &[], None);
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
    let hello = server.request("GET", "/api/hello", &[("authorization", &bearer)], None);
    assert_eq!(hello.status, 200, "{}", hello.body);
    assert_eq!(hello.json()["message"], "Hello, host!");
    let slash = server.request("GET", "/api/hello/", &[("authorization", &bearer)], None);
    assert_eq!(slash.status, 200, "{}", slash.body);

    // The host's operation follows Vault's conventions too.
    let wrong = server.request("DELETE", "/api/hello", &[("authorization", &bearer)], None);
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.json()["code"], "method_not_allowed");
    assert_eq!(wrong.header("allow"), Some("GET"));
    let missing = server.request("GET", "/api/nowhere", &[], None);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["code"], "not_found");

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
