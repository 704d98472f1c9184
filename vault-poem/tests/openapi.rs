//! The poem-openapi side: the document `app` serves at any prefix, and a host's own operations
//! composed with Vault's in one service get the core's decoding, errors and conventions.

use poem::test::TestClient;
use poem::web::Data;
use poem::{EndpointExt, Route};
use poem_openapi::param::Path;
use poem_openapi::{Object, OpenApi, OpenApiService};
use serde_json::{json, Value};
use vault_core::testkit::{test_config, Backend, TestDatabase, TEST_PASSWORD};
use vault_core::Vault;
use vault_poem::{ApiAuth, ApiError, AuthApi, Id, Json};

const OPERATIONS: [(&str, &str); 41] = [
    ("post", "/auth/register"),
    ("post", "/auth/token"),
    ("post", "/auth/token/refresh"),
    ("post", "/auth/logout"),
    ("post", "/auth/logout-all"),
    ("get", "/auth/me"),
    ("patch", "/auth/me"),
    ("delete", "/auth/me"),
    ("post", "/auth/password"),
    ("get", "/resources"),
    ("post", "/resources"),
    ("get", "/resources/{id}"),
    ("put", "/resources/{id}"),
    ("patch", "/resources/{id}"),
    ("delete", "/resources/{id}"),
    ("get", "/resources/{id}/file"),
    ("put", "/resources/{id}/file"),
    ("delete", "/resources/{id}/file"),
    ("get", "/tags"),
    ("post", "/tags"),
    ("get", "/tags/{id}"),
    ("patch", "/tags/{id}"),
    ("delete", "/tags/{id}"),
    ("get", "/decks"),
    ("post", "/decks"),
    ("get", "/decks/{id}"),
    ("patch", "/decks/{id}"),
    ("delete", "/decks/{id}"),
    ("get", "/decks/{id}/stats"),
    ("get", "/decks/{id}/cards"),
    ("post", "/decks/{id}/cards"),
    ("get", "/cards/{id}"),
    ("patch", "/cards/{id}"),
    ("delete", "/cards/{id}"),
    ("get", "/cards/{id}/reviews"),
    ("post", "/cards/{id}/reviews"),
    ("get", "/cards/{id}/preview"),
    ("get", "/study"),
    ("get", "/stats"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
];

#[test]
fn the_document_puts_the_modules_under_the_prefix_and_health_at_the_root() {
    for prefix in ["/api", "/v1/vault", ""] {
        let doc: Value = serde_json::from_str(&vault_poem::document(prefix)).expect("JSON");
        let paths = doc["paths"].as_object().expect("paths");
        let mut documented = 0;
        for (method, path) in OPERATIONS {
            let full = if path.starts_with("/health") {
                path.to_string()
            } else {
                format!("{prefix}{path}")
            };
            assert!(
                paths.get(&full).and_then(|item| item.get(method)).is_some(),
                "{method} {full} documented under {prefix:?}"
            );
            documented += 1;
        }
        let operations: usize = paths
            .values()
            .map(|item| item.as_object().map_or(0, serde_json::Map::len))
            .sum();
        assert_eq!(operations, documented, "nothing undeclared is documented");
        assert_eq!(
            doc["components"]["securitySchemes"]["oauth2"]["flows"]["password"]["tokenUrl"],
            format!("{prefix}/auth/token")
        );
    }
}

/// A host's body type: decoded by the core's rules when it arrives as `Json<Note>`.
#[derive(Debug, Object, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Note {
    /// The text.
    text: String,
}

struct NotesApi;

#[OpenApi]
impl NotesApi {
    /// Echoes the note of an authenticated caller.
    #[oai(path = "/notes", method = "post", operation_id = "echo_note")]
    async fn echo(&self, ApiAuth(_caller): ApiAuth, note: Json<Note>) -> Json<Note> {
        note
    }

    /// Looks an id up in Vault's resources (so a malformed one is 404).
    #[oai(path = "/notes/:id", method = "get", operation_id = "read_note")]
    async fn read(
        &self,
        vault: Data<&Vault>,
        ApiAuth(caller): ApiAuth,
        id: Path<Id>,
    ) -> Result<Json<vault_core::resources::Resource>, ApiError> {
        Ok(Json(vault.resources().get(&caller, id.as_str()).await?))
    }
}

