//! Pagination (API.md §2), shared by every list endpoint of every module, and the query-string
//! parsing list endpoints need.
//!
//! `?page=` is 1-based (default 1), `?page_size=` defaults to 20 and is clamped to 100. Both
//! are written in ASCII digits only (no sign, space or exponent); a number too large for any
//! page is still a number: a page past the last, 404 "Invalid page." (page 1 of an empty list
//! is 200 with no results). `next`/`previous` keep every other query parameter.

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, FieldErrors, Result};

/// Default `page_size`.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest `page_size`; larger values are clamped to it.
pub const MAX_PAGE_SIZE: u64 = 100;
/// Largest number of rows a page skips: `offset + limit` stays within a signed 64-bit integer,
/// the widest `OFFSET`/`LIMIT` both databases take. No listing holds that many rows, so a page
/// starting further is past the last whatever its exact offset.
pub const MAX_OFFSET: u64 = i64::MAX as u64 - MAX_PAGE_SIZE;

/// The decoded query string of a request: name/value pairs in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes a raw query string (`None` or empty: no parameters).
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        Self { pairs }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name` (repeatable parameters such as `?tag=`).
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The pagination parameters, after the text rule every parameter shares: one whose name
    /// or value holds a NUL is refused (see [`crate::text`]). Every list endpoint calls this,
    /// so the rule holds for all of them.
    ///
    /// # Errors
    /// [`Error::Validation`] naming `page` or `page_size` when one is not a whole number ≥ 1
    /// written in ASCII digits, and naming every parameter that holds a NUL.
    pub fn page_request(&self) -> Result<PageRequest> {
        let mut errors = self.text_errors();
        let mut number = |name: &str, default: u64| match self.get(name) {
            None => Some(default),
            Some(text) => match whole_number(text) {
                Some(n) if n >= 1 => Some(n),
                _ => {
                    if errors.get(name).is_none() {
                        errors.add(name, "A valid integer of at least 1 is required.");
                    }
                    None
                }
            },
        };
        let page = number("page", 1);
        let size = number("page_size", DEFAULT_PAGE_SIZE);
        match (page, size) {
            (Some(page), Some(size)) if errors.is_empty() => Ok(PageRequest {
                page,
                page_size: size.min(MAX_PAGE_SIZE),
            }),
            _ => Err(Error::Validation(errors)),
        }
    }

    /// A [`NUL_MESSAGE`](crate::text::NUL_MESSAGE) for every parameter whose name or value
    /// holds a NUL.
    fn text_errors(&self) -> FieldErrors {
        let mut errors = FieldErrors::new();
        for (name, value) in &self.pairs {
            if (name.contains('\0') || value.contains('\0')) && errors.get(name).is_none() {
                errors.add(name.as_str(), crate::text::NUL_MESSAGE);
            }
        }
        errors
    }

    /// A boolean parameter (`true`/`false`, also `1`/`0`), if present.
    ///
    /// # Errors
    /// [`Error::Validation`] naming it when it is anything else.
    pub fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some("true" | "True" | "1") => Ok(Some(true)),
            Some("false" | "False" | "0") => Ok(Some(false)),
            Some(_) => Err(Error::field(name, "Must be \"true\" or \"false\".")),
        }
    }

    /// The `?search=` text of a listing: trimmed, `None` when blank or already refused (a NUL
    /// in it), at most `max` characters (a longer one is recorded in `errors`).
    pub fn search_text(&self, max: usize, errors: &mut FieldErrors) -> Option<String> {
        let search = self
            .get("search")
            .map(str::trim)
            .filter(|s| !s.is_empty())?;
        if errors.get("search").is_some() {
            return None;
        }
        if crate::text::longer_than(search, max) {
            errors.add("search", crate::text::too_long(max));
            return None;
        }
        Some(search.to_string())
    }

    /// The query string with `page` and `page_size` replaced, for links.
    fn with_page(&self, page: u64, page_size: u64) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        out.append_pair("page", &page.to_string());
        out.append_pair("page_size", &page_size.to_string());
        for (name, value) in &self.pairs {
            if name != "page" && name != "page_size" {
                out.append_pair(name, value);
            }
        }
        out.finish()
    }
}

/// A whole number written in ASCII digits only; one too large for `u64` is `u64::MAX` (as
/// a page, it is past the last all the same).
pub(crate) fn whole_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.bytes().fold(0_u64, |n, digit| {
        n.saturating_mul(10).saturating_add(u64::from(digit - b'0'))
    }))
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u64,
    /// Items per page (1..=100).
    pub page_size: u64,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl PageRequest {
    /// Rows to skip: `(page - 1) × page_size`, at most [`MAX_OFFSET`] (so a store can bind it,
    /// and `offset + limit`, as a signed 64-bit integer whatever page was asked for).
    pub fn offset(&self) -> u64 {
        self.page
            .saturating_sub(1)
            .saturating_mul(self.limit())
            .min(MAX_OFFSET)
    }

    /// Rows to fetch: `page_size`, within 1..=[`MAX_PAGE_SIZE`].
    pub fn limit(&self) -> u64 {
        self.page_size.clamp(1, MAX_PAGE_SIZE)
    }

    /// Checks the page against the total and builds the answer with links.
    ///
    /// `path` is the path the client called (with any mount prefix), `query` its query string,
    /// `base_url` the configured public base URL (links are path-absolute without it).
    ///
    /// # Errors
    /// [`Error::InvalidPage`] when the page is past the last one.
    pub fn into_page<T>(
        self,
        count: u64,
        results: Vec<T>,
        path: &str,
        query: &Query,
        base_url: Option<&str>,
    ) -> Result<Page<T>> {
        let size = self.limit();
        let last = count.div_ceil(size).max(1);
        if self.page > last {
            return Err(Error::InvalidPage);
        }
        let link = |page: u64| {
            format!(
                "{}{path}?{}",
                base_url.unwrap_or_default(),
                query.with_page(page, size)
            )
        };
        Ok(Page {
            count,
            next: (self.page < last).then(|| link(self.page + 1)),
            previous: (self.page > 1).then(|| link(self.page - 1)),
            results,
        })
    }
}

/// One page of a list, as every list endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Page<T> {
    /// Total number of items over all pages.
    pub count: u64,
    /// Link to the next page, `null` on the last.
    pub next: Option<String>,
    /// Link to the previous page, `null` on the first.
    pub previous: Option<String>,
    /// This page's items.
    pub results: Vec<T>,
}

impl<T> Page<T> {
    /// This page's JSON with `results` given already serialized (a JSON array), in the same
    /// form as serializing the page: `{"count":…,"next":…,"previous":…,"results":[…]}`.
    ///
    /// # Errors
    /// [`Error::Internal`] if a link cannot be serialized.
    pub fn to_json_with_results(&self, results: &[u8]) -> Result<bytes::Bytes> {
        let mut out = Vec::with_capacity(results.len() + 160);
        out.extend_from_slice(b"{\"count\":");
        out.extend_from_slice(self.count.to_string().as_bytes());
        out.extend_from_slice(b",\"next\":");
        serde_json::to_writer(&mut out, &self.next).map_err(Error::internal)?;
        out.extend_from_slice(b",\"previous\":");
        serde_json::to_writer(&mut out, &self.previous).map_err(Error::internal)?;
        out.extend_from_slice(b",\"results\":");
        out.extend_from_slice(results);
        out.push(b'}');
        Ok(out.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page written around pre-serialized results is byte for byte the serialized page,
    /// links (escaped) or not.
    #[test]
    fn json_with_results_is_the_serialized_page() {
        let items = vec![
            serde_json::json!({"id": 1, "t": "a \"quoted\" é"}),
            serde_json::json!(null),
        ];
        let results = serde_json::to_vec(&items).unwrap();
        for (next, previous) in [
            (None, None),
            (Some("/api/resources?page=3&q=\"x\"".to_string()), None),
            (
                None,
                Some("https://v.example/api/resources?page=1".to_string()),
            ),
            (Some("/n".to_string()), Some("/p".to_string())),
        ] {
            let page = Page {
                count: 12_345,
                next,
                previous,
                results: items.clone(),
            };
            assert_eq!(
                page.to_json_with_results(&results).unwrap(),
                serde_json::to_vec(&page).unwrap()
            );
        }
    }

    #[test]
    fn defaults_clamping_and_junk() {
        let q = Query::parse(None);
        assert_eq!(
            q.page_request().unwrap(),
            PageRequest {
                page: 1,
                page_size: 20
            }
        );
        let q = Query::parse(Some("page=3&page_size=500"));
        assert_eq!(
            q.page_request().unwrap(),
            PageRequest {
                page: 3,
                page_size: 100
            }
        );
        // Sizes past any integer type are sizes too: clamped, never an error or an allocation.
        for huge in [
            "18446744073709551615",
            "18446744073709551616",
            "340282366920938463463374607431768211456",
        ] {
            let request = Query::parse(Some(&format!("page_size={huge}")))
                .page_request()
                .unwrap();
            assert_eq!(request.page_size, MAX_PAGE_SIZE, "{huge}");
            assert_eq!(request.limit(), MAX_PAGE_SIZE, "{huge}");
        }
        for bad in [
            "page=0",
            "page=000",
            "page=-1",
            "page=abc",
            "page_size=0",
            "page_size=x",
            "page=1.5",
            "page=1e3",
            "page=%201",
            "page=1%20",
            "page=+1",
            "page=",
            "page=%EF%BC%91",
            "page_size=-5",
            "page_size=",
        ] {
            assert!(
                matches!(
                    Query::parse(Some(bad)).page_request(),
                    Err(Error::Validation(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn numbers_too_large_for_any_page_are_still_pages() {
        for (raw, page) in [
            ("page=18446744073709551615", u64::MAX),
            ("page=18446744073709551616", u64::MAX),
            ("page=99999999999999999999999999999999999999", u64::MAX),
            ("page=100000000000000000", 100_000_000_000_000_000),
            ("page=0001", 1),
        ] {
            assert_eq!(
                Query::parse(Some(raw)).page_request().unwrap().page,
                page,
                "{raw}"
            );
        }
        let size = |raw: &str| Query::parse(Some(raw)).page_request().unwrap().page_size;
        assert_eq!(size("page_size=18446744073709551615"), MAX_PAGE_SIZE);
        assert_eq!(
            size("page_size=123456789012345678901234567890"),
            MAX_PAGE_SIZE
        );
    }

    #[test]
    fn offsets_fit_the_databases_whatever_the_page() {
        let limit_i64 = u64::try_from(i64::MAX).unwrap();
        for page in [
            u64::MAX,
            u64::MAX / 2,
            100_000_000_000_000_000,
            92_233_720_368_547_759,
        ] {
            for page_size in [1, 7, 20, MAX_PAGE_SIZE] {
                let request = PageRequest { page, page_size };
                assert!(request.offset() <= MAX_OFFSET, "{request:?}");
                assert!(
                    request.offset() + request.limit() <= limit_i64,
                    "{request:?}"
                );
            }
        }
        // Real pages keep their exact offset.
        let request = PageRequest {
            page: 3,
            page_size: 20,
        };
        assert_eq!((request.offset(), request.limit()), (40, 20));
        // A request built by hand with a page size out of range is brought back into it
        // rather than dividing by zero.
        let odd = PageRequest {
            page: 1,
            page_size: 0,
        };
        assert_eq!(odd.limit(), 1);
        assert!(odd
            .into_page::<u8>(0, vec![], "/r", &Query::parse(None), None)
            .is_ok());
    }

    #[test]
    fn pages_past_any_listing_are_invalid_pages() {
        let q = Query::parse(None);
        for page in [u64::MAX, 100_000_000_000_000_000] {
            let request = PageRequest {
                page,
                page_size: 100,
            };
            for count in [0, 1, 12_345, u64::try_from(i64::MAX).unwrap()] {
                assert!(
                    matches!(
                        request.into_page::<u8>(count, vec![], "/r", &q, None),
                        Err(Error::InvalidPage)
                    ),
                    "page {page}, count {count}"
                );
            }
        }
    }

    #[test]
    fn a_nul_in_any_parameter_is_refused_by_name() {
        let fields = |raw: &str| match Query::parse(Some(raw)).page_request() {
            Err(Error::Validation(errors)) => serde_json::to_value(&errors).unwrap(),
            other => panic!("{raw}: {other:?}"),
        };
        let errors = fields("search=a%00b&kind=note&page=1");
        assert_eq!(
            errors,
            serde_json::json!({"search": [crate::text::NUL_MESSAGE]})
        );
        let errors = fields("page=1%00&junk%00=x&tag=ok&tag=%00");
        assert_eq!(
            errors["page"],
            serde_json::json!([crate::text::NUL_MESSAGE])
        );
        assert_eq!(
            errors["junk\0"],
            serde_json::json!([crate::text::NUL_MESSAGE])
        );
        assert_eq!(errors["tag"], serde_json::json!([crate::text::NUL_MESSAGE]));
        assert!(Query::parse(Some("search=%01%1b")).page_request().is_ok());
    }

    #[test]
    fn links_keep_other_parameters() {
        let q = Query::parse(Some("kind=note&page=2&tag=a&tag=b&page_size=10"));
        let req = q.page_request().unwrap();
        let page = req
            .into_page(35, vec![1], "/api/resources", &q, None)
            .unwrap();
        assert_eq!(
            page.next.as_deref(),
            Some("/api/resources?page=3&page_size=10&kind=note&tag=a&tag=b")
        );
        assert_eq!(
            page.previous.as_deref(),
            Some("/api/resources?page=1&page_size=10&kind=note&tag=a&tag=b")
        );
        let last = Query::parse(Some("page=4&page_size=10"))
            .page_request()
            .unwrap();
        let page = last
            .into_page(35, vec![1], "/r", &q, Some("https://v.example"))
            .unwrap();
        assert_eq!(page.next, None);
        assert_eq!(
            page.previous.as_deref(),
            Some("https://v.example/r?page=3&page_size=10&kind=note&tag=a&tag=b")
        );
    }

    #[test]
    fn past_the_end_is_invalid_but_empty_first_page_is_fine() {
        let q = Query::parse(None);
        let empty = PageRequest::default()
            .into_page::<u8>(0, vec![], "/r", &q, None)
            .unwrap();
        assert_eq!((empty.count, empty.next, empty.previous), (0, None, None));
        let past = PageRequest {
            page: 2,
            page_size: 20,
        };
        assert!(matches!(
            past.into_page::<u8>(20, vec![], "/r", &q, None),
            Err(Error::InvalidPage)
        ));
        assert!(matches!(
            PageRequest {
                page: 2,
                page_size: 20
            }
            .into_page::<u8>(0, vec![], "/r", &q, None),
            Err(Error::InvalidPage)
        ));
    }
}
