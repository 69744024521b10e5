//! Rego builtins that policies need and `regorus` (as sluice builds it) lacks.
//!
//! regorus implements `time.*` behind its `time` feature, which pulls in chrono and the
//! chrono-tz database; sluice leaves that feature off (build time on small CI machines) and
//! provides the UTC subset of OPA's `time.*` here, on `jiff`, with one difference that matters
//! for an audit: `time.now_ns()` returns the evaluation's fixed clock (`input.run.now`), so a
//! verdict can be reproduced later from the recorded input. `crypto.sha256` is missing from
//! regorus entirely. Semantics follow OPA's documentation; each builtin is tested against
//! values computed by OPA's reference (Go's `time` package) in this module's tests.
//!
//! Go's duration syntax (`1h30m`, `-1.5h`, `300ms`) has no crate of its own: `humantime` reads
//! a different grammar (no signs, no fractions), so [`parse_go_duration`] is written here.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use regorus::{Engine, Value};
use sha2::{Digest, Sha256};

/// The builtins sluice adds, by Rego name, for docs and tests.
pub const PROVIDED: &[&str] = &[
    "time.now_ns",
    "time.parse_rfc3339_ns",
    "time.add_date",
    "time.date",
    "time.clock",
    "time.weekday",
    "time.parse_duration_ns",
    "crypto.sha256",
];

/// Registers every builtin of [`PROVIDED`] on `engine`, with `now` as the clock.
pub fn register(engine: &mut Engine, now: Timestamp) -> anyhow::Result<()> {
    let now_ns = now.as_nanosecond();
    engine.add_extension("time.now_ns".into(), 0, Box::new(move |_: Vec<Value>| Ok(Value::from(now_ns))))?;
    engine.add_extension(
        "time.parse_rfc3339_ns".into(),
        1,
        Box::new(|args: Vec<Value>| {
            let text = string_arg(&args, 0, "time.parse_rfc3339_ns")?;
            Ok(Value::from(parse_rfc3339_ns(&text)?))
        }),
    )?;
    engine.add_extension(
        "time.add_date".into(),
        4,
        Box::new(|args: Vec<Value>| {
            let ns = int_arg(&args, 0, "time.add_date")?;
            let (y, m, d) = (
                int_arg(&args, 1, "time.add_date")?,
                int_arg(&args, 2, "time.add_date")?,
                int_arg(&args, 3, "time.add_date")?,
            );
            Ok(Value::from(add_date(ns, y, m, d)?))
        }),
    )?;
    engine.add_extension(
        "time.date".into(),
        1,
        Box::new(|args: Vec<Value>| {
            let ts = timestamp_arg(&args, "time.date")?;
            let date = ts.to_zoned(jiff::tz::TimeZone::UTC).date();
            Ok(Value::from(vec![
                Value::from(i64::from(date.year())),
                Value::from(i64::from(date.month())),
                Value::from(i64::from(date.day())),
            ]))
        }),
    )?;
    engine.add_extension(
        "time.clock".into(),
        1,
        Box::new(|args: Vec<Value>| {
            let ts = timestamp_arg(&args, "time.clock")?;
            let time = ts.to_zoned(jiff::tz::TimeZone::UTC).time();
            Ok(Value::from(vec![
                Value::from(i64::from(time.hour())),
                Value::from(i64::from(time.minute())),
                Value::from(i64::from(time.second())),
            ]))
        }),
    )?;
    engine.add_extension(
        "time.weekday".into(),
        1,
        Box::new(|args: Vec<Value>| {
            let ts = timestamp_arg(&args, "time.weekday")?;
            let day = ts.to_zoned(jiff::tz::TimeZone::UTC).weekday();
            Ok(Value::from(weekday_name(day)))
        }),
    )?;
    engine.add_extension(
        "time.parse_duration_ns".into(),
        1,
        Box::new(|args: Vec<Value>| {
            let text = string_arg(&args, 0, "time.parse_duration_ns")?;
            Ok(Value::from(parse_go_duration(&text)?))
        }),
    )?;
    engine.add_extension(
        "crypto.sha256".into(),
        1,
        Box::new(|args: Vec<Value>| {
            let text = string_arg(&args, 0, "crypto.sha256")?;
            Ok(Value::from(hex::encode(Sha256::digest(text.as_bytes()))))
        }),
    )?;
    Ok(())
}

fn string_arg(args: &[Value], i: usize, name: &str) -> anyhow::Result<String> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.to_string()),
        Some(other) => anyhow::bail!("{name}: operand {} must be a string, got {}", i + 1, type_name(other)),
        None => anyhow::bail!("{name}: missing operand {}", i + 1),
    }
}

