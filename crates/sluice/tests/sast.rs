//! The SAST stage through the real binary: SARIF with full rule descriptors, user rules from
//! sluice.toml, suppressions, fingerprints, diff-aware scans, hostile files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/vulnerable-app");

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "sluice-out" {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn scan_sast(dir: &Path, extra: &[&str]) -> Value {
    let out = sluice().args(["scan", "sast"]).arg(dir).args(extra).assert().success().get_output().stdout.clone();
    parse(&out)
}

/// (rule id, path, line) of every result.
fn hits(log: &Value) -> Vec<(String, String, u64)> {
    results(log)
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_owned(),
                loc["artifactLocation"]["uri"].as_str().unwrap().to_owned(),
                loc["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

#[test]
fn the_example_app_has_sast_findings_in_views_and_server_with_full_descriptors() {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(Path::new(EXAMPLE), repo.path());
    let log = scan_sast(repo.path(), &[]);
    let found = hits(&log);
    let has = |rule: &str, path: &str| found.iter().any(|(r, p, _)| r == rule && p == path);
    for (rule, path) in [
        ("python.subprocess-shell-injection", "app/views.py"),
        ("python.pickle-deserialization", "app/views.py"),
        ("python.weak-hash", "app/views.py"),
        ("python.tls-verification-disabled", "app/views.py"),
        ("python.eval-injection", "app/views.py"),
        ("javascript.command-injection", "web/server.js"),
        ("javascript.reflected-xss", "web/server.js"),
    ] {
        assert!(has(rule, path), "{rule} in {path} missing from {found:?}");
    }

    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "sluice-sast");
    assert_eq!(run["automationDetails"]["id"], "sluice/sast/");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for (rule, _, _) in &found {
        assert!(ids.contains(&rule.as_str()), "{rule} has a descriptor");
    }
    for r in rules {
        for key in ["shortDescription", "fullDescription"] {
            assert!(r[key]["text"].as_str().unwrap().len() > 10, "{key} of {}", r["id"]);
        }
        assert!(r["help"]["text"].as_str().unwrap().contains("How to fix"), "help of {}", r["id"]);
        assert!(r["help"]["markdown"].as_str().unwrap().contains("```"), "markdown help of {}", r["id"]);
        let props = &r["properties"];
        let tags: Vec<&str> = props["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        assert!(tags.contains(&"security"), "{tags:?}");
        assert!(tags.iter().any(|t| t.starts_with("external/cwe/cwe-")), "{tags:?}");
        assert!(tags.iter().any(|t| t.starts_with("external/owasp/a")), "{tags:?}");
        assert!(["very-high", "high", "medium", "low"].contains(&props["precision"].as_str().unwrap()));
        let severity: f64 = props["security-severity"].as_str().unwrap().parse().unwrap();
        assert!((0.0..=10.0).contains(&severity));
        assert!(props["sluice/cwe"][0].as_str().unwrap().starts_with("CWE-"));
    }
    let shell = rules.iter().find(|r| r["id"] == "python.subprocess-shell-injection").unwrap();
    assert_eq!(shell["properties"]["sluice/cwe"][0], "CWE-78");
    assert!(shell["properties"]["tags"].as_array().unwrap().contains(&Value::from("external/cwe/cwe-78")));

    for r in results(&log) {
        assert_eq!(r["properties"]["sluice/stage"], "sast");
        assert!(fingerprint(&r).contains(':'));
        let snippet = &r["locations"][0]["physicalLocation"]["region"]["snippet"];
        let credential = r["properties"]["sluice/cwe"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c == "CWE-798" || c == "CWE-259"));
        // Hard-coded credential findings lose their snippets: the snippet would quote the secret.
        assert_eq!(snippet["text"].is_string(), !credential, "{r}");
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
    }
    let file = repo.path().join("sast.sarif");
    std::fs::write(&file, serde_json::to_vec(&log).unwrap()).unwrap();
    assert_valid(&file);
}

#[test]
fn sluice_run_includes_the_sast_stage_and_is_deterministic() {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(Path::new(EXAMPLE), repo.path());
    sluice().arg("run").arg(repo.path()).assert().success();
    let first = std::fs::read(repo.path().join("sluice-out/results.sarif")).unwrap();
    let log = parse(&first);
    let stages: Vec<&str> =
        log["runs"].as_array().unwrap().iter().filter_map(|r| r["automationDetails"]["id"].as_str()).collect();
    assert!(stages.contains(&"sluice/sast/"), "{stages:?}");
    sluice().arg("run").arg(repo.path()).assert().success();
    let second = std::fs::read(repo.path().join("sluice-out/results.sarif")).unwrap();
    assert!(first == second, "two runs over the same tree differ");
    assert_valid(&repo.path().join("sluice-out/results.sarif"));
}

const USER_RULE: &str = r#"
id: acme.no-legacy-auth
language: python
severity: error
message: "legacy_auth($$$ARGS) is banned"
note: Use `acme.auth.login` instead.
rule:
  pattern: legacy_auth($$$ARGS)
metadata:
  title: Legacy authentication call
  cwe: CWE-287
  precision: high
"#;

#[test]
fn user_rule_directories_from_sluice_toml() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "sluice.toml", "[stages.sast]\nrule_dirs = [\"rules/sast\"]\nbuiltin_rules = false\n");
    write(r, "rules/sast/acme.yml", USER_RULE);
    write(r, "app.py", "import os\nlegacy_auth(user)\nos.system('ls ' + d)\n");
    let log = scan_sast(r, &[]);
    assert_eq!(hits(&log), [("acme.no-legacy-auth".to_owned(), "app.py".to_owned(), 2)]);
    let rule = &log["runs"][0]["tool"]["driver"]["rules"][0];
    assert_eq!(rule["properties"]["sluice/rule-source"], "rules/sast/acme.yml");
    assert_eq!(rule["properties"]["sluice/cwe"][0], "CWE-287");
    assert_eq!(results(&log)[0]["message"]["text"], "legacy_auth(user) is banned");

    // A broken user rule stops the stage with the file and rule named, exit 2.
    write(r, "rules/sast/acme.yml", &USER_RULE.replace("language: python", "language: cobol"));
    let out = sluice().args(["scan", "sast"]).arg(r).assert().code(2).get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("acme.yml") && err.contains("acme.no-legacy-auth") && err.contains("cobol"), "{err}");

    write(r, "sluice.toml", "[stages.sast]\nrule_dir = [\"rules\"]\n");
    let out = sluice().args(["scan", "sast"]).arg(r).assert().code(2).get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sluice.toml") && err.contains("rule_dir"), "{err}");
}

