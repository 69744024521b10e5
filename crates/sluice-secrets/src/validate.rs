//! Structural validators: offline checks a regex cannot express. None of them contacts a
//! provider; a passing check means "well-formed", not "live".

use base64::Engine as _;

use crate::filter;
use crate::spec::Validator;

pub(crate) fn check(validator: Validator, secret: &[u8]) -> bool {
    match validator {
        Validator::GithubCrc32 => github_crc32(secret),
        Validator::Jwt => jwt(secret),
        Validator::Base64UserPass => base64_user_pass(secret),
        Validator::MixedCase => secret.iter().any(u8::is_ascii_uppercase) && secret.iter().any(u8::is_ascii_lowercase),
        Validator::LetterAndDigit => {
            secret.iter().any(u8::is_ascii_alphabetic) && secret.iter().any(u8::is_ascii_digit)
        }
        Validator::CredentialLike => filter::is_credential_like(secret),
    }
}

/// Prefixes of formats that carry a CRC32 checksum (GitHub and npm tokens).
const CHECKSUMMED_PREFIXES: &[&[u8]] = &[b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_", b"npm_"];

/// True when `secret` has the prefix of a checksummed format and its checksum is wrong.
pub(crate) fn fails_known_checksum(secret: &[u8]) -> bool {
    CHECKSUMMED_PREFIXES.iter().any(|p| secret.starts_with(p)) && !github_crc32(secret)
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The six-character, zero-padded base62 form of a CRC32, as GitHub and npm append it.
pub(crate) fn base62_crc32(payload: &[u8]) -> [u8; 6] {
    let mut n = crc32fast::hash(payload);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// `<prefix>_<payload><checksum>`: the checksum lets GitHub (and us) tell a real token from a
/// random string of the right shape without asking GitHub.
fn github_crc32(secret: &[u8]) -> bool {
    let Some(underscore) = secret.iter().rposition(|&b| b == b'_') else {
        return false;
    };
    let body = &secret[underscore + 1..];
    if body.len() <= 6 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (payload, checksum) = body.split_at(body.len() - 6);
    base62_crc32(payload) == checksum
}

fn decode_base64url(part: &[u8]) -> Option<Vec<u8>> {
    let trimmed = part.strip_suffix(b"==").or_else(|| part.strip_suffix(b"=")).unwrap_or(part);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed).ok()
}

fn jwt(secret: &[u8]) -> bool {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(_signature)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Some(header) = decode_base64url(header) else {
        return false;
    };
    let header = header.trim_ascii();
    let is_object = |j: &[u8]| j.starts_with(b"{") && j.ends_with(b"}");
    if !is_object(header) || !contains(header, b"\"alg\"") {
        return false;
    }
    let Some(payload) = decode_base64url(payload) else {
        return false;
    };
    // A token that grants something names its issuer, subject, audience or lifetime; one with
    // none of the registered claims (`{"some":"payload"}`) is a demo. jwt.io's sample token is
    // pasted into countless tests and docs.
    const CLAIMS: [&[u8]; 7] = [b"\"iss\"", b"\"sub\"", b"\"aud\"", b"\"exp\"", b"\"iat\"", b"\"nbf\"", b"\"jti\""];
    is_object(payload.trim_ascii())
        && CLAIMS.iter().any(|claim| contains(&payload, claim))
        && !contains(&payload, b"\"John Doe\"")
}

fn base64_user_pass(secret: &[u8]) -> bool {
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(secret) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&decoded) else {
        return false;
    };
    if text.chars().any(char::is_control) {
        return false;
    }
    // Documentation favourites (`user:pass`, `admin:admin`) are not credentials anyone uses.
    const DEFAULTS: &[&str] = &["pass", "pwd", "root", "guest", "user", "foo", "bar", "baz"];
    match text.split_once(':') {
        Some((user, pass)) => {
            !user.is_empty()
                && pass.len() >= 6
                && pass != user
                && !DEFAULTS.contains(&pass.to_ascii_lowercase().as_str())
                && !filter::is_placeholder(pass.as_bytes(), true, &[])
                && !filter::is_placeholder(user.as_bytes(), false, &[])
        }
        None => false,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token with a correct checksum, built the way GitHub builds them.
    fn token(prefix: &str, payload: &str) -> String {
        let sum = base62_crc32(payload.as_bytes());
        format!("{prefix}{payload}{}", String::from_utf8_lossy(&sum))
    }

    #[test]
    fn github_checksum_accepts_generated_tokens() {
        for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_"] {
            let t = token(prefix, "Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
            assert_eq!(t.len(), 40);
            assert!(check(Validator::GithubCrc32, t.as_bytes()), "{t}");
        }
    }

    #[test]
    fn github_checksum_rejects_a_changed_character() {
        let t = token("ghp_", "Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
        let mut bad = t.clone().into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        assert!(!check(Validator::GithubCrc32, &bad));
        let mut bad_sum = t.into_bytes();
        let last = bad_sum.len() - 1;
        bad_sum[last] = if bad_sum[last] == b'0' { b'1' } else { b'0' };
        assert!(!check(Validator::GithubCrc32, &bad_sum));
        assert!(!check(Validator::GithubCrc32, b"ghp_abc"));
    }

    #[test]
    fn base62_padding_is_zeros() {
        // CRC32 of the empty string is 0.
        assert_eq!(&base62_crc32(b""), b"000000");
    }

    fn b64url(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn jwt_needs_alg_in_a_json_header() {
        let good = format!(
            "{}.{}.{}",
            b64url(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64url(r#"{"sub":"u-81","iat":1700000000}"#),
            "Qm9ndXNTaWduYXR1cmVGb3JUZXN0cw"
        );
        assert!(check(Validator::Jwt, good.as_bytes()));
        let no_alg = format!("{}.{}.sig", b64url(r#"{"typ":"JWT"}"#), b64url("{}"));
        assert!(!check(Validator::Jwt, no_alg.as_bytes()));
        assert!(!check(Validator::Jwt, b"eyJub3Rqcw.eyJub3Rqcw.abc"));
        let demo = format!("{}.{}.sig", b64url(r#"{"alg":"HS256"}"#), b64url(r#"{"some":"payload"}"#));
        assert!(!check(Validator::Jwt, demo.as_bytes()));
    }

    #[test]
    fn basic_auth_decodes_to_user_and_password() {
        let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert!(check(Validator::Base64UserPass, enc("deploy:Gx7#kq9Lw2").as_bytes()));
        assert!(!check(Validator::Base64UserPass, enc("user:password").as_bytes()));
        assert!(!check(Validator::Base64UserPass, enc("no colon here").as_bytes()));
        assert!(!check(Validator::Base64UserPass, enc("user:pass").as_bytes()));
        assert!(!check(Validator::Base64UserPass, enc("deploy:deploy").as_bytes()));
    }
}