fn int_arg(args: &[Value], i: usize, name: &str) -> anyhow::Result<i64> {
    match args.get(i) {
        Some(v @ Value::Number(_)) => {
            v.as_i64().map_err(|_| anyhow::anyhow!("{name}: operand {} must be an integer", i + 1))
        }
        Some(other) => anyhow::bail!("{name}: operand {} must be a number, got {}", i + 1, type_name(other)),
        None => anyhow::bail!("{name}: missing operand {}", i + 1),
    }
}

/// `time.date`/`clock`/`weekday` take nanoseconds or `[ns, "UTC"]`; only UTC is supported
/// (no time zone database is compiled in), and another zone is an error, not a silent UTC.
fn timestamp_arg(args: &[Value], name: &str) -> anyhow::Result<Timestamp> {
    let ns = match args.first() {
        Some(Value::Array(a)) => {
            let zone = match a.get(1) {
                Some(Value::String(s)) => s.to_string(),
                Some(_) => anyhow::bail!("{name}: the time zone must be a string"),
                None => String::new(),
            };
            if !(zone.is_empty() || zone == "UTC") {
                anyhow::bail!("{name}: time zone {zone:?} is not supported by sluice (only UTC)");
            }
            let items: Vec<Value> = a.iter().cloned().collect();
            int_arg(&items, 0, name)?
        }
        _ => int_arg(args, 0, name)?,
    };
    Ok(Timestamp::from_nanosecond(i128::from(ns))?)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Set(_) => "set",
        Value::Object(_) => "object",
        Value::Undefined => "undefined",
    }
}

/// Nanoseconds since the Unix epoch of an RFC 3339 timestamp (`2026-01-31T10:00:00Z`,
/// `…+02:00`, fractional seconds allowed).
pub fn parse_rfc3339_ns(text: &str) -> anyhow::Result<i64> {
    let ts: Timestamp =
        text.parse().map_err(|e| anyhow::anyhow!("time.parse_rfc3339_ns: {text:?} is not an RFC 3339 time: {e}"))?;
    i64::try_from(ts.as_nanosecond()).map_err(|_| anyhow::anyhow!("time.parse_rfc3339_ns: {text:?} is out of range"))
}

/// OPA's `time.add_date`: Go's `Time.AddDate`, which normalizes overflowing months and days
/// (October 31 plus one month is December 1), in UTC.
pub fn add_date(ns: i64, years: i64, months: i64, days: i64) -> anyhow::Result<i64> {
    let ts = Timestamp::from_nanosecond(i128::from(ns))?;
    let zoned = ts.to_zoned(jiff::tz::TimeZone::UTC);
    let (date, time) = (zoned.date(), zoned.time());
    // Month arithmetic first, on a zero-based month count, as Go's Date() normalization does.
    let month0 = i64::from(date.year()) * 12 + i64::from(date.month()) - 1 + years * 12 + months;
    let year = i16::try_from(month0.div_euclid(12)).map_err(|_| anyhow::anyhow!("time.add_date: year out of range"))?;
    let month = i8::try_from(month0.rem_euclid(12) + 1)?;
    let first = Date::new(year, month, 1)?;
    let day = first.checked_add((i64::from(date.day()) - 1 + days).days())?;
    let out = day.to_datetime(time).to_zoned(jiff::tz::TimeZone::UTC)?.timestamp();
    i64::try_from(out.as_nanosecond()).map_err(|_| anyhow::anyhow!("time.add_date: result out of range"))
}

fn weekday_name(day: jiff::civil::Weekday) -> &'static str {
    use jiff::civil::Weekday as W;
    match day {
        W::Monday => "Monday",
        W::Tuesday => "Tuesday",
        W::Wednesday => "Wednesday",
        W::Thursday => "Thursday",
        W::Friday => "Friday",
        W::Saturday => "Saturday",
        W::Sunday => "Sunday",
    }
}