#[test]
fn suppression_comments_and_disabled_rules() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(
        r,
        "app.py",
        "import os\nos.system('a' + x)  # sluice:ignore[python.shell-command-injection]\n# sluice:ignore[python.shell-command-injection]\nos.system('b' + x)\nos.system('c' + x)  # sluice:ignore[python.eval-injection]\nos.system('d' + x)\n",
    );
    let log = scan_sast(r, &[]);
    let all = results(&log);
    // Silenced findings stay in the log, suppressed in the source; the others are open.
    let open: Vec<u64> = all
        .iter()
        .filter(|r| r["suppressions"].is_null())
        .map(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap())
        .collect();
    assert_eq!(open, [5, 6]);
    let silenced: Vec<(u64, &Value)> = all
        .iter()
        .filter(|r| !r["suppressions"].is_null())
        .map(|r| {
            (r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap(), &r["suppressions"][0])
        })
        .collect();
    assert_eq!(silenced.len(), 2, "{silenced:?}");
    for (line, s) in &silenced {
        assert!([2, 4].contains(line), "{silenced:?}");
        assert_eq!(s["kind"], "inSource");
        assert_eq!(s["justification"], "sluice:ignore[python.shell-command-injection]");
    }
    write(r, "sluice.toml", "[stages.sast]\ndisable_rules = [\"python.shell-command-injection\"]\n");
    assert!(hits(&scan_sast(r, &[])).is_empty());
}

#[test]
fn fingerprints_follow_the_code_not_the_line() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "a.py", "import os\ndef f(x):\n    os.system('ls ' + x)\n");
    let before = fingerprint(&results(&scan_sast(r, &[]))[0]);
    write(r, "a.py", "import os\n\n\n# moved\ndef f(x):\n        os.system(  'ls ' +   x)\n");
    let moved = fingerprint(&results(&scan_sast(r, &[]))[0]);
    assert_eq!(before, moved, "re-indenting and moving keeps the fingerprint");
    write(r, "a.py", "import os\ndef f(x):\n    os.system('rm ' + x)\n");
    let edited = fingerprint(&results(&scan_sast(r, &[]))[0]);
    assert_ne!(before, edited, "editing the flagged code changes it");
}

#[test]
fn diff_aware_scans_only_the_changed_files() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "old.py", "import os\nos.system('a' + x)\n");
    git(r, &["init", "-q"]);
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "base"]);
    write(r, "new.py", "import os\nos.system('b' + x)\n");
    let paths = |extra: &[&str]| -> Vec<String> { hits(&scan_sast(r, extra)).into_iter().map(|h| h.1).collect() };
    assert_eq!(paths(&[]), ["new.py", "old.py"]);
    assert_eq!(paths(&["--since", "HEAD"]), ["new.py"]);
    let list = r.join("changed.txt");
    std::fs::write(&list, "old.py\ndeleted.py\n").unwrap();
    assert_eq!(paths(&["--changed-files", list.to_str().unwrap()]), ["old.py"]);
}

