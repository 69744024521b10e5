//! The matcher: one Aho-Corasick pass over a file finds which rules can match and where;
//! only those rules' regexes run, and only on windows around the keyword hits.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::sync::OnceLock;

use regex::bytes::{CaptureLocations, Regex, RegexBuilder};

use crate::error::Error;
use crate::filter;
use crate::finding::{self, Finding, Span};
use crate::spec::{self, FamilySpec, RuleSpec, Shape, Validator};
use crate::validate;

/// What to scan and how; the caller decides every value (see the CLI for defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Files up to this many bytes are read whole. Larger text files are scanned in
    /// overlapping windows of about 1 MiB (a secret across a window boundary is found once,
    /// lines stay right), so memory stays bounded whatever a file's size.
    pub max_file_size: u64,
    /// User rules, added to the embedded ones; ids must not collide with them.
    pub extra_rules: Vec<RuleSpec>,
    /// Gitignore-style globs, relative to the scan root, of paths never scanned or reported.
    pub allow_paths: Vec<String>,
    /// Honour the allow comments of other tools (`gitleaks:allow`) as `sluice:allow`.
    pub peer_annotations: bool,
}

/// Rule metadata, for SARIF rule descriptors and documentation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub description: String,
    /// How to revoke and rotate the credential; markdown.
    pub help: String,
    /// GitHub's 0–10 `security-severity`.
    pub severity: f32,
    /// `security`, `secret`, the family, then the rule's own tags.
    pub tags: Vec<String>,
    /// The rule file it came from (`cloud`, `vcs`, …), or `custom` for user rules.
    pub family: String,
    /// CWE-798, use of hard-coded credentials, for every secret rule.
    pub cwe: String,
}

/// Bytes of a line searched before a keyword hit: the regex may start with context that
/// precedes the keyword (`AccountName=…;AccountKey=`).
pub(crate) const BEFORE: usize = 256;
/// Bytes searched after a keyword hit on the same line; longer than any single-line token.
pub(crate) const AFTER: usize = 512;
/// Bytes searched after a hit for rules whose match spans lines (a 16384-bit RSA key is
/// about 13 KiB of PEM).
pub(crate) const MULTILINE_AFTER: usize = 32 * 1024;
/// How far a window end may move forward so that it does not cut a token in two.
pub(crate) const TOKEN_TAIL: usize = 4096;

/// A compiled regex with the indexes of its named groups.
pub(crate) struct Compiled {
    regex: Regex,
    secret_group: Option<usize>,
    /// A group named `user`: a password equal to its user name (`guest:guest`) is a default
    /// or a placeholder.
    user_group: Option<usize>,
}

struct Matcher {
    pattern: String,
    /// Compiled on first use: most rules never see a keyword in a given repository, and
    /// compiling all of them up front would dominate the run time of small scans.
    compiled: OnceLock<Option<Compiled>>,
    min_entropy: f32,
    validators: Vec<Validator>,
    accepts: Vec<Shape>,
    stopwords: Vec<String>,
    multiline: bool,
    generic: bool,
}

/// Compiled rules, ready to scan many files from many threads. Build it once.
pub struct Engine {
    rules: Vec<Rule>,
    /// [`Config::peer_annotations`].
    peer_annotations: bool,
    matchers: Vec<Matcher>,
    prefilter: Option<AhoCorasick>,
    /// The keywords as they appear inside JSON strings (`"auth"` is `\"auth\"` there).
    json_prefilter: Option<AhoCorasick>,
    /// What must occur for a keyword-less rule to match: the case-sensitive literal its pattern
    /// starts with (`SK` for Twilio keys). `None` when some such rule has none, so that
    /// every text may hold one of their matches.
    unfiltered_literals: Option<AhoCorasick>,
    /// For each prefilter pattern, the rules it triggers.
    pattern_rules: Vec<Vec<usize>>,
    /// Rules without keywords: they run on every file.
    unfiltered: Vec<usize>,
    allow: Gitignore,
    pub(crate) max_file_size: u64,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("rules", &self.rules.len()).finish_non_exhaustive()
    }
}