/// Go's `time.ParseDuration`: a signed sequence of decimal numbers, each with an optional
/// fraction and a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), e.g. `1h30m`, `-1.5h`.
pub fn parse_go_duration(text: &str) -> anyhow::Result<i64> {
    let bad =
        || anyhow::anyhow!("time.parse_duration_ns: invalid duration {text:?} (expected e.g. \"1h30m\", \"90s\")");
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        if number_len == 0 {
            return Err(bad());
        }
        let value: f64 = rest[..number_len].parse().map_err(|_| bad())?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    if total > i64::MAX as f64 {
        return Err(anyhow::anyhow!("time.parse_duration_ns: {text:?} overflows"));
    }
    // Go rounds fractional nanoseconds toward zero.
    #[allow(clippy::cast_possible_truncation)]
    let ns = total.trunc() as i64;
    Ok(if negative { -ns } else { ns })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // Expected values below are what OPA 1.x (Go's time package) returns for the same calls.
    const JAN_31_2026: i64 = 1_769_817_600_000_000_000; // 2026-01-31T00:00:00Z

    fn eval(expr: &str) -> anyhow::Result<Value> {
        let mut engine = Engine::new();
        register(&mut engine, "2026-11-26T17:50:00Z".parse().unwrap())?;
        engine.add_policy("t.rego".into(), format!("package t\nx := {expr}\n"))?;
        engine.eval_rule("data.t.x".into())
    }

    #[test]
    fn parses_rfc3339_with_offsets_and_fractions() {
        assert_eq!(parse_rfc3339_ns("2026-01-31T00:00:00Z").unwrap(), JAN_31_2026);
        assert_eq!(parse_rfc3339_ns("2026-01-31T02:00:00+02:00").unwrap(), JAN_31_2026);
        assert_eq!(parse_rfc3339_ns("1970-01-01T00:00:00.000000001Z").unwrap(), 1);
        assert!(parse_rfc3339_ns("2026-01-31").is_err());
        assert!(parse_rfc3339_ns("yesterday").is_err());
    }

    #[test]
    fn add_date_normalizes_like_go() {
        // Go: time.Date(2026,1,31,...).AddDate(0,1,0) == 2026-03-03 (February has 28 days).
        let march_3 = parse_rfc3339_ns("2026-03-03T00:00:00Z").unwrap();
        assert_eq!(add_date(JAN_31_2026, 0, 1, 0).unwrap(), march_3);
        let next_year = parse_rfc3339_ns("2027-01-31T00:00:00Z").unwrap();
        assert_eq!(add_date(JAN_31_2026, 1, 0, 0).unwrap(), next_year);
        let back = parse_rfc3339_ns("2025-12-31T00:00:00Z").unwrap();
        assert_eq!(add_date(JAN_31_2026, 0, -1, 0).unwrap(), back);
        let plus_30_days = parse_rfc3339_ns("2026-03-02T00:00:00Z").unwrap();
        assert_eq!(add_date(JAN_31_2026, 0, 0, 30).unwrap(), plus_30_days);
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h30m").unwrap(), 5_400_000_000_000);
        assert_eq!(parse_go_duration("-1.5h").unwrap(), -5_400_000_000_000);
        assert_eq!(parse_go_duration("300ms").unwrap(), 300_000_000);
        assert_eq!(parse_go_duration("1us").unwrap(), 1_000);
        assert_eq!(parse_go_duration("0").unwrap(), 0);
        for bad in ["", "1", "1d", "h", "1h-2m", "--1h"] {
            assert!(parse_go_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn builtins_are_callable_from_rego() {
        assert_eq!(eval("time.now_ns()").unwrap(), Value::from(1_795_715_400_000_000_000_i64));
        assert_eq!(eval(r#"time.parse_rfc3339_ns("2026-01-31T00:00:00Z")"#).unwrap(), Value::from(JAN_31_2026));
        assert_eq!(
            eval(&format!("time.date({JAN_31_2026})")).unwrap(),
            Value::from(vec![Value::from(2026), Value::from(1), Value::from(31)])
        );
        assert_eq!(
            eval(&format!(r#"time.date([{JAN_31_2026}, "UTC"])"#)).unwrap(),
            Value::from(vec![Value::from(2026), Value::from(1), Value::from(31)])
        );
        assert_eq!(
            eval(&format!("time.clock({})", JAN_31_2026 + 3_723_000_000_000)).unwrap(),
            Value::from(vec![Value::from(1), Value::from(2), Value::from(3)])
        );
        assert_eq!(eval(&format!("time.weekday({JAN_31_2026})")).unwrap(), Value::from("Saturday"));
        assert_eq!(eval(r#"time.parse_duration_ns("2m")"#).unwrap(), Value::from(120_000_000_000_i64));
        assert_eq!(
            eval(&format!("time.add_date({JAN_31_2026}, 0, 1, 0)")).unwrap(),
            Value::from(parse_rfc3339_ns("2026-03-03T00:00:00Z").unwrap())
        );
        assert_eq!(
            eval(r#"crypto.sha256("abc")"#).unwrap(),
            Value::from("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }

    #[test]
    fn bad_operands_are_errors_not_undefined() {
        let err = eval(r#"time.parse_rfc3339_ns("next tuesday")"#).unwrap_err().to_string();
        assert!(err.contains("not an RFC 3339 time"), "{err}");
        let err = eval(r#"time.date([0, "Europe/Paris"])"#).unwrap_err().to_string();
        assert!(err.contains("only UTC"), "{err}");
        let err = eval("time.add_date(\"x\", 0, 0, 0)").unwrap_err().to_string();
        assert!(err.contains("must be a number"), "{err}");
    }
}
