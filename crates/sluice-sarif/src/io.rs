use std::io::Write;

use serde_sarif::sarif::{Run, Sarif, Tool, ToolComponent};

/// The schema URI sluice writes; the one GitHub and the SARIF Multitool know.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Why a SARIF log could not be read. `origin` names the file or stream, so the message can be
/// shown to the user as is.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{origin}: empty input where a SARIF log was expected")]
    Empty { origin: String },
    #[error("{origin}: not valid JSON at line {line}, column {column}: {message}")]
    Json { origin: String, line: usize, column: usize, message: String },
    #[error("{origin}: JSON but not a SARIF 2.1.0 log: {message}")]
    NotSarif { origin: String, message: String },
    #[error("{origin}: SARIF version {found} is not supported; sluice reads SARIF 2.1.0")]
    Version { origin: String, found: String },
}

/// Parses a SARIF 2.1.0 log from bytes. Fields outside the schema are not kept (the schema
/// forbids them, so a valid log loses nothing); property bags are kept whole. Every credential
/// in any string of the log is redacted (`crate::redact_log`).
pub fn read_log(bytes: &[u8], origin: &str) -> Result<Sarif, ReadError> {
    let mut log = parse_log(bytes, origin)?;
    // Whoever wrote the log, no credential in it goes further than this.
    crate::redact::redact_log(&mut log);
    Ok(log)
}

fn parse_log(bytes: &[u8], origin: &str) -> Result<Sarif, ReadError> {
    let origin = origin.to_owned();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ReadError::Empty { origin });
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|&b| b != b'{') && serde_json::from_slice::<serde_json::Value>(bytes).is_ok() {
        return Err(ReadError::NotSarif { origin, message: "the top level is not a JSON object".into() });
    }
    // The log is parsed once; only when that fails (or the version is wrong) is the version
    // looked at on its own, so a SARIF 1.0 or 2.0 log gets a precise message rather than a
    // confusing field error.
    let full = serde_json::from_slice::<Sarif>(bytes);
    if matches!(&full, Ok(log) if log.version.as_str() == Some("2.1.0")) {
        return full.map_err(|_| ReadError::NotSarif { origin, message: String::new() });
    }
    #[derive(serde::Deserialize)]
    struct Head {
        version: Option<serde_json::Value>,
    }
    let head: Head = match serde_json::from_slice(bytes) {
        Ok(head) => head,
        Err(err) if err.is_data() => {
            return Err(ReadError::NotSarif { origin, message: "the top level is not a JSON object".into() })
        }
        Err(err) => {
            return Err(ReadError::Json {
                origin,
                line: err.line(),
                column: err.column(),
                message: strip_position(&err),
            })
        }
    };
    match head.version {
        Some(serde_json::Value::String(v)) if v == "2.1.0" => {}
        Some(other) => {
            let found = other.as_str().map_or_else(|| other.to_string(), str::to_owned);
            return Err(ReadError::Version { origin, found });
        }
        None => return Err(ReadError::NotSarif { origin, message: "missing the required \"version\" field".into() }),
    }
    full.map_err(|err| ReadError::NotSarif {
        origin,
        message: format!("{} (line {}, column {})", strip_position(&err), err.line(), err.column()),
    })
}

fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.find(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// A log with the given runs, the `$schema` and version sluice always writes.
pub fn empty_log(runs: Vec<Run>) -> Sarif {
    Sarif {
        schema: Some(SCHEMA_URI.to_owned()),
        inline_external_properties: None,
        properties: None,
        runs,
        version: serde_json::Value::String("2.1.0".into()),
    }
}

/// A run with just a tool name, to fill in.
pub fn empty_run(tool: &str) -> Run {
    let driver = ToolComponent::builder().name(tool).build();
    Run::builder().tool(Tool::builder().driver(driver).build()).build()
}

/// Writes a log as compact JSON followed by a newline. Maps keep their sorted order (property
/// bags are `BTreeMap`s), so equal logs serialize to equal bytes.
pub fn write_log(log: &Sarif, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, log)?;
    out.write_all(b"\n")
}

/// Writes a log as indented JSON, for files people open.
pub fn write_log_pretty(log: &Sarif, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, log)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_origin_and_the_problem() {
        let err = read_log(b"  \n", "a.sarif").unwrap_err();
        assert_eq!(err.to_string(), "a.sarif: empty input where a SARIF log was expected");
        let err = read_log(b"{\"version\": ", "b.sarif").unwrap_err();
        assert!(matches!(err, ReadError::Json { line: 1, .. }), "{err}");
        let err = read_log(b"[1,2]", "c").unwrap_err();
        assert!(err.to_string().contains("not a JSON object"), "{err}");
        let err = read_log(br#"{"version":"1.0.0","runs":[]}"#, "d").unwrap_err();
        assert!(err.to_string().contains("version 1.0.0"), "{err}");
        let err = read_log(br#"{"version":"2.1.0"}"#, "e").unwrap_err();
        assert!(err.to_string().contains("runs"), "{err}");
        let err = read_log(b"\xff\xfe garbage", "f").unwrap_err();
        assert!(matches!(err, ReadError::Json { .. }), "{err}");
    }

    #[test]
    fn round_trips_property_bags() {
        let text = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[{"id":"R1","properties":{"precision":"high","tags":["security"]}}]}},"results":[{"ruleId":"R1","message":{"text":"m"},"properties":{"x":{"nested":[1,2]}}}]}]}"#;
        let log = read_log(text.as_bytes(), "t").unwrap();
        let mut out = Vec::new();
        write_log(&log, &mut out).unwrap();
        let a: serde_json::Value = serde_json::from_str(text).unwrap();
        let b: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(a, b);
    }
}
