//! What may be printed or stored: the one place that decides.
//!
//! Every SARIF log that enters sluice ([`crate::read_log`]), every log a built-in stage writes,
//! and every line read back from a source file for display goes through here. A credential is
//! whatever the secrets engine's embedded rules recognise, found by *content*, in every string
//! of the log (messages, snippets, related locations, code flows, property bags and their keys,
//! rule metadata, artifact URIs and contents), whichever tool wrote it and whatever its rule is
//! called. Each one is replaced by its redacted form (`ghp_…(40 chars)`), which no rule matches,
//! so redacting is idempotent. Metadata decides the rest: [`is_credential`] says which results
//! are *about* a credential, so that their source is never read back from disk.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use serde_sarif::sarif::{ReportingDescriptor, Result as SarifResult, Run, Sarif};

use crate::keys;
use crate::normalize::result_cwes;

/// What stands for a text when the secrets rules cannot be loaded (a broken build): fail closed.
const UNAVAILABLE: &str = "[redacted: the secrets rules could not be loaded]";

/// `text` with every credential in it redacted; borrowed when there is none.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    match sluice_secrets::embedded_engine() {
        Some(engine) => match engine.redact_text(text) {
            Some(redacted) => Cow::Owned(redacted),
            None => Cow::Borrowed(text),
        },
        None => Cow::Borrowed(UNAVAILABLE),
    }
}

/// Redacts every string (and every key) of any JSON document: an SBOM, an attestation, a
/// verdict or an event a client sends. Fails closed like the rest: without the secrets rules,
/// every string is blanked.
pub fn redact_json(value: &mut Value) {
    let mut buf = Vec::new();
    redact_item(value, &mut buf);
}

/// Redacts every string of every run of a log, and of the log's own property bags.
pub fn redact_log(log: &mut Sarif) {
    let mut buf = Vec::new();
    let runs = std::mem::take(&mut log.runs);
    redact_item(log, &mut buf);
    log.runs = runs;
    for run in &mut log.runs {
        redact_run_with(run, &mut buf);
    }
}

/// Redacts every string of a run: its results one by one (only those where a rule's keyword
/// occurs are rebuilt), then everything else (tool, rules, invocations, artifacts…) together.
pub fn redact_run(run: &mut Run) {
    redact_run_with(run, &mut Vec::new());
}

/// Redacts every string of one result: for readers that stream a log result by result (the
/// gate) and so never hold a whole run.
pub fn redact_result(result: &mut SarifResult) {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with(|buf| redact_item(result, &mut buf.borrow_mut()));
}

/// [`redact_result`] for a writer that serializes the result anyway: `out` receives the
/// result's JSON, redacted; the result is serialized once when it holds no credential.
pub fn redact_result_into(result: &mut SarifResult, out: &mut Vec<u8>) -> serde_json::Result<()> {
    out.clear();
    serde_json::to_writer(&mut *out, &*result)?;
    match sluice_secrets::embedded_engine() {
        Some(engine) if json_is_clean(out, engine) => return Ok(()),
        Some(engine) => redact_strings(result, engine),
        None => blank_item(result),
    }
    out.clear();
    serde_json::to_writer(&mut *out, &*result)
}

fn redact_run_with(run: &mut Run, buf: &mut Vec<u8>) {
    let mut results = run.results.take();
    redact_item(run, buf);
    for result in results.iter_mut().flatten() {
        redact_item(result, buf);
    }
    run.results = results;
}

/// Serializes `item` once to test it with the keyword automaton (serde_json escapes only `"`,
/// `\` and control characters, and the automaton looks for keywords escaped that way, so a
/// `\u0067hp_` in the input, `ghp_` once parsed, cannot hide); only on a hit is the item turned
/// into a JSON value, redacted string by string and read back.
fn redact_item<T: Serialize + DeserializeOwned>(item: &mut T, buf: &mut Vec<u8>) {
    let Some(engine) = sluice_secrets::embedded_engine() else {
        // Fail closed: nothing of the item can be vouched for.
        blank_item(item);
        return;
    };
    buf.clear();
    if serde_json::to_writer(&mut *buf, &*item).is_err() || json_is_clean(buf, engine) {
        return;
    }
    redact_strings(item, engine);
}

/// The slow path, for an item known to hold a credential: rebuilt as a JSON value, redacted
/// string by string, read back.
fn redact_strings<T: Serialize + DeserializeOwned>(item: &mut T, engine: &sluice_secrets::Engine) {
    let Ok(mut value) = serde_json::to_value(&*item) else {
        return;
    };
    if redact_value(&mut value, engine) {
        // Only string contents changed, so the value still has the item's shape; should it
        // not read back, nothing of the item is kept rather than the credential.
        match serde_json::from_value(value) {
            Ok(redacted) => *item = redacted,
            Err(_) => blank_item(item),
        }
    }
}