#[test]
fn hostile_files_become_notifications_not_failures() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "broken.py", "import os\ndef f(:\nos.system('a' + x)\n");
    std::fs::write(r.join("latin1.py"), b"# caf\xe9\nimport os\nos.system('a' + x)\n").unwrap();
    let mut bundle = "var a=eval(b);".repeat(200_000);
    bundle.push('\n');
    write(r, "dist/app.min.js", &bundle);
    write(r, "deep.js", &format!("eval({}x{});\n", "[\n".repeat(5000), "]\n".repeat(5000)));
    let log = scan_sast(r, &[]);
    let files: Vec<String> = hits(&log).into_iter().map(|h| h.1).collect();
    assert_eq!(files, ["broken.py", "latin1.py"]);
    let notes: Vec<String> = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"]["text"].as_str().unwrap().to_owned())
        .collect();
    let noted = |path: &str, what: &str| notes.iter().any(|n| n.starts_with(path) && n.contains(what));
    assert!(noted("broken.py", "syntax error"), "{notes:?}");
    assert!(noted("latin1.py", "UTF-8"), "{notes:?}");
    assert!(noted("dist/app.min.js", "larger than"), "{notes:?}");
    assert!(noted("deep.js", "nests deeper"), "{notes:?}");
    assert_eq!(log["runs"][0]["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn changed_lines_mode_reports_only_findings_on_changed_lines() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "app.py", "import os\n\ndef old(x):\n    os.system('old ' + x)\n");
    write(
        r,
        "util.go",
        "package main\nimport \"os/exec\"\nfunc f(c string) {\n\texec.Command(\"sh\", \"-c\", c).Run()\n}\n",
    );
    git(r, &["init", "-q"]);
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "base"]);
    git(r, &["checkout", "-q", "-b", "feature"]);
    // A new finding in a changed file, committed on the branch; the old one stays untouched.
    write(
        r,
        "app.py",
        "import os\n\ndef old(x):\n    os.system('old ' + x)\n\ndef new(y):\n    os.system('new ' + y)\n",
    );
    git(r, &["commit", "-q", "-am", "feature"]);
    // An uncommitted edit next to the old Go finding, and an untracked file.
    write(
        r,
        "util.go",
        "package main\nimport \"os/exec\"\n// edited\nfunc f(c string) {\n\texec.Command(\"sh\", \"-c\", c).Run()\n}\n",
    );
    write(r, "fresh.rb", "def run(cmd)\n  system(\"sh #{cmd}\")\nend\n");

    let all = hits(&scan_sast(r, &["--since", "main"]));
    assert_eq!(all.len(), 4, "whole changed files: {all:?}");
    let lines: Vec<(String, u64)> =
        hits(&scan_sast(r, &["--since", "main", "--changed-lines"])).into_iter().map(|h| (h.1, h.2)).collect();
    assert_eq!(lines, [("app.py".to_owned(), 7), ("fresh.rb".to_owned(), 2)]);

    // Staged changes only: the Go edit is staged, its finding's line is not changed.
    git(r, &["add", "util.go"]);
    assert!(hits(&scan_sast(r, &["--staged", "--changed-lines"])).is_empty());

    // Without a reference there is nothing to compare lines with: a clear error, exit 2.
    let out = sluice().args(["scan", "sast"]).arg(r).arg("--changed-lines").assert().code(2).get_output().clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since REF"), "{:?}", out.stderr);

    // The same through `sluice run` and the stage option.
    write(r, "sluice.toml", "[stages.sast]\nchanged_lines = true\n");
    sluice().arg("run").arg(r).args(["--since", "main", "--stages", "sast"]).assert().success();
    let log = parse(&std::fs::read(r.join("sluice-out/results.sarif")).unwrap());
    let sast: Vec<(String, u64)> = hits(&log)
        .into_iter()
        .filter(|h| h.0.starts_with("python.") || h.0.starts_with("go.") || h.0.starts_with("ruby."))
        .map(|h| (h.1, h.2))
        .collect();
    assert_eq!(sast, [("app.py".to_owned(), 7), ("fresh.rb".to_owned(), 2)]);
}

