//! Org templates end to end, with real git repositories: a template repository tagged v1 and
//! v2, a team repository extending it at a tag, locks, and `sluice init`'s CI wiring validated
//! by the tools that consume it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{find_tool, git, github_token, sluice, tools_dir};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn rev_parse(dir: &Path, rev: &str) -> String {
    let out = Command::new("git").args(["rev-parse", rev]).current_dir(dir).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

const TEMPLATE_V1: &str = r#"
[template]
name = "acme-baseline"
required_stages = ["secrets"]
locked = ["policy.profile"]

[policy]
profile = "velocity"

[run]
out_dir = "acme-out"
"#;

/// The org's template repository with tags v1 and v2 (v2 makes the profile constrained).
fn org_repo(dir: &Path) -> PathBuf {
    let org = dir.join("org-templates");
    std::fs::create_dir_all(&org).unwrap();
    git(&org, &["init", "-q"]);
    write(&org.join("sluice.toml"), TEMPLATE_V1);
    git(&org, &["add", "-A"]);
    git(&org, &["commit", "-q", "-m", "v1"]);
    git(&org, &["tag", "v1"]);
    write(&org.join("sluice.toml"), &TEMPLATE_V1.replace("profile = \"velocity\"", "profile = \"constrained\""));
    git(&org, &["commit", "-q", "-am", "v2: constrained"]);
    git(&org, &["tag", "v2"]);
    org
}

fn team_repo(dir: &Path, org: &Path, rev: &str, extra: &str) -> PathBuf {
    let team = dir.join("team");
    std::fs::create_dir_all(&team).unwrap();
    if !team.join(".git").exists() {
        git(&team, &["init", "-q"]);
    }
    write(&team.join("sluice.toml"), &format!("extends = {{ git = \"{}\", rev = \"{rev}\" }}\n{extra}", org.display()));
    team
}

fn config_show(team: &Path, cache: &Path) -> assert_cmd::assert::Assert {
    sluice().env("SLUICE_CACHE_DIR", cache).args(["config", "show"]).arg(team).assert()
}

#[test]
fn team_extends_a_template_at_a_tag_locks_it_and_upgrades_only_through_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let org = org_repo(dir.path());
    let v1 = rev_parse(&org, "v1");
    let v2 = rev_parse(&org, "v2");
    let team = team_repo(dir.path(), &org, "v1", "");

    // First use resolves v1 and writes the lock.
    let out = config_show(&team, &cache).success().get_output().stdout.clone();
    let show = String::from_utf8(out).unwrap();
    assert!(show.contains("policy.profile") && show.contains("\"velocity\""), "{show}");
    assert!(show.contains("locked by template `acme-baseline`"), "{show}");
    assert!(show.contains("run.out_dir") && show.contains("acme-out"), "{show}");
    let lock = std::fs::read_to_string(team.join("sluice.lock")).unwrap();
    assert!(lock.contains(&v1) && lock.contains("rev = \"v1\""), "{lock}");

    // A run uses the template: its out_dir, its required secrets stage.
    write(&team.join("app/settings.py"), &format!("TOKEN = \"{}\"\n", github_token("Qe7Ty2Uw9Ip4Oa6Sd1Fg8Hj3Kl5Zx0")));
    sluice().env("SLUICE_CACHE_DIR", &cache).args(["run", "--format", "json"]).arg(&team).assert().success();
    let merged = std::fs::read_to_string(team.join("acme-out/results.sarif")).unwrap();
    assert!(
        merged.contains("sluice/secrets/") && merged.contains("app/settings.py"),
        "the template's out_dir and required stage are used"
    );

    // Dropping the locked stage, or weakening the locked profile, is refused with the key and template named.
    team_repo(dir.path(), &org, "v1", "[stages.secrets]\nenabled = false\n");
    let err =
        sluice().env("SLUICE_CACHE_DIR", &cache).arg("run").arg(&team).assert().code(2).get_output().stderr.clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("stage `secrets` is required by template `acme-baseline`"), "{err}");
    assert!(err.contains("sluice.toml"), "{err}");

    // The template upgrade: asking for v2 is refused until the lock changes.
    team_repo(dir.path(), &org, "v2", "");
    let err = config_show(&team, &cache).code(2).get_output().stderr.clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("sluice.lock pins rev v1") && err.contains("sluice config lock"), "{err}");
    sluice().env("SLUICE_CACHE_DIR", &cache).args(["config", "lock"]).arg(&team).assert().success();
    let lock = std::fs::read_to_string(team.join("sluice.lock")).unwrap();
    assert!(lock.contains(&v2) && !lock.contains(&v1), "{lock}");
    let show = String::from_utf8(config_show(&team, &cache).success().get_output().stdout.clone()).unwrap();
    assert!(show.contains("\"constrained\""), "v2 is picked up after the lock changed: {show}");

    // v2 locks constrained: going back to velocity locally is weakening.
    team_repo(dir.path(), &org, "v2", "[policy]\nprofile = \"velocity\"\n");
    let err = String::from_utf8(config_show(&team, &cache).code(2).get_output().stderr.clone()).unwrap();
    assert!(err.contains("`policy.profile` is locked by template `acme-baseline`"), "{err}");
}

