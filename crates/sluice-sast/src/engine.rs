//! Rules compiled per language, and the scan of one source text: a keyword prefilter picks
//! the rules a file can trigger (a file that can trigger none is never parsed), one parse,
//! one traversal that feeds every applicable rule and the semantic model, then the semantic
//! checks and suppressions on the candidates.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aho_corasick::{AhoCorasick, MatchKind};
use ast_grep_config::{GlobalRules, RuleConfig, SerializableRule, SerializableRuleConfig, Severity};
use ast_grep_core::matcher::MatcherExt;
use ast_grep_core::tree_sitter::StrDoc;
use ast_grep_core::{AstGrep, Matcher};
use ast_grep_language::SupportLang;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::error::Error;
use crate::finding::{self, Finding};
use crate::lang::Lang;
use crate::parse;
use crate::prefilter;
use crate::semantic::{self, CompiledSemantic, Model, SNode};
use crate::spec::{self, Examples, RuleDoc};
use crate::suppress::Suppressions;
use crate::walk::{SkipReason, WarningKind};

/// What to scan and how; the caller decides every value (the CLI documents its defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Files larger than this many bytes are skipped and listed in [`crate::Scan::skipped`].
    pub max_file_size: u64,
    /// Files whose syntax tree is deeper than this are skipped: matching cost grows with
    /// depth, and no hand-written code nests thousands of levels.
    pub max_depth: usize,
    /// Parsing and matching one file may take this long; then the file is skipped.
    pub file_timeout: Duration,
    /// Run the packs sluice ships (else only `rule_dirs`).
    pub builtin_rules: bool,
    /// Directories of ast-grep YAML rules (`*.yml`, `*.yaml`, searched recursively).
    pub rule_dirs: Vec<PathBuf>,
    /// Rule ids not to run.
    pub disabled_rules: Vec<String>,
    /// Gitignore-style globs, relative to the scan root, of paths never scanned.
    pub exclude_paths: Vec<String>,
    /// Only rules written for these languages run (empty: all). JavaScript rules still run
    /// on TypeScript files when `javascript` is selected.
    pub languages: Vec<Lang>,
    /// Honour other tools' suppression comments (`nosec`, `nosemgrep`) as `sluice:ignore`.
    pub peer_annotations: bool,
}

pub use sluice_sarif::Level;

/// How often a rule's findings are real, in GitHub code scanning's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    VeryHigh,
    High,
    Medium,
    Low,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::VeryHigh => "very-high",
            Precision::High => "high",
            Precision::Medium => "medium",
            Precision::Low => "low",
        }
    }

    fn parse(text: &str) -> Option<Precision> {
        match text {
            "very-high" => Some(Precision::VeryHigh),
            "high" => Some(Precision::High),
            "medium" => Some(Precision::Medium),
            "low" => Some(Precision::Low),
            _ => None,
        }
    }
}

/// Rule metadata, for SARIF rule descriptors and documentation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Rule {
    pub id: String,
    /// The language the rule is written for.
    pub language: Lang,
    /// The languages it runs on: `language` and, for JavaScript rules, TypeScript and TSX
    /// where the rule's syntax exists there.
    pub languages: Vec<Lang>,
    pub level: Level,
    /// One line (SARIF `shortDescription`).
    pub title: String,
    /// What is wrong and why it matters (SARIF `fullDescription`).
    pub description: String,
    /// How to fix it; markdown (ast-grep's `note`).
    pub help: String,
    /// The result message, with `$VAR` standing for what the meta-variable matched.
    pub message: String,
    /// `CWE-89`, …
    pub cwe: Vec<String>,
    /// `A03:2021 Injection`, …
    pub owasp: Vec<String>,
    pub precision: Precision,
    /// GitHub's 0–10 `security-severity`.
    pub security_severity: f32,
    pub tags: Vec<String>,
    pub url: Option<String>,
    /// Shipped with sluice (else from a user rule directory).
    pub builtin: bool,
    /// The file it came from: `rules/python/injection.yml` for a shipped rule.
    pub origin: String,
    /// sluice's semantic checks, by meta-variable, as written.
    pub semantic: BTreeMap<String, spec::VarSemantic>,
    pub examples: Examples,
}

