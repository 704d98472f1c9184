//! One error type for the whole core, and its wire form: an RFC 9457 problem.
//!
//! Every layer (JSON decoding, auth, storage, the adapters' fallbacks) produces an [`Error`];
//! both adapters turn it into the same [`Problem`] with [`Error::to_problem`], so status codes,
//! `code` strings and messages are decided here once.

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use serde::Serialize;

/// Result alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Field name → messages, as in the contract's `errors` member (nested fields use dots).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    /// An empty set of field errors.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set holding one message for one field.
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    /// Adds `message` to `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    /// Records the error of a field parse, if any, and returns the parsed value.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    /// Adds every message of `other`.
    pub fn merge(&mut self, other: FieldErrors) {
        for (field, messages) in other.0 {
            self.0.entry(field).or_default().extend(messages);
        }
    }

    /// The fields with errors and their messages, by field name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0
            .iter()
            .map(|(field, messages)| (field.as_str(), messages.as_slice()))
    }

    /// Whether no field has an error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages recorded for `field`.
    pub fn get(&self, field: &str) -> Option<&[String]> {
        self.0.get(field).map(Vec::as_slice)
    }

    /// `Ok(())` when empty, otherwise a validation [`Error`] carrying these messages.
    ///
    /// # Errors
    /// [`Error::Validation`] when any field has a message.
    pub fn into_result(self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self))
        }
    }
}