/// Every string of `item` replaced by a note that it could not be vouched for.
fn blank_item<T: Serialize + DeserializeOwned>(item: &mut T) {
    if let Ok(mut value) = serde_json::to_value(&*item) {
        blank(&mut value);
        if let Ok(blanked) = serde_json::from_value(value) {
            *item = blanked;
        }
    }
}

/// Whether no string of a serialized value holds a credential, decided without building the
/// value: the keyword automaton on the whole JSON first (most values stop there), then each
/// string on its own, unescaped (and percent-decoded where it has escapes, as
/// [`redact_string`] checks URIs), exactly as [`redact_string`] would see it. Only a value
/// this finds something in is rebuilt and redacted string by string.
fn json_is_clean(json: &[u8], engine: &sluice_secrets::Engine) -> bool {
    if !engine.may_contain_credential_in_json(json) {
        return true;
    }
    let holds = |text: &[u8]| engine.may_contain_credential(text) && !engine.credential_spans(text).is_empty();
    let mut clean = true;
    for_each_json_string(json, &mut |content: &[u8]| {
        if clean && holds(content) {
            clean = false;
        }
        if clean && content.contains(&b'%') {
            let decoded = crate::normalize::decode_uri_path(&String::from_utf8_lossy(content));
            clean = !holds(decoded.as_bytes());
        }
    });
    clean
}

/// Calls `f` with the unescaped contents of every string (keys included) of compact JSON as
/// serde_json writes it.
fn for_each_json_string(json: &[u8], f: &mut dyn FnMut(&[u8])) {
    let mut content = Vec::new();
    let mut in_string = false;
    let mut i = 0;
    while i < json.len() {
        let b = json[i];
        if !in_string {
            in_string = b == b'"';
            content.clear();
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = false;
                f(&content);
                i += 1;
            }
            b'\\' if i + 1 < json.len() => {
                let (c, used) = match json[i + 1] {
                    b'n' => ('\n', 2),
                    b't' => ('\t', 2),
                    b'r' => ('\r', 2),
                    b'b' => ('\u{8}', 2),
                    b'f' => ('\u{c}', 2),
                    b'u' => {
                        let hex = json.get(i + 2..i + 6).and_then(|h| std::str::from_utf8(h).ok());
                        let code = hex.and_then(|h| u32::from_str_radix(h, 16).ok());
                        (code.and_then(char::from_u32).unwrap_or('\u{fffd}'), 6)
                    }
                    other => (char::from(other), 2),
                };
                let mut utf8 = [0u8; 4];
                content.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                i += used;
            }
            _ => {
                content.push(b);
                i += 1;
            }
        }
    }
}

