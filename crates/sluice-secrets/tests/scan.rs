//! The engine end to end on real directories: walking, skipping, reporting, suppressing.
//! Every credential here is fake, assembled at run time.

mod common;

use std::path::{Path, PathBuf};

use common::{github_token, write};
use sluice_secrets::{scan, scan_bytes, Config, Engine, Error, RuleSpec, SkipReason, Target};

fn config() -> Config {
    Config { max_file_size: 64 * 1024, extra_rules: Vec::new(), allow_paths: Vec::new(), peer_annotations: true }
}

fn token() -> String {
    github_token("Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e")
}

fn aws_key_id() -> String {
    ["AKIA", "Q7ZR2WXK5TBN3HJM"].concat()
}

fn rule_paths(scan: &sluice_secrets::Scan) -> Vec<(String, String)> {
    scan.findings.iter().map(|f| (f.path.clone(), f.rule_id.clone())).collect()
}

#[test]
fn walks_a_directory_honouring_ignores_skipping_binaries_and_windowing_large_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let tok = token();
    write(root, ".gitignore", b"ignored/\n*.log\n");
    write(root, "src/config.py", format!("GITHUB_TOKEN = \"{tok}\"\n").as_bytes());
    write(root, "ignored/secret.txt", tok.as_bytes());
    write(root, "debug.log", tok.as_bytes());
    // Hidden files are scanned: `.env` is where secrets live.
    write(root, ".env", format!("AWS_ACCESS_KEY_ID={}\n", aws_key_id()).as_bytes());
    // `.git` is never read, even without being ignored.
    write(root, ".git/config", tok.as_bytes());
    let mut binary = b"\x7fELF\x00\x01".to_vec();
    binary.extend_from_slice(tok.as_bytes());
    write(root, "bin/tool", &binary);
    // Above the size cap: scanned in windows, not skipped.
    let mut large = vec![b'a'; 70 * 1024];
    large.extend_from_slice(format!("\ntoken = {tok}\n").as_bytes());
    write(root, "big.txt", &large);
    // Invalid UTF-8 is scanned as bytes, with lossy columns.
    let mut latin1 = b"caf\xe9 = 1\ntoken: ".to_vec();
    latin1.extend_from_slice(tok.as_bytes());
    write(root, "legacy.txt", &latin1);

    let result = scan(Target::Dir(root), &config()).expect("scan");
    assert_eq!(
        rule_paths(&result),
        [
            (".env".to_owned(), "aws-access-key-id".to_owned()),
            ("big.txt".to_owned(), "github-pat-classic".to_owned()),
            ("legacy.txt".to_owned(), "github-pat-classic".to_owned()),
            ("src/config.py".to_owned(), "github-pat-classic".to_owned()),
        ]
    );
    assert_eq!((result.findings[1].line, result.findings[1].column), (2, 9));
    let legacy = &result.findings[2];
    assert_eq!((legacy.line, legacy.column, legacy.end_column), (2, 8, 48));
    let skipped: Vec<(&str, &SkipReason)> = result.skipped.iter().map(|s| (s.path.as_str(), &s.reason)).collect();
    assert_eq!(skipped, [("bin/tool", &SkipReason::Binary)]);
    // .gitignore, .env, big.txt, legacy.txt, src/config.py
    assert_eq!(result.files_scanned, 5);
}

#[test]
fn findings_never_carry_the_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tok = token();
    let id = aws_key_id();
    write(dir.path(), "a.sh", format!("export T={tok} K={id}\n").as_bytes());
    let result = scan(Target::Dir(dir.path()), &config()).expect("scan");
    assert_eq!(result.findings.len(), 2);
    for f in &result.findings {
        for secret in [&tok, &id] {
            assert!(!f.redacted.contains(secret.as_str()));
            assert!(!f.line_redacted.contains(secret.as_str()), "{}", f.line_redacted);
        }
        assert_eq!(f.secret_sha256.len(), 64);
    }
    assert_eq!(result.findings[0].redacted, "ghp_…(40 chars)");
    assert_eq!(result.findings[0].line_redacted, "export T=ghp_…(40 chars) K=AKIA…(20 chars)");
}

#[test]
fn files_mode_scans_only_the_listed_files_and_ignores_deleted_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let tok = token();
    write(root, "changed.txt", tok.as_bytes());
    write(root, "untouched.txt", tok.as_bytes());
    // Ignore files do not apply to an explicit list.
    write(root, ".gitignore", b"changed.txt\n");
    let files = [PathBuf::from("changed.txt"), PathBuf::from("deleted.txt")];
    let result = scan(Target::Files { root, files: &files }, &config()).expect("scan");
    assert_eq!(rule_paths(&result), [("changed.txt".to_owned(), "github-pat-classic".to_owned())]);
    assert!(result.skipped.is_empty());
    assert_eq!(result.files_scanned, 1);
}

