//! Org-wide triage from the developer's side (issue 18), end to end: a real `sluice serve`
//! (SQLite, a free loopback port), two real git repositories with a vulnerable Cargo.lock, the
//! real `sluice run`, `sluice triage propose`, `sluice gate` and `sluice verify`.
//!
//! - a developer's proposal on a critical finding suppresses nothing until a security user
//!   approves it; the `constrained` gate refuses the finding suppressed by a repository decision
//!   alone and accepts it after the approval;
//! - a security user marks an advisory `mitigated` organisation-wide and both repositories'
//!   next run show it suppressed, with who and why (one pinning the server's key, one trusting
//!   it on first use and saying so);
//! - an expired decision stops applying;
//! - with the server stopped the run uses the cache and says its age; a changed cache, or one
//!   older than `max_decision_age`, applies nothing and says why;
//! - the signed decision log verifies offline with `sluice verify`, and a changed one does not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{advisory_db, git, write};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_sluice");

/// smallvec 1.6.0 (RUSTSEC-2021-0003, critical) and time 0.1.43 (RUSTSEC-2020-0071, alias
/// CVE-2020-26235, medium).
const CARGO_LOCK: &str = r#"version = 3

[[package]]
name = "demo"
version = "0.1.0"
dependencies = [
 "smallvec",
 "time",
]

[[package]]
name = "smallvec"
version = "1.6.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "1a55ca5f3b68e41c979bf8c46a6f1da892ca4db8f94023ce0bd32407573b1ac0"

[[package]]
name = "time"
version = "0.1.43"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "ca8a50ef2360fbd1eeb0ecd46795a87a19024eb4b53c5dc916ca1fd95fe62438"
"#;

struct Serve {
    child: Child,
    addr: String,
    stderr: PathBuf,
}

impl Serve {
    fn start(data: &Path) -> Serve {
        let stderr = data.with_extension("stderr");
        let child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env_remove("SLUICE_DATABASE")
            .env_remove("SLUICE_SERVER_KEY")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut serve = Serve { child, addr: String::new(), stderr };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(&serve.stderr).unwrap_or_default();
            if let Some(rest) = text.split("listening on http://").nth(1) {
                if rest.contains('\n') {
                    serve.addr = rest.split_whitespace().next().unwrap().to_owned();
                    break;
                }
            }
            assert!(serve.child.try_wait().unwrap().is_none(), "sluice serve exited: {text}");
            assert!(Instant::now() < deadline, "sluice serve did not start: {text}");
            std::thread::sleep(Duration::from_millis(20));
        }
        serve
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.stop();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(60)))
            .build(),
    )
}

