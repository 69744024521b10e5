//! Shared false-positive control. A regex says "this looks like the format"; these checks say
//! "but it is a placeholder, a lookup, a digest or an example", for every rule at once.

use crate::spec::Shape;

/// Shannon entropy in bits per byte.
pub fn entropy(bytes: &[u8]) -> f32 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let n = bytes.len() as f64;
    let h: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum();
    h as f32
}

/// Template, elision and markup marks: no generated token contains these characters, so they
/// mark a stand-in wherever they occur in the value.
const PLACEHOLDER_MARKS: &[&str] = &["****", "....", "${", "{{", "}}", "%(", "#{", "<", ">"];

/// Words that mark a value as a stand-in written by a human, not a generated secret. Compared
/// against the lowercased secret, but a word counts only where it cannot be chance (see
/// [`is_placeholder`]): `fake` turns up inside one long random key in a few hundred.
const PLACEHOLDER_WORDS: &[&str] = &[
    "xxxx",
    "example",
    "sample",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "changeit",
    "dummy",
    "redacted",
    "your_",
    "your-",
    "yourkey",
    "yoursecret",
    "yourtoken",
    "yourpass",
    "insert",
    "replace",
    "notreal",
    "not_real",
    "not-real",
    "fake",
    "lorem",
    "ipsum",
    "foobar",
];

/// Extra words for generic rules, whose values are chosen by humans: these mark test data.
const GENERIC_PLACEHOLDER_WORDS: &[&str] = &[
    "test",
    "mock",
    "demo",
    "secret",
    "passw",
    "qwerty",
    "letmein",
    "hunter2",
    "admin",
    "default",
    "token",
    "abc123",
    "none",
    "null",
    "undefined",
    "todo",
    "fixme",
    "here",
    // Oracle's and SQLAlchemy's documentation account, scott/tiger; RFC 7617's Aladdin.
    "tiger",
    "sesame",
];

/// Secrets copied from providers' documentation; they appear in code on purpose.
const DOCUMENTED_EXAMPLES: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AKIAI44QH8DHBEXAMPLE",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    // RFC 6749 (OAuth 2.0) and RFC 7617 (HTTP basic auth) examples, quoted by every OAuth
    // and HTTP library.
    "2YotnFZFEjr1zCsicMWpAA",
    "tGzv3JOkF0XG5Qx2TlKWIA",
    "czZCaGRSa3F0MzpnWDFmQmF0M2JW",
    "gX1fBat3bV",
    "QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
    // The Azurite / Azure Storage Emulator account key, the same on every machine.
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
];

/// Values longer than this, with at least [`RANDOM_ENTROPY`], are judged as a whole, never by
/// a word or a pattern found inside them: private key bodies, certificates and long tokens
/// are generated, and at their length any four- or five-letter word turns up by chance
/// (`FAkE` in about one 800-character key body in a few hundred). Human stand-ins are short,
/// mostly words, or repetitive (`…/T00000000/B00000000/XXXXXXXX…`).
const LONG_VALUE: usize = 64;

/// Bits per byte above which a long value is taken as generated: random base64 of 65
/// characters has about 5.2, hardly ever below 4.7; English text and repetitive stand-ins
/// stay under 4.3.
const RANDOM_ENTROPY: f32 = 4.5;

/// A word inside a value, with no separator around it, counts as a placeholder mark only when
/// a random value of that length would contain it with at most this probability: `example` in
/// a 40-character token is no accident; `fake` may well be.
const CHANCE: f64 = 1e-6;

/// One character of a random token matches a given letter, ignoring case, with probability
/// about 1/31 (base62: 2 of 62 characters).
const CHANCE_PER_CHAR: f64 = 1.0 / 31.0;

