//! Evidence an auditor can trust: an in-toto Statement (v1) about the commit, recording which
//! policy decided what over which results; optionally signed with ed25519 in a DSSE envelope.
//!
//! Formats follow the specifications: in-toto Attestation Framework v1 (Statement layer) and
//! DSSE v1 (the signature is over the Pre-Authentication Encoding of type and payload, never
//! over re-serialized JSON). Keys are PKCS#8 PEM (private) and SPKI PEM (public), as
//! `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` write them.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use crate::input::Stage;
use crate::verdict::PolicyRef;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://github.com/sluice-sec/sluice/attestation/gate/v1";
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    #[error("{path}: not an ed25519 private key in PKCS#8 PEM ({message}); create one with `openssl genpkey -algorithm ed25519 -out key.pem`")]
    PrivateKey { path: String, message: String },
    #[error("{path}: not an ed25519 public key in SPKI PEM ({message}); derive it with `openssl pkey -in key.pem -pubout -out key.pub`")]
    PublicKey { path: String, message: String },
    #[error("{path}: not a DSSE envelope: {message}")]
    Envelope { path: String, message: String },
    #[error(
        "{path}: the signature does not verify with this key: the attestation was changed or signed with another key"
    )]
    BadSignature { path: String },
    #[error("{path}: not a sluice attestation: {message}")]
    Statement { path: String, message: String },
}

/// A file the attestation covers, by path and SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Artifact {
    pub path: String,
    pub digest: Digests,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Digests {
    pub sha256: String,
}

impl Artifact {
    pub fn of(path: &str, bytes: &[u8]) -> Artifact {
        Artifact { path: path.to_owned(), digest: Digests { sha256: hex::encode(Sha256::digest(bytes)) } }
    }
}

/// What the statement says (its `predicate`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Predicate {
    /// `allowed`, `denied`, or `not evaluated` (the log was never gated).
    pub verdict: String,
    pub policy: Option<PolicyRef>,
    pub denials: Vec<String>,
    pub warnings: Vec<String>,
    pub stages: Vec<StageEvidence>,
    pub sarif: Artifact,
    pub sbom: Option<Artifact>,
    pub branch: Option<String>,
    pub producer: Producer,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StageEvidence {
    pub name: String,
    pub tool: String,
    pub version: Option<String>,
    pub status: String,
    pub results: usize,
}

impl From<&Stage> for StageEvidence {
    fn from(s: &Stage) -> Self {
        StageEvidence {
            name: s.name.clone(),
            tool: s.tool.clone(),
            version: s.version.clone(),
            status: s.status.clone(),
            results: s.results,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Producer {
    pub name: String,
    pub version: String,
    #[serde(rename = "policyInputVersion")]
    pub policy_input_version: u32,
}

/// The in-toto Statement v1 whose subject is the commit (`gitCommit` digest).
pub fn statement(repository: &str, commit: &str, predicate: &Predicate) -> Json {
    json!({
        "_type": STATEMENT_TYPE,
        "subject": [{ "name": repository, "digest": { "gitCommit": commit } }],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    })
}

/// DSSE's Pre-Authentication Encoding: `DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

pub fn signing_key(path: &str, pem: &str) -> Result<SigningKey, AttestError> {
    SigningKey::from_pkcs8_pem(pem)
        .map_err(|e| AttestError::PrivateKey { path: path.to_owned(), message: e.to_string() })
}

pub fn verifying_key(path: &str, pem: &str) -> Result<VerifyingKey, AttestError> {
    VerifyingKey::from_public_key_pem(pem)
        .map_err(|e| AttestError::PublicKey { path: path.to_owned(), message: e.to_string() })
}

/// `sha256:<hex>` of the key's SPKI DER: the envelope's `keyid`.
pub fn key_id(key: &VerifyingKey) -> String {
    match key.to_public_key_der() {
        Ok(der) => format!("sha256:{}", hex::encode(Sha256::digest(der.as_bytes()))),
        Err(_) => format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes()))),
    }
}