impl Engine {
    /// Compiles the embedded rules and the user's. Fails on an invalid user rule or allow
    /// path, naming it.
    pub fn new(config: &Config) -> Result<Engine, Error> {
        let embedded = spec::embedded().map_err(Error::EmbeddedRules)?;
        let custom =
            config.extra_rules.iter().map(|spec| FamilySpec { family: spec::CUSTOM_FAMILY, spec: spec.clone() });
        let all: Vec<FamilySpec> = embedded.iter().cloned().chain(custom).collect();

        let mut rules = Vec::with_capacity(all.len());
        let mut matchers = Vec::with_capacity(all.len());
        let mut keywords: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<usize>> = Vec::new();
        let mut unfiltered = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (index, FamilySpec { family, spec }) in all.iter().enumerate() {
            check_spec(spec)?;
            if !seen.insert(spec.id.as_str()) {
                return Err(invalid(spec, "another rule has the same id; pick a new id"));
            }
            matchers.push(compile(spec, family)?);
            rules.push(rule_of(spec, family));
            if spec.keywords.is_empty() {
                unfiltered.push(index);
            }
            for keyword in &spec.keywords {
                let keyword = keyword.to_ascii_lowercase();
                match keywords.iter().position(|k| *k == keyword) {
                    Some(p) => pattern_rules[p].push(index),
                    None => {
                        keywords.push(keyword);
                        pattern_rules.push(vec![index]);
                    }
                }
            }
        }
        let automaton = |keywords: &[String]| -> Result<Option<AhoCorasick>, Error> {
            if keywords.is_empty() {
                return Ok(None);
            }
            // Overlapping matches with standard semantics: a keyword inside another (`sk-`
            // in `sk-ant-`) must still trigger its own rules.
            let ac = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(keywords)
                .map_err(|e| Error::EmbeddedRules(format!("keyword automaton: {e}")))?;
            Ok(Some(ac))
        };
        let prefilter = automaton(&keywords)?;
        let json_keywords: Vec<String> =
            keywords.iter().map(|k| k.replace('\\', "\\\\").replace('"', "\\\"")).collect();
        let json_prefilter = automaton(&json_keywords)?;
        let literals: Vec<&str> = unfiltered.iter().map(|&i| literal_prefix(&all[i].spec.regex)).collect();
        let unfiltered_literals =
            if literals.iter().all(|l| l.len() >= 2) { AhoCorasick::new(&literals).ok() } else { None };

        let mut allow = GitignoreBuilder::new("");
        for glob in &config.allow_paths {
            allow.add_line(None, glob).map_err(|source| Error::AllowPath { glob: glob.clone(), source })?;
        }
        let allow = allow.build().map_err(|source| Error::AllowPath { glob: config.allow_paths.join(", "), source })?;

        Ok(Engine {
            peer_annotations: config.peer_annotations,
            rules,
            matchers,
            prefilter,
            json_prefilter,
            unfiltered_literals,
            pattern_rules,
            unfiltered,
            allow,
            max_file_size: config.max_file_size,
        })
    }

    /// Every rule the engine runs, embedded first, in a stable order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Whether `path` (relative to the scan root) is excluded by `allow_paths`.
    pub(crate) fn is_allowed_path(&self, path: &str, is_dir: bool) -> bool {
        let path = path.trim_start_matches('/');
        !path.is_empty() && self.allow.matched_path_or_any_parents(path, is_dir).is_ignore()
    }

    /// Finds the secrets in one file's content. `path` is only used for reporting, for
    /// `allow_paths` and to recognize lockfiles.
    pub fn scan_bytes(&self, path: &str, content: &[u8]) -> Vec<Finding> {
        if self.is_allowed_path(path, false) {
            return Vec::new();
        }
        let spans = self.spans(path, content);
        finding::build(path, content, &spans, |rule| self.rules[rule].id.clone())
    }