/// Whether the secret is a human-written stand-in rather than a generated value.
///
/// Judged by the value's shape, never by a word found anywhere in it: a placeholder word
/// counts where it is a token of its own (separated by `_`, `-`, `.`, a space or the ends of
/// the value: `your-api-key-here`, `sk_test_FAKE`), where it is too long to be chance in a
/// value this short, or where placeholder words make up most of the value (`changeme123`).
/// Long random values ([`LONG_VALUE`], [`RANDOM_ENTROPY`]) are only judged as a whole.
pub(crate) fn is_placeholder(secret: &[u8], generic: bool, accepts: &[Shape]) -> bool {
    if DOCUMENTED_EXAMPLES.iter().any(|e| e.as_bytes() == secret) {
        return true;
    }
    if PLACEHOLDER_MARKS.iter().any(|m| contains(secret, m.as_bytes())) {
        return true;
    }
    // `$VAR`, `$(cmd)` and Windows `%VAR%` are references resolved at run time.
    if let [b'$', next, ..] = secret {
        if next.is_ascii_alphabetic() || matches!(next, b'_' | b'(' | b'{') {
            return true;
        }
    }
    if secret.len() > 2 && secret.starts_with(b"%") && secret.ends_with(b"%") {
        return true;
    }
    let long = secret.len() > LONG_VALUE && entropy(secret) >= RANDOM_ENTROPY;
    let words = PLACEHOLDER_WORDS.iter().chain(if generic { GENERIC_PLACEHOLDER_WORDS } else { &[] });
    if has_placeholder_words(secret, words, long) {
        return true;
    }
    if !accepts.contains(&Shape::Repeats) {
        let run = longest_run(secret);
        if run >= 5 && (!long || run * 2 >= secret.len()) {
            return true;
        }
    }
    if !long && longest_sequence(secret) >= 6 {
        return true;
    }
    // A value of eight or more characters drawn from at most three distinct ones
    // (`abababab`, `0x0x0x0x`) was typed, not generated.
    secret.len() >= 8 && distinct(secret) <= 3
}

/// Whether placeholder words mark the value: one word that is a token of its own or too long
/// to be chance (short values only), or all the words found covering at least half of it.
fn has_placeholder_words<'w>(secret: &[u8], words: impl Iterator<Item = &'w &'w str>, long: bool) -> bool {
    let lower = secret.to_ascii_lowercase();
    let mut covered = vec![false; secret.len()];
    for word in words {
        let word = word.as_bytes();
        if word.len() > lower.len() {
            continue;
        }
        for start in (0..=lower.len() - word.len()).filter(|&i| lower[i..].starts_with(word)) {
            let end = start + word.len();
            if !long && (is_delimited(secret, start, end) || is_no_accident(secret.len(), word)) {
                return true;
            }
            covered[start..end].iter_mut().for_each(|c| *c = true);
        }
    }
    covered.iter().filter(|&&c| c).count() * 2 >= secret.len() && !secret.is_empty()
}

/// The bytes `start..end` form a token of their own: at each end, the value ends, or the
/// neighbouring byte or the word's own edge is not a letter or digit.
fn is_delimited(secret: &[u8], start: usize, end: usize) -> bool {
    let separates = |b: u8| !b.is_ascii_alphanumeric();
    let left = start == 0 || separates(secret[start - 1]) || separates(secret[start]);
    let right = end == secret.len() || separates(secret[end]) || separates(secret[end - 1]);
    left && right
}

/// A random value of `len` characters would contain `word` with a probability below
/// [`CHANCE`].
fn is_no_accident(len: usize, word: &[u8]) -> bool {
    let letters = word.iter().filter(|b| b.is_ascii_alphanumeric()).count();
    let letters = i32::try_from(letters).unwrap_or(i32::MAX);
    (len as f64) * CHANCE_PER_CHAR.powi(letters) < CHANCE
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn longest_run(s: &[u8]) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for &b in s {
        run = if prev == Some(b) { run + 1 } else { 1 };
        prev = Some(b);
        best = best.max(run);
    }
    best
}

/// Longest run of consecutive ascending or descending alphanumerics (`123456`, `abcdef`,
/// `987654`), which people type and generators rarely produce.
fn longest_sequence(s: &[u8]) -> usize {
    let mut best = 1.min(s.len());
    let (mut up, mut down) = (1, 1);
    for w in s.windows(2) {
        let (a, b) = (w[0], w[1]);
        let both = a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric();
        up = if both && b == a.wrapping_add(1) { up + 1 } else { 1 };
        down = if both && a == b.wrapping_add(1) { down + 1 } else { 1 };
        best = best.max(up).max(down);
    }
    best
}

