//! The interactive docs page (Swagger UI), served from assets compiled into the binary: it
//! works with no internet access.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use url::Url;

/// The Swagger UI assets, configured for one API prefix.
pub struct DocsUi {
    config: Arc<utoipa_swagger_ui::Config<'static>>,
    prefix: String,
    /// The page with its links made path-absolute, built once; the error text if the bundled
    /// page could not be read (answered as a 500, never a panic).
    page: Result<Bytes, String>,
}

impl std::fmt::Debug for DocsUi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocsUi")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A stand-in origin for resolving the page's links like a browser; only the path is kept.
const ORIGIN: &str = "http://vault.invalid";

impl DocsUi {
    /// Docs for the API mounted at `api_prefix`, reading `{api_prefix}/openapi.json`.
    pub fn new(api_prefix: &str) -> Self {
        let config = Arc::new(
            utoipa_swagger_ui::Config::new([format!("{api_prefix}/openapi.json")])
                .persist_authorization(true)
                .try_it_out_enabled(true),
        );
        let page = match utoipa_swagger_ui::serve("index.html", Arc::clone(&config)) {
            Ok(Some(file)) => {
                let assets = format!("{api_prefix}/docs/");
                Ok(Bytes::from(absolute_links(
                    &String::from_utf8_lossy(&file.bytes),
                    &assets,
                )))
            }
            Ok(None) => Err("the bundled Swagger UI has no index.html".to_string()),
            Err(error) => Err(error.to_string()),
        };
        Self {
            config,
            prefix: api_prefix.to_string(),
            page,
        }
    }

    /// The response for `GET {prefix}/docs/{tail}` (`tail` empty for the page itself).
    pub fn response(&self, tail: &str) -> http::Response<Bytes> {
        let tail = tail.trim_start_matches('/');
        if tail.is_empty() || tail == "index.html" {
            return match &self.page {
                Ok(page) => ok(page.clone(), "text/html; charset=utf-8"),
                Err(cause) => crate::Error::internal(format!("docs page: {cause}")).to_response(),
            };
        }
        let file = match utoipa_swagger_ui::serve(tail, Arc::clone(&self.config)) {
            Ok(Some(file)) => file,
            Ok(None) => return crate::Error::NotFound.to_response(),
            Err(error) => return crate::Error::internal(error).to_response(),
        };
        let bytes = match file.bytes {
            Cow::Borrowed(b) => Bytes::from_static(b),
            Cow::Owned(b) => Bytes::from(b),
        };
        ok(bytes, &file.content_type)
    }
}

fn ok(body: Bytes, content_type: &str) -> http::Response<Bytes> {
    let mut response = http::Response::new(body);
    *response.status_mut() = StatusCode::OK;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// The page with every relative `href`/`src` (`./swagger-ui.css`, `index.css`, ...) made
/// path-absolute under `assets` (`{prefix}/docs/`), resolved as a browser would from a page at
/// `assets`. The page is served at `{prefix}/docs` too, where a browser would resolve those
/// links against `{prefix}/` instead and miss every asset.
///
/// Path-absolute links, fragments and links with a scheme (`data:`, `https:`) stay as they are.
fn absolute_links(html: &str, assets: &str) -> String {
    const ATTRIBUTES: [&str; 2] = [" href=\"", " src=\""];
    let Ok(base) = Url::parse(ORIGIN).and_then(|origin| origin.join(assets)) else {
        return html.to_string();
    };
    let mut out = String::with_capacity(html.len() + 8 * assets.len());
    let mut rest = html;
    while let Some(start) = ATTRIBUTES
        .iter()
        .filter_map(|attribute| rest.find(attribute).map(|at| at + attribute.len()))
        .min()
    {
        let (before, from_value) = rest.split_at(start);
        out.push_str(before);
        let Some(end) = from_value.find('"') else {
            // An unterminated attribute: not a link worth guessing at.
            rest = from_value;
            break;
        };
        let value = &from_value[..end];
        match resolve(&base, value) {
            Some(path) => out.push_str(&path),
            None => out.push_str(value),
        }
        rest = &from_value[end..];
    }
    out.push_str(rest);
    out
}

/// The path (and query) `value` names when resolved against `base`; `None` when it is not a
/// relative path reference.
fn resolve(base: &Url, value: &str) -> Option<String> {
    let relative = !value.is_empty()
        && !value.starts_with(['/', '#', '?'])
        && matches!(
            Url::parse(value),
            Err(url::ParseError::RelativeUrlWithoutBase)
        );
    if !relative {
        return None;
    }
    let joined = base.join(value).ok()?;
    Some(joined[url::Position::BeforePath..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_become_path_absolute() {
        let html = concat!(
            r#"<link rel="stylesheet" href="./swagger-ui.css" />"#,
            r#"<link rel="stylesheet" href="index.css" />"#,
            r#"<link rel="icon" href="./favicon-32x32.png" sizes="32x32" />"#,
            r#"<script src="./swagger-ui-bundle.js"> </script>"#,
            r#"<script src="../up.js"></script>"#,
        );
        assert_eq!(
            absolute_links(html, "/v1/vault/docs/"),
            concat!(
                r#"<link rel="stylesheet" href="/v1/vault/docs/swagger-ui.css" />"#,
                r#"<link rel="stylesheet" href="/v1/vault/docs/index.css" />"#,
                r#"<link rel="icon" href="/v1/vault/docs/favicon-32x32.png" sizes="32x32" />"#,
                r#"<script src="/v1/vault/docs/swagger-ui-bundle.js"> </script>"#,
                r#"<script src="/v1/vault/up.js"></script>"#,
            )
        );
        assert_eq!(
            absolute_links(r#"<a href="x.css">"#, "/docs/"),
            r#"<a href="/docs/x.css">"#
        );
    }

    #[test]
    fn other_links_stay() {
        let html = concat!(
            r#"<a href="/api/openapi.json">"#,
            r##"<a href="#section">"##,
            r#"<img src="data:image/png;base64,AAAA">"#,
            r#"<a href="https://example.com/x">"#,
            r#"<a href="">"#,
            r#"<a href="unterminated"#,
        );
        assert_eq!(absolute_links(html, "/api/docs/"), html);
    }

    #[test]
    fn the_bundled_page_links_only_to_served_assets() {
        let docs = DocsUi::new("/api");
        let page = docs.response("");
        assert_eq!(page.status(), StatusCode::OK);
        let html = String::from_utf8_lossy(page.body()).to_string();
        let mut links = 0;
        for attribute in ["href=\"", "src=\""] {
            for value in html.split(attribute).skip(1) {
                let link = value.split('"').next().unwrap_or_default();
                let tail = link
                    .strip_prefix("/api/docs/")
                    .unwrap_or_else(|| panic!("{link} is not an asset path"));
                assert_eq!(docs.response(tail).status(), StatusCode::OK, "{link}");
                links += 1;
            }
        }
        assert!(links >= 5, "{html}");
    }
}