/// The SPKI PEM of a public key (what `openssl pkey -pubout` writes, what [`verifying_key`] reads).
pub fn public_key_pem(key: &VerifyingKey) -> String {
    key.to_public_key_pem(Default::default()).unwrap_or_default()
}

/// Signs `statement` into a DSSE envelope.
pub fn sign(statement: &Json, key: &SigningKey) -> Json {
    let payload = serde_json::to_vec(statement).unwrap_or_default();
    sign_payload(PAYLOAD_TYPE, &payload, key)
}

/// Signs any payload into a DSSE envelope: the signature is over the PAE of `payload_type`
/// and the payload's bytes, which the envelope carries as they are (base64).
pub fn sign_payload(payload_type: &str, payload: &[u8], key: &SigningKey) -> Json {
    let signature = key.sign(&pae(payload_type, payload));
    json!({
        "payloadType": payload_type,
        "payload": B64.encode(payload),
        "signatures": [{ "keyid": key_id(&key.verifying_key()), "sig": B64.encode(signature.to_bytes()) }],
    })
}

/// A DSSE envelope as read: its payload decoded, its signatures not yet checked.
#[derive(Debug)]
struct Envelope {
    payload_type: String,
    payload: Vec<u8>,
    /// Each signature's bytes; one that is not base64 is kept empty (it cannot verify).
    signatures: Vec<Vec<u8>>,
}

/// The envelope's JSON, its strings borrowed from the text where they have no escapes (a
/// payload is base64: tens of megabytes for a large decision set, not copied).
#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(rename = "payloadType", borrow)]
    payload_type: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    payload: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    signatures: Vec<RawSignature<'a>>,
}

#[derive(Deserialize)]
struct RawSignature<'a> {
    #[serde(borrow)]
    sig: std::borrow::Cow<'a, str>,
}

/// Reads a DSSE envelope (`path` names it in errors) without checking its signatures: see
/// [`Envelope::verify`]. Nothing in it may be trusted before that.
fn open_envelope(path: &str, envelope: &str) -> Result<Envelope, AttestError> {
    let env_err = |message: String| AttestError::Envelope { path: path.to_owned(), message };
    let raw: RawEnvelope<'_> = serde_json::from_str(envelope).map_err(|e| env_err(e.to_string()))?;
    let payload = decode_payload(raw.payload.as_bytes()).map_err(|e| env_err(format!("payload is not base64: {e}")))?;
    let signatures = raw.signatures.iter().map(|s| B64.decode(s.sig.as_bytes()).unwrap_or_default()).collect();
    Ok(Envelope { payload_type: raw.payload_type.into_owned(), payload, signatures })
}

/// Base64 of a payload; a large one in two halves on two threads (a 50 MB decision set is 70 MB
/// of base64). Only the last quantum may be padded, so the halves split on a 4-character
/// boundary decode to exactly the whole.
fn decode_payload(text: &[u8]) -> Result<Vec<u8>, base64::DecodeSliceError> {
    const SPLIT_ABOVE: usize = 1 << 20;
    if text.len() <= SPLIT_ABOVE {
        return B64.decode(text).map_err(base64::DecodeSliceError::DecodeError);
    }
    let (first, second) = text.split_at(text.len() / 2 / 4 * 4);
    let first_len = first.len() / 4 * 3;
    let mut out = vec![0u8; first_len + base64::decoded_len_estimate(second.len())];
    let (head, tail) = out.split_at_mut(first_len);
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| B64.decode_slice(first, head));
        let b = B64.decode_slice(second, tail);
        (a.join().unwrap_or_else(|p| std::panic::resume_unwind(p)), b)
    });
    // A first half that ends padded decoded to fewer bytes: padding inside the text.
    if a? != first_len {
        return Err(base64::DecodeSliceError::DecodeError(base64::DecodeError::InvalidPadding));
    }
    let tail_len = b?;
    out.truncate(first_len + tail_len);
    Ok(out)
}