#[test]
fn a_single_file_can_be_the_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "one.env", token().as_bytes());
    let result = scan(Target::Dir(&dir.path().join("one.env")), &config()).expect("scan");
    assert_eq!(rule_paths(&result), [("one.env".to_owned(), "github-pat-classic".to_owned())]);
}

#[test]
fn allow_paths_are_never_scanned_or_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let tok = token();
    write(root, "fixtures/tokens.txt", tok.as_bytes());
    write(root, "docs/api.md", tok.as_bytes());
    write(root, "app/main.py", tok.as_bytes());
    let allowing = Config { allow_paths: vec!["fixtures/".to_owned(), "*.md".to_owned()], ..config() };
    let result = scan(Target::Dir(root), &allowing).expect("scan");
    assert_eq!(rule_paths(&result), [("app/main.py".to_owned(), "github-pat-classic".to_owned())]);
    let files = [PathBuf::from("fixtures/tokens.txt")];
    let result = scan(Target::Files { root, files: &files }, &allowing).expect("scan");
    assert!(result.findings.is_empty());
    let engine = Engine::new(&allowing).expect("engine");
    assert!(scan_bytes("docs/readme.md", tok.as_bytes(), &engine).is_empty());
}

#[test]
fn a_missing_root_is_an_error() {
    let err = scan(Target::Dir(Path::new("/definitely/not/here")), &config()).expect_err("fails");
    assert!(matches!(err, Error::Root { .. }), "{err}");
}

fn user_rule(regex: &str) -> RuleSpec {
    RuleSpec {
        id: "acme-internal-token".to_owned(),
        name: "ACME internal token".to_owned(),
        description: "Token of ACME's internal API.".to_owned(),
        help: "Revoke it in the ACME admin console.".to_owned(),
        severity: 7.0,
        tags: vec!["acme".to_owned()],
        keywords: vec!["acme_".to_owned()],
        regex: regex.to_owned(),
        min_entropy: Some(3.0),
        validators: Vec::new(),
        accepts: Vec::new(),
        stopwords: Vec::new(),
        multiline: false,
        examples: Default::default(),
    }
}

#[test]
fn user_rules_run_next_to_the_embedded_ones() {
    let with_rule = Config { extra_rules: vec![user_rule(r"\b(acme_[a-z0-9]{24})\b")], ..config() };
    let engine = Engine::new(&with_rule).expect("engine");
    let rule = engine.rules().iter().find(|r| r.id == "acme-internal-token").expect("present");
    assert_eq!(rule.family, "custom");
    assert!(rule.tags.contains(&"acme".to_owned()));
    let found = scan_bytes("x.cfg", b"key = acme_k3j9x7q2m5v8b1n4c6z0w2e4", &engine);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule_id, "acme-internal-token");
}

#[test]
fn user_rules_from_toml_deserialize() {
    let text = r#"
        id = "acme-internal-token"
        name = "ACME internal token"
        severity = 7.0
        keywords = ["acme_"]
        regex = '\b(acme_[a-z0-9]{24})\b'
        validators = ["letter-and-digit"]
    "#;
    let spec: RuleSpec = toml::from_str(text).expect("parses");
    assert_eq!(spec.validators, [sluice_secrets::Validator::LetterAndDigit]);
    assert!(toml::from_str::<RuleSpec>("id = 'x'\nname='x'\nseverity=1.0\nregex='x'\nbogus=1").is_err());
}

#[test]
fn bad_user_rules_are_fatal_errors() {
    let bad = Config { extra_rules: vec![user_rule(r"(acme_[a-z")], ..config() };
    let err = Engine::new(&bad).expect_err("bad regex");
    assert!(matches!(err, Error::RuleRegex { ref id, .. } if id == "acme-internal-token"), "{err}");

    let mut dup = user_rule(r"acme_x");
    dup.id = "github-pat-classic".to_owned();
    let err = Engine::new(&Config { extra_rules: vec![dup], ..config() }).expect_err("duplicate");
    assert!(matches!(err, Error::InvalidRule { .. }), "{err}");

    let mut bad_id = user_rule(r"acme_x");
    bad_id.id = "Not Kebab".to_owned();
    let err = Engine::new(&Config { extra_rules: vec![bad_id], ..config() }).expect_err("bad id");
    assert!(matches!(err, Error::InvalidRule { .. }), "{err}");
}

