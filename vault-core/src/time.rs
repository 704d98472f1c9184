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

/// Formats a timestamp as the contract's RFC 3339 (`2026-11-22T10:15:30.123Z`).
pub fn format(ts: &Timestamp) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
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
        s.serialize_str(&super::format(ts))
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

#[cfg(test)]
mod tests {
    #[test]
    fn wire_format_has_millis_and_z() {
        let ts = chrono::DateTime::from_timestamp_micros(1_795_342_530_123_456).unwrap();
        assert_eq!(super::format(&ts), "2026-11-22T10:15:30.123Z");
    }
}
