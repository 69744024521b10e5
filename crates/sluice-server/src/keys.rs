//! Secrets the server holds, encrypted at rest; first of them its ed25519 signing key, which
//! signs the decision sets `sluice run` applies and the decision log's export.
//!
//! Each secret is stored in `server_secrets` encrypted with XChaCha20-Poly1305 under the
//! master key (32 bytes, from `$SLUICE_SERVER_KEY` as base64, or a key file: `--key-file`,
//! by default `DATA/server.key`, created 0600 on first start), with a random nonce and the
//! secret's name as associated data (a ciphertext moved to another name does not decrypt). A
//! database copied without its master key gives away no secret.
//!
//! Replicas sharing one PostgreSQL database each generate a candidate key and insert it if no
//! key is there yet; then every one reads back the row that won, so they all sign with the same
//! key. A master key that does not decrypt what is stored stops the start with an error naming
//! the problem (never a fresh key that would silently replace the old one).
//!
//! Invariant: the private key and the master key are never logged, printed or served; only
//! the public key and its id leave this module.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::SigningKey;
use rand::RngExt;

use crate::db::Db;

/// The name of the signing key's row.
pub const SIGNING_KEY: &str = "decision-signing-key";
/// The environment variable that holds the master key (base64 of 32 bytes).
pub const MASTER_KEY_ENV: &str = "SLUICE_SERVER_KEY";

/// The master key, as the server was started with it. Debug shows where it came from only.
pub struct MasterKey {
    key: [u8; 32],
    origin: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.origin)
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.key = [0; 32];
    }
}

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub enum MasterKeySource {
    /// `$SLUICE_SERVER_KEY`'s value.
    Env(String),
    /// A file the operator named: it must exist.
    File(PathBuf),
    /// The default file in the data directory: created on first start.
    DefaultFile(PathBuf),
}

fn decode(text: &str, origin: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = B64.decode(text.trim()).map_err(|_| {
        anyhow::anyhow!("{origin}: the master key is not base64 (make one with `openssl rand -base64 32`)")
    })?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        anyhow::anyhow!(
            "{origin}: the master key is {} bytes, not 32 (make one with `openssl rand -base64 32`)",
            bytes.len()
        )
    })
}

fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    use std::os::unix::fs::PermissionsExt;
    let origin = path.display().to_string();
    let meta = std::fs::metadata(path).with_context(|| format!("{origin}: cannot read the master key file"))?;
    if meta.permissions().mode() & 0o077 != 0 {
        bail!("{origin}: the master key file is readable by others; `chmod 600 {origin}` and start again");
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("{origin}: cannot read the master key file"))?;
    Ok(MasterKey { key: decode(&text, &origin)?, origin })
}

/// Writes a new random master key to `path` (a new file, 0600, never through a link).
fn create_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let mut key = [0u8; 32];
    rand::rng().fill(&mut key);
    crate::serve::create_private_file(path, &format!("{}\n", B64.encode(key)))
        .with_context(|| format!("{}: cannot create the master key file", path.display()))?;
    Ok(MasterKey { key, origin: path.display().to_string() })
}

impl MasterKey {
    /// The master key from its source; the default file is created when missing.
    pub fn load(source: &MasterKeySource) -> anyhow::Result<MasterKey> {
        match source {
            MasterKeySource::Env(value) => {
                let origin = format!("${MASTER_KEY_ENV}");
                Ok(MasterKey { key: decode(value, &origin)?, origin })
            }
            MasterKeySource::File(path) => read_key_file(path),
            MasterKeySource::DefaultFile(path) => match path.symlink_metadata() {
                Ok(_) => read_key_file(path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key_file(path),
                Err(e) => Err(e).with_context(|| format!("{}: cannot read the master key file", path.display())),
            },
        }
    }

    /// A master key given as bytes (tests, tools).
    pub fn from_bytes(key: [u8; 32], origin: &str) -> MasterKey {
        MasterKey { key, origin: origin.to_owned() }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.key).into())
    }

    /// (nonce, ciphertext) of `secret` stored as `name`.
    pub fn seal(&self, name: &str, secret: &[u8]) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
        let mut nonce = [0u8; 24];
        rand::rng().fill(&mut nonce);
        let ciphertext = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: secret, aad: name.as_bytes() })
            .map_err(|_| anyhow::anyhow!("cannot encrypt the secret `{name}`"))?;
        Ok((nonce.to_vec(), ciphertext))
    }

    /// The secret stored as `name`; an error when this master key did not seal it.
    pub fn open(&self, name: &str, nonce: &[u8], ciphertext: &[u8]) -> anyhow::Result<Vec<u8>> {
        if nonce.len() != 24 {
            bail!("the stored secret `{name}` is damaged (its nonce is {} bytes, not 24)", nonce.len());
        }
        self.cipher().decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: name.as_bytes() }).map_err(
            |_| {
                anyhow::anyhow!(
                    "the master key from {} does not decrypt the secret `{name}` stored in the database: it is not \
                     the key this database was set up with (replicas must share one master key: give each the same \
                     ${MASTER_KEY_ENV} or --key-file); the stored key was not replaced",
                    self.origin
                )
            },
        )
    }
}

