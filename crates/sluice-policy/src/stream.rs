//! Reading a log for the gate one result at a time: each result is parsed, turned into a
//! finding of the policy input, written to the output, and dropped, so neither the whole typed
//! log nor a whole typed run is ever held. The output is byte for byte what serializing the
//! typed log would give (sluice's compact form), without its earlier gate runs.

use serde::de::{Deserializer as _, Error as _, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value as Json;
use sluice_sarif::keys;
use sluice_sarif::sarif::{ExternalProperties, PropertyBag, Result as SarifResult, Run, Sarif};

use crate::input::Builder;

/// How a compact log ends: the runs array, then the version.
pub const TAIL: &[u8] = b"],\"version\":\"2.1.0\"}";

/// A log's top level with its runs left as text.
#[derive(serde::Deserialize)]
struct Shell<'a> {
    #[serde(rename = "$schema")]
    schema: Option<String>,
    #[serde(rename = "inlineExternalProperties")]
    inline_external_properties: Option<Vec<ExternalProperties>>,
    properties: Option<PropertyBag>,
    #[serde(borrow)]
    runs: Vec<&'a RawValue>,
    version: Json,
}

/// What [`read`] gives besides the output: how many runs were written, and the input's findings.
pub struct Streamed {
    pub runs: usize,
    pub builder: Builder,
}

/// Reads a SARIF 2.1.0 log result by result, writing the log without gate runs and without
/// its closing [`TAIL`] to `out` (a spool file, or a sink when only the input is wanted).
/// `None` when it does not read this way (not JSON, not SARIF 2.1.0, a field of the wrong
/// type), and then `out` holds a part: the caller reads the log whole, for the error.
pub fn read(bytes: &[u8], out: &mut dyn std::io::Write) -> Option<Streamed> {
    let shell: Shell<'_> = serde_json::from_slice(bytes).ok()?;
    if shell.version.as_str() != Some("2.1.0") {
        return None;
    }
    let mut top = Sarif {
        schema: shell.schema,
        inline_external_properties: shell.inline_external_properties,
        properties: shell.properties,
        runs: Vec::new(),
        version: shell.version,
    };
    // Redacted as `read_log` would: no credential reaches the input or the output.
    sluice_sarif::redact_log(&mut top);
    let head = serde_json::to_vec(&top).ok()?;
    out.write_all(head.strip_suffix(TAIL)?).ok()?;
    let mut builder = Builder::default();
    let mut runs = 0;
    for raw in shell.runs {
        if read_run(raw.get(), runs > 0, out, &mut builder)? {
            runs += 1;
        }
    }
    Some(Streamed { runs, builder })
}

/// One run into `out` (after a comma when `comma`) and `builder`; `Some(false)` for a gate
/// run, which is left out.
fn read_run(text: &str, comma: bool, out: &mut dyn std::io::Write, builder: &mut Builder) -> Option<bool> {
    // The run's fields as text; everything but the results is small and parsed as usual.
    let map: std::collections::BTreeMap<String, &RawValue> = serde_json::from_str(text).ok()?;
    let mut parts: Vec<(String, &RawValue)> = map.into_iter().collect();
    let results = match parts.iter().position(|(k, _)| k == "results") {
        Some(i) if parts[i].1.get().trim_start().starts_with('[') => Some(parts.remove(i).1),
        _ => None,
    };
    let Some(results) = results else {
        // No results array (absent or null): the run is small, parse it as it is.
        let mut run: Run = serde_json::from_str(text).ok()?;
        sluice_sarif::redact_run(&mut run);
        if is_gate(&run) {
            return Some(false);
        }
        builder.add_run(&run);
        if comma {
            out.write_all(b",").ok()?;
        }
        serde_json::to_writer(&mut *out, &run).ok()?;
        return Some(true);
    };
    let mut shell = String::with_capacity(text.len().min(1 << 16));
    shell.push('{');
    for (i, (key, value)) in parts.iter().enumerate() {
        if i > 0 {
            shell.push(',');
        }
        shell.push_str(&serde_json::to_string(key).ok()?);
        shell.push(':');
        shell.push_str(value.get());
    }
    shell.push('}');
    let mut run: Run = serde_json::from_str(&shell).ok()?;
    drop(shell);
    if is_gate(&run) {
        return Some(false);
    }
    run.results = Some(Vec::new());
    sluice_sarif::redact_run(&mut run);
    let run_json = serde_json::to_vec(&run).ok()?;
    let at = top_level_key(&run_json, b"\"results\":[]")?;
    let open = at + b"\"results\":[".len();
    if comma {
        out.write_all(b",").ok()?;
    }
    out.write_all(&run_json[..open]).ok()?;
    let mut stream = builder.begin_run(&run);
    let mut count = 0usize;
    let mut failed = false;
    {
        let mut buf = Vec::new();
        let mut on_result = |mut result: SarifResult| -> Result<(), String> {
            // Serialized once, redacted as `read_log` would (only a result where a rule's
            // keyword occurs is rebuilt).
            sluice_sarif::redact_result_into(&mut result, &mut buf).map_err(|e| e.to_string())?;
            if count > 0 {
                out.write_all(b",").map_err(|e| e.to_string())?;
            }
            out.write_all(&buf).map_err(|e| e.to_string())?;
            if let Some(s) = stream.as_mut() {
                s.add(&run, &result);
            }
            count += 1;
            Ok(())
        };
        let mut de = serde_json::Deserializer::from_str(results.get());
        if de.deserialize_seq(Results { on_result: &mut on_result }).is_err() || de.end().is_err() {
            failed = true;
        }
    }
    if failed {
        return None;
    }
    out.write_all(&run_json[open..]).ok()?;
    if let Some(s) = stream {
        builder.end_run(&run, s, count);
    }
    Some(true)
}

