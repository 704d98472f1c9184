//! Rate limits (API.md §9): the `throttle` section.

use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, Result};

/// A rate limit: `count` requests per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per period (also the burst size).
    pub count: u32,
    /// The period.
    pub period: Duration,
}

impl Rate {
    /// `count` requests per minute.
    pub const fn per_minute(count: u32) -> Self {
        Self {
            count,
            period: Duration::from_secs(60),
        }
    }

    /// Parses `N/s`, `N/min`, `N/h`, `N/day`, or `off` (→ `None`).
    ///
    /// # Errors
    /// [`Error::Config`] on anything else.
    pub fn parse_limit(text: &str) -> Result<Option<Self>> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        text.parse().map(Some)
    }
}

impl FromStr for Rate {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let bad = || {
            Error::Config(format!(
                "invalid rate {text:?}: expected N/s, N/min, N/h, N/day or off"
            ))
        };
        let (count, unit) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let seconds = match unit.trim() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            "d" | "day" => 86_400,
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(bad());
        }
        Ok(Self {
            count,
            period: Duration::from_secs(seconds),
        })
    }
}

/// Rate limits of API.md §9. `None` turns a limit off.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThrottleConfig {
    /// Register, token and refresh requests per client IP. Default 10/min.
    pub auth_ip: Option<Rate>,
    /// Password checks that may fail: logins per login name as typed (ignoring case and
    /// surrounding spaces), and password confirmations (password change, account deletion)
    /// per account. Each attempt takes a unit before the password is checked; a right
    /// password gives it back. An account also has a ceiling of twice this over all its
    /// login names and confirmations together. Default 10/min.
    pub auth_user: Option<Rate>,
    /// Other API requests per anonymous client IP. Default 100/min.
    pub anon: Option<Rate>,
    /// Other API requests per authenticated user. Default 1000/min.
    pub user: Option<Rate>,
    /// The most counters the default in-memory backend
    /// ([`MemoryThrottle`](crate::throttle::MemoryThrottle)) keeps; each takes under 120
    /// bytes of table, whatever its key. When full, the counters closest to a full budget are
    /// forgotten first. Default 100 000 (under 12 MiB); at least 64.
    pub memory_max_entries: usize,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            auth_ip: Some(Rate::per_minute(10)),
            auth_user: Some(Rate::per_minute(10)),
            anon: Some(Rate::per_minute(100)),
            user: Some(Rate::per_minute(1000)),
            memory_max_entries: 100_000,
        }
    }
}

impl ThrottleConfig {
    /// Every limit off (for load tests and trusted internal deployments).
    pub fn off() -> Self {
        Self {
            auth_ip: None,
            auth_user: None,
            anon: None,
            user: None,
            ..Self::default()
        }
    }

    /// With this limit on register, token and refresh requests per client IP.
    #[must_use]
    pub fn with_auth_ip(mut self, rate: Option<Rate>) -> Self {
        self.auth_ip = rate;
        self
    }

    /// With this limit on password checks per login name and per account (see
    /// [`ThrottleConfig::auth_user`]).
    #[must_use]
    pub fn with_auth_user(mut self, rate: Option<Rate>) -> Self {
        self.auth_user = rate;
        self
    }

    /// With this limit on other requests per anonymous client IP.
    #[must_use]
    pub fn with_anon(mut self, rate: Option<Rate>) -> Self {
        self.anon = rate;
        self
    }

    /// With this limit on other requests per authenticated user.
    #[must_use]
    pub fn with_user(mut self, rate: Option<Rate>) -> Self {
        self.user = rate;
        self
    }

    /// With at most this many counters in the in-memory backend (see
    /// [`ThrottleConfig::memory_max_entries`]).
    #[must_use]
    pub fn with_memory_max_entries(mut self, entries: usize) -> Self {
        self.memory_max_entries = entries;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        assert_eq!("10/min".parse::<Rate>().unwrap(), Rate::per_minute(10));
        assert_eq!(
            "5/s".parse::<Rate>().unwrap().period,
            Duration::from_secs(1)
        );
        assert_eq!(
            "2/h".parse::<Rate>().unwrap().period,
            Duration::from_secs(3600)
        );
        assert_eq!(
            "1/day".parse::<Rate>().unwrap().period,
            Duration::from_secs(86_400)
        );
        assert_eq!(Rate::parse_limit("off").unwrap(), None);
        for bad in ["", "10", "x/min", "10/week", "0/min", "-1/min"] {
            assert!(Rate::parse_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn builders_set_each_limit() {
        let limits = ThrottleConfig::off()
            .with_auth_ip(Some(Rate::per_minute(1)))
            .with_auth_user(Some(Rate::per_minute(2)))
            .with_anon(Some(Rate::per_minute(3)))
            .with_user(Some(Rate::per_minute(4)))
            .with_memory_max_entries(500);
        assert_eq!(limits.memory_max_entries, 500);
        assert_eq!(
            [limits.auth_ip, limits.auth_user, limits.anon, limits.user],
            [1, 2, 3, 4].map(|n| Some(Rate::per_minute(n)))
        );
    }
}
