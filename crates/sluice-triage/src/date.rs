//! Calendar dates (`YYYY-MM-DD`, the date part of RFC 3339), all that decisions need: `when`
//! and `expires` are days, compared in UTC.

use std::fmt;
use std::time::SystemTime;

/// A day of the proleptic Gregorian calendar, years 1 to 9999 (`jiff::civil::Date` inside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(jiff::civil::Date);

impl Date {
    /// A valid date, or `None` (month 1–12, day within the month, leap years counted).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let (year, month, day) = (i16::try_from(year).ok()?, i8::try_from(month).ok()?, i8::try_from(day).ok()?);
        if !(1..=9999).contains(&year) {
            return None;
        }
        jiff::civil::Date::new(year, month, day).ok().map(Date)
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &text[r];
            part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok()).flatten()
        };
        let year = i32::try_from(digits(0..4)?).ok()?;
        let month = u8::try_from(digits(5..7)?).ok()?;
        let day = u8::try_from(digits(8..10)?).ok()?;
        Date::new(year, month, day)
    }

    /// Today in UTC.
    pub fn today() -> Date {
        Date::from_system_time(SystemTime::now())
    }

    /// The UTC date of `time`; times before 1970 count as 1970-01-01.
    pub fn from_system_time(time: SystemTime) -> Date {
        let ts =
            jiff::Timestamp::try_from(time).unwrap_or(jiff::Timestamp::UNIX_EPOCH).max(jiff::Timestamp::UNIX_EPOCH);
        Date(ts.to_zoned(jiff::tz::TimeZone::UTC).date())
    }

    pub fn year(self) -> i32 {
        i32::from(self.0.year())
    }
    pub fn month(self) -> u8 {
        u8::try_from(self.0.month()).unwrap_or(1)
    }
    pub fn day(self) -> u8 {
        u8::try_from(self.0.day()).unwrap_or(1)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year(), self.month(), self.day())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn parses_only_real_dates() {
        assert_eq!(Date::parse("2024-02-29").map(|d| d.to_string()).as_deref(), Some("2024-02-29"));
        for bad in [
            "2023-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-04-31",
            "25-01-01",
            "2025-1-01",
            "2025/01/01",
            "",
            "2025-01-01T00:00:00Z",
            "+025-01-01",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert_eq!(Date::parse("1900-02-29"), None);
        assert!(Date::parse("2000-02-29").is_some());
    }

    #[test]
    fn orders_and_converts() {
        assert!(Date::parse("2025-01-31") < Date::parse("2025-02-01"));
        assert_eq!(Date::from_system_time(UNIX_EPOCH).to_string(), "1970-01-01");
        assert_eq!(Date::from_system_time(UNIX_EPOCH + Duration::from_secs(951_782_400)).to_string(), "2000-02-29");
        assert_eq!(Date::from_system_time(UNIX_EPOCH + Duration::from_secs(1_795_704_130)).to_string(), "2026-11-26");
    }

    proptest::proptest! {
        #[test]
        fn display_round_trips(days in 0u64..2_900_000) {
            let d = Date::from_system_time(UNIX_EPOCH + Duration::from_secs(days * 86_400));
            proptest::prop_assert_eq!(Date::parse(&d.to_string()), Some(d));
            proptest::prop_assert!(Date::from_system_time(UNIX_EPOCH + Duration::from_secs((days + 1) * 86_400)) > d);
        }
    }
}