#[test]
fn every_shipped_language_is_scanned_and_survives_hostile_input() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(
        r,
        "cmd.go",
        "package main\nimport \"os/exec\"\nfunc f(c string) {\n\texec.Command(\"sh\", \"-c\", c).Run()\n}\n",
    );
    write(
        r,
        "A.java",
        "class A {\n  void f(String h) throws Exception {\n    Runtime.getRuntime().exec(\"ping \" + h);\n  }\n}\n",
    );
    write(r, "lib.rs", "fn f() -> reqwest::Client {\n    reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap()\n}\n");
    write(r, "app.rb", "def run(cmd)\n  system(\"sh #{cmd}\")\nend\n");
    write(r, "index.php", "<?php\nsystem(\"ping \" . $_GET['h']);\n");
    write(r, "install.sh", "#!/bin/sh\ncurl -fsSL https://example.com/i.sh | sh\n");
    // Hostile: unparseable Java, deeply nested Go and Rust, non-UTF-8 PHP.
    write(r, "Broken.java", "class B { void f( { Runtime.getRuntime().exec(\"ls \" + x); }\n");
    // Deep files hold words the packs need, so that they are parsed at all.
    let call = "exec.Command(\"sh\", \"-c\", y)";
    let deep_go = format!("package main\nimport \"os/exec\"\nvar x = {}{call}{}\n", "(".repeat(1200), ")".repeat(1200));
    write(r, "deep.go", &deep_go);
    let call = "b.danger_accept_invalid_certs(true)";
    write(r, "deep.rs", &format!("fn f() {{ let x = {}{call}{}; }}\n", "[".repeat(1200), "]".repeat(1200)));
    std::fs::write(r.join("latin1.php"), b"<?php\n// caf\xe9\nsystem('a' . $_GET['x']);\n").unwrap();

    let log = scan_sast(r, &[]);
    let mut found: Vec<(String, String)> = hits(&log).into_iter().map(|h| (h.1, h.0)).collect();
    found.sort();
    let expect = [
        ("A.java", "java.command-injection"),
        ("Broken.java", "java.command-injection"),
        ("app.rb", "ruby.command-injection"),
        ("cmd.go", "go.shell-command-injection"),
        ("index.php", "php.command-injection"),
        ("install.sh", "bash.curl-pipe-shell"),
        ("latin1.php", "php.command-injection"),
        ("lib.rs", "rust.tls-accept-invalid-certs"),
    ];
    let expect: Vec<(String, String)> = expect.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    assert_eq!(found, expect);
    let notes: Vec<String> = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"]["text"].as_str().unwrap().to_owned())
        .collect();
    let noted = |path: &str, what: &str| notes.iter().any(|n| n.starts_with(path) && n.contains(what));
    assert!(noted("Broken.java", "syntax error"), "{notes:?}");
    assert!(noted("deep.go", "nests deeper"), "{notes:?}");
    assert!(noted("deep.rs", "nests deeper"), "{notes:?}");
    assert!(noted("latin1.php", "UTF-8"), "{notes:?}");
    assert_eq!(log["runs"][0]["invocations"][0]["executionSuccessful"], true);
    let sarif = r.join("out.sarif");
    std::fs::write(&sarif, serde_json::to_vec(&log).unwrap()).unwrap();
    assert_valid(&sarif);
}

/// Teams arrive with other tools' annotations: `# nosec` and `# nosemgrep` silence SAST
/// findings, `gitleaks:allow` a secret, each as an `inSource` suppression that names the
/// directive; `peer_annotations = false` in the stage's options turns them off.
#[test]
fn peer_annotations_are_in_source_suppressions_unless_switched_off() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("app.py"),
        "x = eval(input())  # nosec\ny = eval(input())  # nosemgrep: python.eval-injection\nz = eval(input())\n",
    )
    .unwrap();
    let token = github_token("Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    std::fs::write(repo.path().join("conf.yml"), format!("token: {token}  # gitleaks:allow\n")).unwrap();
    let scan = |stage: &str| {
        let out = sluice().args(["scan", stage]).arg(repo.path()).assert().success();
        results(&parse(&out.get_output().stdout))
            .into_iter()
            .map(|r| {
                let line = r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap();
                let why = r["suppressions"][0]["justification"].as_str().map(str::to_owned);
                if why.is_some() {
                    assert_eq!(r["suppressions"][0]["kind"], "inSource");
                }
                (line, why)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        scan("sast"),
        [(1, Some("nosec".to_owned())), (2, Some("nosemgrep".to_owned())), (3, None)],
        "eval findings by line"
    );
    let secrets = scan("secrets");
    assert_eq!(secrets.len(), 1);
    assert!(secrets[0].1.as_deref().is_some_and(|j| j.contains("gitleaks:allow")), "{secrets:?}");

    std::fs::write(
        repo.path().join("sluice.toml"),
        "[stages.sast]\npeer_annotations = false\n\n[stages.secrets]\npeer_annotations = false\n",
    )
    .unwrap();
    assert_eq!(scan("sast"), [(1, None), (2, None), (3, None)]);
    assert_eq!(scan("secrets"), [(1, None)]);
}
