//! Engine behaviour: semantics, suppressions, user rules, the walk, hostile files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{Config, Engine, Error, Lang, SkipReason, Target, WarningKind};

fn config(rule_dirs: Vec<PathBuf>, builtin: bool) -> Config {
    Config {
        max_file_size: 2 << 20,
        max_depth: 1000,
        file_timeout: Duration::from_secs(30),
        builtin_rules: builtin,
        rule_dirs,
        disabled_rules: Vec::new(),
        exclude_paths: Vec::new(),
        languages: Vec::new(),
        peer_annotations: true,
    }
}

/// An engine with only the given rule file.
fn engine_with(yaml: &str) -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rule.yml"), yaml).unwrap();
    let engine = Engine::new(&config(vec![dir.path().to_owned()], false)).unwrap();
    (engine, dir)
}

fn lines(engine: &Engine, lang: Lang, source: &str) -> Vec<u32> {
    // Findings a `sluice:ignore` comment silences are reported as suppressed, not open.
    engine.scan_source("t", lang, source).iter().filter(|f| f.suppressed_by.is_none()).map(|f| f.line).collect()
}

const PY_MD5: &str = r#"
id: t.md5
language: python
message: "$FN"
rule: { pattern: "$FN($$$)" }
metadata:
  semantic:
    FN: { resolves-to: [hashlib.md5] }
"#;

#[test]
fn python_imports_and_aliases_resolve() {
    let (engine, _d) = engine_with(PY_MD5);
    let src = "\
import hashlib
import hashlib as hl
from hashlib import md5
from hashlib import md5 as h
m = hashlib.md5
hashlib.md5(x)
hl.md5(x)
md5(x)
h(x)
m(x)
hashlib.sha256(x)
other.md5(x)
";
    assert_eq!(lines(&engine, Lang::Python, src), [6, 7, 8, 9, 10]);
    // Without the import, `md5` is some local function.
    assert!(lines(&engine, Lang::Python, "def md5(x): pass\nmd5(x)\n").is_empty());
    // A star import may bring it.
    assert_eq!(lines(&engine, Lang::Python, "from hashlib import *\nmd5(x)\n"), [2]);
    // An alias reassigned to something else is no longer known.
    assert!(lines(&engine, Lang::Python, "import hashlib\nm = hashlib.md5\nm = other\nm(x)\n").is_empty());
}

