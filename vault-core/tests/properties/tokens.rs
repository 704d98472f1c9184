//! Access tokens: whatever is presented as a bearer token, only a token the codec issued,
//! byte for byte, verifies; nothing panics.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use proptest::prelude::*;
use uuid::Uuid;
use vault_core::auth::TokenCodec;
use vault_core::config::{CacheConfig, Config, Secret};
use vault_core::{Error, Role};

use super::check;

fn codec(cache: bool) -> TokenCodec {
    let mut config = Config::new("sqlite::memory:", Secret::new(vec![42; 32]));
    if !cache {
        config.auth.verified_token_cache = CacheConfig::off();
    }
    TokenCodec::new(&config)
}

fn issue(codec: &TokenCodec) -> String {
    codec
        .issue_access(Uuid::now_v7(), Role::User, 7, vault_core::time::now())
        .expect("issuing works")
}

/// What base64url, JWT punctuation and a few bytes that confuse decoders are made of.
fn token_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_=+/.-]{0,600}",
        "[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,300}\\.[A-Za-z0-9_-]{0,60}",
        proptest::collection::vec(any::<u8>(), 0..400)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    ]
}

/// Strings that are not tokens never verify, with the verified-token cache on or off.
#[test]
fn arbitrary_strings_never_verify() {
    let (cached, uncached) = (codec(true), codec(false));
    // A genuine token in the cache, so lookups by signature find something.
    let genuine = issue(&cached);
    cached
        .verify_access(&genuine)
        .expect("genuine token verifies");
    check(2048, token_like(), |text| {
        for codec in [&cached, &uncached] {
            let result = codec.verify_access(&text);
            prop_assert!(
                matches!(result, Err(Error::InvalidAccessToken(_))),
                "{result:?}"
            );
        }
        Ok(())
    });
}

/// One edit of a token.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the character at this position (modulo the length) with this one.
    Replace(usize, char),
    /// Insert this character at this position.
    Insert(usize, char),
    /// Remove the character at this position.
    Remove(usize),
    /// Keep only this many characters.
    Truncate(usize),
    /// Append this text.
    Append(String),
    /// Swap two of the three segments.
    Swap(usize, usize),
    /// Change the case of the character at this position.
    Case(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let b64 = prop_oneof![
        proptest::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/"
                .chars()
                .collect::<Vec<_>>()
        ),
        any::<char>(),
    ];
    prop_oneof![
        (any::<usize>(), b64.clone()).prop_map(|(at, c)| Mutation::Replace(at, c)),
        (any::<usize>(), b64).prop_map(|(at, c)| Mutation::Insert(at, c)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
        "[A-Za-z0-9_.=-]{1,8}".prop_map(Mutation::Append),
        (0usize..3, 0usize..3).prop_map(|(a, b)| Mutation::Swap(a, b)),
        any::<usize>().prop_map(Mutation::Case),
    ]
}

fn apply(token: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    for mutation in mutations {
        let len = chars.len().max(1);
        match mutation {
            Mutation::Replace(at, c) => {
                if let Some(slot) = chars.get_mut(at % len) {
                    *slot = *c;
                }
            }
            Mutation::Insert(at, c) => chars.insert(at % (chars.len() + 1), *c),
            Mutation::Remove(at) => {
                if !chars.is_empty() {
                    chars.remove(at % len);
                }
            }
            Mutation::Truncate(keep) => chars.truncate(keep % len),
            Mutation::Append(text) => chars.extend(text.chars()),
            Mutation::Swap(a, b) => {
                let text: String = chars.iter().collect();
                let mut segments: Vec<&str> = text.split('.').collect();
                if *a < segments.len() && *b < segments.len() {
                    segments.swap(*a, *b);
                }
                chars = segments.join(".").chars().collect();
            }
            Mutation::Case(at) => {
                if let Some(slot) = chars.get_mut(at % len) {
                    *slot = if slot.is_ascii_uppercase() {
                        slot.to_ascii_lowercase()
                    } else {
                        slot.to_ascii_uppercase()
                    };
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// Every edit of a genuine token is refused, unless the edits cancel out: whether the token
/// was verified (and remembered) before or not.
#[test]
fn mutated_tokens_never_verify() {
    let (cached, uncached) = (codec(true), codec(false));
    let tokens = [issue(&cached), issue(&cached)];
    for token in &tokens {
        cached.verify_access(token).expect("genuine token verifies");
    }
    check(
        2048,
        (0..tokens.len(), proptest::collection::vec(mutation(), 1..4)),
        |(which, mutations)| {
            let token = &tokens[which];
            let mutated = apply(token, &mutations);
            for codec in [&cached, &uncached] {
                let result = codec.verify_access(&mutated);
                if mutated == *token {
                    prop_assert!(result.is_ok(), "{result:?}");
                } else {
                    prop_assert!(
                        matches!(result, Err(Error::InvalidAccessToken(_))),
                        "{mutated:?} gave {result:?}"
                    );
                }
            }
            Ok(())
        },
    );
}

/// Any header and claims put in front of a genuine signature are refused: the signature
/// covers what was signed, nothing else, and the cache of verified signatures knows it.
#[test]
fn forged_segments_with_a_genuine_signature_never_verify() {
    let codec = codec(true);
    let token = issue(&codec);
    codec.verify_access(&token).expect("genuine token verifies");
    let (signed, signature) = token.rsplit_once('.').expect("three segments");
    let (header, claims) = signed.split_once('.').expect("three segments");
    let decode = |segment: &str| {
        String::from_utf8(URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("UTF-8")
    };
    let (header, claims) = (decode(header), decode(claims));
    let json_edit = prop_oneof![
        // The genuine JSON with whitespace, a duplicate or extra member, or another value.
        Just(None),
        "[ \t\n]{1,3}".prop_map(Some),
        "\"(alg|typ|crit|kid|sub|exp|role|ver|iss|aud)\":[0-9a-z\"]{1,12},".prop_map(Some),
    ];
    check(
        1024,
        (json_edit.clone(), json_edit, any::<bool>()),
        |(header_edit, claims_edit, pad)| {
            if header_edit.is_none() && claims_edit.is_none() && !pad {
                return Ok(());
            }
            let edit = |json: &str, extra: &Option<String>| match extra {
                Some(extra) => format!("{{{extra}{}", &json[1..]),
                None => json.to_string(),
            };
            let engine = if pad {
                base64::engine::general_purpose::URL_SAFE
            } else {
                URL_SAFE_NO_PAD
            };
            let forged = format!(
                "{}.{}.{signature}",
                engine.encode(edit(&header, &header_edit)),
                engine.encode(edit(&claims, &claims_edit))
            );
            if forged == token {
                return Ok(());
            }
            let result = codec.verify_access(&forged);
            prop_assert!(
                matches!(result, Err(Error::InvalidAccessToken(_))),
                "{forged} gave {result:?}"
            );
            Ok(())
        },
    );
}