    /// Byte ranges of every credential in `content`, as a scan would find them but for the
    /// things that only decide whether a finding is *reported*: `sluice:allow` comments,
    /// `allow_paths` and the lockfile exception. This is what redaction uses: a credential a
    /// person chose not to report is still a credential, and must not be printed.
    pub fn credential_spans(&self, content: &[u8]) -> Vec<(usize, usize)> {
        self.spans_in(content, Mode::Redact).into_iter().map(|s| (s.start, s.end)).collect()
    }

    /// Whether any rule could match somewhere in `content`: one non-overlapping pass of the
    /// keyword automaton that stops at the first hit, much cheaper than collecting every hit.
    /// `false` means [`Engine::credential_spans`] would find nothing.
    pub fn may_contain_credential(&self, content: &[u8]) -> bool {
        self.prefilter.as_ref().is_some_and(|ac| ac.is_match(content)) || self.unfiltered_may_match(content)
    }

    fn unfiltered_may_match(&self, content: &[u8]) -> bool {
        !self.unfiltered.is_empty() && self.unfiltered_literals.as_ref().is_none_or(|ac| ac.is_match(content))
    }

    /// Whether any rule could match in some string of a serialized JSON value: one pass of the
    /// keyword automaton, keywords looked for as JSON escapes them. `false` means no string in
    /// it holds a credential.
    pub fn may_contain_credential_in_json(&self, json: &[u8]) -> bool {
        // The literals are letters and digits, which JSON never escapes.
        self.json_prefilter.as_ref().is_some_and(|ac| ac.is_match(json)) || self.unfiltered_may_match(json)
    }