/// One rule compiled for one language.
struct Compiled {
    rule: usize,
    config: RuleConfig<SupportLang>,
    semantic: Vec<CompiledSemantic>,
    files: Option<GlobSet>,
    ignores: Option<GlobSet>,
}

/// The rules of one language, indexed by the node kinds they can match and by the words a
/// file must contain for them to match.
#[derive(Default)]
struct LangIndex {
    compiled: Vec<Compiled>,
    /// Node kind id → rules (indexes into `compiled`).
    by_kind: Vec<Vec<usize>>,
    /// Automata over the words rules need (as spelled; any case), each with the word ids
    /// of its patterns.
    prefilters: Vec<(AhoCorasick, Vec<usize>, bool)>,
    /// How many words the prefilter looks for.
    words: usize,
    /// Per rule: alternatives of word sets (indexes of prefilter patterns), one of which
    /// must occur entirely; `None`: the rule runs on every file of the language.
    requirements: Vec<Option<Vec<Vec<usize>>>>,
}

/// Compiled rules, ready to scan many files from many threads. Build it once.
pub struct Engine {
    rules: Vec<Rule>,
    langs: HashMap<Lang, LangIndex>,
    exclude: Gitignore,
    pub(crate) max_file_size: u64,
    max_depth: usize,
    file_timeout: Duration,
    /// [`Config::peer_annotations`].
    peer_annotations: bool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("rules", &self.rules.len()).finish_non_exhaustive()
    }
}

/// What scanning one source text gave.
#[derive(Debug, Default)]
pub(crate) struct FileOutcome {
    pub findings: Vec<Finding>,
    pub warnings: Vec<WarningKind>,
    pub skipped: Option<SkipReason>,
    /// The file was parsed (some rule could apply to it).
    pub parsed: bool,
}

struct Loaded {
    docs: Vec<RuleDoc>,
    origin: String,
    builtin: bool,
}

