//! A small request builder and response checker for scenarios.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde_json::Value;

use super::Harness;

/// A request being built.
pub struct Req<'a> {
    harness: &'a Harness,
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl<'a> Req<'a> {
    pub(super) fn new(harness: &'a Harness, method: Method, path: &str) -> Self {
        Self {
            harness,
            method,
            path: path.to_string(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// Adds a header.
    ///
    /// # Panics
    /// On an invalid header name or value.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
        self
    }

    /// `Authorization: Bearer {token}`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// The client IP seen through `X-Forwarded-For`.
    pub fn from_ip(self, ip: &str) -> Self {
        self.header("x-forwarded-for", ip)
    }

    /// A JSON body.
    pub fn json(self, value: Value) -> Self {
        self.raw(
            "application/json",
            serde_json::to_vec(&value).unwrap_or_default(),
        )
    }

    /// A form body.
    pub fn form(self, body: &str) -> Self {
        self.raw(
            "application/x-www-form-urlencoded",
            body.as_bytes().to_vec(),
        )
    }

    /// A body with the given content type.
    pub fn raw(mut self, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).expect("content type"),
        );
        self.body = body.into();
        self
    }

    /// A `multipart/form-data` body of `(name, file name, content type, bytes)` parts.
    pub fn multipart(self, parts: &[(&str, Option<&str>, &str, &[u8])]) -> Self {
        const BOUNDARY: &str = "vault-test-boundary-7f3a";
        let mut body = Vec::new();
        for (name, file_name, content_type, data) in parts {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            let disposition = match file_name {
                Some(file) => format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n"
                ),
                None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n"),
            };
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(format!("Content-Type: {content_type}\r\n\r\n").as_bytes());
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        self.raw(&format!("multipart/form-data; boundary={BOUNDARY}"), body)
    }

    /// A body with no content type at all.
    pub fn untyped(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends the request. Checks what every response must have: an `X-Request-Id`, and for
    /// errors a well-formed problem+json body.
    ///
    /// # Panics
    /// When a response misses those.
    pub async fn send(self) -> Resp {
        let mut request = http::Request::new(self.body);
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.path.parse().expect("request path");
        *request.headers_mut() = self.headers;
        let response = self.harness.call(request).await;
        let (parts, body) = response.into_parts();
        let resp = Resp {
            status: parts.status,
            headers: parts.headers,
            body,
        };
        let context = format!("{} {} → {}", self.method, self.path, resp.status);
        assert!(
            resp.header("x-request-id").is_some_and(|id| !id.is_empty()),
            "{context}: every response carries X-Request-Id"
        );
        if resp.status.is_client_error() || resp.status.is_server_error() {
            resp.check_problem(&context);
        }
        resp
    }
}

/// A response received.
#[derive(Debug)]
pub struct Resp {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Resp {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON.
    ///
    /// # Panics
    /// When it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the status.
    ///
    /// # Panics
    /// When it differs.
    #[track_caller]
    pub fn expect_status(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// Asserts a problem with this status and code; returns its body.
    ///
    /// # Panics
    /// When it differs.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        let body = self.json();
        assert_eq!(body["code"], code, "problem code; body: {body}");
        body
    }

    /// Asserts a validation (or conflict) problem naming `field`.
    ///
    /// # Panics
    /// When it differs.
    #[track_caller]
    pub fn expect_field_error(&self, status: u16, field: &str) -> Value {
        let code = if status == 409 {
            "conflict"
        } else {
            "validation_error"
        };
        let body = self.expect_problem(status, code);
        assert!(
            body["errors"][field]
                .as_array()
                .is_some_and(|m| !m.is_empty() && m.iter().all(Value::is_string)),
            "expected errors.{field}; body: {body}"
        );
        body
    }

    fn check_problem(&self, context: &str) {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{context}: errors are problem+json; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        let body: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{context}: problem body is not JSON: {e}"));
        assert_eq!(body["type"], "about:blank", "{context}: {body}");
        assert_eq!(body["status"], self.status.as_u16(), "{context}: {body}");
        assert!(
            body["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{context}: {body}"
        );
        assert!(
            body["detail"].as_str().is_some_and(|t| !t.is_empty()),
            "{context}: {body}"
        );
        assert!(
            body["code"].as_str().is_some_and(|t| !t.is_empty()),
            "{context}: {body}"
        );
        if self.status.is_server_error() {
            let text = String::from_utf8_lossy(&self.body).to_lowercase();
            for leak in ["select ", "insert ", "panicked", "/src/", "sqlx"] {
                assert!(
                    !text.contains(leak),
                    "{context}: 5xx leaks internals: {text}"
                );
            }
        }
    }
}
