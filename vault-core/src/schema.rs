//! Types that exist only to describe a request or response in the adapters' OpenAPI documents:
//! the core reads these bodies itself (a form, a multipart upload) or writes them with
//! `serde_json::json!`, so no other type carries their schema.

use utoipa::ToSchema;

/// The OAuth2 password-grant form of POST /auth/token (what Swagger UI's Authorize sends).
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, ToSchema)]
pub struct PasswordGrantForm {
    /// Must be `password`.
    #[schema(example = "password")]
    pub grant_type: String,
    /// Username or email.
    pub username: String,
    /// Password.
    pub password: String,
    /// Ignored.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    pub scope: Option<String>,
    /// Ignored.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    pub client_id: Option<String>,
    /// Ignored.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    pub client_secret: Option<String>,
}

/// Health answer.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct HealthStatus {
    /// `ok`.
    #[schema(example = "ok")]
    pub status: String,
}

/// The multipart body of PUT /resources/{id}/file.
#[derive(Debug, Clone, ToSchema)]
pub struct FileUpload {
    /// The file (one part named `file`).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[cfg(feature = "poem-openapi")]
mod poem_openapi_types;