#[test]
fn a_moved_tag_does_not_change_a_locked_run() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let org = org_repo(dir.path());
    let v1 = rev_parse(&org, "v1");
    let team = team_repo(dir.path(), &org, "v1", "");
    config_show(&team, &cache).success();
    // Someone force-moves v1 to the constrained commit.
    git(&org, &["tag", "-f", "v1", "v2"]);
    let show = String::from_utf8(config_show(&team, &cache).success().get_output().stdout.clone()).unwrap();
    assert!(show.contains("\"velocity\"") && show.contains(&v1[..12]), "the lock's commit wins: {show}");
    // Re-locking is the reviewed way to take the moved tag.
    sluice().env("SLUICE_CACHE_DIR", &cache).args(["config", "lock"]).arg(&team).assert().success();
    let show = String::from_utf8(config_show(&team, &cache).success().get_output().stdout.clone()).unwrap();
    assert!(show.contains("\"constrained\""), "{show}");
}

#[test]
fn a_tampered_lock_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let org = org_repo(dir.path());
    let team = team_repo(dir.path(), &org, "v1", "");
    config_show(&team, &cache).success();
    let lock_path = team.join("sluice.lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    let digest = lock.lines().find_map(|l| l.strip_prefix("sha256 = \"")).unwrap().trim_end_matches('"').to_owned();
    std::fs::write(&lock_path, lock.replace(&digest, &"0".repeat(64))).unwrap();
    let err = String::from_utf8(config_show(&team, &cache).code(2).get_output().stderr.clone()).unwrap();
    assert!(err.contains("sluice.lock says") && err.contains(&digest), "{err}");
}

fn venv_tool(name: &str) -> Option<PathBuf> {
    find_tool(name, &[tools_dir().join("venv/bin").join(name)])
}