impl Engine {
    /// Loads and compiles the shipped packs and the user's rule directories. Fails on the
    /// first invalid rule, naming its file and id.
    pub fn new(config: &Config) -> Result<Engine, Error> {
        let mut files = Vec::new();
        if config.builtin_rules {
            for file in spec::EMBEDDED {
                let docs = spec::parse_stream(file.text).map_err(|message| {
                    Error::EmbeddedRules(Box::new(Error::Rule { file: file.path.to_owned(), rule: None, message }))
                })?;
                files.push(Loaded { docs, origin: file.path.to_owned(), builtin: true });
            }
        }
        for dir in &config.rule_dirs {
            for path in rule_files(dir)? {
                let text = std::fs::read_to_string(&path).map_err(|e| Error::Rule {
                    file: path.display().to_string(),
                    rule: None,
                    message: format!("cannot read: {e}"),
                })?;
                let docs = spec::parse_stream(&text).map_err(|message| Error::Rule {
                    file: path.display().to_string(),
                    rule: None,
                    message,
                })?;
                files.push(Loaded { docs, origin: path.display().to_string(), builtin: false });
            }
        }

        let disabled: HashSet<&str> = config.disabled_rules.iter().map(String::as_str).collect();
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut rules = Vec::new();
        let mut langs: HashMap<Lang, LangIndex> = HashMap::new();
        for loaded in files {
            for doc in &loaded.docs {
                let fail = |message: String| {
                    let err = Error::Rule { file: loaded.origin.clone(), rule: Some(doc.sluice.id.clone()), message };
                    if loaded.builtin {
                        Error::EmbeddedRules(Box::new(err))
                    } else {
                        err
                    }
                };
                let id = doc.sluice.id.clone();
                if id.trim().is_empty() {
                    return Err(fail("a rule has no `id`".into()));
                }
                if let Some(first) = seen.insert(id.clone(), loaded.origin.clone()) {
                    return Err(Error::DuplicateRule { id, first, second: loaded.origin.clone() });
                }
                if disabled.contains(id.as_str()) || doc.ast_grep.severity == Severity::Off {
                    continue;
                }
                let selected = Lang::from_support(doc.ast_grep.language).is_some_and(|l| config.languages.contains(&l));
                if !config.languages.is_empty() && !selected {
                    continue;
                }
                let Some(lang) = Lang::from_support(doc.ast_grep.language) else {
                    let shipped: Vec<&str> = Lang::ALL.iter().map(|l| l.name()).collect();
                    return Err(fail(format!(
                        "language `{}` has no grammar in sluice; supported: {}",
                        doc.ast_grep.language.to_string().to_lowercase(),
                        shipped.join(", ")
                    )));
                };
                let mut rule = rule_of(doc, lang, &loaded).map_err(fail)?;
                let index = rules.len();
                for &target in lang.family() {
                    match compile(doc, target, index) {
                        Ok(compiled) => {
                            langs.entry(target).or_default().compiled.extend(compiled);
                            rule.languages.push(target);
                        }
                        Err(m) if target == lang => return Err(fail(m)),
                        // A JavaScript rule using syntax TypeScript lacks (JSX in `.ts`)
                        // simply does not run there.
                        Err(_) => {}
                    }
                }
                rules.push(rule);
            }
        }
        for id in &config.disabled_rules {
            if !seen.contains_key(id) {
                return Err(Error::UnknownRule { id: id.clone() });
            }
        }
        for index in langs.values_mut() {
            index.build();
        }

        let mut exclude = GitignoreBuilder::new("");
        for glob in &config.exclude_paths {
            exclude.add_line(None, glob).map_err(|source| Error::ExcludePath { glob: glob.clone(), source })?;
        }
        let exclude =
            exclude.build().map_err(|source| Error::ExcludePath { glob: config.exclude_paths.join(", "), source })?;
        Ok(Engine {
            rules,
            langs,
            exclude,
            max_file_size: config.max_file_size,
            max_depth: config.max_depth,
            peer_annotations: config.peer_annotations,
            file_timeout: config.file_timeout,
        })
    }