#[test]
fn javascript_requires_imports_and_destructuring_resolve() {
    let yaml = r#"
id: t.exec
language: javascript
message: "$FN"
rule: { pattern: "$FN($$$)" }
metadata:
  semantic:
    FN: { resolves-to: [child_process.exec] }
"#;
    let (engine, _d) = engine_with(yaml);
    let src = "\
const cp = require('child_process');
const { exec, exec: run } = require(\"node:child_process\");
cp.exec(a);
exec(a);
run(a);
require('child_process').exec(a);
cp.execFile(a);
other.exec(a);
";
    assert_eq!(lines(&engine, Lang::JavaScript, src), [3, 4, 5, 6]);
    let esm = "import * as cp from 'child_process';\nimport { exec as e } from 'child_process';\ncp.exec(a);\ne(a);\n";
    assert_eq!(lines(&engine, Lang::TypeScript, esm), [3, 4]);
    assert_eq!(lines(&engine, Lang::Tsx, "import cp = require('child_process');\ncp.exec(a);\n"), [2]);
}

const PY_EXECUTE: &str = r#"
id: t.sql
language: python
message: "$Q"
rule:
  any:
    - pattern: "$C.execute($Q)"
    - pattern: "$C.execute($Q, $$$)"
metadata:
  semantic:
    Q: { literal: false }
"#;

#[test]
fn literal_only_arguments_are_not_injections() {
    let (engine, _d) = engine_with(PY_EXECUTE);
    let src = r#"
QUERY = "SELECT 1"
TABLE = "t"
c.execute("SELECT * FROM t WHERE id = %s", (uid,))
c.execute("SELECT " + "1")
c.execute(QUERY)
c.execute(f"SELECT * FROM {TABLE}")
c.execute("SELECT * FROM {}".format(TABLE))
c.execute("SELECT * FROM t WHERE id = " + uid)
c.execute(f"SELECT * FROM t WHERE id = {uid}")
c.execute("SELECT * FROM t WHERE id = %s" % uid)
c.execute(query_of(uid))
"#;
    assert_eq!(lines(&engine, Lang::Python, src), [9, 10, 11, 12]);
    // A parameter shadowing a constant's name is not a constant.
    let shadow = "Q = 'SELECT 1'\ndef f(Q):\n    c.execute(Q)\n";
    assert_eq!(lines(&engine, Lang::Python, shadow), [3]);
    let reassigned = "q = 'SELECT 1'\nq = q + user\nc.execute(q)\n";
    assert_eq!(lines(&engine, Lang::Python, reassigned), [3]);
    let grown = "q = 'SELECT 1'\nq += ' LIMIT 1'\nc.execute(q)\n";
    assert!(lines(&engine, Lang::Python, grown).is_empty());
}

#[test]
fn scopes_keep_names_apart() {
    let (engine, _d) = engine_with(PY_EXECUTE);
    // `q` is a constant in `a` and a parameter in `b`: each use sees its own.
    let src = "def a():\n    q = 'SELECT 1'\n    c.execute(q)\n\ndef b(q):\n    c.execute(q)\n";
    assert_eq!(lines(&engine, Lang::Python, src), [6]);
    // A module constant is seen inside functions, unless they rebind the name.
    let src = "Q = 'SELECT 1'\ndef a():\n    c.execute(Q)\ndef b():\n    Q = user()\n    c.execute(Q)\n";
    assert_eq!(lines(&engine, Lang::Python, src), [6]);
    // A method named like a builtin does not shadow it outside the class.
    let (engine, _d) = engine_with(&PY_MD5.replace("hashlib.md5]", "hashlib.md5, eval]"));
    let src = "class M:\n    def eval(self):\n        pass\neval(x)\n";
    assert_eq!(lines(&engine, Lang::Python, src), [4]);
}

#[test]
fn attribute_constants_and_sanitizers() {
    let yaml = r#"
id: t.sql
language: python
message: "$Q"
rule:
  any:
    - pattern: "$C.execute($Q)"
    - pattern: "$C.execute($Q, $$$)"
metadata:
  semantic:
    Q: { literal: false, sanitized-by: ["*.quote_name"] }
"#;
    let (engine, _d) = engine_with(yaml);
    let src = r#"
class Ops:
    sql_drop = "DROP TABLE %s"
    def drop(self, table, user):
        c.execute(self.sql_drop % self.quote_name(table))
        c.execute(self.SQL_TEMPLATE % self.connection.ops.quote_name(table))
        c.execute(self.sql_drop % table)
        c.execute(self.other_sql % self.quote_name(table))
        c.execute("SELECT %s" % user)
"#;
    assert_eq!(lines(&engine, Lang::Python, src), [7, 8, 9]);
}

#[test]
fn taint_follows_variables_within_scope_and_stops_at_sanitizers() {
    let yaml = r#"
id: t.xss
language: python
message: "$B"
rule: { pattern: "HttpResponse($B)" }
metadata:
  semantic:
    B: { tainted-by: [web-input], sanitized-by: [html.escape] }
"#;
    let (engine, _d) = engine_with(yaml);
    let src = "import html
def a(request):
    name = request.GET['n']
    greeting = 'hi ' + name
    return HttpResponse(greeting)
def b(request):
    return HttpResponse('hi ' + html.escape(request.GET['n']))
def c(request, name):
    return HttpResponse(name)
";
    assert_eq!(lines(&engine, Lang::Python, src), [5]);
}

#[test]
fn pathological_assignment_graphs_finish() {
    // Each name is built from the previous one twice: followed naively, 2^60 paths. Each
    // variable must be examined once per query instead.
    let (engine, _d) = engine_with(PY_EXECUTE);
    let mut src = String::from("def f(request):\n    v0 = request.GET['x']\n");
    for i in 1..60 {
        src.push_str(&format!("    v{i} = v{p} + v{p}\n", p = i - 1));
    }
    src.push_str("    c.execute(v59)\n");
    assert_eq!(lines(&engine, Lang::Python, &src), [62]);
    let yaml = r#"
id: t.xss
language: python
message: "$B"
rule: { pattern: "HttpResponse($B)" }
metadata:
  semantic:
    B: { tainted-by: [web-input] }
"#;
    let (engine, _d) = engine_with(yaml);
    let src = src.replace("c.execute(v59)", "HttpResponse(v59)").replace("request.GET['x']", "1");
    assert!(lines(&engine, Lang::Python, &src).is_empty());
}

#[test]
fn javascript_literals() {
    let yaml = r#"
id: t.q
language: javascript
message: "$Q"
rule: { pattern: "db.query($Q)" }
metadata:
  semantic:
    Q: { literal: false }
"#;
    let (engine, _d) = engine_with(yaml);
    let src = "const T = 'users';\ndb.query('SELECT 1');\ndb.query(`SELECT 1`);\ndb.query('SELECT * FROM ' + T);\ndb.query(`SELECT ${id}`);\ndb.query('a' + id);\n";
    assert_eq!(lines(&engine, Lang::JavaScript, src), [5, 6]);
}

#[test]
fn suppressions_on_the_line_or_the_line_before() {
    let (engine, _d) = engine_with(PY_EXECUTE);
    let src = "\
c.execute(q)  # sluice:ignore[t.sql]
# sluice:ignore[t.sql]
c.execute(q)
c.execute(q)
c.execute(q)  # sluice:ignore[other.rule]
c.execute(q)  # sluice:ignore
s = '# sluice:ignore'; c.execute(q)
";
    assert_eq!(lines(&engine, Lang::Python, src), [4, 5, 7]);
    // Silenced findings are kept, marked with the comment's reason.
    let all = engine.scan_source("t", Lang::Python, src);
    let silenced: Vec<(u32, Option<&str>)> =
        all.iter().filter(|f| f.suppressed_by.is_some()).map(|f| (f.line, f.suppressed_by.as_deref())).collect();
    assert_eq!(
        silenced,
        [(1, Some("sluice:ignore[t.sql]")), (3, Some("sluice:ignore[t.sql]")), (6, Some("sluice:ignore"))]
    );
}

#[test]
fn messages_name_what_matched() {
    let (engine, _d) = engine_with(PY_MD5);
    let found = engine.scan_source("a.py", Lang::Python, "import hashlib\nhashlib.md5(\n   x)\n");
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f.message, "hashlib.md5");
    assert_eq!((f.line, f.column, f.end_line, f.end_column), (2, 1, 3, 6));
    assert_eq!(f.snippet, "hashlib.md5(\n   x)");
    assert_eq!(f.matched, "hashlib.md5(\n   x)");
}