fn api(serve: &Serve, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}/api/v1{path}", serve.url());
    let agent = agent();
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut response = match body {
        None => {
            let mut r = agent.get(&url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.call().unwrap()
        }
        Some(body) => {
            let mut r = if method == "PUT" { agent.put(&url) } else { agent.post(&url) };
            r = r.header("Content-Type", "application/json");
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.send(body.to_string().as_bytes()).unwrap()
        }
    };
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn ok(serve: &Serve, method: &str, path: &str, token: Option<&str>, body: Option<Value>, want: u16) -> Value {
    let (status, value) = api(serve, method, path, token, body);
    assert_eq!(status, want, "{method} {path}: {value}");
    value
}

/// A user with roles (project None: the organisation), and a personal token of theirs.
fn user(serve: &Serve, admin: &str, name: &str, roles: &[(Option<&str>, &str)]) -> String {
    let password = format!("{name}-password-long-enough");
    ok(serve, "POST", "/users", Some(admin), Some(json!({"username": name, "password": password})), 201);
    for (project, role) in roles {
        ok(
            serve,
            "POST",
            &format!("/users/{name}/roles"),
            Some(admin),
            Some(json!({"project": project, "role": role})),
            200,
        );
    }
    let session = ok(serve, "POST", "/auth/login", None, Some(json!({"username": name, "password": password})), 200);
    let session = session["token"].as_str().unwrap();
    let made = ok(serve, "POST", "/tokens", Some(session), Some(json!({"name": "cli", "kind": "personal"})), 201);
    made["token"].as_str().unwrap().to_owned()
}

fn sluice() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("NO_COLOR", "1")
        .env("CI", "1")
        .env("SLUICE_DB", advisory_db())
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI")
        .env_remove("SLUICE_TOKEN");
    cmd
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_cmd(cmd: &mut Command) -> Out {
    let out = cmd.output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `sluice run` with `SLUICE_TOKEN`; the results it wrote.
fn sluice_run(root: &Path, token: &str) -> (Out, Value) {
    let out = run_cmd(sluice().arg("run").arg(root).env("SLUICE_TOKEN", token));
    assert_eq!(out.code, 0, "sluice run: {}", out.stderr);
    let log = serde_json::from_slice(&std::fs::read(root.join("sluice-out/results.sarif")).unwrap()).unwrap();
    (out, log)
}

/// The deps result of a package.
fn finding<'l>(log: &'l Value, package: &str) -> &'l Value {
    log["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["results"].as_array().into_iter().flatten())
        .find(|r| r["properties"]["sluice/package"] == package)
        .unwrap_or_else(|| panic!("no finding for {package}"))
}

/// The suppression a server decision made, if any, and the decision's record (`sluice/triage`,
/// which the suppression points at by the decision's URL).
fn server_suppression(result: &Value) -> Option<(&Value, &Value)> {
    let record = &result["properties"]["sluice/triage"];
    if record["origin"] != "server" {
        return None;
    }
    let s =
        result["suppressions"].as_array()?.iter().find(|s| s["properties"]["sluice/decision"] == record["decision"])?;
    Some((s, record))
}

fn suppressed(result: &Value) -> bool {
    result["suppressions"].as_array().is_some_and(|s| !s.is_empty())
}

fn repo(dir: &Path, name: &str, server: &str, extra: &str) -> PathBuf {
    let root = dir.join(name);
    std::fs::create_dir(&root).unwrap();
    git(&root, &["init", "-q"]);
    write(&root, "Cargo.lock", CARGO_LOCK);
    write(
        &root,
        "sluice.toml",
        &format!(
            "[run]\nstages = [\"secrets\", \"deps\"]\n\n[server]\nurl = \"{server}\"\nproject = \"{name}\"\n{extra}"
        ),
    );
    write(&root, ".gitignore", "sluice-out/\n.sluice/cache/\n");
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-qm", "a vulnerable lockfile"]);
    root
}

/// `sluice gate --profile constrained` over the last run: exit code and denial ids.
fn gate(root: &Path) -> (i32, Vec<String>) {
    let out = run_cmd(
        sluice()
            .arg("gate")
            .arg(root.join("sluice-out/results.sarif"))
            .arg("--root")
            .arg(root)
            .args(["--profile", "constrained"]),
    );
    let log: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("gate wrote no SARIF ({e}): {}", out.stderr));
    let gate_run =
        log["runs"].as_array().unwrap().iter().find(|r| r["automationDetails"]["id"] == "sluice/gate/").unwrap();
    let ids = gate_run["properties"]["sluice/denials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    (out.code, ids)
}

#[test]
fn org_wide_triage_from_the_developers_side() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let mut serve = Serve::start(&data);
    let login = std::fs::read_to_string(data.join("first-admin-login-token")).unwrap();
    let admin = ok(&serve, "POST", "/auth/login", None, Some(json!({"login_token": login.trim()})), 200);
    let admin = admin["token"].as_str().unwrap().to_owned();
    for p in ["alpha", "beta"] {
        ok(&serve, "POST", "/projects", Some(&admin), Some(json!({"name": p, "default_branch": "main"})), 201);
    }
    let push_alpha =
        ok(&serve, "POST", "/projects/alpha/tokens", Some(&admin), Some(json!({"name": "ci", "scope": "push"})), 201);
    let push_alpha = push_alpha["token"].as_str().unwrap().to_owned();
    let read_beta =
        ok(&serve, "POST", "/projects/beta/tokens", Some(&admin), Some(json!({"name": "ci", "scope": "read"})), 201);
    let read_beta = read_beta["token"].as_str().unwrap().to_owned();
    let dev = user(&serve, &admin, "dev", &[(Some("alpha"), "developer"), (Some("beta"), "developer")]);
    let sec = user(&serve, &admin, "sec", &[(None, "security")]);
    let sec2 = user(&serve, &admin, "sec2", &[(None, "security")]);

    // The server's public key, pinned in alpha's sluice.toml (a file in the repository); beta
    // pins nothing.
    let key = ok(&serve, "GET", "/server-key", Some(&dev), None, 200);
    let pem = key["public_key"].as_str().unwrap().to_owned();
    let alpha = repo(dir.path(), "alpha", &serve.url(), "public_key = \"server.pub\"\n");
    write(&alpha, "server.pub", &pem);
    let beta = repo(dir.path(), "beta", &serve.url(), "");

    // Alpha's first run, pushed so the server knows its findings.
    let (out, log) = sluice_run(&alpha, &push_alpha);
    assert!(out.stderr.contains("server decisions: 0 for `alpha`"), "{}", out.stderr);
    assert!(out.stderr.contains("signature verified with the pinned key"), "{}", out.stderr);
    let fp = finding(&log, "smallvec")["partialFingerprints"]["sluice/v1"].as_str().unwrap().to_owned();
    let pushed = run_cmd(sluice().arg("push").arg(&alpha).env("SLUICE_TOKEN", &push_alpha));
    assert_eq!(pushed.code, 0, "{}", pushed.stderr);

    // A developer waves the critical finding through in the repository: with a server
    // configured, `constrained` does not accept that.
    let marked = run_cmd(
        sluice()
            .args([
                "triage",
                "mark",
                &fp,
                "--status",
                "accepted_risk",
                "--expires",
                "2099-01-01",
                "--reason",
                "not reachable",
            ])
            .arg("--root")
            .arg(&alpha),
    );
    assert_eq!(marked.code, 0, "{}", marked.stderr);
    let (_, log) = sluice_run(&alpha, &push_alpha);
    assert!(suppressed(finding(&log, "smallvec")), "the repository decision applies");
    let (code, denials) = gate(&alpha);
    assert_eq!((code, denials.contains(&"high-severity".to_owned())), (1, true), "{denials:?}");

    // The developer proposes it on the server: it needs the security role, and until then
    // it suppresses nothing more.
    let proposed = run_cmd(
        sluice()
            .args([
                "triage",
                "propose",
                &fp,
                "--status",
                "false_positive",
                "--reason",
                "smallvec is only used with Copy types here",
            ])
            .arg("--root")
            .arg(&alpha)
            .env("SLUICE_TOKEN", &dev),
    );
    assert_eq!(proposed.code, 0, "{}", proposed.stderr);
    assert!(proposed.stderr.contains("security role"), "{}", proposed.stderr);
    assert!(proposed.stderr.contains("suppresses nothing until then"), "{}", proposed.stderr);
    let id: i64 = proposed.stdout.trim().parse().unwrap();
    let (out, log) = sluice_run(&alpha, &push_alpha);
    assert!(server_suppression(finding(&log, "smallvec")).is_none(), "a proposal suppresses nothing");
    assert!(out.stderr.contains("0 findings suppressed by server decisions"), "{}", out.stderr);
    assert_eq!(gate(&alpha).0, 1);
    // The merge-request comment says what waits, and for whom. A finding the repository's
    // decision suppresses is not marked; without that decision (in a branch that drops it), it is.
    let pending = &finding(&log, "smallvec")["properties"]["sluice/pending-decision"];
    assert!(pending.is_null(), "a suppressed finding is not marked: {pending}");
    let triage_toml = alpha.join(".sluice/triage.toml");
    let repository_decisions = std::fs::read(&triage_toml).unwrap();
    std::fs::remove_file(&triage_toml).unwrap();
    let (out, log) = sluice_run(&alpha, &push_alpha);
    assert!(out.stderr.contains("1 awaiting approval of a proposal"), "{}", out.stderr);
    let pending = &finding(&log, "smallvec")["properties"]["sluice/pending-decision"];
    assert_eq!(pending["id"], id);
    assert_eq!(pending["required_role"], "security");
    let comment = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["report", "--format", "markdown", "--root"])
        .arg(&alpha)
        .stdin(std::fs::File::open(alpha.join("sluice-out/results.sarif")).unwrap())
        .output()
        .unwrap();
    let comment = String::from_utf8(comment.stdout).unwrap();
    let awaiting = comment.split("#### Awaiting approval").nth(1).unwrap_or_else(|| panic!("{comment}"));
    assert!(awaiting.contains(&format!("#{id}]")), "{awaiting}");
    assert!(awaiting.contains("the security team"), "{awaiting}");
    std::fs::write(&triage_toml, repository_decisions).unwrap();

    // A security user approves: the next run carries who decided, with which role, verified;
    // the server's decision about this finding replaces the repository's, and the gate accepts.
    ok(&serve, "POST", &format!("/decisions/{id}/approve"), Some(&sec), Some(json!({})), 200);
    let (out, log) = sluice_run(&alpha, &push_alpha);
    assert!(out.stderr.contains("1 finding suppressed by server decisions"), "{}", out.stderr);
    assert!(out.stderr.contains("1 repository decision replaced"), "{}", out.stderr);
    let (s, record) = server_suppression(finding(&log, "smallvec")).expect("suppressed by the server decision");
    assert_eq!(s["kind"], "external");
    assert_eq!(record["decided_by"], "user:sec");
    assert_eq!(record["role"], "security");
    assert_eq!(record["signature_verified"], true);
    assert_eq!(record["scope"], "finding");
    assert!(s["justification"].as_str().unwrap().contains("only used with Copy types"), "{s}");
    assert_eq!(finding(&log, "smallvec")["suppressions"].as_array().unwrap().len(), 1, "one decision per finding");
    let (code, denials) = gate(&alpha);
    assert!(!denials.contains(&"high-severity".to_owned()), "{denials:?}");
    assert_eq!(code, 0, "{denials:?}");

    // A security user marks the time advisory (by its CVE alias) mitigated organisation-wide,
    // from the terminal; another approves it. Both repositories' next runs suppress it.
    let proposed = run_cmd(
        sluice()
            .args([
                "triage",
                "propose",
                "--advisory",
                "CVE-2020-26235",
                "--package",
                "time",
                "--organisation",
                "--status",
                "mitigated",
            ])
            .args([
                "--vex-justification",
                "vulnerable_code_not_in_execute_path",
                "--reason",
                "we never call localtime_r",
            ])
            .arg("--root")
            .arg(&beta)
            .env("SLUICE_TOKEN", &sec),
    );
    assert_eq!(proposed.code, 0, "{}", proposed.stderr);
    let org_id: i64 = proposed.stdout.trim().parse().unwrap();
    ok(&serve, "POST", &format!("/decisions/{org_id}/approve"), Some(&sec2), Some(json!({})), 200);
    for (root, token, verified) in [(&alpha, &push_alpha, true), (&beta, &read_beta, false)] {
        let (out, log) = sluice_run(root, token);
        let (s, record) =
            server_suppression(finding(&log, "time")).unwrap_or_else(|| panic!("time suppressed: {}", out.stderr));
        assert_eq!(record["decided_by"], "user:sec2");
        assert_eq!(record["who"], "user:sec");
        assert_eq!(record["organisation_wide"], true);
        assert_eq!(record["signature_verified"], verified);
        assert!(
            s["justification"]
                .as_str()
                .unwrap()
                .starts_with("mitigated: we never call localtime_r (approved by user:sec2, security)"),
            "{s}"
        );
        if !verified {
            assert!(out.stderr.contains("UNVERIFIED"), "{}", out.stderr);
            assert!(out.stderr.contains("trusting the server's key"), "{}", out.stderr);
        }
    }
    // Beta has no decision about smallvec: still open there.
    let beta_log: Value =
        serde_json::from_slice(&std::fs::read(beta.join("sluice-out/results.sarif")).unwrap()).unwrap();
    assert!(!suppressed(finding(&beta_log, "smallvec")));
    let rule = finding(&beta_log, "smallvec")["ruleId"].as_str().unwrap().to_owned();

    // The security team re-rates that advisory's rule organisation-wide: beta's next run still
    // reports it, at the new severity, saying who decided; the gate sees the new severity.
    let proposed = run_cmd(
        sluice()
            .args(["triage", "propose", "--rule", &rule, "--organisation", "--status", "confirmed"])
            .args(["--set-severity", "low", "--reason", "smallvec is vendored and unused in production"])
            .arg("--root")
            .arg(&beta)
            .env("SLUICE_TOKEN", &sec),
    );
    assert_eq!(proposed.code, 0, "{}", proposed.stderr);
    let rerate_id: i64 = proposed.stdout.trim().parse().unwrap();
    ok(&serve, "POST", &format!("/decisions/{rerate_id}/approve"), Some(&sec2), Some(json!({})), 200);
    let (out, beta_log) = sluice_run(&beta, &read_beta);
    assert!(out.stderr.contains("1 re-rated"), "{}", out.stderr);
    let smallvec = finding(&beta_log, "smallvec");
    assert!(!suppressed(smallvec), "a re-rated finding is still reported");
    assert_eq!(smallvec["properties"]["security-severity"], "2.0");
    assert_eq!(smallvec["level"], "note");
    assert_eq!(smallvec["properties"]["sluice/severity-changed"]["from"], "critical");
    assert_eq!(smallvec["properties"]["sluice/severity-changed"]["to"], "low");
    assert_eq!(smallvec["properties"]["sluice/triage"]["decided_by"], "user:sec2");

    // The decision log, signed, verifies offline; changed, it does not.
    let export = agent()
        .get(&format!("{}/api/v1/decisions/export", serve.url()))
        .header("Authorization", &format!("Bearer {sec}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let export_file = dir.path().join("decisions.dsse.json");
    std::fs::write(&export_file, &export).unwrap();
    let verified = run_cmd(sluice().arg("verify").arg(&export_file).arg("--key").arg(alpha.join("server.pub")));
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    assert!(verified.stderr.contains("decision log of 3 decisions"), "{}", verified.stderr);
    let doc: Value = serde_json::from_str(&verified.stdout).unwrap();
    assert_eq!(doc["decisions"][1]["history"][1]["actor"], "user:sec2");
    let mut forged: Value = serde_json::from_str(&export).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut payload: Value = serde_json::from_slice(&b64.decode(forged["payload"].as_str().unwrap()).unwrap()).unwrap();
    payload["decisions"][1]["decision"]["decided_by"] = json!("user:mallory");
    forged["payload"] = json!(b64.encode(payload.to_string()));
    std::fs::write(&export_file, forged.to_string()).unwrap();
    let refused = run_cmd(sluice().arg("verify").arg(&export_file).arg("--key").arg(alpha.join("server.pub")));
    assert_eq!(refused.code, 1, "{}", refused.stderr);

    // The organisation's decision expires (a date in the past, set in the database as time
    // passing would): it stops applying.
    let db = data.join("sluice.db");
    let sql = format!("UPDATE decisions SET expires_at = 1000 WHERE id = {org_id}");
    let updated = Command::new("sqlite3").arg(&db).arg(&sql).output();
    match updated {
        Ok(o) if o.status.success() => {}
        _ => {
            // No sqlite3 tool: the same statement through sqlx.
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                use sqlx::ConnectOptions as _;
                let mut conn = sqlx::sqlite::SqliteConnectOptions::new().filename(&db).connect().await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(sql.clone())).execute(&mut conn).await.unwrap();
            });
        }
    }
    let (out, log) = sluice_run(&beta, &read_beta);
    assert!(!suppressed(finding(&log, "time")), "an expired decision does not apply: {}", out.stderr);

    // The server stops: alpha's run uses its cache and says how old it is.
    let cache = alpha.join(".sluice/cache/decision-set.json");
    let good_cache = std::fs::read(&cache).unwrap();
    serve.stop();
    let (out, log) = sluice_run(&alpha, &push_alpha);
    assert!(out.stderr.contains("server decisions from cache, "), "{}", out.stderr);
    assert!(out.stderr.contains(" old (cannot reach the server"), "{}", out.stderr);
    assert!(server_suppression(finding(&log, "smallvec")).is_some(), "the cached decision applies");

    // A changed cache applies nothing, and says why.
    let mut tampered: Value = serde_json::from_slice(&good_cache).unwrap();
    let mut set: Value =
        serde_json::from_slice(&b64.decode(tampered["envelope"]["payload"].as_str().unwrap()).unwrap()).unwrap();
    set["decisions"][0]["fingerprint"] = json!("ffffffffffffffffffffffffffffffff:1");
    tampered["envelope"]["payload"] = json!(b64.encode(set.to_string()));
    std::fs::write(&cache, tampered.to_string()).unwrap();
    let (out, log) = sluice_run(&alpha, &push_alpha);
    assert!(
        out.stderr.contains("server decisions not applied: the decision set's signature does not verify"),
        "{}",
        out.stderr
    );
    assert!(server_suppression(finding(&log, "smallvec")).is_none());

    // Too old for `max_decision_age`: not applied either.
    std::fs::write(&cache, &good_cache).unwrap();
    let toml = std::fs::read_to_string(alpha.join("sluice.toml")).unwrap();
    write(&alpha, "sluice.toml", &format!("{toml}max_decision_age = \"1s\"\n"));
    std::thread::sleep(Duration::from_millis(2100));
    let (out, log) = sluice_run(&alpha, &push_alpha);
    assert!(out.stderr.contains("more than max_decision_age"), "{}", out.stderr);
    assert!(server_suppression(finding(&log, "smallvec")).is_none());
}
