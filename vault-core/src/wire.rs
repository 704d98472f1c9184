//! The wire format shared by both adapters: request body decoding with the contract's errors,
//! and response encoding.
//!
//! Adapters read the raw body (enforcing the size limit while reading) and hand the bytes here, so
//! that "415 for a wrong media type, `parse_error` for broken JSON, `validation_error` naming the
//! field for a wrong type, a missing or an unknown field" is decided in one place.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, FieldErrors, Result};

/// The body kinds a route can accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json` (or any `application/*+json`).
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

/// Classifies the request's `Content-Type`.
///
/// # Errors
/// [`Error::UnsupportedMediaType`] when it is missing or neither JSON nor a form.
pub fn body_kind(headers: &HeaderMap) -> Result<BodyKind> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let Ok(media) = raw.parse::<mime::Mime>() else {
        return Err(Error::UnsupportedMediaType(raw));
    };
    match (media.type_(), media.subtype(), media.suffix()) {
        (mime::APPLICATION, mime::JSON, _) | (mime::APPLICATION, _, Some(mime::JSON)) => {
            Ok(BodyKind::Json)
        }
        (mime::APPLICATION, mime::WWW_FORM_URLENCODED, _) => Ok(BodyKind::Form),
        _ => Err(Error::UnsupportedMediaType(raw)),
    }
}

/// Checks that the request declares a JSON body.
///
/// # Errors
/// [`Error::UnsupportedMediaType`] otherwise.
pub fn require_json(headers: &HeaderMap) -> Result<()> {
    match body_kind(headers)? {
        BodyKind::Json => Ok(()),
        BodyKind::Form => Err(Error::UnsupportedMediaType(
            mime::APPLICATION_WWW_FORM_URLENCODED.to_string(),
        )),
    }
}

/// The `Content-Length` a request declares, if it is over `limit`.
///
/// # Errors
/// [`Error::PayloadTooLarge`] when the declared length exceeds the limit, so adapters can refuse
/// before reading anything.
pub fn check_declared_length(headers: &HeaderMap, limit: u64) -> Result<()> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit => Err(Error::PayloadTooLarge { limit }),
        _ => Ok(()),
    }
}

/// Checks the media type and decodes a JSON body into `T`.
///
/// # Errors
/// [`Error::UnsupportedMediaType`] unless JSON, then as [`decode_json`].
pub fn decode_json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T> {
    require_json(headers)?;
    decode_json(body)
}

/// Decodes a JSON body into `T`, mapping every failure to the contract's error.
///
/// # Errors
/// [`Error::Parse`] for bytes that are not JSON at all; [`Error::Validation`] naming the field
/// for wrong types, missing, unknown or `null` fields, and for strings holding a NUL.
pub fn decode_json<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    // Every body of the contract is an object; say so plainly for valid JSON of another shape
    // (serde would otherwise accept `[..]` for structs or report a confusing path).
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => Err(Error::field(
                "non_field_errors",
                "Invalid data. Expected a JSON object.",
            )),
            Err(error) => Err(Error::Parse(format!("JSON parse error - {error}"))),
        };
    }
    // A NUL can only arrive as `\u0000`; such a body is read once more to name the fields
    // holding one, which are refused whatever type they decode into (see `crate::text`).
    if crate::text::may_hold_nul(body) {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            let mut errors = FieldErrors::new();
            crate::text::nul_fields(&value, &mut errors);
            errors.into_result()?;
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let result: std::result::Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = match result {
        Ok(value) => value,
        Err(error) => return Err(json_error(error, body)),
    };
    if let Err(error) = de.end() {
        return Err(Error::Parse(format!("JSON parse error - {error}")));
    }
    Ok(value)
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>, body: &[u8]) -> Error {
    let path = error.path().to_string();
    let inner = error.into_inner();
    match inner.classify() {
        serde_json::error::Category::Data => {
            let message = inner.to_string();
            let message = strip_position(&message);
            let (field, text) = describe_data_error(&path, message);
            Error::field(field, text)
        }
        // serde_json reports a value of the wrong type for an enum (`{"rating": 3}`) as a
        // syntax error ("expected value"); in valid JSON it is the field's type that is wrong.
        serde_json::error::Category::Syntax
            if path != "." && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() =>
        {
            Error::field(path, "Invalid type: expected one of the allowed names.")
        }
        _ => Error::Parse(format!("JSON parse error - {inner}")),
    }
}

/// serde_json appends " at line 1 column 8"; clients want the message alone.
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at])
}