    /// Every rule the engine runs, in load order (shipped packs first).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub(crate) fn is_excluded(&self, rel: &str, is_dir: bool) -> bool {
        !rel.is_empty() && self.exclude.matched_path_or_any_parents(rel, is_dir).is_ignore()
    }

    /// Rules (by id, with the language) that run on every file of a language because no word
    /// requirement could be derived for them: each one makes every such file be parsed.
    #[cfg(test)]
    pub(crate) fn unfiltered_rules(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .langs
            .iter()
            .flat_map(|(lang, index)| {
                index
                    .compiled
                    .iter()
                    .zip(&index.requirements)
                    .filter(|(_, r)| r.is_none())
                    .map(move |(c, _)| format!("{} ({lang})", self.rules[c.rule].id))
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Whether any rule applies to files of this language.
    pub(crate) fn has_rules_for(&self, lang: Lang) -> bool {
        self.langs.get(&lang).is_some_and(|i| !i.compiled.is_empty())
    }

    /// Scans one source text. `path` is used for messages, rule `files` globs and
    /// suppressions' findings; nothing is read from disk.
    pub fn scan_source(&self, path: &str, lang: Lang, source: &str) -> Vec<Finding> {
        self.scan_text(path, lang, source).findings
    }

    pub(crate) fn scan_text(&self, path: &str, lang: Lang, source: &str) -> FileOutcome {
        let mut outcome = FileOutcome::default();
        let Some(index) = self.langs.get(&lang) else { return outcome };
        let active = index.active_rules(path, source);
        if active.iter().all(|a| !a) {
            return outcome;
        }
        let started = Instant::now();
        let deadline = started + self.file_timeout;
        let tree = match parse::parse(lang, source, deadline) {
            Some(tree) => tree,
            None => {
                outcome.skipped = Some(SkipReason::Timeout { seconds: self.file_timeout.as_secs_f32() });
                return outcome;
            }
        };
        outcome.parsed = true;
        let doc = StrDoc { src: source.to_owned(), lang: lang.support(), tree };
        let root = AstGrep::doc(doc);
        let needs_model = active.iter().zip(&index.compiled).any(|(&on, c)| on && !c.semantic.is_empty());

        let mut model = Model::new(lang.syntax());
        let mut suppressions = Suppressions::new(self.peer_annotations);
        let mut candidates = Vec::new();
        let mut errors = 0usize;
        let mut first_error = None;
        let syn = lang.syntax();
        // (depth, scope id, is a class) of the scopes around the node being visited.
        let mut scopes: Vec<(usize, semantic::Scope, bool)> = Vec::new();
        let walk = traverse(&root, self.max_depth, deadline, |node, depth| {
            let kind = node.kind_id() as usize;
            if node.is_error() || node.is_missing() {
                errors += 1;
                first_error.get_or_insert(node.start_pos().line() + 1);
            }
            if needs_model {
                while scopes.last().is_some_and(|&(d, _, _)| d >= depth) {
                    scopes.pop();
                }
                let (scope, in_class) = scopes.last().map_or((semantic::MODULE, false), |&(_, s, c)| (s, c));
                model.observe(&node, scope, in_class);
                if let Some(is_class) = semantic::scope_kind(&node.kind(), syn) {
                    scopes.push((depth, node.node_id(), is_class));
                }
            }
            // Java and Rust name their comments `line_comment` and `block_comment`.
            if matches!(&*node.kind(), "comment" | "line_comment" | "block_comment") {
                let start = node.range().start;
                let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
                let code_before = !source[line_start..start].trim().is_empty();
                suppressions.observe_comment(&node.text(), line_number(node.start_pos().line()), code_before);
            }
            if let Some(rules) = index.by_kind.get(kind) {
                for &r in rules {
                    if !active[r] {
                        continue;
                    }
                    if let Some(m) = index.compiled[r].config.matcher.match_node(node.clone()) {
                        candidates.push((r, m));
                    }
                }
            }
        });
        match walk {
            Walk::Done => {}
            Walk::TooDeep => {
                outcome.skipped = Some(SkipReason::TooDeep { limit: self.max_depth });
                return outcome;
            }
            Walk::Timeout => {
                outcome.skipped = Some(SkipReason::Timeout { seconds: self.file_timeout.as_secs_f32() });
                return outcome;
            }
        }
        if errors > 0 {
            outcome.warnings.push(WarningKind::SyntaxErrors { count: errors, first_line: first_error.unwrap_or(1) });
        }

        let mut seen = HashSet::new();
        for (r, m) in candidates {
            let compiled = &index.compiled[r];
            let env = m.get_env();
            let passes = compiled.semantic.iter().all(|sem| {
                let nodes: Vec<SNode<'_>> = match env.get_match(&sem.var) {
                    Some(node) => vec![node.clone()],
                    None => env.get_multiple_matches(&sem.var),
                };
                model.check(sem, &nodes)
            });
            if !passes {
                continue;
            }
            let rule = &self.rules[compiled.rule];
            let range = m.range();
            if !seen.insert((compiled.rule, range.start, range.end)) {
                continue;
            }
            let start = line_number(m.start_pos().line());
            let end = line_number(m.end_pos().line());
            // A silenced finding is kept, marked: the policy decides what a comment is worth.
            let suppressed_by = if suppressions.is_empty() {
                None
            } else {
                let credential = sluice_sarif::is_credential_parts(
                    "sluice-sast",
                    "sast",
                    &rule.id,
                    rule.cwe.iter().map(String::as_str),
                );
                suppressions.covers(&rule.id, credential, start, end).map(str::to_owned)
            };
            let message = interpolate(&rule.message, |var| {
                env.get_match(var).map(|n| n.text().into_owned()).or_else(|| {
                    let nodes = env.get_multiple_matches(var);
                    let (first, last) = (nodes.first()?, nodes.last()?);
                    Some(source[first.range().start..last.range().end].to_owned())
                })
            });
            let (start_point, end_point) = (m.start_pos().byte_point(), m.end_pos().byte_point());
            let mut found = finding::build(&rule.id, path, source, range, start_point, end_point, message);
            found.suppressed_by = suppressed_by;
            outcome.findings.push(found);
        }
        outcome.findings.sort_by(|a, b| (a.line, a.column, &a.rule_id).cmp(&(b.line, b.column, &b.rule_id)));
        outcome
    }
}

impl LangIndex {
    fn build(&mut self) {
        let mut words: Vec<String> = Vec::new();
        let mut word_ids: HashMap<String, usize> = HashMap::new();
        for (i, compiled) in self.compiled.iter().enumerate() {
            if let Some(kinds) = compiled.config.matcher.potential_kinds() {
                for kind in kinds.iter() {
                    if self.by_kind.len() <= kind {
                        self.by_kind.resize_with(kind + 1, Vec::new);
                    }
                    self.by_kind[kind].push(i);
                }
            }
            let alternatives = requirement(compiled).map(|dnf| {
                dnf.into_iter()
                    .map(|conjunct| {
                        conjunct
                            .into_iter()
                            .map(|word| {
                                let next = words.len();
                                *word_ids.entry(word.clone()).or_insert_with(|| {
                                    words.push(word);
                                    next
                                })
                            })
                            .collect()
                    })
                    .collect()
            });
            self.requirements.push(alternatives);
        }
        // Two automata: words as spelled, and words from `(?i)` regexes in any case. Words
        // are identifiers from the rules, so building cannot fail; if it did, every rule would
        // run unfiltered, which is slower but still correct.
        self.words = words.len();
        for insensitive in [false, true] {
            let ids: Vec<usize> = (0..words.len())
                .filter(|&i| words[i].starts_with(prefilter::CASE_INSENSITIVE) == insensitive)
                .collect();
            if ids.is_empty() {
                continue;
            }
            let patterns: Vec<&str> =
                ids.iter().map(|&i| words[i].trim_start_matches(prefilter::CASE_INSENSITIVE)).collect();
            let built = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(insensitive)
                .build(&patterns);
            match built {
                Ok(ac) => self.prefilters.push((ac, ids, insensitive)),
                Err(_) => {
                    self.requirements.iter_mut().for_each(|r| *r = None);
                    self.prefilters.clear();
                    return;
                }
            }
        }
    }

    /// Which rules can match in this file: their words occur in it and their `files` /
    /// `ignores` globs admit its path.
    fn active_rules(&self, path: &str, source: &str) -> Vec<bool> {
        let mut found = vec![false; self.words];
        let bytes = source.as_bytes();
        let ident = |i: usize| bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$');
        for (insensitive, (ac, ids)) in self.prefilters.iter().map(|p| (p.2, (&p.0, &p.1))) {
            for m in ac.find_overlapping_iter(source) {
                // Words from patterns and names are whole identifiers in any match: `raw` in
                // `drawing` does not count. Words from `(?i)` regexes are parts of names.
                // Punctuation (a backtick) has no word boundaries to respect.
                let starts_word = m.start() == 0 || !ident(m.start() - 1) || !ident(m.start());
                let bounded = starts_word && (!ident(m.end()) || !ident(m.end() - 1));
                let whole = insensitive || bounded;
                if whole {
                    found[ids[m.pattern().as_usize()]] = true;
                }
            }
        }
        self.compiled
            .iter()
            .zip(&self.requirements)
            .map(|(compiled, req)| {
                let words_ok = req.as_ref().is_none_or(|alts| alts.iter().any(|c| c.iter().all(|&w| found[w])));
                let admitted = compiled.files.as_ref().is_none_or(|g| g.is_match(path));
                let ignored = compiled.ignores.as_ref().is_some_and(|g| g.is_match(path));
                words_ok && admitted && !ignored
            })
            .collect()
    }
}

fn rule_of(doc: &RuleDoc, lang: Lang, loaded: &Loaded) -> Result<Rule, String> {
    let meta = &doc.sluice.metadata;
    let level = match doc.ast_grep.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Info | Severity::Hint | Severity::Off => Level::Note,
    };
    let precision = match &meta.precision {
        None => Precision::Medium,
        Some(p) => Precision::parse(p)
            .ok_or_else(|| format!("metadata.precision `{p}`: use very-high, high, medium or low"))?,
    };
    let security_severity = match meta.security_severity {
        Some(s) if (0.0..=10.0).contains(&s) => s as f32,
        Some(s) => return Err(format!("metadata.security-severity {s} is outside 0.0–10.0")),
        None => match level {
            Level::Error => 7.0,
            Level::Warning => 5.0,
            Level::Note => 2.0,
        },
    };
    for cwe in &meta.cwe.0 {
        let digits = cwe.strip_prefix("CWE-").unwrap_or_default();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("metadata.cwe `{cwe}`: write `CWE-<number>`"));
        }
    }
    let message = if doc.sluice.message.trim().is_empty() { doc.sluice.id.clone() } else { doc.sluice.message.clone() };
    let plain_message = interpolate(&message, |_| None);
    Ok(Rule {
        id: doc.sluice.id.clone(),
        language: lang,
        languages: Vec::new(),
        level,
        title: meta.title.clone().unwrap_or_else(|| plain_message.clone()),
        description: meta.description.clone().unwrap_or_else(|| plain_message.clone()),
        help: unwrap_paragraphs(doc.sluice.note.as_deref().unwrap_or_default()),
        message,
        cwe: meta.cwe.0.clone(),
        owasp: meta.owasp.0.clone(),
        precision,
        security_severity,
        tags: meta.tags.clone(),
        url: doc.sluice.url.clone(),
        builtin: loaded.builtin,
        origin: loaded.origin.clone(),
        semantic: meta.semantic.clone(),
        examples: meta.examples.clone(),
    })
}

