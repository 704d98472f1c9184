//! Property tests of the `?search=` language: any input parses, both renderings are accepted by
//! their engine (SQLite FTS5 `MATCH`, PostgreSQL `websearch_to_tsquery`), and over a small
//! vocabulary both engines find exactly the documents the parsed query describes, so one search
//! means the same on either database.
//!
//! PostgreSQL properties run when `VAULT_TEST_POSTGRES_URL` is set. Cases per property:
//! `PROPTEST_CASES` when set, else the budget named at each property.

use std::str::FromStr;

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, PgConnection, SqliteConnection};

use super::{words, SearchQuery, Term};

/// The runner configuration: `cases` unless `PROPTEST_CASES` says otherwise; no failure files
/// (a failure prints its minimal input, which becomes a plain regression test).
fn budget(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}

/// Runs `test` on `cases` values of `strategy`, panicking with the minimal failing input.
fn check<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(budget(cases));
    if let Err(failure) = runner.run(&strategy, test) {
        panic!("{failure}");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Pieces that mean something to one of the query languages involved, or to the parser.
const SYNTAX: &[&str] = &[
    "\"", "-", "--", "-\"", "or", "OR", "Or", "or-", "AND", "NOT", "NEAR", "NEAR(", "*", "^", ":",
    "(", ")", "{", "}", "+", "'", "\\", "!", "&", "|", "<->", "<2>", ",", ".", "col:", "\0",
    "\u{301}", "\u{200b}", "\u{3000}", "\t", "\n", " ", "  ", "é", "ß", "ẞ", "İ", "日本", "١٢",
    "x", "rust", "go",
];

/// Search text an attacker might send: arbitrary Unicode, or a mix of syntax pieces and words.
fn hostile_search() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(proptest::sample::select(SYNTAX), 0..16)
            .prop_map(|pieces| pieces.concat()),
        proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(SYNTAX).prop_map(str::to_string),
                "[a-z]{1,4}",
                "\\PC{1,3}",
            ],
            0..10
        )
        .prop_map(|pieces| pieces.concat()),
    ]
}

/// The documents of the differential property are made of these words (and the separators
/// below), so that random queries hit and miss them often. Case pairs whose lowercase is one
/// character for another (`İ`, `Σ`) are there on purpose; a lowercase final `ς` and letters
/// with diacritics are not: FTS5 folds them to `σ` and removes the diacritics, PostgreSQL's
/// `lower()` does neither (docs/api.md says so for diacritics).
const VOCABULARY: &[&str] = &[
    "ant",
    "bee",
    "cat",
    "or",
    "Ant",
    "BEE",
    "x1",
    "42",
    "İstanbul",
    "istanbul",
    "ΟΔΟΣ",
    "Οδοσ",
    "École",
    "école",
    "STRASSE",
    "straße",
];

/// Separators between words in documents and queries: every one is punctuation or space to
/// all three tokenizers (Rust's, FTS5's `unicode61`, PostgreSQL's after the schema's
/// `regexp_replace`).
const SEPARATORS: &[&str] = &[" ", "  ", ".", "-", "_", "/", ", "];

fn document() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        (
            proptest::sample::select(VOCABULARY),
            proptest::sample::select(SEPARATORS),
        ),
        0..8,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .map(|(word, separator)| format!("{word}{separator}"))
            .collect()
    })
}

fn vocabulary_query() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::sample::select(VOCABULARY),
            1 => proptest::sample::select(&["\"", "-", "-\"", "or", "OR", "*", "(", ")"][..]),
            2 => proptest::sample::select(SEPARATORS),
        ],
        1..12,
    )
    .prop_map(|pieces| pieces.concat())
}

/// Whether `document` matches `query` as the module documents the language: some alternative
/// whose required terms all appear (a phrase as consecutive words) and no excluded term does.
fn model_matches(query: &SearchQuery, document: &str) -> bool {
    let document = words(document);
    let appears = |term: &Term| {
        document
            .windows(term.words.len())
            .any(|window| window == term.words.as_slice())
    };
    query
        .alternatives
        .iter()
        .any(|terms| terms.iter().all(|term| appears(term) != term.excluded))
}