/// Turns a serde data error into (field, human message).
fn describe_data_error(path: &str, message: &str) -> (String, String) {
    let parent = if path == "." {
        String::new()
    } else {
        path.to_string()
    };
    let join = |name: &str| {
        if parent.is_empty() {
            name.to_string()
        } else {
            format!("{parent}.{name}")
        }
    };
    if let Some(name) = backticked(message, "missing field `") {
        return (join(name), "This field is required.".into());
    }
    if let Some(name) = backticked(message, "unknown field `") {
        // serde_path_to_error already points at the unknown key itself.
        let field = if path.ends_with(name) {
            path.to_string()
        } else {
            join(name)
        };
        return (field, "Unknown field.".into());
    }
    if let Some(name) = backticked(message, "duplicate field `") {
        return (join(name), "This field is given more than once.".into());
    }
    let field = if parent.is_empty() {
        "non_field_errors".to_string()
    } else {
        parent
    };
    let text = if message.starts_with("invalid type: null") {
        "This field may not be null.".to_string()
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        match rest.split_once(", expected ") {
            Some((_, expected)) => format!("Invalid type: expected {expected}."),
            None => format!("Invalid type: {rest}."),
        }
    } else {
        let mut text = message.to_string();
        if let Some(first) = text.get(..1) {
            let upper = first.to_uppercase();
            text.replace_range(..1, &upper);
        }
        if !text.ends_with('.') {
            text.push('.');
        }
        text
    };
    (field, text)
}

fn backticked<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next()
}

/// Decodes an `application/x-www-form-urlencoded` body into name/value pairs, refusing
/// unknown and repeated names, and values holding a NUL (see `crate::text`).
///
/// # Errors
/// [`Error::Validation`] naming an unknown or repeated field, or one holding a NUL.
pub fn decode_form(body: &[u8], allowed: &[&str]) -> Result<Vec<(String, String)>> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut errors = FieldErrors::new();
    for (name, value) in form_urlencoded::parse(body) {
        if !allowed.contains(&name.as_ref()) {
            errors.add(name.as_ref(), "Unknown field.");
        } else if pairs.iter().any(|(n, _)| *n == name) {
            errors.add(name.as_ref(), "This field is given more than once.");
        } else if let Err(message) = crate::text::check_nul(&value) {
            errors.add(name.as_ref(), message);
        } else {
            pairs.push((name.into_owned(), value.into_owned()));
        }
    }
    errors.into_result()?;
    Ok(pairs)
}

/// A JSON success response, serialized once for both adapters.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> http::Response<Bytes> {
    match serde_json::to_vec(value) {
        Ok(body) => json_body(status, Bytes::from(body)),
        Err(error) => Error::internal(format!("serializing response: {error}")).to_response(),
    }
}

