//! Reading columns back out of `AnyRow`s, and the timestamp encoding, in one place.
//!
//! Every failure becomes [`StoreError::Corrupt`] naming the table and column, never a panic.
//! The two backends hand back slightly different value kinds through sqlx's `Any` driver (a
//! PostgreSQL `BOOLEAN` arrives as a bool, the SQLite `INTEGER` 0/1 as an integer), and that
//! difference is absorbed here so the repositories stay backend-blind.

use crate::StoreError;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::str::FromStr;
use time::OffsetDateTime;

/// A timestamp as stored: milliseconds since the Unix epoch, UTC.
///
/// Sub-millisecond precision is dropped. Every `OffsetDateTime` that `time` can represent
/// (years ±9999) fits an `i64` of milliseconds with room to spare, so the saturation below is
/// unreachable; it only keeps the conversion total.
pub(crate) fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(if at.year() < 1970 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// The inverse of [`millis`]; `None` when the number is outside `time`'s range.
pub(crate) fn from_millis(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// Typed, error-mapped access to the columns of one row of `table`.
pub(crate) struct Cols<'r> {
    row: &'r AnyRow,
    table: &'static str,
}

impl<'r> Cols<'r> {
    pub(crate) fn new(row: &'r AnyRow, table: &'static str) -> Self {
        Self { row, table }
    }

    pub(crate) fn corrupt(&self, col: &str) -> StoreError {
        StoreError::corrupt(self.table, col)
    }

    fn get<T>(&self, col: &str) -> Result<T, StoreError>
    where
        T: for<'a> sqlx::Decode<'a, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        self.row.try_get::<T, _>(col).map_err(|_| self.corrupt(col))
    }

    pub(crate) fn text(&self, col: &str) -> Result<String, StoreError> {
        self.get(col)
    }

    pub(crate) fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        self.get(col)
    }

    pub(crate) fn int(&self, col: &str) -> Result<i64, StoreError> {
        self.get(col)
    }

    pub(crate) fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        self.get(col)
    }

    /// A non-negative count or step that must fit a `u32`.
    pub(crate) fn u32(&self, col: &str) -> Result<u32, StoreError> {
        u32::try_from(self.int(col)?).map_err(|_| self.corrupt(col))
    }

    /// A non-negative count (such as `COUNT(*)`).
    pub(crate) fn u64(&self, col: &str) -> Result<u64, StoreError> {
        u64::try_from(self.int(col)?).map_err(|_| self.corrupt(col))
    }

    pub(crate) fn opt_u64(&self, col: &str) -> Result<Option<u64>, StoreError> {
        self.opt_int(col)?
            .map(|v| u64::try_from(v).map_err(|_| self.corrupt(col)))
            .transpose()
    }

    /// A flag: PostgreSQL `BOOLEAN`, or SQLite `INTEGER` holding exactly 0 or 1.
    pub(crate) fn bool(&self, col: &str) -> Result<bool, StoreError> {
        if let Ok(flag) = self.row.try_get::<bool, _>(col) {
            return Ok(flag);
        }
        match self.int(col)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.corrupt(col)),
        }
    }

    pub(crate) fn time(&self, col: &str) -> Result<OffsetDateTime, StoreError> {
        from_millis(self.int(col)?).ok_or_else(|| self.corrupt(col))
    }

    pub(crate) fn opt_time(&self, col: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        self.opt_int(col)?
            .map(|ms| from_millis(ms).ok_or_else(|| self.corrupt(col)))
            .transpose()
    }

    pub(crate) fn blob(&self, col: &str) -> Result<Vec<u8>, StoreError> {
        self.get(col)
    }

    /// A 32-byte digest (SHA-256 of a token or code).
    pub(crate) fn hash(&self, col: &str) -> Result<[u8; 32], StoreError> {
        <[u8; 32]>::try_from(self.blob(col)?.as_slice()).map_err(|_| self.corrupt(col))
    }

    /// A text column parsed with `FromStr` (ids, IP addresses).
    pub(crate) fn parse<T: FromStr>(&self, col: &str) -> Result<T, StoreError> {
        self.text(col)?.parse().map_err(|_| self.corrupt(col))
    }

    pub(crate) fn opt_parse<T: FromStr>(&self, col: &str) -> Result<Option<T>, StoreError> {
        self.opt_text(col)?
            .map(|s| s.parse().map_err(|_| self.corrupt(col)))
            .transpose()
    }

    /// A JSON text column decoded with serde.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, col: &str) -> Result<T, StoreError> {
        serde_json::from_str(&self.text(col)?).map_err(|_| self.corrupt(col))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_truncates_below_a_millisecond() {
        let at =
            OffsetDateTime::UNIX_EPOCH + time::Duration::nanoseconds(1_700_000_000_123_456_789);
        let back = from_millis(millis(at)).unwrap();
        assert_eq!(millis(at), 1_700_000_000_123);
        assert_eq!(back, at - time::Duration::nanoseconds(456_789));
    }

    #[test]
    fn out_of_range_millis_are_refused() {
        assert!(from_millis(i64::MAX).is_none());
        assert!(from_millis(i64::MIN).is_none());
        let before = OffsetDateTime::UNIX_EPOCH - time::Duration::days(1);
        assert_eq!(from_millis(millis(before)), Some(before));
    }
}
