//! Pagination (API.md §2), shared by every list endpoint of every module, and the query-string
//! parsing list endpoints need.
//!
//! `?page=` is 1-based (default 1), `?page_size=` defaults to 20 and is clamped to 100. A page
//! past the last is 404 "Invalid page." (page 1 of an empty list is 200 with no results).
//! `next`/`previous` keep every other query parameter.

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, FieldErrors, Result};

/// Default `page_size`.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest `page_size`; larger values are clamped to it.
pub const MAX_PAGE_SIZE: u64 = 100;

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

    /// The pagination parameters.
    ///
    /// # Errors
    /// [`Error::Validation`] naming `page` or `page_size` when one is not a whole number ≥ 1.
    pub fn page_request(&self) -> Result<PageRequest> {
        let mut errors = FieldErrors::new();
        let mut number = |name: &str, default: u64| match self.get(name) {
            None => Some(default),
            Some(text) => match text.trim().parse::<u64>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    errors.add(name, "A valid integer of at least 1 is required.");
                    None
                }
            },
        };
        let page = number("page", 1);
        let size = number("page_size", DEFAULT_PAGE_SIZE);
        match (page, size) {
            (Some(page), Some(size)) => Ok(PageRequest {
                page,
                page_size: size.min(MAX_PAGE_SIZE),
            }),
            _ => Err(Error::Validation(errors)),
        }
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
    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.page_size)
    }

    /// Rows to fetch.
    pub fn limit(&self) -> u64 {
        self.page_size
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
        let last = count.div_ceil(self.page_size).max(1);
        if self.page > last {
            return Err(Error::InvalidPage);
        }
        let link = |page: u64| {
            format!(
                "{}{path}?{}",
                base_url.unwrap_or_default(),
                query.with_page(page, self.page_size)
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
        for bad in [
            "page=0",
            "page=-1",
            "page=abc",
            "page_size=0",
            "page_size=x",
            "page=1.5",
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
