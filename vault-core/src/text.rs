//! The rules every text input shares, whichever field, module or database it ends up in.
//!
//! - **NUL** (`U+0000`) is refused everywhere, in every string of a JSON body or form, every
//!   query parameter and every field parser, before anything reaches a store. PostgreSQL cannot
//!   store it at all and SQLite would keep it silently: without this rule, the database would
//!   decide whether the same request is a 400, a 201 or a 500.
//! - **Single-line** fields (titles, tag names, display names, usernames, emails, URLs) refuse
//!   every control character (`Cc`: C0, DEL and C1), tab and line breaks included: they are
//!   shown in lists, headers and terminals, where an escape sequence or a line break would be
//!   read as structure.
//! - **Multi-line** fields (a resource's Markdown body) admit tab, line feed and carriage
//!   return, and refuse every other control character.
//!
//! Lengths are each field's own (see the module models); [`too_long`] words the message.

use crate::error::FieldErrors;

/// The message for a NUL character, in any field.
pub const NUL_MESSAGE: &str = "Null characters are not allowed.";

/// The message for another control character in a field that does not admit it.
pub const CONTROL_MESSAGE: &str = "Control characters are not allowed.";

/// Which control characters a field admits (NUL never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// No control character at all.
    Single,
    /// Tab, line feed and carriage return only.
    Multi,
}

/// Checks `text` against the control-character rules of its kind of field.
///
/// # Errors
/// [`NUL_MESSAGE`] when it holds a NUL, [`CONTROL_MESSAGE`] when it holds a control character
/// its kind of field does not admit.
pub fn check_controls(text: &str, lines: Lines) -> Result<(), String> {
    if text.contains('\0') {
        return Err(NUL_MESSAGE.into());
    }
    let refused = |c: char| match lines {
        Lines::Single => c.is_control(),
        Lines::Multi => c.is_control() && !matches!(c, '\t' | '\n' | '\r'),
    };
    if text.chars().any(refused) {
        return Err(CONTROL_MESSAGE.into());
    }
    Ok(())
}

/// Checks only for NUL (fields where any other character is the client's business, such as
/// passwords).
///
/// # Errors
/// [`NUL_MESSAGE`] when `text` holds a NUL.
pub fn check_nul(text: &str) -> Result<(), String> {
    if text.contains('\0') {
        Err(NUL_MESSAGE.into())
    } else {
        Ok(())
    }
}

/// The message for a text over `max` characters.
pub fn too_long(max: usize) -> String {
    format!("Ensure this field has no more than {max} characters.")
}

/// Whether `text` has more than `max` characters, counting no further than needed (a huge
/// input is not walked to its end).
pub fn longer_than(text: &str, max: usize) -> bool {
    text.len() > max && text.chars().nth(max).is_some()
}

/// Whether a JSON document may hold a NUL: it can only be written as the escape `\u0000`, so
/// documents without that sequence (nearly all) are not parsed a second time.
pub(crate) fn may_hold_nul(json: &[u8]) -> bool {
    json.windows(6).any(|w| w == br"\u0000")
}

/// Records a [`NUL_MESSAGE`] for every string value of `value` that holds a NUL, under its
/// field: object keys joined with dots, array positions left out (a NUL in the third tag is
/// an error of `tags`). Object keys are not checked here: a key with a NUL is an unknown field.
pub(crate) fn nul_fields(value: &serde_json::Value, errors: &mut FieldErrors) {
    fn walk(value: &serde_json::Value, path: &mut String, errors: &mut FieldErrors) {
        match value {
            serde_json::Value::String(text) if text.contains('\0') => {
                let field = if path.is_empty() {
                    "non_field_errors"
                } else {
                    path.as_str()
                };
                if errors.get(field).is_none() {
                    errors.add(field, NUL_MESSAGE);
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    walk(item, path, errors);
                }
            }
            serde_json::Value::Object(members) => {
                for (key, member) in members {
                    let parent = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    walk(member, path, errors);
                    path.truncate(parent);
                }
            }
            _ => {}
        }
    }
    walk(value, &mut String::new(), errors);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_refused_in_every_kind_of_field() {
        for lines in [Lines::Single, Lines::Multi] {
            assert_eq!(
                check_controls("a\0b", lines).unwrap_err(),
                NUL_MESSAGE,
                "{lines:?}"
            );
            assert!(check_controls("plain text, é ü 漢字 🦀", lines).is_ok());
        }
        assert_eq!(check_nul("\0").unwrap_err(), NUL_MESSAGE);
        assert!(check_nul("tab\tand\x1b escape").is_ok());
    }

    #[test]
    fn single_line_fields_refuse_every_control_character() {
        for bad in [
            "a\tb",
            "a\nb",
            "a\rb",
            "\x1b[31mred",
            "bell\x07",
            "del\x7f",
            "c1\u{85}",
        ] {
            assert_eq!(
                check_controls(bad, Lines::Single).unwrap_err(),
                CONTROL_MESSAGE,
                "{bad:?}"
            );
        }
        // Format characters are not control characters: they are the text's own business.
        assert!(check_controls("zero\u{200b}width", Lines::Single).is_ok());
    }

    #[test]
    fn multi_line_fields_admit_tab_and_line_breaks_only() {
        assert!(check_controls("# Title\r\n\n\tindented", Lines::Multi).is_ok());
        for bad in ["\x1b[2J", "\x08", "\x0c", "\x7f", "\u{9b}"] {
            assert_eq!(
                check_controls(bad, Lines::Multi).unwrap_err(),
                CONTROL_MESSAGE,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(!longer_than(&"é".repeat(5), 5));
        assert!(longer_than(&"é".repeat(6), 5));
        assert!(!longer_than("", 0));
        assert!(longer_than("x", 0));
        assert_eq!(
            too_long(7),
            "Ensure this field has no more than 7 characters."
        );
    }

    #[test]
    fn nul_fields_are_named_by_their_path() {
        let value = serde_json::json!({
            "title": "ok",
            "body": "a\u{0}b",
            "tags": ["fine", "ba\u{0}d", "\u{0}"],
            "links": {"website": "\u{0}"},
            "count": 3,
        });
        let mut errors = FieldErrors::new();
        nul_fields(&value, &mut errors);
        let named: Vec<&str> = ["body", "tags", "links.website"]
            .into_iter()
            .filter(|f| errors.get(f) == Some(&[NUL_MESSAGE.to_string()][..]))
            .collect();
        assert_eq!(named, ["body", "tags", "links.website"], "{errors:?}");
        assert!(errors.get("title").is_none());
        let mut top = FieldErrors::new();
        nul_fields(&serde_json::json!("\u{0}"), &mut top);
        assert!(top.get("non_field_errors").is_some());
    }

    #[test]
    fn only_documents_with_the_escape_are_scanned() {
        assert!(may_hold_nul(br#"{"a":"x\u0000"}"#));
        assert!(!may_hold_nul(br#"{"a":"x\u0001"}"#));
        assert!(!may_hold_nul(b"{}"));
        // An escaped backslash followed by "u0000" is a false alarm the scan then clears.
        assert!(may_hold_nul(br#"{"a":"\\u0000"}"#));
        let value: serde_json::Value = serde_json::from_slice(br#"{"a":"\\u0000"}"#).unwrap();
        let mut errors = FieldErrors::new();
        nul_fields(&value, &mut errors);
        assert!(errors.is_empty());
    }
}
