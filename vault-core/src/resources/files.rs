//! Files of resources (API.md §4): streamed multipart uploads into the blob store, downloads
//! with `ETag` and `304`, and deletion that never leaves an orphan blob behind.

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use http::{header, HeaderValue, StatusCode};

use crate::blob::BlobStream;
use crate::error::{Error, Result};

/// Slack over the file limit for the multipart framing and headers around it.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// What GET /resources/{id}/file answers.
pub enum Download {
    /// The client's `If-None-Match` matches: 304, no body.
    NotModified {
        /// The current `ETag`.
        etag: String,
    },
    /// The bytes.
    File {
        /// File name for `Content-Disposition`.
        name: String,
        /// Media type.
        content_type: String,
        /// Size in bytes.
        size: u64,
        /// `ETag` (the quoted SHA-256).
        etag: String,
        /// The streamed bytes.
        body: BlobStream,
    },
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotModified { etag } => {
                f.debug_struct("NotModified").field("etag", etag).finish()
            }
            Self::File { name, size, .. } => f
                .debug_struct("File")
                .field("name", name)
                .field("size", size)
                .finish_non_exhaustive(),
        }
    }
}

impl Download {
    /// The response: status and headers, and the body stream if there is one.
    pub fn into_response(self) -> http::Response<Option<BlobStream>> {
        match self {
            Self::NotModified { etag } => {
                let mut response = http::Response::new(None);
                *response.status_mut() = StatusCode::NOT_MODIFIED;
                if let Ok(value) = HeaderValue::from_str(&etag) {
                    response.headers_mut().insert(header::ETAG, value);
                }
                response
            }
            Self::File {
                name,
                content_type,
                size,
                etag,
                body,
            } => {
                let mut response = http::Response::new(Some(body));
                let headers = response.headers_mut();
                for (name, value) in [
                    (header::CONTENT_TYPE, content_type),
                    (header::CONTENT_LENGTH, size.to_string()),
                    (header::CONTENT_DISPOSITION, content_disposition(&name)),
                    (header::ETAG, etag),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                    (header::CACHE_CONTROL, "private, no-cache".to_string()),
                ] {
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        headers.insert(name, value);
                    }
                }
                response
            }
        }
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…` with a safe ASCII fallback.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Whether `If-None-Match` matches `etag` (weak comparison, `*` matches anything).
pub fn matches_etag(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let ours = bare(etag);
    if_none_match
        .split(',')
        .map(bare)
        .any(|tag| tag == "*" || tag == ours)
}

/// A file name as stored: the last path segment, control characters dropped, at most 255
/// characters, `file` when nothing is left.
pub fn clean_file_name(raw: Option<&str>) -> String {
    let last = raw
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "file".to_string()
    } else {
        cleaned
    }
}

/// The single `file` part of a `multipart/form-data` body, streamed.
pub(crate) struct FilePart {
    /// Cleaned file name.
    pub name: String,
    /// The part's declared content type.
    pub declared_type: Option<String>,
    /// The bytes.
    pub body: BlobStream,
    /// The rest of the multipart body, to check that no other part follows.
    pub rest: multer::Multipart<'static>,
}

fn multipart_error(error: multer::Error, limit: u64) -> Error {
    match error {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            Error::PayloadTooLarge { limit }
        }
        multer::Error::StreamReadFailed(cause) => match cause.downcast::<Error>() {
            Ok(own) => *own,
            Err(other) => Error::Parse(format!("could not read the request body: {other}")),
        },
        other => Error::Parse(format!("multipart: {other}")),
    }
}

/// Opens a multipart body and returns its `file` part.
///
/// # Errors
/// [`Error::UnsupportedMediaType`] unless `multipart/form-data` with a boundary;
/// [`Error::Validation`] when the first part is not `file` or there is none;
/// [`Error::Parse`] for a broken body.
pub(crate) async fn file_part(
    content_type: Option<&str>,
    body: BlobStream,
    limit: u64,
) -> Result<FilePart> {
    let content_type = content_type.unwrap_or_default();
    let is_form = content_type
        .parse::<mime::Mime>()
        .is_ok_and(|m| m.type_() == mime::MULTIPART && m.subtype() == mime::FORM_DATA);
    if !is_form {
        return Err(Error::UnsupportedMediaType(content_type.to_string()));
    }
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| Error::Parse("multipart body without a boundary".into()))?;
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new().whole_stream(limit.saturating_add(MULTIPART_OVERHEAD)),
    );
    let mut multipart = multer::Multipart::with_constraints(body, boundary, constraints);
    let field = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
        .ok_or_else(|| Error::field("file", "No file was submitted."))?;
    match field.name() {
        Some("file") => {}
        Some(other) => return Err(Error::field(other, "Unknown field.")),
        None => return Err(Error::field("file", "No file was submitted.")),
    }
    let name = clean_file_name(field.file_name());
    let declared_type = field.content_type().map(ToString::to_string);
    let body = field
        .map_err(move |e| multipart_error(e, limit))
        .map_ok(Bytes::from)
        .boxed();
    Ok(FilePart {
        name,
        declared_type,
        body,
        rest: multipart,
    })
}

/// After the `file` part: any further part is refused.
///
/// # Errors
/// [`Error::Validation`] naming the extra part.
pub(crate) async fn no_more_parts(mut rest: multer::Multipart<'static>, limit: u64) -> Result<()> {
    match rest
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        None => Ok(()),
        Some(field) => {
            let name = field.name().unwrap_or("file").to_string();
            Err(Error::field(name, "Only one part, `file`, is accepted."))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_and_names() {
        assert!(matches_etag("\"abc\"", "\"abc\""));
        assert!(matches_etag("W/\"abc\", \"x\"", "\"abc\""));
        assert!(matches_etag("*", "\"abc\""));
        assert!(!matches_etag("\"abd\"", "\"abc\""));
        assert_eq!(clean_file_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_file_name(Some("C:\\x\\paper.pdf")), "paper.pdf");
        assert_eq!(clean_file_name(Some("..")), "file");
        assert_eq!(clean_file_name(None), "file");
        let disposition = content_disposition("résumé \"final\".pdf");
        assert!(
            disposition.starts_with("attachment; filename=\"r_sum_ _final_.pdf\""),
            "{disposition}"
        );
        assert!(disposition.contains("filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf"));
    }
}