/// An in-memory FTS5 table tokenized as `resources_fts` is, holding `documents` (rowid =
/// index + 1).
async fn fts5_table(documents: &[String]) -> SqliteConnection {
    let mut connection = SqliteConnectOptions::from_str("sqlite::memory:")
        .expect("in-memory SQLite URL")
        .connect()
        .await
        .expect("in-memory SQLite opens");
    sqlx::query(
        "CREATE VIRTUAL TABLE docs USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')",
    )
    .execute(&mut connection)
    .await
    .expect("FTS5 table");
    for (n, document) in documents.iter().enumerate() {
        sqlx::query("INSERT INTO docs (rowid, body) VALUES ($1, $2)")
            .bind(i64::try_from(n + 1).expect("few documents"))
            .bind(document)
            .execute(&mut connection)
            .await
            .expect("FTS5 insert");
    }
    connection
}

async fn fts5_hits(
    connection: &mut SqliteConnection,
    query: &SearchQuery,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT rowid FROM docs WHERE docs MATCH $1 ORDER BY rowid")
        .bind(query.to_fts5())
        .fetch_all(connection)
        .await
}

async fn postgres() -> Option<PgConnection> {
    let url = std::env::var("VAULT_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())?;
    let options = PgConnectOptions::from_str(&url).expect("valid VAULT_TEST_POSTGRES_URL");
    Some(
        options
            .connect()
            .await
            .expect("PostgreSQL at VAULT_TEST_POSTGRES_URL answers"),
    )
}

/// The numbers (1-based) of the `documents` PostgreSQL matches, each indexed as the
/// `resources.search` column indexes a field.
async fn postgres_hits(
    connection: &mut PgConnection,
    documents: &[String],
    query: &SearchQuery,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT n FROM unnest($1::text[]) WITH ORDINALITY AS d(body, n) \
         WHERE to_tsvector('simple', regexp_replace(body, '[[:punct:][:space:]]+', ' ', 'g')) \
               @@ websearch_to_tsquery('simple', $2) \
         ORDER BY n",
    )
    .bind(documents)
    .bind(query.to_websearch())
    .fetch_all(connection)
    .await
}

/// Parsing never fails or panics, and what each rendering holds is inert: FTS5 gets only
/// quoted runs of letters and digits joined by its operators, PostgreSQL only letters, digits,
/// spaces, quotes, `-` and the word `or`.
#[test]
fn renderings_hold_only_quoted_words_and_operators() {
    check(1024, hostile_search(), |input| {
        let query = SearchQuery::parse(&input);
        let fts5 = query.to_fts5();
        let websearch = query.to_websearch();
        prop_assert_eq!(query.is_empty(), fts5.is_empty());
        prop_assert_eq!(query.is_empty(), websearch.is_empty());

        // Outside quotes, FTS5 sees only parentheses, spaces and AND / OR / NOT.
        let mut quoted = false;
        let mut outside = String::new();
        for c in fts5.chars() {
            if c == '"' {
                quoted = !quoted;
                outside.push(' ');
            } else if quoted {
                prop_assert!(c.is_alphanumeric() || c == ' ', "{c:?} quoted in {fts5:?}");
            } else {
                outside.push(c);
            }
        }
        prop_assert!(!quoted, "unbalanced quotes in {fts5:?}");
        for token in outside.split([' ', '(', ')']).filter(|t| !t.is_empty()) {
            prop_assert!(
                matches!(token, "AND" | "OR" | "NOT"),
                "{token:?} in {fts5:?}"
            );
        }

        prop_assert!(
            websearch
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '"' | '-')),
            "{websearch:?}"
        );
        Ok(())
    });
}

/// Every rendering is a valid FTS5 query: no syntax error from `MATCH`, whatever was typed.
#[test]
fn fts5_accepts_every_rendering() {
    let runtime = runtime();
    let documents = [
        "rust or go",
        "ferris borrow checker",
        "日本語 テキスト",
        "café crème",
    ]
    .map(String::from);
    let connection = std::sync::Mutex::new(runtime.block_on(fts5_table(&documents)));
    check(512, hostile_search(), |input| {
        let query = SearchQuery::parse(&input);
        if query.is_empty() {
            return Ok(());
        }
        let mut connection = connection.lock().expect("one case at a time");
        let hits = runtime.block_on(fts5_hits(&mut connection, &query));
        prop_assert!(hits.is_ok(), "{:?} for {:?}", hits, query.to_fts5());
        Ok(())
    });
}

