//! Rate limiting (API.md §9): an async [`Throttle`] trait with an in-memory backend.
//!
//! Both backends implement GCRA (the generic cell rate algorithm): a limit of N per period
//! allows a burst of N, then one request every period/N. Unlike fixed windows it never lets
//! 2N through around a window boundary.

mod memory;

use std::time::Duration;

use async_trait::async_trait;

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
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Throttle: Send + Sync + 'static {
    /// Counts one request against `key` if it fits under `rate`.
    ///
    /// # Errors
    /// When the counter store is unreachable.
    async fn hit(&self, key: &str, rate: Rate) -> Result<Decision>;

    /// Whether one more request would fit, without counting it.
    ///
    /// # Errors
    /// When the counter store is unreachable.
    async fn peek(&self, key: &str, rate: Rate) -> Result<Decision>;
}

/// One GCRA step. `tat` is the stored theoretical arrival time (ms), `now` the current time (ms).
/// Returns the decision and, when allowed, the new `tat` to store.
pub(crate) fn gcra(tat: Option<u64>, now: u64, rate: Rate) -> (Decision, Option<u64>) {
    let period = rate.period.as_millis() as u64;
    let interval = (period / u64::from(rate.count.max(1))).max(1);
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

#[cfg(test)]
mod tests {
    use super::*;

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