/// A JSON success response with a body serialized beforehand (e.g.
/// [`crate::auth::AuthService::me_json`]).
pub fn json_body(status: StatusCode, body: Bytes) -> http::Response<Bytes> {
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A `201 Created` JSON response with a `Location` header.
pub fn created<T: Serialize>(location: &str, value: &T) -> http::Response<Bytes> {
    let mut response = json(StatusCode::CREATED, value);
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// An empty `204 No Content` response.
pub fn no_content() -> http::Response<Bytes> {
    let mut response = http::Response::new(Bytes::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// A field of a PATCH body: absent, explicitly `null`, or a value.
///
/// Use with `#[serde(default)]` so that an absent field is [`Patch::Missing`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// The field was not in the body: leave it unchanged.
    #[default]
    Missing,
    /// The field was `null`.
    Null,
    /// The field had a value.
    Value(T),
}

impl<T> Patch<T> {
    /// The value, treating `null` as a validation error on `field`.
    ///
    /// # Errors
    /// A message for [`FieldErrors`] when the field was `null`.
    pub fn non_null(self) -> std::result::Result<Option<T>, String> {
        match self {
            Self::Missing => Ok(None),
            Self::Null => Err("This field may not be null.".into()),
            Self::Value(value) => Ok(Some(value)),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Self::Value(value),
            None => Self::Null,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        title: String,
        count: u32,
        #[serde(default)]
        note: Patch<String>,
    }

    fn field_of(error: Error) -> (String, String) {
        match error {
            Error::Validation(errors) => {
                let json = serde_json::to_value(&errors).unwrap();
                let (field, messages) = json.as_object().unwrap().iter().next().unwrap();
                (field.clone(), messages[0].as_str().unwrap().to_string())
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn broken_json_is_a_parse_error() {
        assert!(matches!(
            decode_json::<Sample>(b"{\"title\":"),
            Err(Error::Parse(_))
        ));
        assert!(matches!(
            decode_json::<Sample>(b"not json"),
            Err(Error::Parse(_))
        ));
        assert!(matches!(
            decode_json::<Sample>(br#"{"title":"a","count":1} trailing"#),
            Err(Error::Parse(_))
        ));
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Colour {
        Red,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Painted {
        colour: Colour,
    }

    #[test]
    fn an_enum_of_the_wrong_type_names_its_field() {
        for body in [
            &br#"{"colour": 3}"#[..],
            br#"{"colour": [1]}"#,
            br#"{"colour": true}"#,
        ] {
            let (field, _) = field_of(decode_json::<Painted>(body).unwrap_err());
            assert_eq!(field, "colour", "{}", String::from_utf8_lossy(body));
        }
        // Broken JSON around the same field is still a parse error.
        assert!(matches!(
            decode_json::<Painted>(br#"{"colour": 3"#),
            Err(Error::Parse(_))
        ));
        assert!(decode_json::<Painted>(br#"{"colour": "red"}"#).is_ok());
    }

    #[test]
    fn data_errors_name_the_field() {
        let (field, message) = field_of(decode_json::<Sample>(br#"{"count":1}"#).unwrap_err());
        assert_eq!(
            (field.as_str(), message.as_str()),
            ("title", "This field is required.")
        );
        let (field, _) = field_of(
            decode_json::<Sample>(br#"{"title":"a","count":1,"role":"admin"}"#).unwrap_err(),
        );
        assert_eq!(field, "role");
        let (field, message) =
            field_of(decode_json::<Sample>(br#"{"title":"a","count":"x"}"#).unwrap_err());
        assert_eq!(field, "count");
        assert!(message.starts_with("Invalid type"), "{message}");
        let (field, message) =
            field_of(decode_json::<Sample>(br#"{"title":null,"count":1}"#).unwrap_err());
        assert_eq!(
            (field.as_str(), message.as_str()),
            ("title", "This field may not be null.")
        );
        let (field, _) = field_of(decode_json::<Sample>(b"[1,2]").unwrap_err());
        assert_eq!(field, "non_field_errors");
    }

    #[test]
    fn patch_distinguishes_missing_null_and_value() {
        let s: Sample = decode_json(br#"{"title":"a","count":1}"#).unwrap();
        assert_eq!(s.note, Patch::Missing);
        let s: Sample = decode_json(br#"{"title":"a","count":1,"note":null}"#).unwrap();
        assert_eq!(s.note, Patch::Null);
        let s: Sample = decode_json(br#"{"title":"a","count":1,"note":"x"}"#).unwrap();
        assert_eq!(s.note, Patch::Value("x".into()));
    }

    #[test]
    fn media_types() {
        let mut headers = HeaderMap::new();
        assert!(matches!(
            body_kind(&headers),
            Err(Error::UnsupportedMediaType(_))
        ));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert_eq!(body_kind(&headers).unwrap(), BodyKind::Json);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/merge-patch+json"),
        );
        assert_eq!(body_kind(&headers).unwrap(), BodyKind::Json);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(matches!(
            body_kind(&headers),
            Err(Error::UnsupportedMediaType(_))
        ));
    }

    #[test]
    fn form_refuses_unknown_and_repeated_fields() {
        assert!(decode_form(b"a=1&b=2", &["a", "b"]).is_ok());
        assert!(decode_form(b"a=1&c=2", &["a", "b"]).is_err());
        assert!(decode_form(b"a=1&a=2", &["a", "b"]).is_err());
    }

    #[test]
    fn a_nul_in_any_string_names_its_field() {
        let nul = crate::text::NUL_MESSAGE;
        for (body, field) in [
            (&br#"{"title":"a\u0000b","count":1}"#[..], "title"),
            (
                br#"{"title":"\u0000","count":"not even a number"}"#,
                "title",
            ),
            (br#"{"title":"a","count":1,"note":"\u0000"}"#, "note"),
        ] {
            assert_eq!(
                field_of(decode_json::<Sample>(body).unwrap_err()),
                (field.to_string(), nul.to_string()),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // An escaped backslash followed by the letters is no NUL.
        let s: Sample = decode_json(br#"{"title":"\\u0000","count":1}"#).unwrap();
        assert_eq!(s.title, "\\u0000");
        // The form variant, percent-encoded or raw.
        for body in [&b"a=x%00y&b=2"[..], b"a=\0&b=2"] {
            assert_eq!(
                field_of(decode_form(body, &["a", "b"]).unwrap_err()),
                ("a".to_string(), nul.to_string())
            );
        }
    }
}
