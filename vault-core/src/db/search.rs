//! The `?search=` language, parsed once and rendered for each backend so that one query means
//! the same on SQLite (FTS5) and PostgreSQL (`websearch_to_tsquery`).
//!
//! The syntax is PostgreSQL's web-search syntax, which users know from search engines:
//!
//! - words are all required: `ferris borrow`;
//! - `"quoted words"` must appear next to each other, in order;
//! - `-word` (or `-"quoted words"`) must not appear;
//! - `or` between words gives alternatives: `rust or go` (`a b or c` is `(a and b) or c`).
//!
//! Text is split into words at every character that is not a letter or a digit, the way both
//! indexes split the documents, so `example.com` searches for the phrase `"example com"` and
//! matches a URL as well as the same words in a body. Anything else (`*`, `:`, parentheses,
//! a stray quote) is punctuation, never an operator. A group made only of exclusions is
//! dropped (FTS5 cannot express "everything but"), on both backends alike.

/// One required or excluded word or phrase: its words, lowercase, letters and digits only.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    excluded: bool,
    words: Vec<String>,
}

/// A parsed search: alternatives (`or`), each a conjunction of terms. Empty when the text held
/// no word at all; such a search matches nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SearchQuery {
    alternatives: Vec<Vec<Term>>,
}

/// Splits `text` into lowercase runs of letters and digits.
///
/// Lowercased a character at a time, as PostgreSQL's `lower()` does, not with `str`'s
/// context-dependent rules: a word-final `Σ` stays `σ` (not `ς`), and the combining dot of
/// `İ` → `i̇` is dropped, so that the words searched for are the words both indexes hold.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.chars()
                .flat_map(char::to_lowercase)
                .filter(|c| c.is_alphanumeric())
                .collect()
        })
        .collect()
}

impl SearchQuery {
    /// Parses user input; never fails.
    pub(crate) fn parse(input: &str) -> Self {
        let mut alternatives = Vec::new();
        let mut current: Vec<Term> = Vec::new();
        let mut rest = input.trim_start();
        while !rest.is_empty() {
            let excluded = rest.starts_with('-');
            let after_sign = if excluded { &rest[1..] } else { rest };
            let (raw, quoted, next) = if let Some(inner) = after_sign.strip_prefix('"') {
                match inner.find('"') {
                    Some(end) => (&inner[..end], true, &inner[end + 1..]),
                    None => (inner, true, ""),
                }
            } else {
                let end = after_sign
                    .find(|c: char| c.is_whitespace() || c == '"')
                    .unwrap_or(after_sign.len());
                (&after_sign[..end], false, &after_sign[end..])
            };
            rest = next.trim_start();
            if !quoted && !excluded && raw.eq_ignore_ascii_case("or") {
                if !current.is_empty() {
                    alternatives.push(std::mem::take(&mut current));
                }
                continue;
            }
            let words = words(raw);
            if !words.is_empty() {
                current.push(Term { excluded, words });
            }
        }
        alternatives.push(current);
        alternatives.retain(|terms| terms.iter().any(|t| !t.excluded));
        Self { alternatives }
    }

    /// Whether nothing searchable was given.
    pub(crate) fn is_empty(&self) -> bool {
        self.alternatives.is_empty()
    }

    /// An FTS5 `MATCH` expression: every word quoted, so nothing in it is an FTS5 operator.
    pub(crate) fn to_fts5(&self) -> String {
        let phrase = |term: &Term| format!("\"{}\"", term.words.join(" "));
        self.alternatives
            .iter()
            .map(|terms| {
                let required: Vec<String> =
                    terms.iter().filter(|t| !t.excluded).map(phrase).collect();
                let mut group = format!("({})", required.join(" AND "));
                for term in terms.iter().filter(|t| t.excluded) {
                    group.push_str(" NOT ");
                    group.push_str(&phrase(term));
                }
                format!("({group})")
            })
            .collect::<Vec<_>>()
            .join(" OR ")
    }

    /// Input for PostgreSQL's `websearch_to_tsquery`, rebuilt from the parsed terms so that it
    /// holds only letters, digits, quotes, `-` and `or`.
    pub(crate) fn to_websearch(&self) -> String {
        self.alternatives
            .iter()
            .map(|terms| {
                terms
                    .iter()
                    .map(|term| {
                        let sign = if term.excluded { "-" } else { "" };
                        match term.words.as_slice() {
                            // A lone `or` must stay a word, not become the operator.
                            [word] if word != "or" => format!("{sign}{word}"),
                            words => format!("{sign}\"{}\"", words.join(" ")),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::SearchQuery;

    fn both(input: &str) -> (String, String) {
        let query = SearchQuery::parse(input);
        (query.to_fts5(), query.to_websearch())
    }

    #[test]
    fn words_are_all_required_and_lowercased() {
        assert_eq!(
            both("  Ferris   borrow "),
            (
                "((\"ferris\" AND \"borrow\"))".into(),
                "ferris borrow".into()
            )
        );
    }

    #[test]
    fn punctuated_words_become_phrases() {
        assert_eq!(
            both("example.com"),
            ("((\"example com\"))".into(), "\"example com\"".into())
        );
    }

    #[test]
    fn quotes_exclusions_and_alternatives() {
        assert_eq!(
            both("\"borrow checker\" -unsafe or Go"),
            (
                "((\"borrow checker\") NOT \"unsafe\") OR ((\"go\"))".into(),
                "\"borrow checker\" -unsafe or go".into()
            )
        );
    }

    #[test]
    fn operators_of_fts5_are_plain_punctuation() {
        for odd in [
            "ferris*", "ferris:", "(ferris)", "ferris!", "^ferris", "\"ferris",
        ] {
            assert_eq!(both(odd).0, "((\"ferris\"))", "{odd}");
        }
        assert_eq!(both("NEAR(a b)").0, "((\"near a\" AND \"b\"))");
        assert_eq!(both("a AND b").0, "((\"a\" AND \"and\" AND \"b\"))");
    }

    #[test]
    fn nothing_searchable_is_empty() {
        for input in ["", "   ", "!!!", "or", "-word", "\"\"", "- -", "or or"] {
            assert!(SearchQuery::parse(input).is_empty(), "{input:?}");
        }
    }

    #[test]
    fn an_exclusion_only_alternative_is_dropped() {
        assert_eq!(both("rust or -go").1, "rust");
    }

    #[test]
    fn a_quoted_or_stays_a_word() {
        let query = SearchQuery::parse("\"or\"");
        assert_eq!(query.to_websearch(), "\"or\"");
        assert_eq!(query.to_fts5(), "((\"or\"))");
    }

    #[test]
    fn never_panics_on_unicode() {
        for input in [
            "-",
            "\"",
            "-\"",
            "é-ü",
            "日本語 or 中文",
            "\u{0301}x",
            "ß\"ẞ",
        ] {
            let query = SearchQuery::parse(input);
            let _ = (query.to_fts5(), query.to_websearch());
        }
        assert_eq!(both("Café-crème").1, "\"café crème\"");
    }
}