fn is_gate(run: &Run) -> bool {
    run.automation_details.as_ref().and_then(|d| d.id.as_deref()) == Some(keys::GATE_CATEGORY)
}

struct Results<'f> {
    on_result: &'f mut dyn FnMut(SarifResult) -> Result<(), String>,
}

impl<'de> Visitor<'de> for Results<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of SARIF results")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(result) = seq.next_element::<SarifResult>()? {
            (self.on_result)(result).map_err(A::Error::custom)?;
        }
        Ok(())
    }
}

/// Where `needle` (a key with its value, starting at the key's quote) is at the top level of
/// a compact JSON object.
fn top_level_key(json: &[u8], needle: &[u8]) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in json.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => {
                // At depth 1 a string followed by `:` is a key, never a value.
                if depth == 1 && json[i..].starts_with(needle) {
                    return Some(i);
                }
                in_string = true;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_top_level_keys() {
        let json = br#"{"a":{"results":[]},"b":"\"results\":[]","results":[],"z":1}"#;
        let at = top_level_key(json, b"\"results\":[]").unwrap();
        assert_eq!(&json[at..at + 12], b"\"results\":[]");
        assert_eq!(at, json.len() - br#""results":[],"z":1}"#.len());
    }

    #[test]
    fn streamed_output_is_the_typed_serialization() {
        let text = r#"{"version":"2.1.0","$schema":"s","runs":[
          {"tool":{"driver":{"name":"t","rules":[{"id":"R","properties":{"security-severity":"9.5"}}]}},
           "automationDetails":{"id":"sluice/sast/"},
           "results":[{"ruleId":"R","message":{"text":"a"},"properties":{"x":[1,{"y":"}"}]}},
                      {"ruleId":"R","level":"note","message":{"text":"b \"q\""}}],
           "properties":{"k":"v"}},
          {"tool":{"driver":{"name":"sluice-gate"}},"automationDetails":{"id":"sluice/gate/"},"results":[]},
          {"tool":{"driver":{"name":"u"}},"results":null},
          {"tool":{"driver":{"name":"v"}}}]}"#;
        let mut got = Vec::new();
        let streamed = read(text.as_bytes(), &mut got).unwrap();
        let mut log: Sarif = serde_json::from_str(text).unwrap();
        log.runs.retain(|r| !is_gate(r));
        let whole = serde_json::to_vec(&log).unwrap();
        got.extend_from_slice(TAIL);
        assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(whole).unwrap());
        assert_eq!(streamed.runs, 3);
        let facts = crate::input::Facts::default();
        let a = streamed.builder.finish(facts.clone());
        let b = crate::input::build(&log, facts);
        assert_eq!(a, b);
    }
}