#[test]
fn allow_comment_suppresses_on_its_line_only() {
    let engine = Engine::new(&config()).expect("engine");
    let tok = token();
    let text = format!("a = \"{tok}\"  # sluice:allow test fixture\nb = \"{tok}\"\n");
    let found = scan_bytes("x.py", text.as_bytes(), &engine);
    // Both are reported; the allowed one is marked suppressed, with the comment's reason.
    let marked: Vec<(u32, Option<&str>)> = found.iter().map(|f| (f.line, f.suppressed_by.as_deref())).collect();
    assert_eq!(marked, [(1, Some("test fixture")), (2, None)]);
}

#[test]
fn allow_reason_never_holds_a_secret() {
    let engine = Engine::new(&config()).expect("engine");
    let tok = token();
    for text in [
        format!("# sluice:allow old = \"{tok}\"\n"),
        format!("x = \"{tok}\"  # sluice:allow\n"),
        format!("x = \"{tok}\"  /* sluice:allow: rotated {tok} */\n"),
    ] {
        let found = scan_bytes("x.py", text.as_bytes(), &engine);
        let reasons: Vec<&str> = found.iter().filter_map(|f| f.suppressed_by.as_deref()).collect();
        assert!(!reasons.is_empty(), "{text}");
        for reason in reasons {
            assert!(!reason.contains(&tok[4..20]), "{reason}");
        }
    }
}

#[test]
fn placeholders_lookups_and_examples_are_not_reported() {
    let engine = Engine::new(&config()).expect("engine");
    for text in [
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "api_key = \"<your-key>\"",
        "api_key = \"your_api_key_here\"",
        "password = \"${DB_PASSWORD}\"",
        "password: $DB_PASSWORD",
        "password: \"{{ .Values.db.password }}\"",
        "token: ${{ secrets.DEPLOY_TOKEN }}",
        "password = \"****************\"",
        "password = \"changeme\"",
        "api_key = \"aaaaaaaaaaaaaaaaaaaaaaaa\"",
        "api_key = \"1234567890abcdef\"",
        "api_key = os.environ[\"API_KEY\"]",
        "const apiKey = process.env.API_KEY;",
        "token := os.Getenv(\"TOKEN\")",
        "token = ENV['TOKEN']",
        "secret_token = \"123e4567-e89b-12d3-a456-426614174000\"",
        "commit_token = \"3f786850e387550fdab836ed7e6dc881de23001b\"",
    ] {
        let found = scan_bytes("config.txt", text.as_bytes(), &engine);
        assert!(found.is_empty(), "{text}: {:?}", found.iter().map(|f| &f.rule_id).collect::<Vec<_>>());
    }
}

#[test]
fn lockfile_integrity_hashes_are_not_reported() {
    let engine = Engine::new(&config()).expect("engine");
    let npm = br#"{
  "node_modules/lodash": {
    "version": "4.17.21",
    "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz",
    "integrity": "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==",
    "token": "sha1-Kq5sNclPz7QV2+lfQIuh3nyYoW8="
  }
}"#;
    assert!(scan_bytes("package-lock.json", npm, &engine).is_empty());
    let gosum = b"golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\n";
    assert!(scan_bytes("go.sum", gosum, &engine).is_empty());
    // The same generic assignment outside a lockfile is reported; real tokens in lockfiles
    // still are.
    let generic = b"\"auth_token\": \"q8Zr2LkVw93NfTb5XcQeHm4Jp7Ys\"";
    assert_eq!(scan_bytes("settings.json", generic, &engine).len(), 1);
    assert!(scan_bytes("yarn.lock", generic, &engine).is_empty());
    let tok = token();
    assert_eq!(
        scan_bytes("yarn.lock", format!("  resolved \"https://{tok}@npm.pkg.github.com/x\"").as_bytes(), &engine).len(),
        1
    );
}

#[test]
fn rules_have_metadata_for_sarif() {
    let rules = sluice_secrets::rules(&config()).expect("rules");
    assert!(rules.len() >= 150);
    for rule in &rules {
        assert!(!rule.name.is_empty() && !rule.description.is_empty() && !rule.help.is_empty());
        assert!((0.0..=10.0).contains(&rule.severity));
        assert_eq!(rule.cwe, "CWE-798");
        assert!(rule.tags.starts_with(&["security".to_owned(), "secret".to_owned()]));
    }
}

#[test]
fn tokens_at_the_start_of_a_line_are_found() {
    let engine = Engine::new(&config()).expect("engine");
    let telegram = ["7364910582", ":AAH", "q3Lx9TzVb2Kw7NmR4pYs8DcF1gHjE6uW"].concat();
    let text = format!("# bot\n{telegram}\n");
    let found = scan_bytes("bot.txt", text.as_bytes(), &engine);
    assert_eq!(
        found.iter().map(|f| (f.rule_id.as_str(), f.line, f.column)).collect::<Vec<_>>(),
        [("telegram-bot-token", 2, 1)]
    );
}

#[test]
fn the_engine_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<sluice_secrets::Scan>();
}