/// Compiles a rule for one language. A top-level `any` (or an `all` whose first item is an
/// `any`) is split into one matcher per branch: ast-grep stops at the first branch that
/// matches, but a semantic check may then reject that branch's bindings where another
/// branch would have been accepted (`requests.request("POST", url)` matches `$F($URL, $$$)`
/// before `$F($METHOD, $URL, $$$)`). Findings of one rule on one node are reported once.
fn compile(doc: &RuleDoc, lang: Lang, rule: usize) -> Result<Vec<Compiled>, String> {
    let files = glob_set(&doc.ast_grep.files).map_err(|e| format!("files: {e}"))?;
    let ignores = glob_set(&doc.ast_grep.ignores).map_err(|e| format!("ignores: {e}"))?;
    let mut declared: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for branch in branches(&doc.ast_grep.core.rule) {
        let mut ser: SerializableRuleConfig<SupportLang> = doc.ast_grep.clone();
        ser.language = lang.support();
        ser.core.rule = branch;
        if let Some(constraints) = ser.core.constraints.clone() {
            // Constraints on variables another branch binds do not apply to this one.
            let mut probe = ser.clone();
            probe.core.constraints = None;
            if let Ok(probe) = RuleConfig::try_from(probe, &GlobalRules::default()) {
                let vars = probe.matcher.defined_vars();
                let kept = constraints.into_iter().filter(|(k, _)| vars.contains(k.as_str()));
                ser.core.constraints = Some(kept.collect());
            }
        }
        let config = RuleConfig::try_from(ser, &GlobalRules::default()).map_err(|e| error_chain(&e))?;
        let defined = config.matcher.defined_vars();
        declared.extend(defined.iter().map(|v| (*v).to_owned()));
        let mut semantic = Vec::new();
        for (var, spec) in &doc.sluice.metadata.semantic {
            if spec.resolves_to.is_empty() && spec.literal.is_none() && spec.tainted_by.is_empty() {
                return Err(format!("metadata.semantic.{var}: give `resolves-to`, `literal` or `tainted-by`"));
            }
            if defined.contains(var.as_str()) {
                semantic.push(CompiledSemantic::new(var, spec, lang.syntax())?);
            }
        }
        semantic.sort_by_key(CompiledSemantic::cost);
        out.push(Compiled { rule, config, semantic, files: files.clone(), ignores: ignores.clone() });
    }
    for var in doc.sluice.metadata.semantic.keys() {
        if !declared.contains(var) {
            return Err(format!(
                "metadata.semantic: `{var}` is not a meta-variable of the rule (write it without `$`)"
            ));
        }
    }
    Ok(out)
}