/// Every rendering is valid `websearch_to_tsquery` input and its query runs against an
/// indexed document.
#[test]
fn postgres_accepts_every_rendering() {
    let runtime = runtime();
    let Some(connection) = runtime.block_on(postgres()) else {
        eprintln!("skipped: VAULT_TEST_POSTGRES_URL is not set");
        return;
    };
    let connection = std::sync::Mutex::new(connection);
    let documents = [
        "rust or go",
        "ferris borrow checker",
        "日本語 テキスト",
        "café crème",
    ]
    .map(String::from);
    check(512, hostile_search(), |input| {
        let query = SearchQuery::parse(&input);
        if query.is_empty() {
            return Ok(());
        }
        let mut connection = connection.lock().expect("one case at a time");
        let hits = runtime.block_on(postgres_hits(&mut connection, &documents, &query));
        prop_assert!(hits.is_ok(), "{:?} for {:?}", hits, query.to_websearch());
        Ok(())
    });
}

/// The documents of the differential properties and the numbers (1-based) of those that
/// `query` describes, by the model.
fn described(documents: &[String], query: &SearchQuery) -> Vec<i64> {
    (1..)
        .zip(documents)
        .filter(|(_, document)| model_matches(query, document))
        .map(|(n, _)| n)
        .collect()
}

fn differential_cases() -> impl Strategy<Value = (Vec<String>, String)> {
    (
        proptest::collection::vec(document(), 1..8),
        vocabulary_query(),
    )
}

/// Over a small vocabulary, FTS5 finds exactly the documents the parsed query describes.
#[test]
fn fts5_finds_what_the_query_describes() {
    let runtime = runtime();
    check(256, differential_cases(), |(documents, input)| {
        let query = SearchQuery::parse(&input);
        if query.is_empty() {
            return Ok(());
        }
        let found = runtime.block_on(async {
            let mut connection = fts5_table(&documents).await;
            fts5_hits(&mut connection, &query).await
        });
        let (fts5, expected) = (query.to_fts5(), described(&documents, &query));
        prop_assert_eq!(
            found.ok(),
            Some(expected),
            "FTS5 {:?} for {:?}",
            fts5,
            input
        );
        Ok(())
    });
}

/// Over the same vocabulary, PostgreSQL finds exactly the documents the parsed query
/// describes: the two renderings mean the same thing.
#[test]
fn postgres_finds_what_the_query_describes() {
    let runtime = runtime();
    let Some(connection) = runtime.block_on(postgres()) else {
        eprintln!("skipped: VAULT_TEST_POSTGRES_URL is not set");
        return;
    };
    let connection = std::sync::Mutex::new(connection);
    check(256, differential_cases(), |(documents, input)| {
        let query = SearchQuery::parse(&input);
        if query.is_empty() {
            return Ok(());
        }
        let mut connection = connection.lock().expect("one case at a time");
        let found = runtime.block_on(postgres_hits(&mut connection, &documents, &query));
        let (websearch, expected) = (query.to_websearch(), described(&documents, &query));
        prop_assert_eq!(
            found.ok(),
            Some(expected),
            "PostgreSQL {:?} for {:?}",
            websearch,
            input
        );
        Ok(())
    });
}

/// Found by the properties above: `str::to_lowercase` turned a final `Σ` into `ς` and `İ`
/// into `i` plus a combining dot, words neither index holds (PostgreSQL did not find `ΟΔΟΣ`
/// in a document saying `ΟΔΟΣ`).
#[test]
fn words_are_lowercased_a_character_at_a_time() {
    assert_eq!(words("ΟΔΟΣ İstanbul"), ["οδοσ", "istanbul"]);
    assert_eq!(SearchQuery::parse("İ").to_fts5(), "((\"i\"))");
}
