//! Resources and tags (API.md §4): types, validation, request and response bodies.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::FieldErrors;
use crate::text::{self, Lines};
use crate::time::Timestamp;
use crate::wire::Patch;

/// Longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest body, in characters.
pub const BODY_MAX: usize = 100_000;
/// Longest tag name, in characters.
pub const TAG_MAX: usize = 50;
/// Most tags on one resource.
pub const TAGS_PER_RESOURCE_MAX: usize = 20;
/// Longest URL, in characters.
pub const URL_MAX: usize = 2048;
/// Longest `?search=` text of a listing (resources and tags), in characters.
pub const SEARCH_MAX: usize = 200;

/// What a resource is.
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "lowercase")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    /// A markdown note.
    Note,
    /// A link (requires `url`).
    Link,
    /// A stored file.
    File,
    /// A bibliographic reference.
    Reference,
}

impl ResourceKind {
    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Note => "note",
            Self::Link => "link",
            Self::File => "file",
            Self::Reference => "reference",
        }
    }

    /// Parses a stored or query-string name.
    ///
    /// # Errors
    /// A message listing the valid kinds.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "note" => Ok(Self::Note),
            "link" => Ok(Self::Link),
            "file" => Ok(Self::File),
            "reference" => Ok(Self::Reference),
            other => Err(format!(
                "\"{other}\" is not a valid choice: note, link, file or reference."
            )),
        }
    }
}

/// A stored kind name that is not one of the four.
#[derive(Debug, thiserror::Error)]
#[error("unknown resource kind {0:?}")]
pub struct UnknownKind(pub String);

impl TryFrom<String> for ResourceKind {
    type Error = UnknownKind;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).map_err(|_| UnknownKind(value))
    }
}

/// The file attached to a resource.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FileInfo {
    /// Original file name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type (sniffed and checked against the allow-list).
    pub content_type: String,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    /// Where to download it.
    pub download_url: String,
}

/// A resource as the API shows it.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Resource {
    /// UUID v7.
    pub id: Uuid,
    /// Kind.
    pub kind: ResourceKind,
    /// 1–200 characters.
    pub title: String,
    /// Markdown, at most 100 000 characters.
    pub body: String,
    /// Absolute http(s) URL; required for links.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    pub url: Option<String>,
    /// Tag names, sorted.
    pub tags: Vec<String>,
    /// Marked as favorite.
    pub favorite: bool,
    /// The attached file, if any.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    pub file: Option<FileInfo>,
    /// Creation time.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last change.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A tag as the API shows it.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Tag {
    /// UUID v7.
    pub id: Uuid,
    /// Lowercase name, unique per user.
    pub name: String,
    /// How many of the owner's resources carry it.
    pub resource_count: i64,
    /// Creation time.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// POST /resources and PUT /resources/{id} body: every writable field (PUT resets omitted
/// optional fields to their defaults).
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceInput {
    /// Kind.
    pub kind: ResourceKind,
    /// Title.
    pub title: String,
    /// Body (default `""`).
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    pub body: Option<String>,
    /// URL (default `null`).
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    pub url: Option<String>,
    /// Tag names (default `[]`), created on the fly.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Favorite (default `false`).
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    pub favorite: Option<bool>,
}

/// PATCH /resources/{id} body: only the fields given change.
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourcePatch {
    /// Kind.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    #[schema(value_type = Option<ResourceKind>)]
    pub kind: Patch<ResourceKind>,
    /// Title.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub title: Patch<String>,
    /// Body.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub body: Patch<String>,
    /// URL (`null` clears it).
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub url: Patch<String>,
    /// Tag names (replace the set).
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Patch<Vec<String>>,
    /// Favorite.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub favorite: Patch<bool>,
}

/// POST /tags and PATCH /tags/{id} body.
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagInput {
    /// 1–50 characters; trimmed and stored lowercase.
    pub name: String,
}

/// Validated resource fields, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceFields {
    /// Kind.
    pub kind: ResourceKind,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// URL.
    pub url: Option<String>,
    /// Favorite.
    pub favorite: bool,
}

