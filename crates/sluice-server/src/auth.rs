//! Who is asking, and what they may do.
//!
//! Tokens are 256 random bits, base62, behind a prefix that names their kind (`sluice_pat_`,
//! `sluice_prj_`, `sluice_org_`, `sluice_ses_`, `sluice_login_`) and followed by a CRC32
//! checksum, as GitHub's are: a leaked one is recognisable by secret scanners (sluice's own
//! secrets stage included) and a mistyped one is refused without a database lookup. Only the
//! SHA-256 of a token is stored. Passwords are argon2id hashes.

use std::collections::BTreeMap;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngExt;
use sha2::{Digest, Sha256};

use crate::model::Role;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The kinds of token, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Personal,
    Project,
    Organisation,
    Login,
    Session,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Personal => "personal",
            TokenKind::Project => "project",
            TokenKind::Organisation => "organisation",
            TokenKind::Login => "login",
            TokenKind::Session => "session",
        }
    }

    pub fn parse(text: &str) -> Option<TokenKind> {
        Some(match text {
            "personal" => TokenKind::Personal,
            "project" => TokenKind::Project,
            "organisation" => TokenKind::Organisation,
            "login" => TokenKind::Login,
            "session" => TokenKind::Session,
            _ => return None,
        })
    }

    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Personal => "sluice_pat_",
            TokenKind::Project => "sluice_prj_",
            TokenKind::Organisation => "sluice_org_",
            TokenKind::Login => "sluice_login_",
            TokenKind::Session => "sluice_ses_",
        }
    }
}

fn base62(mut n: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// A new token of `kind`: prefix, 43 base62 characters (256 bits), 6 of checksum.
pub fn new_token(kind: TokenKind) -> String {
    let mut rng = rand::rng();
    let body: String = (0..43).map(|_| BASE62[rng.random_range(0..62)] as char).collect();
    let crc = crc32fast::hash(body.as_bytes());
    format!("{}{body}{}", kind.prefix(), base62(u64::from(crc), 6))
}

/// Whether a presented token is well formed (prefix, length, checksum); cheap, before any lookup.
pub fn well_formed(token: &str) -> bool {
    let Some(rest) = ["sluice_pat_", "sluice_prj_", "sluice_org_", "sluice_login_", "sluice_ses_"]
        .iter()
        .find_map(|p| token.strip_prefix(p))
    else {
        return false;
    };
    if rest.len() != 49 || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (body, check) = rest.split_at(43);
    base62(u64::from(crc32fast::hash(body.as_bytes())), 6) == check
}

/// What is stored for a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub const MIN_PASSWORD: usize = 12;

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    rand::rng().fill(&mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?
        .to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash to verify against when the user does not exist, so that a missing user takes as
/// long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not a password anyone has").unwrap_or_default())
}

/// Who made a request.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A person, by a personal or session token.
    User {
        user_id: i64,
        username: String,
        token_id: i64,
        /// Their role across the organisation, if any.
        org_role: Option<Role>,
        /// Their roles on projects, by project id.
        project_roles: BTreeMap<i64, Role>,
    },
    /// A project token: push or read, one project.
    Project { token_id: i64, project_id: i64, scope: Scope },
    /// An organisation token: push to any project, creating it on first push.
    Organisation { token_id: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Push,
    Read,
}

impl Principal {
    /// How the audit log names it.
    pub fn actor(&self) -> String {
        match self {
            Principal::User { username, .. } => format!("user:{username}"),
            Principal::Project { token_id, .. } => format!("project-token:{token_id}"),
            Principal::Organisation { token_id } => format!("organisation-token:{token_id}"),
        }
    }

    /// The token the request came with.
    pub fn token_id(&self) -> i64 {
        match self {
            Principal::User { token_id, .. }
            | Principal::Project { token_id, .. }
            | Principal::Organisation { token_id } => *token_id,
        }
    }

    /// The highest role a user holds on a project (the organisation role counts everywhere).
    pub fn role_on(&self, project_id: i64) -> Option<Role> {
        match self {
            Principal::User { org_role, project_roles, .. } => {
                let on_project = project_roles.get(&project_id).copied();
                match (org_role, on_project) {
                    (Some(a), Some(b)) => Some((*a).max(b)),
                    (a, b) => a.or(b),
                }
            }
            _ => None,
        }
    }

    pub fn org_role(&self) -> Option<Role> {
        match self {
            Principal::User { org_role, .. } => *org_role,
            _ => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.org_role() == Some(Role::Admin)
    }

    /// May read a project's runs and findings.
    pub fn may_read(&self, project_id: i64) -> bool {
        match self {
            Principal::User { .. } => self.role_on(project_id).is_some(),
            Principal::Project { project_id: own, scope: Scope::Read, .. } => *own == project_id,
            _ => false,
        }
    }

    /// May read every project (the portfolio, the finding list without a project).
    pub fn reads_everything(&self) -> bool {
        self.org_role().is_some()
    }

    /// May push a run to a project that exists.
    pub fn may_push(&self, project_id: i64) -> bool {
        match self {
            Principal::User { .. } => self.role_on(project_id).is_some(),
            Principal::Project { project_id: own, scope: Scope::Push, .. } => *own == project_id,
            Principal::Organisation { .. } => true,
            _ => false,
        }
    }

    /// May create a project by pushing to it.
    pub fn may_create_by_push(&self) -> bool {
        matches!(self, Principal::Organisation { .. }) || self.is_admin()
    }

    /// May make and revoke a project's tokens.
    pub fn may_manage_project(&self, project_id: i64) -> bool {
        self.role_on(project_id).is_some_and(|r| r >= Role::Security)
    }

    /// May read the audit log.
    pub fn may_audit(&self) -> bool {
        self.org_role().is_some_and(|r| r >= Role::Security)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_a_checksum() {
        let token = new_token(TokenKind::Project);
        assert!(token.starts_with("sluice_prj_"));
        assert!(well_formed(&token), "{token}");
        let mut bent = token.clone().into_bytes();
        let i = 20;
        bent[i] = if bent[i] == b'a' { b'b' } else { b'a' };
        assert!(!well_formed(&String::from_utf8(bent).unwrap_or_default()));
        assert!(!well_formed("sluice_prj_short"));
        assert_ne!(new_token(TokenKind::Project), token);
    }

    #[test]
    fn passwords_verify() {
        let hash = hash_password("correct horse battery").unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterz", &hash));
        assert!(!verify_password("x", "not a hash"));
    }
}