#[test]
fn user_rule_errors_name_the_file_and_rule() {
    let bad_lang = "id: t.k\nlanguage: kotlin\nrule: { pattern: x }\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.yml"), bad_lang).unwrap();
    let err = Engine::new(&config(vec![dir.path().to_owned()], false)).unwrap_err().to_string();
    assert!(err.contains("k.yml") && err.contains("t.k") && err.contains("kotlin") && err.contains("python"), "{err}");

    std::fs::write(
        dir.path().join("k.yml"),
        "id: t.v\nlanguage: python\nrule: { pattern: f($X) }\nmetadata:\n  semantic:\n    Y: { literal: false }\n",
    )
    .unwrap();
    let err = Engine::new(&config(vec![dir.path().to_owned()], false)).unwrap_err().to_string();
    assert!(err.contains("`Y` is not a meta-variable"), "{err}");

    std::fs::write(dir.path().join("k.yml"), "id: t.p\nlanguage: python\nrule: { patern: x }\n").unwrap();
    let err = Engine::new(&config(vec![dir.path().to_owned()], false)).unwrap_err().to_string();
    assert!(err.contains("k.yml") && err.contains("patern"), "{err}");

    let missing = Engine::new(&config(vec![dir.path().join("nope")], false)).unwrap_err();
    assert!(matches!(missing, Error::RuleDir { .. }), "{missing}");

    let mut c = config(Vec::new(), true);
    c.languages = vec![Lang::Python];
    let only_python = Engine::new(&c).unwrap();
    assert!(only_python.rules().iter().all(|r| r.language == Lang::Python) && !only_python.rules().is_empty());
    c.disabled_rules = vec!["no.such-rule".into()];
    let err = Engine::new(&c).unwrap_err().to_string();
    assert!(err.contains("no.such-rule"), "{err}");
}