/// The rule's alternatives: the branches of a top-level `any`, or of an `any` that is the
/// first item of a top-level `all` (each then joined with the other items); else the rule.
fn branches(rule: &SerializableRule) -> Vec<SerializableRule> {
    let only = |r: &SerializableRule, key: &str| match serde_value::to_value(r) {
        Ok(serde_value::Value::Map(m)) => m.len() == 1 && m.contains_key(&serde_value::Value::String(key.into())),
        _ => false,
    };
    if only(rule, "any") {
        let any: Option<Vec<SerializableRule>> = rule.any.clone().into();
        if let Some(any) = any.filter(|a| !a.is_empty()) {
            return any;
        }
    }
    if only(rule, "all") {
        let all: Option<Vec<SerializableRule>> = rule.all.clone().into();
        if let Some((first, rest)) = all.as_deref().and_then(<[_]>::split_first) {
            let any: Option<Vec<SerializableRule>> = first.any.clone().into();
            if let Some(any) = any.filter(|a| !a.is_empty() && only(first, "any")) {
                return any
                    .into_iter()
                    .map(|branch| {
                        let mut joined = rule.clone();
                        let items: Vec<SerializableRule> =
                            std::iter::once(branch).chain(rest.iter().cloned()).collect();
                        joined.all = Some(items).into();
                        joined
                    })
                    .collect();
            }
        }
    }
    vec![rule.clone()]
}

