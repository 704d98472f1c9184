//! Query strings and pagination: any query string decodes; the page parameters are a page or
//! a validation error naming them; page arithmetic never overflows; a whole listing request
//! is a page or a 4xx on both databases.

use proptest::prelude::*;
use vault_core::page::{PageRequest, Query, MAX_PAGE_SIZE};
use vault_core::testkit::Backend;
use vault_core::Error;

use super::{check, hostile_text, is_client_error, on_both_databases, runtime, World};

/// The parameters list endpoints read, and a few they do not.
const NAMES: &[&str] = &[
    "page",
    "page_size",
    "kind",
    "tag",
    "favorite",
    "ordering",
    "search",
    "page[]",
    "PAGE",
    "",
];

/// Values for numbers and choices: edge numbers, signs, spaces, exponents, junk.
fn parameter_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => hostile_text(),
        2 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => (1u64..1000).prop_map(|n| n.to_string()),
        1 => proptest::sample::select(&[
            "0", "1", "-0", "+1", " 1", "1 ", "01", "1e3", "1.0", "0x10", "18446744073709551615",
            "18446744073709551616", "9223372036854775807", "9223372036854775808",
            "100000000000000000", "note", "link", "file", "reference", "true", "false", "True",
            "yes", "title", "-title", "--title", "created_at", "-updated_at", "%", "%00", "+",
        ][..])
        .prop_map(str::to_string),
    ]
}

/// A raw query string: encoded pairs, raw junk, or broken percent-encoding.
fn query_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::collection::vec(
            (proptest::sample::select(NAMES), parameter_value()),
            0..8
        )
        .prop_map(|pairs| {
            let mut out = form_urlencoded::Serializer::new(String::new());
            for (name, value) in pairs {
                out.append_pair(name, &value);
            }
            out.finish()
        }),
        1 => any::<String>(),
        1 => "([a-z_]{0,10}=?[%0-9A-Fa-z+&=;]{0,12}&?){0,6}",
    ]
}

/// The decoded values of a query string.
fn raw_values(raw: &str) -> impl Iterator<Item = String> + '_ {
    form_urlencoded::parse(raw.as_bytes()).map(|(_, value)| value.into_owned())
}

/// Any query string is decoded, and its page parameters are a page within the limits or a
/// validation error naming exactly the parameters at fault.
#[test]
fn page_requests_are_valid_pages_or_name_the_parameter() {
    check(2048, query_string(), |raw| {
        let query = Query::parse(Some(&raw));
        match query.page_request() {
            Ok(page) => {
                prop_assert!(page.page >= 1);
                prop_assert!((1..=MAX_PAGE_SIZE).contains(&page.page_size));
            }
            Err(Error::Validation(errors)) => {
                prop_assert!(!errors.is_empty());
                let named: Vec<&str> = ["page", "page_size"]
                    .into_iter()
                    .filter(|name| errors.get(name).is_some())
                    .collect();
                // Any parameter holding a NUL is refused by name too (whoever reads it).
                let nul = raw_values(&raw).any(|value| value.contains('\0'));
                prop_assert!(!named.is_empty() || nul, "{errors:?}");
            }
            Err(other) => prop_assert!(false, "{other:?}"),
        }
        match query.bool("favorite") {
            Ok(_) | Err(Error::Validation(_)) => {}
            Err(other) => prop_assert!(false, "{other:?}"),
        }
        Ok(())
    });
}

/// For every page, size and total: the offset saturates instead of overflowing, a page past
/// the last is "Invalid page.", and the links of a page point at its neighbours with the same
/// size and every other parameter kept.
#[test]
fn page_arithmetic_never_overflows() {
    let numbers = prop_oneof![
        Just(1u64),
        Just(u64::MAX),
        Just(u64::MAX / 100 + 1),
        Just(i64::MAX.unsigned_abs()),
        any::<u64>(),
        1u64..1000,
    ];
    let request = (numbers.clone(), 1..=MAX_PAGE_SIZE)
        .prop_filter("pages start at 1", |(page, _)| *page >= 1)
        .prop_map(|(page, page_size)| PageRequest { page, page_size });
    let totals = prop_oneof![numbers, Just(0u64)];
    check(4096, (request, totals), |(request, count)| {
        let exact = (request.page - 1).checked_mul(request.page_size);
        prop_assert_eq!(
            request.offset(),
            exact.unwrap_or(u64::MAX).min(vault_core::page::MAX_OFFSET)
        );
        prop_assert!(request.offset() + request.limit() <= i64::MAX.unsigned_abs());
        prop_assert_eq!(request.limit(), request.page_size);
        let query = Query::parse(Some("kind=note&page=9&tag=a%26b"));
        let last = count.div_ceil(request.page_size).max(1);
        match request.into_page(count, Vec::<u8>::new(), "/api/resources", &query, None) {
            Ok(page) => {
                prop_assert!(request.page <= last);
                prop_assert_eq!(page.count, count);
                for (link, number) in [
                    (&page.next, request.page.checked_add(1)),
                    (&page.previous, request.page.checked_sub(1)),
                ] {
                    let Some(link) = link else { continue };
                    let (path, raw) = link.split_once('?').expect("a query string");
                    prop_assert_eq!(path, "/api/resources");
                    let linked = Query::parse(Some(raw));
                    let page = linked.page_request().expect("links are valid");
                    prop_assert_eq!(Some(page.page), number);
                    prop_assert_eq!(page.page_size, request.page_size);
                    prop_assert_eq!(linked.get("kind"), Some("note"));
                    prop_assert_eq!(linked.get_all("tag"), vec!["a&b"]);
                }
                prop_assert_eq!(page.next.is_some(), request.page < last);
                prop_assert_eq!(page.previous.is_some(), request.page > 1);
            }
            Err(Error::InvalidPage) => prop_assert!(request.page > last),
            Err(other) => prop_assert!(false, "{other:?}"),
        }
        Ok(())
    });
}

on_both_databases! {
    /// `GET /resources` and `GET /tags` with any query string, on a database with a few rows:
    /// a page or a 4xx problem, never a server error, on SQLite and PostgreSQL alike.
    listings_answer_any_query_string_with_a_page_or_a_4xx => super::listings_on;
}

fn listings_on(backend: Backend) {
    let runtime = runtime();
    let world = runtime.block_on(async {
        let world = World::open(backend, |_| {}).await;
        for (n, tags) in [["rust", "web"], ["go", "rust"], ["a&b", "web"]]
            .into_iter()
            .enumerate()
        {
            let input = serde_json::json!({
                "kind": "note", "title": format!("note {n} about rust"), "tags": tags,
            });
            let input = vault_core::wire::decode_json(input.to_string().as_bytes())
                .expect("a valid resource");
            world
                .vault
                .resources()
                .create(&world.caller, input)
                .await
                .expect("created");
        }
        world
    });
    check(256, query_string(), |raw| {
        let query = Query::parse(Some(&raw));
        let resources = world.vault.resources();
        let (list, tags) = runtime.block_on(async {
            (
                resources.list_json(&world.caller, &query).await,
                resources.list_tags(&world.caller, &query).await,
            )
        });
        for result in [list.err(), tags.err()].into_iter().flatten() {
            is_client_error(&result)?;
        }
        Ok(())
    });
    runtime.block_on(world.vault.database().close());
}