fn distinct(s: &[u8]) -> usize {
    let mut seen = [false; 256];
    s.iter().filter(|&&b| !std::mem::replace(&mut seen[usize::from(b)], true)).count()
}

/// Shapes that are nearly always identifiers or digests, not credentials.
pub(crate) fn is_benign_shape(secret: &[u8], accepts: &[Shape]) -> bool {
    (!accepts.contains(&Shape::Uuid) && is_uuid(secret))
        || (!accepts.contains(&Shape::Hex40) && secret.len() == 40 && secret.iter().all(u8::is_ascii_hexdigit))
}

pub(crate) fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Code that reads a secret from the environment: the value is a lookup, not a secret.
const ENV_LOOKUPS: &[&str] = &[
    "process.env",
    "os.environ",
    "getenv(",
    "env(",
    "env[",
    "env.fetch",
    "$env{",
    "environment.getenvironmentvariable",
    "secrets.",
    "vault(",
];

pub(crate) fn is_env_lookup(text: &[u8]) -> bool {
    let lower = text.to_ascii_lowercase();
    ENV_LOOKUPS.iter().any(|w| contains(&lower, w.as_bytes()))
}

/// Prefixes that introduce a digest (subresource integrity, go.sum, pip hashes, Gemfile.lock
/// checksums): what follows is public, whatever it looks like.
const HASH_PREFIXES: &[&str] = &[
    "sha512-", "sha384-", "sha256-", "sha1-", "md5-", "h1:", "sha1:", "sha256:", "sha384:", "sha512:", "md5:",
    "sha256=", "sha512=",
];

/// Whether the bytes right before the secret introduce a digest.
pub(crate) fn follows_hash_prefix(content: &[u8], secret_start: usize) -> bool {
    let before = &content[secret_start.saturating_sub(8)..secret_start];
    let lower = before.to_ascii_lowercase();
    HASH_PREFIXES.iter().any(|p| lower.ends_with(p.as_bytes()))
}

/// The inline suppression a developer writes next to a known, accepted value (the SAST
/// engine reads it too, for its credential rules).
pub const ALLOW_COMMENT: &str = "sluice:allow";
/// gitleaks' own, honoured as sluice's unless `peer_annotations = false`.
pub const PEER_ALLOW_COMMENTS: &[&str] = &["gitleaks:allow"];

/// The allow directives honoured: sluice's, then the peers' when `peer`.
pub fn allow_directives(peer: bool) -> impl Iterator<Item = &'static str> {
    let peers = if peer { PEER_ALLOW_COMMENTS } else { &[] };
    std::iter::once(ALLOW_COMMENT).chain(peers.iter().copied())
}

/// Where the first allow directive of `line` ends (sluice's, else a peer's when `peer`).
pub(crate) fn allow_directive_end(line: &[u8], peer: bool) -> Option<usize> {
    allow_directives(peer)
        .map(str::as_bytes)
        .find_map(|d| line.windows(d.len()).position(|w| w == d).map(|at| at + d.len()))
}

/// File names of lockfiles: scanned for real tokens, but generic rules stay off because
/// they are full of digests next to words like `integrity` and `checksum`.
const LOCKFILES: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "Cargo.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "uv.lock",
    "go.sum",
    "composer.lock",
    "Gemfile.lock",
    "packages.lock.json",
    "paket.lock",
    "mix.lock",
    "pubspec.lock",
    "Podfile.lock",
    "Package.resolved",
    "flake.lock",
    "gradle.lockfile",
    "conan.lock",
];

pub(crate) fn is_lockfile(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    LOCKFILES.contains(&name)
}

