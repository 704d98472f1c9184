//! The body of `POST /auth/token`: JSON credentials or the OAuth2 password-grant form.

use http::HeaderMap;

use crate::auth::model::{LoginRequest, OAuthTokenResponse, TokenPair};
use crate::error::{FieldErrors, Result};
use crate::wire;

/// Names an OAuth2 password-grant form may carry; others are refused like unknown JSON fields.
const PASSWORD_GRANT_FIELDS: &[&str] = &[
    "grant_type",
    "username",
    "password",
    "scope",
    "client_id",
    "client_secret",
];

/// A decoded OAuth2 password-grant form (`grant_type=password&username=…&password=…`).
pub struct PasswordGrant {
    /// Username or email.
    pub username: String,
    /// Password.
    pub password: String,
}

impl PasswordGrant {
    /// Decodes the form body of POST /auth/token.
    ///
    /// # Errors
    /// [`Error::Validation`](crate::Error::Validation) for a missing field, an unknown field or a grant type other than
    /// `password`.
    pub fn from_form(body: &[u8]) -> Result<Self> {
        let pairs = wire::decode_form(body, PASSWORD_GRANT_FIELDS)?;
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let mut errors = FieldErrors::new();
        match get("grant_type").as_deref() {
            Some("password") => {}
            Some(_) => errors.add(
                "grant_type",
                "Unsupported grant type: only \"password\" is accepted.",
            ),
            None => errors.add("grant_type", "This field is required."),
        }
        let username = get("username");
        let password = get("password");
        for (name, value) in [("username", &username), ("password", &password)] {
            if value.is_none() {
                errors.add(name, "This field is required.");
            }
        }
        errors.into_result()?;
        Ok(Self {
            username: username.unwrap_or_default(),
            password: password.unwrap_or_default(),
        })
    }
}

/// The body of POST /auth/token: JSON `{username, password}` or the OAuth2 password-grant form.
#[derive(Debug)]
pub enum TokenRequest {
    /// `application/json`: answered with `{access, refresh, …}`.
    Json(LoginRequest),
    /// `application/x-www-form-urlencoded`: answered with OAuth2's `{access_token, …}`.
    Form(PasswordGrant),
}

impl TokenRequest {
    /// Decodes the body by its declared media type.
    ///
    /// # Errors
    /// [`Error::UnsupportedMediaType`](crate::Error::UnsupportedMediaType), [`Error::Parse`](crate::Error::Parse) or [`Error::Validation`](crate::Error::Validation).
    pub fn decode(headers: &HeaderMap, body: &[u8]) -> Result<Self> {
        match wire::body_kind(headers)? {
            wire::BodyKind::Json => wire::decode_json(body).map(Self::Json),
            wire::BodyKind::Form => PasswordGrant::from_form(body).map(Self::Form),
        }
    }

    /// Username (or email) and password.
    pub fn credentials(&self) -> (&str, &str) {
        match self {
            Self::Json(r) => (&r.username, &r.password),
            Self::Form(g) => (&g.username, &g.password),
        }
    }

    /// The response in the shape the request's form expects.
    pub fn reply(&self, pair: TokenPair) -> http::Response<bytes::Bytes> {
        match self {
            Self::Json(_) => wire::json(http::StatusCode::OK, &pair),
            Self::Form(_) => wire::json(http::StatusCode::OK, &OAuthTokenResponse::from(pair)),
        }
    }
}