    /// `text` with every credential replaced by its redacted form (`ghp_…(40 chars)`, followed
    /// by as many line breaks as the secret had), or `None` when it holds none. Redacted forms
    /// match no rule, so redacting twice changes nothing.
    pub fn redact_text(&self, text: &str) -> Option<String> {
        // Most texts hold no keyword: answer those with the cheap test.
        if !self.may_contain_credential(text.as_bytes()) {
            return None;
        }
        let spans = self.credential_spans(text.as_bytes());
        if spans.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in spans {
            // The regexes run on bytes: widen a span that cuts a character to whole characters.
            let start = (0..=start).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            let end = (end..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
            if start < at {
                continue;
            }
            out.push_str(&text[at..start]);
            let secret = &text[start..end];
            out.push_str(&finding::redact(secret));
            // A multi-line secret (a PEM key) keeps its line breaks, so line numbers after it
            // still point where they did.
            out.extend(std::iter::repeat_n('\n', secret.matches('\n').count()));
            at = end;
        }
        out.push_str(&text[at..]);
        Some(out)
    }

    /// The secrets in `content`, after filtering and overlap resolution, sorted by start.
    pub(crate) fn spans(&self, path: &str, content: &[u8]) -> Vec<Span> {
        self.spans_in(content, Mode::Scan { lockfile: filter::is_lockfile(path) })
    }

    fn spans_in(&self, content: &[u8], mode: Mode) -> Vec<Span> {
        let lockfile = matches!(mode, Mode::Scan { lockfile: true });
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        if let Some(ac) = &self.prefilter {
            for m in ac.find_overlapping_iter(content) {
                for &rule in &self.pattern_rules[m.pattern().as_usize()] {
                    hits.push((rule, m.start(), m.end()));
                }
            }
        }
        // Keyword-less rules run only where the literal their pattern starts with occurs.
        let unfiltered = self.unfiltered_may_match(content);
        if hits.is_empty() && !unfiltered {
            return Vec::new();
        }
        hits.sort_unstable();

        let mut spans = Vec::new();
        let mut i = 0;
        while i < hits.len() {
            let rule = hits[i].0;
            let end = hits[i..].iter().position(|h| h.0 != rule).map_or(hits.len(), |n| i + n);
            let matcher = &self.matchers[rule];
            if !(lockfile && matcher.generic) {
                let windows = windows(content, &hits[i..end], matcher.multiline);
                self.search(rule, content, &windows, &mut spans);
            }
            i = end;
        }
        for &rule in self.unfiltered.iter().filter(|_| unfiltered) {
            if !(lockfile && self.matchers[rule].generic) {
                self.search(rule, content, &[(0, content.len())], &mut spans);
            }
        }
        self.resolve_overlaps(spans)
    }

    /// Finds secrets in the names along `rel`, a relative `/`-separated path: a file or a
    /// directory named after a token is as much a leak as a file holding one. Each finding's
    /// `path` ends with the name that holds the secret, so a directory's secret is reported
    /// once whatever the number of files under it (the walk removes the duplicates).
    pub fn scan_names(&self, rel: &str) -> Vec<Finding> {
        if rel.is_empty() || self.is_allowed_path(rel, false) {
            return Vec::new();
        }
        let bytes = rel.as_bytes();
        let spans = self.spans(rel, bytes);
        let mut out = Vec::with_capacity(spans.len());
        for span in &spans {
            // The path up to the end of the name that holds the secret; its snippet redacts
            // every secret in it.
            let end = bytes[span.end..].iter().position(|&b| b == b'/').map_or(bytes.len(), |i| span.end + i);
            let path = String::from_utf8_lossy(&bytes[..end]).into_owned();
            let within: Vec<Span> = spans.iter().filter(|s| s.end <= end).copied().collect();
            let found = finding::build(&path, &bytes[..end], &within, |rule| self.rules[rule].id.clone());
            if let Some(mut f) = within.iter().zip(found).find_map(|(s, f)| (s.start == span.start).then_some(f)) {
                (f.line, f.end_line, f.in_path) = (1, 1, true);
                out.push(f);
            }
        }
        out
    }

    /// The id of rule number `rule`.
    pub(crate) fn rule_id(&self, rule: usize) -> String {
        self.rules[rule].id.clone()
    }

    fn search(&self, rule: usize, content: &[u8], windows: &[(usize, usize)], out: &mut Vec<Span>) {
        let matcher = &self.matchers[rule];
        // Embedded patterns are compiled by the test suite and user patterns by `new`, so a
        // failure here cannot happen; skipping the rule is the safe answer if it does.
        let Some(compiled) = matcher.compiled() else {
            return;
        };
        let mut locs: CaptureLocations = compiled.regex.capture_locations();
        for &(lo, hi) in windows {
            let haystack = &content[..hi];
            let mut at = lo;
            while at <= hi {
                let Some(whole) = compiled.regex.captures_read_at(&mut locs, haystack, at) else {
                    break;
                };
                at = if whole.end() > whole.start() { whole.end() } else { whole.end() + 1 };
                // A rule with alternatives may name `secret` in one branch only.
                let secret = compiled
                    .secret_group
                    .and_then(|g| locs.get(g))
                    .or_else(|| (1..locs.len()).find_map(|g| locs.get(g)));
                let (start, end) = secret.unwrap_or((whole.start(), whole.end()));
                let user = compiled.user_group.and_then(|g| locs.get(g));
                if user.is_some_and(|(s, e)| content[s..e] == content[start..end]) {
                    continue;
                }
                if let Some(span) =
                    accept(matcher, rule, content, (whole.start(), whole.end()), (start, end), self.peer_annotations)
                {
                    out.push(span);
                }
            }
        }
    }

    /// Where two rules claim overlapping bytes, one secret is reported, by the rule that knows
    /// the most: a provider rule over a generic one, then the longer secret, then file order.
    fn resolve_overlaps(&self, mut spans: Vec<Span>) -> Vec<Span> {
        if spans.len() < 2 {
            return spans;
        }
        spans.sort_by_key(|s| (self.matchers[s.rule].generic, std::cmp::Reverse(s.end - s.start), s.rule, s.start));
        // Kept spans never overlap each other, so among those starting before a candidate's
        // end only the last one can reach into it.
        let mut kept: std::collections::BTreeMap<usize, Span> = std::collections::BTreeMap::new();
        for span in spans {
            let clashes = kept.range(..span.end).next_back().is_some_and(|(_, k)| k.end > span.start);
            if !clashes {
                kept.insert(span.start, span);
            }
        }
        kept.into_values().collect()
    }
}

/// The literal a pattern starts with, after `\\b` and the opening of the `secret` group;
/// empty for case-insensitive patterns.
pub(crate) fn literal_prefix(pattern: &str) -> &str {
    if pattern.contains("(?i") {
        return "";
    }
    let rest = pattern.trim_start_matches("\\b").trim_start_matches("(?P<secret>");
    let end = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
    &rest[..end]
}

/// Why the engine is searching: to report findings in a file, or to find every credential
/// in a text that is about to be printed or stored.
#[derive(Debug, Clone, Copy)]
enum Mode {
    Scan { lockfile: bool },
    Redact,
}

/// Applies every filter to one regex match; `None` means "not a secret".
fn accept(
    matcher: &Matcher,
    rule: usize,
    content: &[u8],
    whole: (usize, usize),
    (start, end): (usize, usize),
    peer: bool,
) -> Option<Span> {
    let secret = &content[start..end];
    if secret.is_empty() {
        return None;
    }
    let entropy = filter::entropy(secret);
    if entropy < matcher.min_entropy {
        return None;
    }
    if !matcher.validators.iter().all(|&v| validate::check(v, secret)) {
        return None;
    }
    // A checksummed format the provider rule already rejected (a GitHub token with a wrong
    // CRC32) is a made-up value, not a generic secret.
    if matcher.generic && validate::fails_known_checksum(secret) {
        return None;
    }
    if filter::is_placeholder(secret, matcher.generic, &matcher.accepts)
        || filter::is_benign_shape(secret, &matcher.accepts)
        || filter::follows_hash_prefix(content, start)
        || filter::is_env_lookup(&content[whole.0..whole.1])
    {
        return None;
    }
    if !matcher.stopwords.is_empty() {
        let context = content[whole.0..start].to_ascii_lowercase();
        if matcher.stopwords.iter().any(|w| filter::contains(&context, w.as_bytes())) {
            return None;
        }
    }
    // A `sluice:allow` comment does not drop the secret: it is reported as suppressed in the
    // source, and the policy decides what such a comment is worth.
    // The secret's own line: the match may start at the newline before it (windows keep it).
    let (line_start, line_end) = line_bounds(content, start);
    let allowed = filter::allow_directive_end(&content[line_start..line_end], peer).map(|at| line_start + at);
    Some(Span { rule, start, end, entropy, allowed })
}

fn line_bounds(content: &[u8], at: usize) -> (usize, usize) {
    let start = content[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let end = content[at..].iter().position(|&b| b == b'\n').map_or(content.len(), |i| at + i);
    (start, end)
}

/// Merged search windows around a rule's keyword hits, sorted by start.
fn windows(content: &[u8], hits: &[(usize, usize, usize)], multiline: bool) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &(_, start, end) in hits {
        let (lo, hi) = if multiline {
            (start.saturating_sub(BEFORE), (end + MULTILINE_AFTER).min(content.len()))
        } else {
            let floor = start.saturating_sub(BEFORE);
            // The newline before the line stays in the window: patterns that start with
            // `(?:^|[^…])` need a byte before a token that begins its line.
            let lo = content[floor..start].iter().rposition(|&b| b == b'\n').map_or(floor, |i| floor + i);
            let ceil = (end + AFTER).min(content.len());
            let hi = match content[end..ceil].iter().position(|&b| b == b'\n') {
                Some(i) => end + i,
                None => extend_to_token_end(content, ceil),
            };
            (lo, hi)
        };
        match out.last_mut() {
            Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Moves a window end that falls inside a run of token characters to the end of that run, so
/// a regex never sees a truncated token as a complete shorter one.
fn extend_to_token_end(content: &[u8], at: usize) -> usize {
    let limit = (at + TOKEN_TAIL).min(content.len());
    content[at..limit]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-' | b'.')))
        .map_or(limit, |i| at + i)
}

fn invalid(spec: &RuleSpec, reason: &str) -> Error {
    Error::InvalidRule { id: spec.id.clone(), reason: reason.to_owned() }
}

fn check_spec(spec: &RuleSpec) -> Result<(), Error> {
    let kebab = !spec.id.is_empty()
        && spec
            .id
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if !kebab {
        return Err(invalid(spec, "the id must be kebab-case (`acme-api-token`)"));
    }
    if !(0.0..=10.0).contains(&spec.severity) {
        return Err(invalid(spec, "severity must be between 0 and 10"));
    }
    if spec.keywords.iter().any(|k| k.is_empty() || !k.is_ascii()) {
        return Err(invalid(spec, "keywords must be non-empty ASCII strings"));
    }
    Ok(())
}

/// What `{assign}` in a rule's regex stands for: a name-to-value separator as written in code,
/// configuration and prose — `KEY = "v"`, `KEY: v`, `"key": "v"`, `key => 'v'`,
/// `settings["key"] = "v"`, `setenv("KEY", "v")`, "set `KEY` to `v`".
pub const ASSIGN: &str = r#"["'`]?\]?\s*(?:=|:=|=>|:|,|\s+to\s+)\s*["'`]?"#;

pub(crate) fn compile_regex(pattern: &str) -> Result<Compiled, regex::Error> {
    let pattern = pattern.replace("{assign}", ASSIGN);
    let pattern = pattern.as_str();
    // Unicode off: ASCII `\b` and `\w` keep every regex on the fast DFA engines, and the
    // formats we match are ASCII anyway.
    let regex = RegexBuilder::new(pattern).unicode(false).size_limit(32 * (1 << 20)).build()?;
    let secret_group = regex.capture_names().position(|n| n == Some("secret"));
    let user_group = regex.capture_names().position(|n| n == Some("user"));
    Ok(Compiled { regex, secret_group, user_group })
}

impl Matcher {
    fn compiled(&self) -> Option<&Compiled> {
        self.compiled.get_or_init(|| compile_regex(&self.pattern).ok()).as_ref()
    }
}

/// Builds a matcher. User rules are compiled now, so that a bad pattern is reported before
/// the scan starts; embedded ones on first use (the test suite compiles every one).
fn compile(spec: &RuleSpec, family: &str) -> Result<Matcher, Error> {
    let compiled = OnceLock::new();
    if family == spec::CUSTOM_FAMILY {
        let eager = compile_regex(&spec.regex)
            .map_err(|source| Error::RuleRegex { id: spec.id.clone(), source: Box::new(source) })?;
        // A fresh cell cannot be full; ignoring the `Err` of `set` is therefore fine.
        let _ = compiled.set(Some(eager));
    }
    Ok(Matcher {
        pattern: spec.regex.clone(),
        compiled,
        min_entropy: spec.min_entropy.unwrap_or(0.0),
        validators: spec.validators.clone(),
        accepts: spec.accepts.clone(),
        stopwords: spec.stopwords.iter().map(|w| w.to_ascii_lowercase()).collect(),
        multiline: spec.multiline,
        generic: family == spec::GENERIC_FAMILY,
    })
}

fn rule_of(spec: &RuleSpec, family: &str) -> Rule {
    let mut tags = vec!["security".to_owned(), "secret".to_owned(), family.to_owned()];
    for tag in &spec.tags {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    Rule {
        id: spec.id.clone(),
        name: spec.name.clone(),
        description: spec.description.clone(),
        help: spec.help.clone(),
        severity: spec.severity,
        tags,
        family: family.to_owned(),
        cwe: "CWE-798".to_owned(),
    }
}