#[tokio::test]
async fn host_operations_get_the_core_decoding_errors_and_conventions() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let vault = Vault::open(test_config(&db.url)).await.expect("vault");
    let service = OpenApiService::new((AuthApi, NotesApi), "host", "1");
    let app = vault_poem::with_layers(
        Route::new()
            .nest("/api", vault_poem::serve(service))
            .data(vault),
    );
    let client = TestClient::new(app);
    let registered = client
        .post("/api/auth/register/")
        .body_json(
            &json!({"username": "host", "email": "host@example.com", "password": TEST_PASSWORD}),
        )
        .send()
        .await;
    registered.assert_status(http::StatusCode::CREATED);
    let registered = registered.json().await;
    let bearer = format!(
        "Bearer {}",
        registered.value().object().get("access").string()
    );

    let echoed = client
        .post("/api/notes")
        .header("authorization", &bearer)
        .body_json(&json!({"text": "hi"}))
        .send()
        .await;
    echoed.assert_status_is_ok();
    echoed.assert_content_type("application/json");
    echoed.assert_text(r#"{"text":"hi"}"#).await;

    let problem = |status: u16, code: &str| (status, code.to_string());
    for (body, content_type, expected) in [
        (
            r#"{"text":"hi"}"#,
            "text/plain",
            problem(415, "unsupported_media_type"),
        ),
        ("{oops", "application/json", problem(400, "parse_error")),
        (
            r#"{"text":5}"#,
            "application/json",
            problem(400, "validation_error"),
        ),
        (
            r#"{"text":"a","more":1}"#,
            "application/json",
            problem(400, "validation_error"),
        ),
    ] {
        let resp = client
            .post("/api/notes")
            .header("authorization", &bearer)
            .content_type(content_type)
            .body(body)
            .send()
            .await;
        resp.assert_status(http::StatusCode::from_u16(expected.0).expect("status"));
        resp.assert_content_type("application/problem+json");
        let json = resp.json().await;
        json.value().object().get("code").assert_string(&expected.1);
    }

    let anonymous = client
        .post("/api/notes")
        .body_json(&json!({"text": "hi"}))
        .send()
        .await;
    anonymous.assert_status(http::StatusCode::UNAUTHORIZED);
    anonymous.assert_header("www-authenticate", "Bearer");

    for path in ["/api/notes/%ff%fe", "/api/notes/not-a-uuid"] {
        let resp = client
            .get(path)
            .header("authorization", &bearer)
            .send()
            .await;
        resp.assert_status(http::StatusCode::NOT_FOUND);
        resp.json()
            .await
            .value()
            .object()
            .get("code")
            .assert_string("not_found");
    }

    let wrong = client.put("/api/notes/").send().await;
    wrong.assert_status(http::StatusCode::METHOD_NOT_ALLOWED);
    wrong.assert_header("allow", "POST");
    let wrong = client.post("/api/auth/me").send().await;
    wrong.assert_header("allow", "GET, PATCH, DELETE");
}

/// A host operation written with poem-openapi's own extractors.
struct PlainApi;

#[OpenApi]
impl PlainApi {
    /// Doubles `n`.
    #[oai(path = "/double", method = "post", operation_id = "double")]
    async fn double(
        &self,
        n: poem_openapi::param::Query<u32>,
        _note: poem_openapi::payload::Json<Note>,
    ) -> poem_openapi::payload::PlainText<String> {
        poem_openapi::payload::PlainText((u64::from(n.0) * 2).to_string())
    }
}

#[tokio::test]
async fn poem_openapi_own_rejections_are_problems_too() {
    let service = OpenApiService::new(PlainApi, "host", "1");
    let client = TestClient::new(vault_poem::with_layers(vault_poem::serve(service)));
    let ok = client
        .post("/double?n=21")
        .body_json(&json!({"text": "x"}))
        .send()
        .await;
    ok.assert_status_is_ok();
    ok.assert_text("42").await;
    for (query, content_type, status, code) in [
        ("n=abc", "application/json", 400, "parse_error"),
        ("", "application/json", 400, "parse_error"),
        ("n=1", "text/plain", 415, "unsupported_media_type"),
    ] {
        let resp = client
            .post(format!("/double?{query}"))
            .content_type(content_type)
            .body(r#"{"text":"x"}"#)
            .send()
            .await;
        resp.assert_status(http::StatusCode::from_u16(status).expect("status"));
        resp.assert_content_type("application/problem+json");
        resp.json()
            .await
            .value()
            .object()
            .get("code")
            .assert_string(code);
    }
}
