//! Times are UTC seconds since the Unix epoch inside the crate; text at the edges is RFC 3339
//! (`2024-05-01T12:00:00Z`, any offset accepted), a date (`2024-05-01`, midnight UTC) or
//! `@SECONDS`. jiff does the calendar work (it is already built for gix).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;
pub const WEEK: i64 = 7 * DAY;

/// Parses a time given by a person or read from a file; the error says which forms work.
pub fn parse_time(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not a time: write 2024-05-01, 2024-05-01T12:00:00Z or @1714564800");
    if let Some(seconds) = text.strip_prefix('@') {
        return seconds.parse::<i64>().map_err(|_| bad());
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts.as_second());
    }
    // `2024-05-01 12:00:00` without an offset: UTC, as git and SQL tools print it. Before the
    // date alone, which would accept this text and drop the time of day.
    if let Ok(dt) = text.replacen(' ', "T", 1).parse::<jiff::civil::DateTime>() {
        return dt.to_zoned(TimeZone::UTC).map(|z| z.timestamp().as_second()).map_err(|_| bad());
    }
    if let Ok(date) = text.parse::<Date>() {
        return date.to_zoned(TimeZone::UTC).map(|z| z.timestamp().as_second()).map_err(|_| bad());
    }
    Err(bad())
}

/// RFC 3339 in UTC, second precision: stable text for JSON, exports and reports.
pub fn format_time(seconds: i64) -> String {
    Timestamp::from_second(seconds).map_or_else(|_| format!("@{seconds}"), |ts| ts.to_string())
}

/// The calendar date (UTC) of a time, `YYYY-MM-DD`.
pub fn format_date(seconds: i64) -> String {
    Timestamp::from_second(seconds)
        .map_or_else(|_| format!("@{seconds}"), |ts| ts.to_zoned(TimeZone::UTC).date().to_string())
}

/// The Monday 00:00 UTC starting the ISO week that holds `seconds`.
pub fn week_start(seconds: i64) -> i64 {
    // 1970-01-01 was a Thursday: shift so that weeks start on Mondays.
    let monday_epoch = -3 * DAY;
    seconds - (seconds - monday_epoch).rem_euclid(WEEK)
}

/// A duration for people: `3d 4h`, `45m`, `12s`.
pub fn format_duration(seconds: i64) -> String {
    let s = seconds.abs();
    let sign = if seconds < 0 { "-" } else { "" };
    let (d, h, m) = (s / DAY, (s % DAY) / HOUR, (s % HOUR) / 60);
    if d > 0 {
        format!("{sign}{d}d {h}h")
    } else if h > 0 {
        format!("{sign}{h}h {m}m")
    } else if m > 0 {
        format!("{sign}{m}m")
    } else {
        format!("{sign}{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse_time("2024-05-01"), Ok(1_714_521_600));
        assert_eq!(parse_time("2024-05-01T12:00:00Z"), Ok(1_714_564_800));
        assert_eq!(parse_time("2024-05-01T14:00:00+02:00"), Ok(1_714_564_800));
        assert_eq!(parse_time("2024-05-01 12:00:00"), Ok(1_714_564_800));
        assert_eq!(parse_time("@1714564800"), Ok(1_714_564_800));
        assert!(parse_time("yesterday").unwrap_err().contains("2024-05-01"));
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2024-05-01 was a Wednesday; its week starts on Monday 2024-04-29.
        let wed = parse_time("2024-05-01T12:00:00Z").unwrap();
        assert_eq!(format_time(week_start(wed)), "2024-04-29T00:00:00Z");
        let monday = parse_time("2024-04-29").unwrap();
        assert_eq!(week_start(monday), monday);
        assert_eq!(format_date(wed), "2024-05-01");
        assert_eq!(format_duration(3 * DAY + 4 * HOUR + 5), "3d 4h");
    }
}