impl Envelope {
    /// Whether some signature verifies with `key` over the PAE of the type and payload. The
    /// PAE is hashed as a stream (header, then payload), never copied.
    fn verify(&self, path: &str, key: &VerifyingKey) -> Result<(), AttestError> {
        let header = format!("DSSEv1 {} {} {} ", self.payload_type.len(), self.payload_type, self.payload.len());
        let verified = self.signatures.iter().any(|sig| {
            let Ok(sig) = Signature::from_slice(sig) else { return false };
            let Ok(mut stream) = key.verify_stream(&sig) else { return false };
            stream.update(header.as_bytes());
            stream.update(&self.payload);
            stream.finalize_and_verify().is_ok()
        });
        if verified {
            Ok(())
        } else {
            Err(AttestError::BadSignature { path: path.to_owned() })
        }
    }
}

/// Checks a DSSE envelope as [`verify_envelope`] does while `parse` reads its payload: the
/// signature checked on one thread, the payload parsed on another (a large decision set is
/// 40 MB: each takes about as long as the other). The payload's type and what `parse` made of
/// it are returned only when the signature held.
pub fn verify_and_parse<R: Send>(
    path: &str,
    envelope: &str,
    key: &VerifyingKey,
    parse: impl FnOnce(&[u8]) -> R + Send,
) -> Result<(String, R), AttestError> {
    let env = open_envelope(path, envelope)?;
    let (verified, parsed) = std::thread::scope(|scope| {
        let parse = scope.spawn(|| parse(&env.payload));
        let verified = env.verify(path, key);
        // A panic while parsing is a bug, not a verdict on the input: passed on.
        (verified, parse.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    });
    verified?;
    Ok((env.payload_type, parsed))
}

/// Checks a DSSE envelope: some signature verifies with `key` over the PAE of its payload.
/// Returns the payload type and the payload.
pub fn verify_envelope(path: &str, envelope: &str, key: &VerifyingKey) -> Result<(String, Vec<u8>), AttestError> {
    let env = open_envelope(path, envelope)?;
    env.verify(path, key)?;
    Ok((env.payload_type, env.payload))
}

/// Checks a DSSE envelope: some signature verifies with `key` over the PAE of its payload,
/// and the payload is a sluice in-toto Statement. Returns the statement.
pub fn verify(path: &str, envelope: &str, key: &VerifyingKey) -> Result<Json, AttestError> {
    let (payload_type, payload) = verify_envelope(path, envelope, key)?;
    if payload_type != PAYLOAD_TYPE {
        return Err(AttestError::Envelope {
            path: path.to_owned(),
            message: format!("payloadType is {payload_type:?}, expected {PAYLOAD_TYPE:?}"),
        });
    }
    let st_err = |message: String| AttestError::Statement { path: path.to_owned(), message };
    let statement: Json = serde_json::from_slice(&payload).map_err(|e| st_err(e.to_string()))?;
    if statement.get("_type").and_then(Json::as_str) != Some(STATEMENT_TYPE) {
        return Err(st_err(format!("_type is not {STATEMENT_TYPE}")));
    }
    if statement.get("predicateType").and_then(Json::as_str) != Some(PREDICATE_TYPE) {
        return Err(st_err(format!("predicateType is not {PREDICATE_TYPE}")));
    }
    Ok(statement)
}

/// The payload type of what the server signs about decisions (the decision set a project
/// applies, the decision log); the payload's `_type` says which.
pub const DECISIONS_PAYLOAD_TYPE: &str = "application/vnd.sluice.decisions+json";
/// `_type` of the decision set `GET /projects/{p}/decision-set` serves.
pub const DECISION_SET_TYPE: &str = "https://github.com/sluice-sec/sluice/decision-set/v1";
/// `_type` of the decision log `GET /decisions/export` serves.
pub const DECISION_LOG_TYPE: &str = "https://github.com/sluice-sec/sluice/decision-log/v1";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};

    fn keys(seed: u8) -> (String, String) {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let private = key.to_pkcs8_pem(Default::default()).unwrap().to_string();
        let public = key.verifying_key().to_public_key_pem(Default::default()).unwrap();
        (private, public)
    }

    fn predicate() -> Predicate {
        Predicate {
            verdict: "denied".into(),
            policy: Some(PolicyRef { name: "constrained".into(), digest: "sha256:00".into(), files: vec![] }),
            denials: vec!["high-severity".into()],
            warnings: vec![],
            stages: vec![],
            sarif: Artifact::of("sluice-out/results.sarif", b"{}"),
            sbom: None,
            branch: Some("main".into()),
            producer: Producer { name: "sluice".into(), version: "0.1.0".into(), policy_input_version: 1 },
        }
    }

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // The DSSE protocol document's test vector.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn a_large_payload_decodes_in_halves_to_the_whole() {
        // Above the split size, of every length modulo 3 (so every padding).
        for extra in 0..3 {
            let bytes: Vec<u8> = (0..(3 << 20) + extra).map(|i| (i * 7 + i / 251) as u8).collect();
            let text = B64.encode(&bytes);
            assert_eq!(decode_payload(text.as_bytes()).unwrap(), bytes, "length {}", bytes.len());
            // A bad character in either half is refused.
            for at in [10, text.len() - 10] {
                let mut bad = text.clone().into_bytes();
                bad[at] = b'!';
                assert!(decode_payload(&bad).is_err(), "bad byte at {at}");
            }
        }
        // Two encodings end to end, the first padded where the halves split: not one payload.
        let m = 1 << 19;
        let padded = B64.encode(vec![1u8; 3 * m - 2]) + &B64.encode(vec![2u8; 3 * m]);
        assert_eq!(padded.len() / 2, 4 * m);
        assert!(B64.decode(&padded).is_err());
        assert!(decode_payload(padded.as_bytes()).is_err());
    }

    #[test]
    fn signed_statements_verify_and_tampering_is_detected() {
        let (private, public) = keys(7);
        let st = statement("repo", "0123456789abcdef0123456789abcdef01234567", &predicate());
        let env = sign(&st, &signing_key("k", &private).unwrap());
        let text = env.to_string();
        let vk = verifying_key("k.pub", &public).unwrap();
        assert_eq!(verify("att.json", &text, &vk).unwrap(), st);

        // Another key does not verify it.
        let (_, other) = keys(8);
        let err = verify("att.json", &text, &verifying_key("o.pub", &other).unwrap()).unwrap_err();
        assert!(matches!(err, AttestError::BadSignature { .. }));

        // A changed verdict does not verify.
        let mut forged = env.clone();
        let mut payload: Json = serde_json::from_slice(&B64.decode(env["payload"].as_str().unwrap()).unwrap()).unwrap();
        payload["predicate"]["verdict"] = json!("allowed");
        forged["payload"] = json!(B64.encode(serde_json::to_vec(&payload).unwrap()));
        assert!(matches!(verify("att.json", &forged.to_string(), &vk), Err(AttestError::BadSignature { .. })));
    }

    #[test]
    fn bad_keys_and_envelopes_are_named_errors() {
        let err = signing_key("key.pem", "not a key").unwrap_err().to_string();
        assert!(err.starts_with("key.pem: not an ed25519 private key") && err.contains("openssl genpkey"), "{err}");
        let (_, public) = keys(1);
        let vk = verifying_key("k.pub", &public).unwrap();
        let err = verify("att.json", "{}", &vk).unwrap_err().to_string();
        assert!(err.starts_with("att.json: not a DSSE envelope"), "{err}");
    }
}
