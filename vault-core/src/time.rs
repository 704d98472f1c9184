//! Timestamps: UTC, microsecond precision (what PostgreSQL stores), RFC 3339 with milliseconds
//! and `Z` on the wire.

use chrono::{DateTime, SecondsFormat, Utc};

/// A point in time as Vault stores and sends it.
pub type Timestamp = DateTime<Utc>;

/// The current time, truncated to microseconds so that a value read back from either database
/// equals the value written.
pub fn now() -> Timestamp {
    let now = Utc::now();
    let micros = now.timestamp_micros();
    DateTime::from_timestamp_micros(micros).unwrap_or(now)
}

/// Where a service reads the current time: the system clock in production, a [`ManualClock`]
/// in tests that move time (a card reviewed "three days later", a learning step falling due).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time, truncated to microseconds (see [`now`]).
    fn now(&self) -> Timestamp;
}

/// The system clock ([`now`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        now()
    }
}

/// A clock that stands still until moved: for tests and simulations.
#[derive(Debug)]
pub struct ManualClock {
    micros: std::sync::atomic::AtomicI64,
}

impl ManualClock {
    /// A clock showing `at` (truncated to microseconds).
    pub fn new(at: Timestamp) -> Self {
        Self {
            micros: std::sync::atomic::AtomicI64::new(at.timestamp_micros()),
        }
    }

    /// Sets the time to `at`.
    pub fn set(&self, at: Timestamp) {
        self.micros
            .store(at.timestamp_micros(), std::sync::atomic::Ordering::SeqCst);
    }

    /// Moves the time forward by `by` (backward when negative).
    pub fn advance(&self, by: chrono::Duration) {
        let step = by.num_microseconds().unwrap_or(i64::MAX);
        let _ = self.micros.fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            |micros| Some(micros.saturating_add(step)),
        );
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let micros = self.micros.load(std::sync::atomic::Ordering::SeqCst);
        DateTime::from_timestamp_micros(micros).unwrap_or_else(now)
    }
}

/// Formats a timestamp as the contract's RFC 3339 (`2026-11-22T10:15:30.123Z`).
pub fn format(ts: &Timestamp) -> String {
    let mut buf = [0; WIRE_LEN];
    match write_wire(ts, &mut buf) {
        Some(text) => text.to_owned(),
        None => ts.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

/// Length of the wire form of a timestamp of the years 0000–9999.
const WIRE_LEN: usize = 24;

/// The wire form of `ts` written into `buf`, for years 0000–9999 outside leap seconds (the
/// rest, which no clock here produces, go through chrono). A list page carries two
/// timestamps per row; chrono's general formatter spent ~700 instructions on each, this
/// ~60.
fn write_wire<'b>(ts: &Timestamp, buf: &'b mut [u8; WIRE_LEN]) -> Option<&'b str> {
    use chrono::{Datelike, Timelike};
    let year = u32::try_from(ts.year()).ok().filter(|y| *y <= 9999)?;
    let millis = ts.nanosecond() / 1_000_000;
    if millis > 999 {
        return None;
    }
    let mut put = |at: usize, value: u32, digits: usize| {
        let mut value = value;
        for slot in buf[at..at + digits].iter_mut().rev() {
            // `value % 10` is a single digit.
            *slot = b'0' + u8::try_from(value % 10).unwrap_or(0);
            value /= 10;
        }
    };
    put(0, year, 4);
    put(5, ts.month(), 2);
    put(8, ts.day(), 2);
    put(11, ts.hour(), 2);
    put(14, ts.minute(), 2);
    put(17, ts.second(), 2);
    put(20, millis, 3);
    for (at, separator) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ] {
        buf[at] = separator;
    }
    std::str::from_utf8(buf).ok()
}

/// serde adapter for [`Timestamp`] fields (`#[serde(with = "crate::time::rfc3339")]`).
pub mod rfc3339 {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes as RFC 3339 with milliseconds and `Z`.
    ///
    /// # Errors
    /// Only the serializer's own.
    pub fn serialize<S: Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0; super::WIRE_LEN];
        match super::write_wire(ts, &mut buf) {
            Some(text) => s.serialize_str(text),
            None => s.serialize_str(&super::format(ts)),
        }
    }

    /// Parses any RFC 3339 timestamp.
    ///
    /// # Errors
    /// When the string is not RFC 3339.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// serde adapter for optional [`Timestamp`] fields (`null` when absent).
pub mod rfc3339_option {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes as RFC 3339 with milliseconds and `Z`, or `null`.
    ///
    /// # Errors
    /// Only the serializer's own.
    pub fn serialize<S: Serializer>(ts: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match ts {
            Some(ts) => super::rfc3339::serialize(ts, s),
            None => s.serialize_none(),
        }
    }

    /// Parses any RFC 3339 timestamp, or `null`.
    ///
    /// # Errors
    /// When the value is neither `null` nor RFC 3339.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|text| {
            chrono::DateTime::parse_from_rfc3339(&text)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, SecondsFormat, Utc};

    #[test]
    fn wire_format_has_millis_and_z() {
        let ts = DateTime::from_timestamp_micros(1_795_342_530_123_456).unwrap();
        assert_eq!(super::format(&ts), "2026-11-22T10:15:30.123Z");
    }

    /// The fast formatter writes exactly what chrono writes, across the whole range, and
    /// leaves what it does not cover (years past 9999, before year 0, leap seconds) to chrono.
    #[test]
    fn fast_format_is_chronos_everywhere() {
        let chrono_text = |ts: &DateTime<Utc>| ts.to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut micros: i64 = -62_167_219_200_000_000; // 0000-01-01T00:00:00Z
        let last: i64 = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999Z
        let mut step: i64 = 1;
        while micros <= last {
            let ts = DateTime::from_timestamp_micros(micros).unwrap();
            let mut buf = [0; super::WIRE_LEN];
            assert_eq!(
                super::write_wire(&ts, &mut buf),
                Some(chrono_text(&ts).as_str())
            );
            micros = micros.saturating_add(step);
            step = step.saturating_mul(3).min(9_876_543_210_987) + 7;
        }
        for edge in [
            last,
            last + 1,
            -62_167_219_200_000_001,
            i64::from(i32::MAX) * 1_000_000,
        ] {
            if let Some(ts) = DateTime::from_timestamp_micros(edge) {
                assert_eq!(super::format(&ts), chrono_text(&ts), "{edge}");
            }
        }
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 1_500))
            .unwrap()
            .and_utc();
        let mut buf = [0; super::WIRE_LEN];
        assert_eq!(super::write_wire(&leap, &mut buf), None);
        assert_eq!(super::format(&leap), chrono_text(&leap));
    }
}