/// ast-grep's `files` / `ignores` entries: a glob, or `{ glob, caseInsensitive }`.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum FileGlob {
    Glob(String),
    #[serde(rename_all = "camelCase")]
    Config {
        glob: String,
        #[serde(default)]
        case_insensitive: bool,
    },
}

/// ast-grep does not export its glob type, so the globs go through their serialized form.
fn glob_set<T: serde::Serialize>(globs: &Option<T>) -> Result<Option<GlobSet>, String> {
    let Some(globs) = globs else { return Ok(None) };
    let value = serde_value::to_value(globs).map_err(|e| e.to_string())?;
    let globs: Vec<FileGlob> = value.deserialize_into().map_err(|e| e.to_string())?;
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        let (pattern, case_insensitive) = match &glob {
            FileGlob::Glob(p) => (p, false),
            FileGlob::Config { glob, case_insensitive } => (glob, *case_insensitive),
        };
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .case_insensitive(case_insensitive)
            .build()
            .map_err(|e| e.to_string())?;
        builder.add(glob);
    }
    builder.build().map(Some).map_err(|e| e.to_string())
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// `*.yml` and `*.yaml` under `dir`, sorted; ast-grep's `sgconfig.yml` and rule tests
/// (`*-test.yml`) are not rules.
fn rule_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| Error::RuleDir { path: d.clone(), source })?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::RuleDir { path: d.clone(), source })?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.') {
                    stack.push(path);
                }
                continue;
            }
            let is_yaml = name.ends_with(".yml") || name.ends_with(".yaml");
            let not_rule = name == "sgconfig.yml" || name.ends_with("-test.yml") || name.ends_with("-test.yaml");
            if is_yaml && !not_rule {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The words a file must contain for this compiled rule to match there (see `prefilter`).
fn requirement(compiled: &Compiled) -> Option<prefilter::Dnf> {
    let mut req = serde_value::to_value(&compiled.config.core.rule).ok().and_then(|v| prefilter::of_rule(&v));
    if let Some(constraints) = &compiled.config.core.constraints {
        for rule in constraints.values() {
            req = prefilter::and(req, serde_value::to_value(rule).ok().and_then(|v| prefilter::of_rule(&v)));
        }
    }
    for sem in &compiled.semantic {
        if !sem.resolves_to().is_empty() {
            req = prefilter::and(req, prefilter::of_names(sem.resolves_to()));
        }
    }
    req
}

/// Joins the hard-wrapped lines of each markdown paragraph (rule files wrap `note` at ~90
/// columns), so the first line of the help is its first sentence; lists and code stay as
/// they are.
fn unwrap_paragraphs(text: &str) -> String {
    let paragraphs: Vec<String> = text
        .trim()
        .split("\n\n")
        .map(|p| {
            let structured = p.lines().any(|l| {
                let t = l.trim_start();
                t.starts_with("- ") || t.starts_with("* ") || t.starts_with("```") || l.starts_with("    ")
            });
            if structured {
                p.to_owned()
            } else {
                p.lines().map(str::trim).collect::<Vec<_>>().join(" ")
            }
        })
        .collect();
    paragraphs.join("\n\n")
}

fn line_number(zero_based: usize) -> u32 {
    u32::try_from(zero_based + 1).unwrap_or(u32::MAX)
}

/// Replaces `$VAR` and `$$$VAR` in a message by what the meta-variable matched (one line,
/// at most 60 characters), or by `…` when unknown.
pub(crate) fn interpolate(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = rest[at..].trim_start_matches('$');
        let name_len =
            after.find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')).unwrap_or(after.len());
        if name_len == 0 {
            out.push_str(&rest[at..at + (rest.len() - at - after.len())]);
            rest = after;
            continue;
        }
        let name = &after[..name_len];
        match value(name) {
            Some(text) => out.push_str(&finding::one_line(&text, 60)),
            None => out.push('…'),
        }
        rest = &after[name_len..];
    }
    out.push_str(rest);
    out
}

enum Walk {
    Done,
    TooDeep,
    Timeout,
}

/// Pre-order traversal of every node (named or not) with an explicit cursor, so depth is
/// known and no recursion happens; stops early past `max_depth` or the deadline.
fn traverse<'r>(
    root: &'r AstGrep<StrDoc<SupportLang>>,
    max_depth: usize,
    deadline: Instant,
    mut visit: impl FnMut(SNode<'r>, usize),
) -> Walk {
    let top = root.root().get_inner_node();
    let mut cursor = top.walk();
    let mut depth = 0usize;
    let mut count = 0u32;
    loop {
        visit(root.adopt(cursor.node()), depth);
        count = count.wrapping_add(1);
        if count.is_multiple_of(2048) && Instant::now() > deadline {
            return Walk::Timeout;
        }
        if cursor.goto_first_child() {
            depth += 1;
            if depth > max_depth {
                return Walk::TooDeep;
            }
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return Walk::Done;
            }
            depth -= 1;
        }
    }
}