#[test]
fn user_rules_load_recursively_and_ast_grep_extras_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/a.yaml"), "id: u.a\nlanguage: py\nseverity: warning\nmessage: m\nrule: { pattern: danger($$$) }\n---\nid: u.b\nlanguage: js\nrule: { pattern: danger($$$) }\n").unwrap();
    std::fs::write(dir.path().join("sgconfig.yml"), "ruleDirs: [sub]\n").unwrap();
    std::fs::write(dir.path().join("u.a-test.yml"), "id: u.a\nvalid: []\ninvalid: []\n").unwrap();
    let engine = Engine::new(&config(vec![dir.path().to_owned()], false)).unwrap();
    let ids: Vec<&str> = engine.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["u.a", "u.b"]);
    assert_eq!(lines(&engine, Lang::Python, "danger(1)\n"), [1]);
    // JavaScript rules also run on TypeScript.
    assert_eq!(lines(&engine, Lang::Tsx, "danger(<a/>)\n"), [1]);
    let rule = &engine.rules()[0];
    assert_eq!(
        (rule.level, rule.precision, rule.security_severity),
        (crate::Level::Warning, crate::Precision::Medium, 5.0)
    );
}

#[test]
fn rule_file_globs_apply() {
    let yaml =
        "id: t.g\nlanguage: python\nfiles: ['src/**']\nignores: ['src/vendor/**']\nrule: { pattern: danger() }\n";
    let (engine, _d) = engine_with(yaml);
    assert_eq!(engine.scan_source("src/a.py", Lang::Python, "danger()").len(), 1);
    assert!(engine.scan_source("lib/a.py", Lang::Python, "danger()").is_empty());
    assert!(engine.scan_source("src/vendor/a.py", Lang::Python, "danger()").is_empty());
}

fn write(root: &Path, rel: &str, content: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

#[test]
fn hostile_files_are_reported_not_fatal() {
    let (engine, _d) = engine_with(PY_EXECUTE);
    let js = "id: t.js\nlanguage: javascript\nrule: { pattern: danger($X) }\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("js.yml"), js).unwrap();
    std::fs::write(dir.path().join("py.yml"), PY_EXECUTE).unwrap();
    let mut c = config(vec![dir.path().to_owned()], false);
    c.max_depth = 500;
    let engine2 = Engine::new(&c).unwrap();
    drop(engine);

    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    write(r, "broken.py", b"def f(:\n    c.execute(q)\nc.execute(q)\n");
    write(r, "latin1.py", b"# caf\xe9\nc.execute(q)\n");
    write(r, "bin.py", b"\x00\x01c.execute(q)");
    let mut minified = b"danger(x);".repeat(3000);
    minified.push(b'\n');
    write(r, "bundle.js", &minified);
    // Named like a built asset: a documented skip; under any other name, the file's own doing.
    write(r, "app.min.js", &minified);
    let deep = format!("danger({}1{});\n", "[\n".repeat(100_000), "]\n".repeat(100_000));
    write(r, "deep.js", deep.as_bytes());
    let big = format!("danger(x);\n{}", "// filler line\n".repeat(200_000));
    write(r, "big.js", big.as_bytes());
    write(r, "notes.txt", b"c.execute(q)");
    write(r, "tool", b"#!/usr/bin/env python3\nc.execute(q)\n");
    write(
        r,
        "api_pb2.py",
        b"# -*- coding: utf-8 -*-\n# Generated by the protocol buffer compiler.  DO NOT EDIT!\nc.execute(q)\n",
    );
    write(r, "gen.js", b"// @generated by tool\ndanger(x);\n");
    // A mention further down is not a header.
    let late = format!("{}c.execute(q)\n# @generated\n", "x = 1\n".repeat(12));
    write(r, "late.py", late.as_bytes());

    let scan = engine2.scan(Target::Dir(r)).unwrap();
    let found: Vec<(&str, u32)> = scan.findings.iter().map(|f| (f.path.as_str(), f.line)).collect();
    // The parser recovers: the call inside the broken definition is still seen.
    assert_eq!(found, [("broken.py", 2), ("broken.py", 3), ("late.py", 13), ("latin1.py", 2), ("tool", 2)]);
    let skipped: Vec<(&str, &SkipReason)> = scan.skipped.iter().map(|s| (s.path.as_str(), &s.reason)).collect();
    assert!(matches!(skipped[0], ("api_pb2.py", SkipReason::Generated { .. })), "{skipped:?}");
    assert!(matches!(skipped[1], ("app.min.js", SkipReason::Minified { .. })), "{skipped:?}");
    assert!(matches!(skipped[2], ("big.js", SkipReason::TooLarge { .. })), "{skipped:?}");
    assert!(matches!(skipped[3], ("bin.py", SkipReason::Binary)), "{skipped:?}");
    assert!(matches!(skipped[4], ("bundle.js", SkipReason::LongLines { .. })), "{skipped:?}");
    assert!(matches!(skipped[5], ("deep.js", SkipReason::TooDeep { limit: 500 })), "{skipped:?}");
    assert!(matches!(skipped[6], ("gen.js", SkipReason::Generated { marker: "@generated" })), "{skipped:?}");
    assert_eq!(skipped.len(), 7, "{skipped:?}");
    let warnings: Vec<(&str, &WarningKind)> = scan.warnings.iter().map(|w| (w.path.as_str(), &w.kind)).collect();
    assert!(matches!(warnings[0], ("broken.py", WarningKind::SyntaxErrors { first_line: 1, .. })), "{warnings:?}");
    assert!(matches!(warnings[1], ("latin1.py", WarningKind::InvalidUtf8)), "{warnings:?}");
    // Read, then given up on: `deep.js` counts as scanned and is listed as skipped.
    assert_eq!(scan.files_scanned, 5);
}

#[test]
fn a_timeout_skips_the_file() {
    let yaml = "id: t.js\nlanguage: javascript\nrule: { pattern: danger($X) }\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.yml"), yaml).unwrap();
    let mut c = config(vec![dir.path().to_owned()], false);
    c.file_timeout = Duration::ZERO;
    let engine = Engine::new(&c).unwrap();
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "a.js", "danger(x);\n".repeat(20_000).as_bytes());
    let scan = engine.scan(Target::Dir(root.path())).unwrap();
    assert!(scan.findings.is_empty());
    assert!(matches!(scan.skipped[0].reason, SkipReason::Timeout { .. }), "{:?}", scan.skipped);
}