/// Redacts every string in a JSON value, object keys included; whether anything changed.
fn redact_value(value: &mut Value, engine: &sluice_secrets::Engine) -> bool {
    match value {
        Value::String(s) => match redact_string(s, engine) {
            Some(redacted) => {
                *s = redacted;
                true
            }
            None => false,
        },
        Value::Array(items) => items.iter_mut().fold(false, |changed, v| redact_value(v, engine) | changed),
        Value::Object(map) => {
            let mut changed = false;
            let renamed: Vec<(String, String)> =
                map.keys().filter_map(|k| redact_string(k, engine).map(|r| (k.clone(), r))).collect();
            for (old, new) in renamed {
                if let Some(v) = map.remove(&old) {
                    map.insert(new, v);
                    changed = true;
                }
            }
            for v in map.values_mut() {
                changed |= redact_value(v, engine);
            }
            changed
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A string of a log, redacted; `None` when it holds no credential. URIs are percent-encoded,
/// which hides the context a rule needs (`DB_PASSWORD%20%3D%20%22…`): a string with escapes is
/// also checked decoded, and if that holds a credential it is replaced by the redacted decoded
/// text, encoded again.
fn redact_string(s: &str, engine: &sluice_secrets::Engine) -> Option<String> {
    let direct = engine.redact_text(s);
    let current = direct.as_deref().unwrap_or(s);
    if !current.contains('%') {
        return direct;
    }
    let decoded = crate::normalize::decode_uri_path(current);
    match engine.redact_text(&decoded) {
        Some(redacted) => Some(crate::normalize::encode_uri_path(&redacted)),
        None => direct,
    }
}

fn blank(value: &mut Value) {
    match value {
        Value::String(s) => UNAVAILABLE.clone_into(s),
        Value::Array(items) => items.iter_mut().for_each(blank),
        Value::Object(map) => map.values_mut().for_each(blank),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// CWEs of exposed or hard-coded credentials.
pub const CREDENTIAL_CWES: &[&str] = &["CWE-798", "CWE-259", "CWE-321", "CWE-522", "CWE-312", "CWE-540"];

/// Tools whose every result is a credential (lowercased driver names).
const SECRET_SCANNERS: &[&str] = &[
    "gitleaks",
    "trufflehog",
    "detect-secrets",
    "kingfisher",
    "ggshield",
    "gitguardian",
    "noseyparker",
    "nosey parker",
    "talisman",
    "secretlint",
    "whispers",
    "git-secrets",
    "ripsecrets",
];

/// Words in a rule's id, name or tags that say its results are credentials. Narrow on
/// purpose: `php.weak-password-hash` or a CSRF-token check are not about a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "secret",
    "credential",
    "hardcoded-password",
    "hardcoded_password",
    "hard-coded-password",
    "hardcoded-token",
    "api-key",
    "api_key",
    "apikey",
    "private-key",
    "private_key",
    "access-key",
    "access_key",
    "access-token",
    "auth-token",
];

/// Whether a result is *about* a credential, so that its identity is the secret and its
/// source must never be read back: sluice's secrets stage, a known secrets scanner (gitleaks'
/// `github-pat` says neither "secret" nor a CWE), a credential CWE, or a rule whose id, name
/// or tags say so. This is the contract's one definition; redaction of the credential itself
/// does not depend on it (see the module documentation).
pub fn is_credential(tool: &str, result: &SarifResult, rule: Option<&ReportingDescriptor>) -> bool {
    let stage = result.properties.as_ref().and_then(|p| p.additional_properties.get(keys::STAGE));
    let cwes = result_cwes(result, rule);
    let says = |text: &str| says_credential(text);
    is_credential_parts(
        tool,
        stage.and_then(Value::as_str).unwrap_or_default(),
        result.rule_id.as_deref().unwrap_or_default(),
        cwes.iter().map(String::as_str),
    ) || rule.is_some_and(|r| {
        says(&r.id)
            || r.name.as_deref().is_some_and(says)
            || r.properties.as_ref().and_then(|p| p.tags.as_ref()).is_some_and(|t| t.iter().any(|t| says(t)))
    })
}

/// [`is_credential`] for readers that keep only the tool, the stage, the rule id and the CWEs
/// of a result (baselines read leanly).
pub fn is_credential_parts<'a>(
    tool: &str,
    stage: &str,
    rule_id: &str,
    mut cwes: impl Iterator<Item = &'a str>,
) -> bool {
    let tool = tool.to_ascii_lowercase();
    stage == "secrets"
        || SECRET_SCANNERS
            .iter()
            .any(|s| tool.strip_prefix(s).is_some_and(|rest| rest.is_empty() || rest.starts_with(' ')))
        || cwes.any(|c| CREDENTIAL_CWES.contains(&c))
        || says_credential(rule_id)
}

fn says_credential(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    CREDENTIAL_WORDS.iter().any(|w| text.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_seen_unescaped_one_by_one() {
        let value = serde_json::json!({"a": "x\"y\\z\n\u{1}", "k\tey": ["%41B", 1, true, null]});
        let json = serde_json::to_vec(&value).unwrap_or_default();
        let mut seen = Vec::new();
        for_each_json_string(&json, &mut |s: &[u8]| seen.push(String::from_utf8_lossy(s).into_owned()));
        seen.sort();
        assert_eq!(seen, ["%41B", "a", "k\tey", "x\"y\\z\n\u{1}"]);
    }

    #[test]
    fn the_fast_check_agrees_with_redacting_each_string() {
        let Some(engine) = sluice_secrets::embedded_engine() else { panic!("embedded rules") };
        // A quoted generic password: inside JSON its quotes are escaped, so only the unescaped
        // string shows the rule its context.
        let dirty = serde_json::json!({"message": {"text": "set DB_PASSWORD = \"SIOjN09dwCO2Oj\" here"}});
        let encoded = serde_json::json!({"uri": "DB_PASSWORD%20%3D%20%22SIOjN09dwCO2Oj%22"});
        let clean = serde_json::json!({"message": {"text": "something suspicious in function handler_0"}});
        for (value, want) in [(dirty, false), (encoded, false), (clean, true)] {
            let json = serde_json::to_vec(&value).unwrap_or_default();
            assert_eq!(json_is_clean(&json, engine), want, "{value}");
        }
    }
}