#[test]
fn init_writes_ci_wiring_that_the_consumers_accept() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    write(&repo.join("app/main.py"), "print('hi')\n");
    write(&repo.join("requirements.txt"), "flask==3.0.0\n");
    write(&repo.join("Dockerfile"), "FROM python:3.12\n");
    let out = sluice()
        .args(["init", "--ci", "github", "--ci", "gitlab", "--ci", "pre-commit", "--profile", "constrained"])
        .arg(repo)
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("python (1 files)") && out.contains("requirements.txt") && out.contains("Dockerfile"),
        "{out}"
    );
    let toml = std::fs::read_to_string(repo.join("sluice.toml")).unwrap();
    assert!(toml.contains("profile = \"constrained\""), "{toml}");
    // The generated configuration loads.
    sluice().args(["config", "show"]).arg(repo).assert().success();
    // Running init again does not clobber.
    sluice().arg("init").arg(repo).assert().code(2);

    if let Some(check) = venv_tool("check-jsonschema") {
        for (file, schema) in [
            (".github/workflows/sluice.yml", "vendor.github-workflows"),
            (".gitlab-ci.yml", "vendor.gitlab-ci"),
            (".gitlab/sluice.gitlab-ci.yml", "vendor.gitlab-ci"),
        ] {
            let out = Command::new(&check).args(["--builtin-schema", schema]).arg(repo.join(file)).output().unwrap();
            assert!(
                out.status.success(),
                "{file}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // The generated sluice.toml is what the published schema describes (editors use it).
        let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/sluice.schema.json");
        let out = Command::new(&check).arg("--schemafile").arg(schema).arg(repo.join("sluice.toml")).output().unwrap();
        assert!(
            out.status.success(),
            "sluice.toml: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if let Some(pre_commit) = venv_tool("pre-commit") {
        let out = Command::new(&pre_commit)
            .arg("validate-config")
            .arg(repo.join(".pre-commit-config.yaml"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.pre-commit-hooks.yaml");
        let out = Command::new(&pre_commit).arg("validate-manifest").arg(manifest).output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // The plain git hook really gates a commit: a staged secret is refused, a clean change passes.
    let bin_dir = assert_cmd::cargo::cargo_bin("sluice").parent().unwrap().to_owned();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let commit = |message: &str| {
        Command::new("git")
            .args([
                "-c",
                "user.name=T",
                "-c",
                "user.email=t@example.com",
                "-c",
                "commit.gpgsign=false",
                "commit",
                "-q",
                "-m",
                message,
            ])
            .current_dir(repo)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    git(repo, &["add", "app/main.py"]);
    let clean = commit("clean");
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stderr));
    write(&repo.join("app/config.py"), &format!("TOKEN = \"{}\"\n", github_token("Xk29dLq8Zp3Rw7Nv4Bt6Ym1Hc5Jg0s")));
    git(repo, &["add", "app/config.py"]);
    let blocked = commit("leak");
    assert!(!blocked.status.success(), "the hook refuses a staged secret");
    let printed = format!("{}{}", String::from_utf8_lossy(&blocked.stdout), String::from_utf8_lossy(&blocked.stderr));
    assert!(!printed.contains(&github_token("Xk29dLq8Zp3Rw7Nv4Bt6Ym1Hc5Jg0s")), "the hook never prints the secret");
}

#[test]
fn a_typo_in_a_stage_option_fails_at_load_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("app.py"), "x = 1\n").unwrap();
    let cases = [
        (
            "[run]\nstages = [\"secrets\"]\n\n[stages.secrets]\nalow_paths = [\"tests/**\"]\n",
            "sluice.toml:5",
            "alow_paths",
        ),
        ("[stages.sast]\nexclude_paths = []\nexclude_path = [\"x\"]\n", "sluice.toml:3", "exclude_path"),
        ("[stages.deps]\nmax_db_age_days = \"a week\"\n", "sluice.toml:2", "max_db_age_days"),
        (
            "[[stages.secrets.rules]]\nid = \"acme-token\"\nname = \"Acme\"\nregx = \"acme_[a-z0-9]{32}\"\n",
            "sluice.toml:4",
            "regx",
        ),
    ];
    for (toml, place, key) in cases {
        std::fs::write(root.join("sluice.toml"), toml).unwrap();
        let out = sluice().arg("run").arg(root).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{toml}\n{stderr}");
        assert!(stderr.contains(place) && stderr.contains(key), "names the file, line and key: {stderr}");
        assert!(!stderr.contains("started"), "no stage ran: {stderr}");
        assert!(!root.join("sluice-out/results.sarif").exists(), "nothing written");
        // `sluice config show` refuses it the same way.
        let show = sluice().args(["config", "show"]).current_dir(root).output().unwrap();
        assert_ne!(show.status.code(), Some(0), "config show: {}", String::from_utf8_lossy(&show.stderr));
    }
}