#[test]
fn walk_honours_gitignore_excludes_and_file_lists() {
    let yaml = "id: t.d\nlanguage: python\nrule: { pattern: danger() }\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.yml"), yaml).unwrap();
    let mut c = config(vec![dir.path().to_owned()], false);
    c.exclude_paths = vec!["tests/".into()];
    let engine = Engine::new(&c).unwrap();
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    for f in ["a.py", "gen/b.py", "tests/c.py", ".hidden/d.py"] {
        write(r, f, b"danger()\n");
    }
    write(r, ".gitignore", b"gen/\n");
    let scan = engine.scan(Target::Dir(r)).unwrap();
    let paths: Vec<&str> = scan.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, [".hidden/d.py", "a.py"]);
    let files = [PathBuf::from("gen/b.py"), PathBuf::from("deleted.py"), PathBuf::from("tests/c.py")];
    let scan = engine.scan(Target::Files { root: r, files: &files }).unwrap();
    let paths: Vec<&str> = scan.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["gen/b.py"]);
}

#[test]
fn findings_can_be_limited_to_changed_lines() {
    let (engine, _d) = engine_with(PY_EXECUTE);
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "a.py", b"c.execute(a)\nc.execute(\n  b)\nc.execute(c)\n");
    write(root.path(), "b.py", b"c.execute(d)\n");
    let mut scan = engine.scan(Target::Dir(root.path())).unwrap();
    assert_eq!(scan.findings.len(), 4);
    let diff = "+++ b/a.py\n@@ -2,0 +3 @@\n+  b)\n";
    scan.retain_changed_lines(&crate::ChangedLines::from_unified_diff(diff));
    let kept: Vec<(&str, u32)> = scan.findings.iter().map(|f| (f.path.as_str(), f.line)).collect();
    assert_eq!(kept, [("a.py", 2)], "a finding spanning a changed line is kept");
}

#[test]
fn prefilter_skips_parsing_files_no_rule_can_match() {
    let (engine, _d) = engine_with(PY_MD5);
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "a.py", b"import hashlib\nhashlib.md5(x)\n");
    write(root.path(), "b.py", b"print('nothing here')\n");
    let scan = engine.scan(Target::Dir(root.path())).unwrap();
    assert_eq!((scan.files_scanned, scan.files_parsed, scan.findings.len()), (2, 1, 1));
}