/// The value of a generic assignment looks like a credential a human or a generator chose,
/// not like the code, configuration or prose that shares the naming convention.
pub(crate) fn is_credential_like(secret: &[u8]) -> bool {
    if is_placeholder(secret, true, &[]) {
        return false;
    }
    let has_letter = secret.iter().any(u8::is_ascii_alphabetic);
    let has_digit = secret.iter().any(u8::is_ascii_digit);
    if !has_letter || !has_digit {
        return false;
    }
    // Paths, URLs, format strings, templates and code fragments.
    if secret.iter().any(|b| matches!(b, b'\\' | b'{' | b'}' | b'(' | b')' | b'[' | b']' | b'<' | b'>' | b'$'))
        || contains(secret, b"://")
        || secret.starts_with(b"/")
        || secret.starts_with(b"./")
        || secret.starts_with(b"~/")
        || secret.windows(2).any(|w| w[0] == b'%' && w[1].is_ascii_alphabetic())
    {
        return false;
    }
    // A base64 stand-in (`bm90IGEgcmVhbCBwYXNzd29yZA==`, "not a real password") is still a
    // stand-in.
    if decodes_to_placeholder(secret) {
        return false;
    }
    // Base64 of a JSON object (`{"…`): pagination cursors and encoded documents. Signed
    // tokens of that shape are JWTs, which have their own rule.
    if secret.starts_with(b"eyJ") {
        return false;
    }
    // `module.attribute.Name`, `api.example.com`: code references and host names.
    if secret.contains(&b'.')
        && secret.split(|&b| b == b'.').all(|part| {
            part.first().is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
                && part.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        })
    {
        return false;
    }
    // `foo.json`, `v1.2.3`, `2024-01-01`.
    if looks_like_file_name(secret) || looks_like_version_or_date(secret) {
        return false;
    }
    // Digests have their own shape: all-hex strings of the usual lengths.
    if matches!(secret.len(), 32 | 40 | 64 | 96 | 128) && secret.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    !is_identifier(secret)
}

fn decodes_to_placeholder(secret: &[u8]) -> bool {
    use base64::Engine as _;
    if secret.len() < 12 || !secret.len().is_multiple_of(4) {
        return false;
    }
    match base64::engine::general_purpose::STANDARD.decode(secret) {
        Ok(text) if text.iter().all(|b| b.is_ascii_graphic() || *b == b' ') => is_placeholder(&text, true, &[]),
        _ => false,
    }
}

fn looks_like_file_name(s: &[u8]) -> bool {
    match s.iter().rposition(|&b| b == b'.') {
        Some(dot) => {
            let ext = &s[dot + 1..];
            (1..=4).contains(&ext.len()) && ext.iter().all(u8::is_ascii_lowercase) && dot > 0
        }
        None => false,
    }
}

fn looks_like_version_or_date(s: &[u8]) -> bool {
    let s = s.strip_prefix(b"v").unwrap_or(s);
    s.first().is_some_and(u8::is_ascii_digit)
        && s.iter().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b':' | b'T' | b'Z' | b'+'))
}

