//! Types that exist only to be documented: request and response bodies the core reads or writes
//! without a Rust type of their own (the OAuth2 password form, the health answer, the multipart
//! upload). The adapters put them in their OpenAPI documents next to the model types.

/// The OAuth2 password-grant form of POST /auth/token (what Swagger UI's Authorize sends).
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone)]
pub struct PasswordGrantForm {
    /// Must be `password`.
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
#[derive(Debug, Clone, serde::Serialize)]
pub struct HealthStatus {
    /// `ok`.
    pub status: String,
}

/// The multipart body of PUT /resources/{id}/file.
#[derive(Debug, Clone)]
pub struct FileUpload {
    /// The file (one part named `file`).
    pub file: Vec<u8>,
}

#[cfg(feature = "poem-openapi")]
mod poem_openapi_types;
