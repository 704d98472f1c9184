//! Types that exist only to describe a request or response in the adapters' OpenAPI documents:
//! the core reads these bodies itself (a form, a multipart upload) or writes them with
//! `serde_json::json!`, so no other type carries their schema.

use utoipa::ToSchema;

/// The OAuth2 password-grant form of POST /auth/token (what Swagger UI's Authorize sends).
#[derive(Debug, ToSchema)]
pub struct PasswordGrantForm {
    /// Must be `password`.
    #[schema(example = "password")]
    pub grant_type: String,
    /// Username or email.
    pub username: String,
    /// Password.
    pub password: String,
    /// Ignored.
    pub scope: Option<String>,
    /// Ignored.
    pub client_id: Option<String>,
    /// Ignored.
    pub client_secret: Option<String>,
}

/// Health answer.
#[derive(Debug, ToSchema)]
pub struct HealthStatus {
    /// `ok`.
    #[schema(example = "ok")]
    pub status: String,
}

/// The multipart body of PUT /resources/{id}/file.
#[derive(Debug, ToSchema)]
pub struct FileUpload {
    /// The file (one part named `file`).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}