/// snake_case, kebab-case, dotted or camelCase words where digits only end a word:
/// `password_reset2`, `user.token.v2`, `accessToken1`. Generated secrets mix digits and
/// letters throughout.
/// `user_name`, `maxRetries2`, `API_KEY`: words of letters, then digits, in one of the cases
/// people write names in. `HKCSrFvWHWLhjjvxZ2` has the shape but not the case pattern of a
/// name: an uppercase run followed by lowercase, as in random strings, is not an identifier.
fn is_identifier(s: &[u8]) -> bool {
    s.split(|b| matches!(b, b'_' | b'-' | b'.')).all(|word| {
        let first_digit = word.iter().position(u8::is_ascii_digit).unwrap_or(word.len());
        let letters = &word[..first_digit];
        let one_case =
            letters.iter().all(|b| !b.is_ascii_uppercase()) || letters.iter().all(|b| !b.is_ascii_lowercase());
        let camel = !letters
            .windows(3)
            .any(|w| w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase() && w[2].is_ascii_lowercase());
        word.iter().all(u8::is_ascii_alphanumeric)
            && word[first_digit..].iter().all(u8::is_ascii_digit)
            && (one_case || camel)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-6);
    }

    #[test]
    fn placeholders() {
        for p in [
            "xxxxxxxxxxxxxxxx",
            "XXXXXXXXXXXXXXXXXXXX",
            "<your-key>",
            "your_api_key_here",
            "${API_KEY}",
            "$API_KEY",
            "{{ .Values.apiKey }}",
            "${{ secrets.TOKEN }}",
            "****************",
            "changeme",
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aaaaaaaaaaaaaaaa",
            "1234567890abcdef",
            "abababababababab",
            "%DB_PASSWORD%",
        ] {
            assert!(is_placeholder(p.as_bytes(), false, &[]), "{p}");
        }
        assert!(is_placeholder(b"testpassword99", true, &[]));
        for real in ["q8Zr2LkVw93NfTb5XcQe", "7fG2kLm9PzR4vW8tB3nD"] {
            assert!(!is_placeholder(real.as_bytes(), true, &[]), "{real}");
        }
    }

    #[test]
    fn placeholder_words_count_as_tokens_not_as_chance_substrings() {
        // A token of its own, too long to be chance, or most of the value.
        for p in
            ["sk_test_FAKE_9fK2mQ7x", "your-api-key-here", "ghp_yourtoken9fK2mQ7xLp", "changeme123", "Lp9fexample2K"]
        {
            assert!(is_placeholder(p.as_bytes(), false, &[]), "{p}");
        }
        // Four or five letters inside a random token, in any case: chance.
        for real in ["q8Zr2LkVfakeTb5XcQe9", "7fG2kLmFAkEzR4vW8tB3", "Xk9mQ2dummyL7pR4tZ8w0aB3nDq8Zr2LkV"] {
            assert!(!is_placeholder(real.as_bytes(), false, &[]), "{real}");
        }
        // A long random body is judged as a whole: a word anywhere inside it is chance.
        let body = "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCwHMDm9QhfgR4R/mUNB4gruVS+jwCerEh7rgZQANoRNykI8";
        for word in ["FAkE", "-fake-", "example", "xxxx", "placeholder"] {
            let mut spliced = body.to_owned();
            spliced.insert_str(40, word);
            assert!(!is_placeholder(spliced.as_bytes(), false, &[Shape::Repeats]), "{word}");
        }
        // … unless it is mostly stand-in.
        let mostly = format!("{}{}", &body[..30], "X".repeat(40));
        assert!(is_placeholder(mostly.as_bytes(), false, &[]));
    }

    #[test]
    fn shapes() {
        assert!(is_benign_shape(b"123e4567-e89b-12d3-a456-426614174000", &[]));
        assert!(!is_benign_shape(b"123e4567-e89b-12d3-a456-426614174000", &[Shape::Uuid]));
        assert!(is_benign_shape(b"3f786850e387550fdab836ed7e6dc881de23001b", &[]));
    }

    #[test]
    fn env_lookups() {
        for e in [
            "os.environ['X']",
            "process.env.API_KEY",
            "os.Getenv(\"TOKEN\")",
            "ENV['TOKEN']",
            "ENV.fetch('TOKEN')",
            "System.getenv(\"X\")",
        ] {
            assert!(is_env_lookup(e.as_bytes()), "{e}");
        }
    }

    #[test]
    fn hash_prefixes() {
        let c = b"\"integrity\": \"sha512-abcdEFGH\"";
        assert!(follows_hash_prefix(c, memchr_pos(c, b"abcdEFGH")));
        assert!(!follows_hash_prefix(c, memchr_pos(c, b"integrity")));
        let g = b"golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=";
        assert!(follows_hash_prefix(g, memchr_pos(g, b"g61tz")));
    }

    fn memchr_pos(h: &[u8], n: &[u8]) -> usize {
        h.windows(n.len()).position(|w| w == n).unwrap_or(usize::MAX)
    }

    #[test]
    fn credential_like() {
        for yes in ["S3cr3tP4ssw0rdZ", "9fK2mQ7xLp", "Tr0ub4dor&3x"] {
            assert!(is_credential_like(yes.as_bytes()), "{yes}");
        }
        for no in [
            "rust_openssl.hpke.MLKEM768X25519PrivateKey",
            "db2.internal.acme.io",
            "bm90IGEgcmVhbCBwYXNzd29yZA==",
            "password_reset_confirm",
            "accessToken1",
            "token.json",
            "/etc/secret1",
            "1.2.3",
            "2024-01-01",
            "%s-%s-2",
            "AUTH_TOKEN",
            "3f786850e387550fdab836ed7e6dc881de23001b",
            "https://x.io/1",
            "abcdefgh",
        ] {
            assert!(!is_credential_like(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn lockfiles() {
        assert!(is_lockfile("web/package-lock.json"));
        assert!(is_lockfile("go.sum"));
        assert!(!is_lockfile("src/lock.rs"));
    }
}