/// Validated changes of a PATCH (`None`: unchanged; `url: Some(None)`: cleared).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceChanges {
    /// New kind.
    pub kind: Option<ResourceKind>,
    /// New title.
    pub title: Option<String>,
    /// New body.
    pub body: Option<String>,
    /// New URL or cleared.
    pub url: Option<Option<String>>,
    /// New favorite flag.
    pub favorite: Option<bool>,
    /// New tag set.
    pub tags: Option<Vec<String>>,
}

/// Checks a title: trimmed, 1–200 characters, a single line (no control characters, see
/// [`crate::text`]).
///
/// # Errors
/// A message when empty (after trimming), too long, or holding a control character.
pub fn parse_title(raw: &str) -> Result<String, String> {
    let title = raw.trim();
    text::check_controls(title, Lines::Single)?;
    if title.is_empty() {
        return Err("This field may not be blank.".into());
    }
    if text::longer_than(title, TITLE_MAX) {
        return Err(text::too_long(TITLE_MAX));
    }
    Ok(title.to_string())
}

/// Checks a body: at most 100,000 characters of multi-line text (tab and line breaks, no other
/// control characters, see [`crate::text`]).
///
/// # Errors
/// A message when too long or holding a refused control character.
pub fn parse_body(raw: &str) -> Result<String, String> {
    if text::longer_than(raw, BODY_MAX) {
        return Err(text::too_long(BODY_MAX));
    }
    text::check_controls(raw, Lines::Multi)?;
    Ok(raw.to_string())
}

/// Checks a URL: absolute, http or https, with a host, at most 2,048 characters, without
/// whitespace or control characters.
///
/// # Errors
/// [`NUL_MESSAGE`](text::NUL_MESSAGE) for a NUL, "Enter a valid URL." otherwise.
pub fn parse_url(raw: &str) -> Result<String, String> {
    let invalid = || "Enter a valid URL.".to_string();
    text::check_nul(raw)?;
    let text = raw.trim();
    if text.is_empty()
        || text::longer_than(text, URL_MAX)
        || text.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid());
    }
    let parsed = url::Url::parse(text).map_err(|_| invalid())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid());
    }
    Ok(text.to_string())
}

/// Normalises one tag name: trimmed, lowercase, 1–50 characters, a single line (no control
/// characters).
///
/// # Errors
/// A message naming the problem.
pub fn parse_tag(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.contains('\0') {
        return Err(text::NUL_MESSAGE.into());
    }
    if trimmed.chars().any(char::is_control) {
        return Err("Tag names may not contain control characters.".into());
    }
    if trimmed.is_empty() {
        return Err("Tag names may not be blank.".into());
    }
    // Counted before lowercasing, which may lengthen a name, so that no huge input is
    // lowercased first.
    if text::longer_than(trimmed, TAG_MAX) {
        return Err(format!("Tag names have at most {TAG_MAX} characters."));
    }
    let name = trimmed.to_lowercase();
    if text::longer_than(&name, TAG_MAX) {
        return Err(format!("Tag names have at most {TAG_MAX} characters."));
    }
    Ok(name)
}