/// Everything that can go wrong in Vault, by meaning rather than by origin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input that parsed but is not acceptable (400 `validation_error`).
    #[error("invalid input: {0:?}")]
    Validation(FieldErrors),
    /// A body that is not valid JSON, form or multipart at all (400 `parse_error`).
    #[error("parse error: {0}")]
    Parse(String),
    /// No credentials where they are required (401 `not_authenticated`).
    #[error("not authenticated")]
    NotAuthenticated,
    /// The bearer token in the `Authorization` header was refused (401 `token_not_valid`).
    #[error("invalid access token: {0}")]
    InvalidAccessToken(&'static str),
    /// A refresh token in a request body was refused (401 `token_not_valid`).
    #[error("invalid refresh token: {0}")]
    InvalidRefreshToken(&'static str),
    /// Unknown user, wrong password or inactive account (401 `authentication_failed`).
    #[error("bad credentials")]
    AuthenticationFailed,
    /// Authenticated but not allowed (403 `permission_denied`).
    #[error("permission denied")]
    PermissionDenied,
    /// No such object, or a private object of someone else (404 `not_found`).
    #[error("not found")]
    NotFound,
    /// A page past the last one (404 `not_found`, "Invalid page.").
    #[error("invalid page")]
    InvalidPage,
    /// The route exists but not for this method (405 `method_not_allowed`).
    #[error("method {method} not allowed")]
    MethodNotAllowed {
        /// The method that was used.
        method: String,
        /// The methods the route does accept, for the `Allow` header.
        allow: Vec<String>,
    },
    /// A uniqueness clash (409 `conflict`), with the clashing fields.
    #[error("conflict: {0:?}")]
    Conflict(FieldErrors),
    /// An illegal state transition (409 `conflict`), with a human-readable reason.
    #[error("conflict: {0}")]
    InvalidState(String),
    /// A body over the configured limit (413 `payload_too_large`).
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// A body with a media type the route does not take (415 `unsupported_media_type`).
    #[error("unsupported media type {0:?}")]
    UnsupportedMediaType(String),
    /// An upload whose bytes are not of the type it declared, or (declared as "any bytes") of
    /// no allowed type (415 `unsupported_media_type`).
    #[error("upload content of type {sniffed:?} does not match the declared {declared:?}")]
    ContentMismatch {
        /// The declared type when it was a specific, allowed one; `None` when the client
        /// declared none or `application/octet-stream` ("find out from the bytes").
        declared: Option<String>,
        /// What the bytes look like, when they look like any type Vault recognises.
        sniffed: Option<String>,
    },
    /// Over a rate limit (429 `throttled`), with the seconds to wait.
    #[error("throttled for {retry_after}s")]
    Throttled {
        /// Whole seconds until a request would be allowed (at least 1).
        retry_after: u64,
    },
    /// The database or another backing service cannot be reached (503).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A configuration mistake found at start-up.
    #[error("configuration error: {0}")]
    Config(String),
    /// A real server fault (500). The text is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A validation error on one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(FieldErrors::single(field, message))
    }

    /// A uniqueness clash on one field.
    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Conflict(FieldErrors::single(field, message))
    }

    /// A server fault from any displayable cause.
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        self.to_problem().status
    }

    /// The contract's problem document for this error.
    pub fn to_problem(&self) -> Problem {
        use ErrorCode as C;
        use StatusCode as S;
        let (status, code, detail) = match self {
            Self::Validation(_) => (S::BAD_REQUEST, C::ValidationError, "Invalid input.".into()),
            Self::Parse(why) => (S::BAD_REQUEST, C::ParseError, format!("Parse error: {why}")),
            Self::NotAuthenticated => (
                S::UNAUTHORIZED,
                C::NotAuthenticated,
                "Authentication credentials were not provided.".into(),
            ),
            Self::InvalidAccessToken(why) | Self::InvalidRefreshToken(why) => {
                (S::UNAUTHORIZED, C::TokenNotValid, (*why).to_string())
            }
            Self::AuthenticationFailed => (
                S::UNAUTHORIZED,
                C::AuthenticationFailed,
                "No active account found with the given credentials.".into(),
            ),
            Self::PermissionDenied => (
                S::FORBIDDEN,
                C::PermissionDenied,
                "You do not have permission to perform this action.".into(),
            ),
            Self::NotFound => (S::NOT_FOUND, C::NotFound, "Not found.".into()),
            Self::InvalidPage => (S::NOT_FOUND, C::NotFound, "Invalid page.".into()),
            Self::MethodNotAllowed { method, .. } => (
                S::METHOD_NOT_ALLOWED,
                C::MethodNotAllowed,
                format!("Method \"{method}\" not allowed."),
            ),
            Self::Conflict(_) => (
                S::CONFLICT,
                C::Conflict,
                "A conflicting object already exists.".into(),
            ),
            Self::InvalidState(why) => (S::CONFLICT, C::Conflict, why.clone()),
            Self::PayloadTooLarge { limit } => (
                S::PAYLOAD_TOO_LARGE,
                C::PayloadTooLarge,
                format!("Request body is larger than the limit of {limit} bytes."),
            ),
            Self::UnsupportedMediaType(media) => (
                S::UNSUPPORTED_MEDIA_TYPE,
                C::UnsupportedMediaType,
                format!("Unsupported media type \"{media}\" in request."),
            ),
            Self::ContentMismatch { declared, sniffed } => (
                S::UNSUPPORTED_MEDIA_TYPE,
                C::UnsupportedMediaType,
                content_mismatch_detail(declared.as_deref(), sniffed.as_deref()),
            ),
            Self::Throttled { retry_after } => (
                S::TOO_MANY_REQUESTS,
                C::Throttled,
                format!("Request was throttled. Expected available in {retry_after} seconds."),
            ),
            Self::Unavailable(_) => (
                S::SERVICE_UNAVAILABLE,
                C::ServiceUnavailable,
                "The service is temporarily unavailable. Try again shortly.".into(),
            ),
            Self::Config(_) | Self::Internal(_) => (
                S::INTERNAL_SERVER_ERROR,
                C::ServerError,
                "A server error occurred.".into(),
            ),
        };
        let errors = match self {
            Self::Validation(errors) | Self::Conflict(errors) => Some(errors.clone()),
            _ => None,
        };
        // RFC 9110 §15.5.2: every 401 carries a challenge, whatever was refused (no token, a
        // token in a body, credentials); RFC 6750 §3.1 adds `invalid_token` when the refused
        // token came in the `Authorization` header.
        let www_authenticate = match self {
            Self::InvalidAccessToken(_) => Some(BEARER_INVALID_TOKEN),
            _ if status == S::UNAUTHORIZED => Some(BEARER),
            _ => None,
        };
        Problem {
            status,
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            detail,
            code,
            errors,
            www_authenticate,
            retry_after: match self {
                Self::Throttled { retry_after } => Some(*retry_after),
                _ => None,
            },
            allow: match self {
                Self::MethodNotAllowed { allow, .. } => Some(allow.join(", ")),
                _ => None,
            },
        }
    }

    /// The full HTTP response for this error: problem+json body and the headers that go with it.
    ///
    /// Server faults are logged here (with their cause) because the body never carries it.
    pub fn to_response(&self) -> http::Response<Bytes> {
        if let Self::Internal(cause) | Self::Config(cause) = self {
            tracing::error!(%cause, "server error");
        } else if let Self::Unavailable(cause) = self {
            tracing::warn!(%cause, "backing service unavailable");
        }
        self.to_problem().to_response()
    }
}