/// The shipped rules of one language on `source`: (rule id, line) of each finding.
fn shipped(lang: Lang, source: &str) -> Vec<(String, u32)> {
    let engine = Engine::new(&config(Vec::new(), true)).unwrap();
    let found = engine.scan_source("src/t", lang, source).into_iter();
    found.filter(|f| f.suppressed_by.is_none()).map(|f| (f.rule_id, f.line)).collect()
}

#[test]
fn suppression_comments_in_every_comment_syntax() {
    let java = "class A {\n  void f(String h) throws Exception {\n    // sluice:ignore[java.command-injection]\n    Runtime.getRuntime().exec(\"ping \" + h);\n    Runtime.getRuntime().exec(\"ping \" + h); /* sluice:ignore */\n    Runtime.getRuntime().exec(\"ping \" + h);\n  }\n}\n";
    assert_eq!(shipped(Lang::Java, java), [("java.command-injection".to_owned(), 6)]);
    let rust = "fn f(x: u32) -> f32 {\n    // sluice:ignore[rust.transmute]\n    let a = unsafe { std::mem::transmute(x) };\n    unsafe { std::mem::transmute(x) }\n}\n";
    assert_eq!(shipped(Lang::Rust, rust), [("rust.transmute".to_owned(), 4)]);
    let go = "package main\nimport \"crypto/md5\"\nfunc f(b []byte) {\n\tmd5.Sum(b) // sluice:ignore[go.weak-hash]\n\tmd5.Sum(b)\n}\n";
    assert_eq!(shipped(Lang::Go, go), [("go.weak-hash".to_owned(), 5)]);
    let sh = "# sluice:ignore[bash.curl-insecure]\ncurl -k https://a.example\ncurl -k https://b.example\n";
    assert_eq!(shipped(Lang::Bash, sh), [("bash.curl-insecure".to_owned(), 3)]);
}

#[test]
fn go_and_rust_imports_resolve_aliases() {
    // `import h "crypto/md5"`: `h.Sum` is crypto/md5.Sum; a local `md5` value is not.
    let go = "package main\nimport h \"crypto/md5\"\nfunc f(b []byte) {\n\th.Sum(b)\n}\nfunc g(md5 hasher, b []byte) {\n\tmd5.Sum(b)\n}\n";
    assert_eq!(shipped(Lang::Go, go), [("go.weak-hash".to_owned(), 4)]);
    // `use std::mem::transmute as t;` and `use std::mem::{self}` both resolve.
    let rust = "use std::mem::transmute as t;\nuse std::mem::{self};\nfn f(x: u32) -> f32 {\n    let a: f32 = unsafe { t(x) };\n    unsafe { mem::transmute(x) }\n}\nfn transmute(x: u32) -> u32 { x }\nfn g() { transmute(1); }\n";
    assert_eq!(shipped(Lang::Rust, rust), [("rust.transmute".to_owned(), 4), ("rust.transmute".to_owned(), 5)]);
}

#[test]
fn constants_of_the_new_languages_are_literal() {
    // A `static final` field, a Go `const`, a PHP variable assigned a literal, a Ruby constant.
    let java = "class A {\n  static final String Q = \"SELECT 1\";\n  void f(Statement s, String u) throws Exception {\n    s.executeQuery(Q);\n    s.executeQuery(\"SELECT \" + u);\n  }\n}\n";
    assert_eq!(shipped(Lang::Java, java), [("java.sql-injection".to_owned(), 5)]);
    let go = "package main\nimport \"os/exec\"\nconst script = \"ls | wc -l\"\nfunc f(u string) {\n\texec.Command(\"sh\", \"-c\", script).Run()\n\texec.Command(\"sh\", \"-c\", script+u).Run()\n}\n";
    assert_eq!(shipped(Lang::Go, go), [("go.shell-command-injection".to_owned(), 6)]);
    let php = "<?php\n$cmd = 'uptime';\nsystem($cmd);\nsystem($cmd . $_GET['x']);\n";
    assert_eq!(shipped(Lang::Php, php), [("php.command-injection".to_owned(), 4)]);
    let ruby = "class A\n  CMD = \"uptime\"\n  def f(x)\n    system(CMD)\n    system(\"#{CMD} #{x}\")\n  end\nend\n";
    assert_eq!(shipped(Lang::Ruby, ruby), [("ruby.command-injection".to_owned(), 5)]);
}