/// The server's signing key, decrypted, and its public half.
pub struct ServerKeys {
    signing: SigningKey,
    keyid: String,
    public_pem: String,
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerKeys({})", self.keyid)
    }
}

impl ServerKeys {
    fn from_signing(signing: SigningKey) -> ServerKeys {
        let public = signing.verifying_key();
        ServerKeys {
            keyid: sluice_policy::attest::key_id(&public),
            public_pem: sluice_policy::attest::public_key_pem(&public),
            signing,
        }
    }

    /// The signing key stored in the database, made (and stored, encrypted) when there is none.
    pub async fn load(db: &Db, master: &MasterKey) -> anyhow::Result<ServerKeys> {
        let (nonce, ciphertext) = {
            let mut seed = [0u8; 32];
            rand::rng().fill(&mut seed);
            let sealed = master.seal(SIGNING_KEY, &seed);
            seed.fill(0);
            sealed?
        };
        let (nonce, ciphertext) = db
            .secret_insert_if_absent(SIGNING_KEY, &nonce, &ciphertext)
            .await
            .context("cannot read or store the server's signing key")?;
        let plain = master.open(SIGNING_KEY, &nonce, &ciphertext)?;
        let bytes = <[u8; 32]>::try_from(plain.as_slice())
            .map_err(|_| anyhow::anyhow!("the stored secret `{SIGNING_KEY}` is not an ed25519 key"))?;
        Ok(ServerKeys::from_signing(SigningKey::from_bytes(&bytes)))
    }

    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// SPKI PEM, as `sluice verify --key` reads it.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// A DSSE envelope over `payload` (decision sets and logs).
    pub fn sign(&self, payload: &[u8]) -> serde_json::Value {
        sluice_policy::attest::sign_payload(sluice_policy::attest::DECISIONS_PAYLOAD_TYPE, payload, &self.signing)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sealed_secrets_open_with_their_key_and_name_only() {
        let master = MasterKey::from_bytes([7; 32], "test");
        let (nonce, ct) = master.seal("a", b"secret").unwrap();
        assert_eq!(master.open("a", &nonce, &ct).unwrap(), b"secret");
        assert!(master.open("b", &nonce, &ct).is_err(), "the name is associated data");
        let other = MasterKey::from_bytes([8; 32], "other");
        let err = other.open("a", &nonce, &ct).unwrap_err().to_string();
        assert!(err.contains("does not decrypt") && err.contains("other"), "{err}");
        assert!(!ct.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn master_keys_are_32_bytes_of_base64_in_a_private_file() {
        assert!(decode("not base64!", "x").unwrap_err().to_string().contains("not base64"));
        assert!(decode(&B64.encode([1u8; 16]), "x").unwrap_err().to_string().contains("16 bytes, not 32"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.key");
        let made = MasterKey::load(&MasterKeySource::DefaultFile(path.clone())).unwrap();
        let again = MasterKey::load(&MasterKeySource::DefaultFile(path.clone())).unwrap();
        assert_eq!(made.key, again.key);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = MasterKey::load(&MasterKeySource::File(path)).unwrap_err().to_string();
        assert!(err.contains("readable by others"), "{err}");
        let missing = MasterKey::load(&MasterKeySource::File(dir.path().join("nope"))).unwrap_err().to_string();
        assert!(missing.contains("cannot read the master key file"), "{missing}");
    }
}