/// The `detail` of [`Error::ContentMismatch`]: which side was wrong, the declared type (allowed,
/// but not what the bytes are) or the bytes themselves.
fn content_mismatch_detail(declared: Option<&str>, sniffed: Option<&str>) -> String {
    match (declared, sniffed) {
        (Some(declared), Some(sniffed)) => format!(
            "The file's content does not match its declared type \"{declared}\" \
             (the bytes look like \"{sniffed}\")."
        ),
        (Some(declared), None) => format!(
            "The file's content does not match its declared type \"{declared}\" \
             (the bytes are of no allowed type)."
        ),
        (None, Some(sniffed)) => {
            format!("The file's content is of no allowed type (the bytes look like \"{sniffed}\").")
        }
        (None, None) => "The file's content is of no allowed type.".to_string(),
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(error.to_string()),
            sqlx::Error::Database(ref db) if is_unavailable(db.as_ref()) => {
                Self::Unavailable(error.to_string())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

/// Whether a database error says that the database is out of reach for now, not that the
/// statement is wrong, so that the request may succeed if retried shortly (503, not 500).
fn is_unavailable(error: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = error.code() else {
        return false;
    };
    if error
        .try_downcast_ref::<sqlx::sqlite::SqliteError>()
        .is_some()
    {
        is_busy_sqlite(&code)
    } else {
        is_unavailable_sqlstate(&code)
    }
}

/// PostgreSQL: a connection exception (SQLSTATE class `08`), the server shutting down, crashed
/// or still starting (`57P01`–`57P03`: every session of a stopped server ends with `57P01`), or
/// no connection slot free (`53300`).
fn is_unavailable_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

/// SQLite: still busy after the busy timeout (primary result code 5, `SQLITE_BUSY`, and its
/// extended codes).
fn is_busy_sqlite(code: &str) -> bool {
    code.parse::<u32>().is_ok_and(|code| code & 0xff == 5)
}

/// The stable machine-readable `code` of a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum ErrorCode {
    ValidationError,
    ParseError,
    NotAuthenticated,
    AuthenticationFailed,
    TokenNotValid,
    PermissionDenied,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Throttled,
    IdempotencyMismatch,
    IdempotencyInProgress,
    ServiceUnavailable,
    ServerError,
}

/// An RFC 9457 problem document, extended with the contract's `detail`, `code` and `errors`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// HTTP status code.
    #[serde(serialize_with = "serialize_status")]
    #[schema(value_type = u16, example = 400)]
    pub status: StatusCode,
    /// The status's reason phrase.
    #[schema(example = "Bad Request")]
    pub title: String,
    /// Human-readable explanation (what clients of the DRF originals read).
    #[schema(example = "Invalid input.")]
    pub detail: String,
    /// Stable machine-readable code.
    #[schema(value_type = String, example = "validation_error")]
    pub code: ErrorCode,
    /// Field name → messages, on validation errors and uniqueness clashes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::BTreeMap<String, Vec<String>>>)]
    pub errors: Option<FieldErrors>,
    /// Value of the `WWW-Authenticate` header, on every 401 ([`BEARER`] or
    /// [`BEARER_INVALID_TOKEN`]).
    #[serde(skip)]
    pub www_authenticate: Option<&'static str>,
    /// Value of the `Retry-After` header in seconds, on 429.
    #[serde(skip)]
    pub retry_after: Option<u64>,
    /// Value of the `Allow` header, on 405.
    #[serde(skip)]
    pub allow: Option<String>,
}

fn serialize_status<S: serde::Serializer>(status: &StatusCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u16(status.as_u16())
}

/// The `WWW-Authenticate` challenge of every 401 (API.md §1).
pub const BEARER: &str = "Bearer";

/// The `WWW-Authenticate` challenge of a 401 for a token sent in the `Authorization` header and
/// refused (RFC 6750 §3.1).
pub const BEARER_INVALID_TOKEN: &str = "Bearer error=\"invalid_token\"";

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

impl Problem {
    /// Serializes the problem with its headers.
    pub fn to_response(&self) -> http::Response<Bytes> {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            #[serde(flatten)]
            problem: &'a Problem,
        }
        let body = serde_json::to_vec(&Wire {
            kind: "about:blank",
            problem: self,
        })
        .unwrap_or_else(|_| br#"{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"A server error occurred.","code":"server_error"}"#.to_vec());
        let mut response = http::Response::new(Bytes::from(body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(value) = self.www_authenticate {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(allow) = self
            .allow
            .as_deref()
            .and_then(|a| HeaderValue::from_str(a).ok())
        {
            headers.insert(header::ALLOW, allow);
        }
        response
    }

    /// The problem that stands in for an error response without a body (a framework's own 405,
    /// a handler's bare `StatusCode`), so that the adapters' outer layers answer it in the
    /// contract's shape: the same status, the contract's code for it, and a generic detail
    /// (`method` is named in a 405's). `None` for a 4xx the contract has no code for (406, 410,
    /// 422, ...): those are left as they are rather than mislabelled.
    ///
    /// Of the headers, the problem carries only the 401's `WWW-Authenticate: Bearer` (the
    /// contract's challenge on every 401); `Allow`, `Retry-After` and the like are the original
    /// response's to keep.
    pub fn for_status(status: StatusCode, method: &str) -> Option<Problem> {
        let from = |error: Error| Some(error.to_problem());
        let (code, detail) = match status {
            StatusCode::BAD_REQUEST => (ErrorCode::ParseError, "Malformed request."),
            StatusCode::UNAUTHORIZED => return from(Error::NotAuthenticated),
            StatusCode::FORBIDDEN => return from(Error::PermissionDenied),
            StatusCode::NOT_FOUND => return from(Error::NotFound),
            StatusCode::METHOD_NOT_ALLOWED => {
                let problem = Error::MethodNotAllowed {
                    method: method.to_string(),
                    allow: Vec::new(),
                }
                .to_problem();
                return Some(Problem {
                    allow: None,
                    ..problem
                });
            }
            StatusCode::CONFLICT => (
                ErrorCode::Conflict,
                "The request conflicts with the current state.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => {
                (ErrorCode::PayloadTooLarge, "Request body is too large.")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                ErrorCode::UnsupportedMediaType,
                "Unsupported media type in request.",
            ),
            StatusCode::TOO_MANY_REQUESTS => (ErrorCode::Throttled, "Request was throttled."),
            StatusCode::SERVICE_UNAVAILABLE => return from(Error::Unavailable(String::new())),
            _ if status.is_server_error() => (ErrorCode::ServerError, "A server error occurred."),
            _ => return None,
        };
        Some(Problem {
            status,
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            detail: detail.to_string(),
            code,
            errors: None,
            www_authenticate: None,
            retry_after: None,
            allow: None,
        })
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
