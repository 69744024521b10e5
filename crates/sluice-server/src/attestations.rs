//! Whether a run's attestation is signed by a key the server trusts: what the run page says.
//!
//! An attestation is a DSSE envelope (ed25519 over the PAE of its payload, as `sluice attest`
//! signs it and `sluice verify` checks it); its signatures name their key only by `keyid` (the
//! SHA-256 of the key's SPKI DER), never carry it. So the server can check a signature only
//! against public keys it was given: the `*.pub` files (SPKI PEM, as `openssl pkey -pubout` and
//! `sluice attest` write them) in `DATA/attestation-keys/`, read at start. The check is made on
//! the stored copy, which is the pushed document with its strings redacted: a redaction inside
//! the envelope makes the signature fail, and the page says so.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value;
use sluice_policy::attest::{self, VerifyingKey};

/// A public key attestations may be signed with.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// The file it came from, without `.pub`.
    pub name: String,
    /// `sha256:<hex>` of its SPKI DER, as envelopes name it.
    pub keyid: String,
    pub key: VerifyingKey,
}

impl TrustedKey {
    pub fn from_pem(name: &str, pem: &str) -> Result<TrustedKey, attest::AttestError> {
        let key = attest::verifying_key(name, pem)?;
        Ok(TrustedKey { name: name.to_owned(), keyid: attest::key_id(&key), key })
    }
}

/// The keys in `dir` (`*.pub`, sorted by name); none when the directory does not exist. A file
/// that is not an ed25519 public key stops the start.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<TrustedKey>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(anyhow::anyhow!("{}: {e}", dir.display())),
    };
    let mut keys = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("pub") {
            continue;
        }
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        let pem = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        keys.push(TrustedKey::from_pem(&name, &pem).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?);
    }
    keys.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(keys)
}

/// What the run page says about an attestation's signature.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// A signature verifies with this trusted key; the statement's subject commit, if any.
    Valid { key: String, keyid: String, commit: Option<String> },
    /// A trusted key has the signature's key id, but the signature does not verify with it.
    Invalid { key: String, keyid: String },
    /// Signed, by keys the server was not given (their ids).
    NoKey { keyids: Vec<String> },
    /// An in-toto statement without an envelope: nothing is signed.
    Unsigned,
    /// Neither an envelope nor a statement.
    Unknown,
}

pub fn check(document: &Value, keys: &[TrustedKey]) -> Check {
    let Some(signatures) = document.get("signatures").and_then(Value::as_array) else {
        return if document.get("_type").and_then(Value::as_str) == Some(attest::STATEMENT_TYPE) {
            Check::Unsigned
        } else {
            Check::Unknown
        };
    };
    let keyids: Vec<String> =
        signatures.iter().filter_map(|s| s.get("keyid").and_then(Value::as_str)).map(str::to_owned).collect();
    // The keys the envelope names, or every key when a signature names none.
    let anonymous = signatures.iter().any(|s| s.get("keyid").and_then(Value::as_str).is_none_or(str::is_empty));
    let candidates: Vec<&TrustedKey> = keys.iter().filter(|k| anonymous || keyids.contains(&k.keyid)).collect();
    let text = document.to_string();
    for key in &candidates {
        if let Ok((_, payload)) = attest::verify_envelope("attestation", &text, &key.key) {
            let commit = serde_json::from_slice::<Value>(&payload)
                .ok()
                .and_then(|s| s.pointer("/subject/0/digest/gitCommit").and_then(Value::as_str).map(str::to_owned));
            return Check::Valid { key: key.name.clone(), keyid: key.keyid.clone(), commit };
        }
    }
    match candidates.iter().find(|k| keyids.contains(&k.keyid)) {
        Some(key) => Check::Invalid { key: key.name.clone(), keyid: key.keyid.clone() },
        None => Check::NoKey { keyids },
    }
}

/// Whether the stored envelope's payload still decodes (a redaction inside it would not).
pub fn payload_decodes(document: &Value) -> bool {
    document.get("payload").and_then(Value::as_str).is_some_and(|p| B64.decode(p).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_the_data_directory() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let keys = dir.path().join("attestation-keys");
        assert!(load_dir(&keys).is_ok_and(|k| k.is_empty()), "no directory: no key");
        std::fs::create_dir(&keys).unwrap_or_else(|e| panic!("{e}"));
        let key = attest::SigningKey::from_bytes(&[3; 32]).verifying_key();
        std::fs::write(keys.join("ci.pub"), attest::public_key_pem(&key)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(keys.join("README"), "not a key").unwrap_or_else(|e| panic!("{e}"));
        let loaded = load_dir(&keys).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.len(), 1);
        assert_eq!((loaded[0].name.as_str(), loaded[0].keyid.clone()), ("ci", attest::key_id(&key)));
        std::fs::write(keys.join("broken.pub"), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(load_dir(&keys).is_err(), "a file that is not a key stops the start");
    }
}