/// Normalises a tag list: each name checked, duplicates merged, sorted, at most 20. Each
/// distinct problem is reported once, however many names share it (the answer to a body of
/// ten thousand bad names stays small).
pub fn parse_tags(raw: &[String], errors: &mut FieldErrors) -> Option<Vec<String>> {
    let mut names = Vec::with_capacity(raw.len().min(TAGS_PER_RESOURCE_MAX + 1));
    let mut problems: Vec<String> = Vec::new();
    for name in raw {
        match parse_tag(name) {
            Ok(name) => names.push(name),
            Err(message) => {
                if !problems.contains(&message) {
                    problems.push(message);
                }
            }
        }
    }
    let mut ok = problems.is_empty();
    for message in problems {
        errors.add("tags", message);
    }
    names.sort();
    names.dedup();
    if names.len() > TAGS_PER_RESOURCE_MAX {
        errors.add(
            "tags",
            format!("Ensure there are no more than {TAGS_PER_RESOURCE_MAX} tags."),
        );
        ok = false;
    }
    ok.then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(parse_url("https://example.com/a?b=c").is_ok());
        assert!(parse_url("http://localhost:8000").is_ok());
        for bad in [
            "",
            "example.com",
            "ftp://example.com",
            "javascript:alert(1)",
            "https://",
            "http:// x.com",
            "mailto:a@b.c",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_are_normalised() {
        let mut errors = FieldErrors::new();
        let tags = parse_tags(&[" Rust ".into(), "rust".into(), "DB".into()], &mut errors).unwrap();
        assert_eq!(tags, vec!["db", "rust"]);
        let too_many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(parse_tags(&too_many, &mut errors).is_none());
        assert!(parse_tags(&["".into()], &mut FieldErrors::new()).is_none());
        assert!(parse_tags(&["x".repeat(51)], &mut FieldErrors::new()).is_none());
    }

    #[test]
    fn titles() {
        assert_eq!(parse_title("  hi ").unwrap(), "hi");
        assert!(parse_title("   ").is_err());
        assert!(parse_title(&"t".repeat(201)).is_err());
        assert!(parse_title(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn nul_is_refused_in_every_resource_field() {
        use crate::text::NUL_MESSAGE;
        assert_eq!(parse_title("a\0b").unwrap_err(), NUL_MESSAGE);
        assert_eq!(parse_title("\0").unwrap_err(), NUL_MESSAGE);
        assert_eq!(parse_body("# a\n\0").unwrap_err(), NUL_MESSAGE);
        assert_eq!(
            parse_url("https://example.com/\0").unwrap_err(),
            NUL_MESSAGE
        );
        assert_eq!(parse_tag("ru\0st").unwrap_err(), NUL_MESSAGE);
    }

    #[test]
    fn control_characters_follow_the_line_rules() {
        // Titles and tags are single lines; surrounding whitespace is trimmed first.
        assert_eq!(parse_title("\tTitle\n").unwrap(), "Title");
        for bad in ["two\nlines", "tab\there", "\u{1b}[2Jclear", "bell\u{7}"] {
            assert!(parse_title(bad).is_err(), "{bad:?}");
            assert!(parse_tag(bad).is_err(), "{bad:?}");
        }
        // Bodies are Markdown: tabs and line breaks stay, other controls go.
        assert_eq!(parse_body("# T\r\n\n\tcode").unwrap(), "# T\r\n\n\tcode");
        assert!(parse_body("\u{1b}]8;;https://evil\u{7}").is_err());
        // URLs never hold control characters, even percent-decodable ones are left encoded.
        assert!(parse_url("https://example.com/\u{7f}").is_err());
        assert!(parse_url("https://example.com/%00").is_ok());
    }

    #[test]
    fn limits_count_characters() {
        assert!(parse_body(&"é".repeat(BODY_MAX)).is_ok());
        assert!(parse_body(&"x".repeat(BODY_MAX + 1)).is_err());
        let long_url = format!("https://example.com/{}", "é".repeat(URL_MAX - 20));
        assert!(parse_url(&long_url).is_ok());
        let too_long = format!("https://example.com/{}", "a".repeat(URL_MAX));
        assert!(parse_url(&too_long).is_err());
        assert!(parse_tag(&"é".repeat(TAG_MAX)).is_ok());
        assert!(parse_tag(&"É".repeat(TAG_MAX + 1)).is_err());
    }

    #[test]
    fn each_tag_problem_is_reported_once() {
        let mut errors = FieldErrors::new();
        let raw: Vec<String> = (0..10_000)
            .map(|i| if i % 2 == 0 { "".into() } else { "x\0".into() })
            .collect();
        assert!(parse_tags(&raw, &mut errors).is_none());
        assert_eq!(
            errors.get("tags").map(<[String]>::len),
            Some(2),
            "{errors:?}"
        );
    }
}
