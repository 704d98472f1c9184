//! Rate limiting (API.md §9): an async [`Throttle`] trait with an in-memory backend.
//!
//! The in-memory backend implements GCRA (the generic cell rate algorithm): a limit of N per
//! period allows a burst of N, then one request every period/N. Unlike fixed windows it never
//! lets 2N through around a window boundary. A backend shared by several instances should
//! implement the same algorithm, so a budget means the same wherever it is kept.
//!
//! Keys built from what a client typed go through [`digest_key`] first, so a counter's key has
//! a fixed size whatever was sent.

mod memory;

use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

pub use memory::MemoryThrottle;

use crate::config::Rate;
use crate::error::Result;

/// The answer of a throttle: allowed, or refused with a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Over the limit; try again after this long.
    Deny {
        /// Time until one more request fits.
        retry_after: Duration,
    },
}

impl Decision {
    /// Turns a denial into [`crate::Error::Throttled`] with whole seconds (at least 1).
    ///
    /// # Errors
    /// [`crate::Error::Throttled`] on [`Decision::Deny`].
    pub fn into_result(self) -> Result<()> {
        match self {
            Self::Allow => Ok(()),
            Self::Deny { retry_after } => Err(crate::Error::Throttled {
                retry_after: retry_after.as_secs_f64().ceil().max(1.0) as u64,
            }),
        }
    }
}

/// A store of rate-limit counters. Keys are opaque strings chosen by the caller.
///
/// `hit` must decide and count in one atomic step: callers take a unit of a budget *before*
/// doing the work the budget limits (a password check), so concurrent requests can never all
/// see the same last unit.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Throttle: Send + Sync + 'static {
    /// Counts one request against `key` if it fits under `rate`; a refused request is not
    /// counted.
    ///
    /// # Errors
    /// When the counter store is unreachable.
    async fn hit(&self, key: &str, rate: Rate) -> Result<Decision>;

    /// Whether one more request would fit, without counting it.
    ///
    /// # Errors
    /// When the counter store is unreachable.
    async fn peek(&self, key: &str, rate: Rate) -> Result<Decision>;

    /// Gives back one request that [`Throttle::hit`] counted against `key` under `rate` (a
    /// login that turned out right does not count as a failure). Never lets a counter go
    /// below empty; giving back to an unknown key does nothing.
    ///
    /// # Errors
    /// When the counter store is unreachable.
    async fn refund(&self, key: &str, rate: Rate) -> Result<()>;
}

/// A throttle key for material a client chose (a typed login name): `namespace:` followed by
/// the first 128 bits of the SHA-256 of `material`, in hex. The key is 33 bytes plus the
/// namespace whatever was sent, and a counter store never holds the typed text.
pub fn digest_key(namespace: &str, material: &str) -> String {
    let digest = Sha256::digest(material.as_bytes());
    let mut key = String::with_capacity(namespace.len() + 33);
    key.push_str(namespace);
    key.push(':');
    for byte in &digest[..16] {
        key.push_str(&format!("{byte:02x}"));
    }
    key
}

/// The spacing GCRA keeps between requests under `rate`, in milliseconds (at least 1).
pub(crate) fn interval_ms(rate: Rate) -> u64 {
    let period = rate.period.as_millis() as u64;
    (period / u64::from(rate.count.max(1))).max(1)
}

/// One GCRA step. `tat` is the stored theoretical arrival time (ms), `now` the current time (ms).
/// Returns the decision and, when allowed, the new `tat` to store.
pub(crate) fn gcra(tat: Option<u64>, now: u64, rate: Rate) -> (Decision, Option<u64>) {
    let period = rate.period.as_millis() as u64;
    let interval = interval_ms(rate);
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat + interval;
    // Allowed while the schedule is no more than one period ahead of now.
    if new_tat - now <= period {
        (Decision::Allow, Some(new_tat))
    } else {
        let wait = new_tat - now - period;
        (
            Decision::Deny {
                retry_after: Duration::from_millis(wait),
            },
            None,
        )
    }
}

/// Undoes one allowed GCRA step: the stored `tat` moves back one interval. `None` when the
/// result is not ahead of `now`, i.e. the budget is full again and the entry carries nothing.
pub(crate) fn gcra_refund(tat: u64, now: u64, rate: Rate) -> Option<u64> {
    let tat = tat.saturating_sub(interval_ms(rate));
    (tat > now).then_some(tat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refund_gives_back_exactly_one_request() {
        let rate = Rate::per_minute(3);
        let mut tat = None;
        for _ in 0..3 {
            tat = gcra(tat, 1_000, rate).1;
        }
        assert!(matches!(gcra(tat, 1_000, rate).0, Decision::Deny { .. }));
        let refunded = tat.and_then(|t| gcra_refund(t, 1_000, rate));
        assert_eq!(gcra(refunded, 1_000, rate).0, Decision::Allow);
        let (_, again) = gcra(refunded, 1_000, rate);
        assert!(matches!(gcra(again, 1_000, rate).0, Decision::Deny { .. }));
        // Giving back more than was taken leaves an empty counter, not credit.
        assert_eq!(gcra_refund(21_000, 1_000, rate), None);
        assert_eq!(gcra_refund(5, 1_000, rate), None);
    }

    #[test]
    fn digest_keys_have_a_fixed_size_and_never_hold_the_material() {
        let long = "x".repeat(1 << 20);
        let key = digest_key("login", &long);
        assert_eq!(key.len(), "login:".len() + 32);
        assert!(!key.contains("xxxx"));
        assert_eq!(key, digest_key("login", &long));
        assert_ne!(key, digest_key("login", "x"));
        assert_ne!(digest_key("a", "m"), digest_key("b", "m"));
    }

    #[test]
    fn gcra_allows_a_burst_then_spaces_requests() {
        let rate = Rate::per_minute(3);
        let mut tat = None;
        for _ in 0..3 {
            let (d, t) = gcra(tat, 1_000, rate);
            assert_eq!(d, Decision::Allow);
            tat = t;
        }
        let (d, _) = gcra(tat, 1_000, rate);
        assert_eq!(
            d,
            Decision::Deny {
                retry_after: Duration::from_secs(20)
            }
        );
        // One interval later one more fits.
        let (d, _) = gcra(tat, 21_000, rate);
        assert_eq!(d, Decision::Allow);
    }

    #[test]
    fn denial_rounds_up_to_whole_seconds() {
        let err = Decision::Deny {
            retry_after: Duration::from_millis(1_200),
        }
        .into_result()
        .unwrap_err();
        assert!(matches!(err, crate::Error::Throttled { retry_after: 2 }));
    }
}
