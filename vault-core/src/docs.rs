//! The interactive docs page (Swagger UI), served from assets compiled into the binary: it
//! works with no internet access.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};

/// The Swagger UI assets, configured for one API prefix.
pub struct DocsUi {
    config: Arc<utoipa_swagger_ui::Config<'static>>,
    prefix: String,
}

impl std::fmt::Debug for DocsUi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocsUi")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl DocsUi {
    /// Docs for the API mounted at `api_prefix`, reading `{api_prefix}/openapi.json`.
    pub fn new(api_prefix: &str) -> Self {
        let config = utoipa_swagger_ui::Config::new([format!("{api_prefix}/openapi.json")])
            .persist_authorization(true)
            .try_it_out_enabled(true);
        Self {
            config: Arc::new(config),
            prefix: api_prefix.to_string(),
        }
    }

    /// The response for `GET {prefix}/docs/{tail}` (`tail` empty for the page itself).
    pub fn response(&self, tail: &str) -> http::Response<Bytes> {
        let tail = tail.trim_start_matches('/');
        let file = match utoipa_swagger_ui::serve(tail, Arc::clone(&self.config)) {
            Ok(Some(file)) => file,
            Ok(None) => return crate::Error::NotFound.to_response(),
            Err(error) => return crate::Error::internal(error).to_response(),
        };
        let bytes = if tail.is_empty() || tail == "index.html" {
            // The page links its assets relatively ("./swagger-ui.css"), which breaks when it is
            // served at `/api/docs` without a trailing slash; make the links absolute.
            let text = String::from_utf8_lossy(&file.bytes)
                .replace("\"./", &format!("\"{}/docs/", self.prefix));
            Bytes::from(text)
        } else {
            match file.bytes {
                Cow::Borrowed(b) => Bytes::from_static(b),
                Cow::Owned(b) => Bytes::from(b),
            }
        };
        let mut response = http::Response::new(bytes);
        *response.status_mut() = StatusCode::OK;
        if let Ok(value) = HeaderValue::from_str(&file.content_type) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        response
    }
}
