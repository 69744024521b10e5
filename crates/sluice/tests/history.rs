//! `sluice scan secrets --history` on a real git repository built in the test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

fn commit_file(root: &std::path::Path, path: &str, body: &str, message: &str) {
    std::fs::write(root.join(path), body).unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", message]);
}

fn head(root: &std::path::Path) -> String {
    let out = std::process::Command::new("git").args(["rev-parse", "HEAD"]).current_dir(root).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn history_finds_removed_secrets_once_with_the_commit_that_introduced_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    commit_file(root, "README.md", "# project\n", "start");
    let leaked = github_token("Hq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    commit_file(root, "deploy.yml", &format!("token: {leaked}\n"), "add deploy config");
    let introduced = head(root);
    // The same secret stays in later versions of the file, moved down: one finding, not two.
    commit_file(root, "deploy.yml", &format!("# deploy\nregion: eu\ntoken: {leaked}\n"), "edit deploy config");
    // Then it is removed: the tree is clean, the history is not.
    commit_file(root, "deploy.yml", "# deploy\nregion: eu\ntoken: ${DEPLOY_TOKEN}\n", "remove the token");
    // A secret on another branch is reachable from a ref too.
    git(root, &["checkout", "-qb", "experiment"]);
    let other = github_token("Kq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    commit_file(root, "exp.env", &format!("GH={other}\n"), "experiment");
    git(root, &["checkout", "-q", "main"]);

    let tree = sluice().args(["scan", "secrets"]).arg(root).assert().success().get_output().stdout.clone();
    assert_eq!(results(&parse(&tree)).len(), 0, "the working tree is clean");

    let out = sluice().args(["scan", "secrets", "--history"]).arg(root).assert().success().get_output().stdout.clone();
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(!text.contains(&leaked[4..]) && !text.contains(&other[4..]), "no secret in the output");
    let log = parse(&out);
    let found = results(&log);
    assert_eq!(found.len(), 2, "{found:#?}");
    let deploy = found
        .iter()
        .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "deploy.yml")
        .unwrap();
    assert_eq!(deploy["properties"]["sluice/commit"], introduced.as_str());
    assert_eq!(deploy["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    assert!(found.iter().any(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "exp.env"));
    let props = &log["runs"][0]["invocations"][0]["properties"];
    assert_eq!(props["sluice/commits-scanned"], 5);
    assert_eq!(props["sluice/blobs-scanned"], 5, "each unique blob once: {props}");

    let file = root.join("history.sarif");
    std::fs::write(&file, &out).unwrap();
    assert_valid(&file);
}

#[test]
fn history_outside_a_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    sluice()
        .args(["scan", "secrets", "--history"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a git repository"));
}

#[test]
fn staged_mode_scans_the_index_not_the_working_copy() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    commit_file(root, "README.md", "# project\n", "start");
    let token = github_token("Sq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    std::fs::write(root.join("ci.yml"), format!("token: {token}\n")).unwrap();
    git(root, &["add", "ci.yml"]);
    // Edited out of the working copy but still staged: the commit would carry it.
    std::fs::write(root.join("ci.yml"), "token: ${CI_TOKEN}\n").unwrap();
    // Not staged at all: not part of the commit.
    std::fs::write(root.join("notes.yml"), format!("token: {}\n", github_token("Tq3vT9LmR2wXk8PbN5cY7dHj4FsA1e")))
        .unwrap();

    let out = sluice().args(["scan", "secrets", "--staged"]).arg(root).assert().success().get_output().stdout.clone();
    let found = results(&parse(&out));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "ci.yml");
    let out =
        sluice().args(["run", "--staged", "--format", "json"]).arg(root).assert().success().get_output().stdout.clone();
    assert_eq!(parse(&out)["findings"].as_array().unwrap().len(), 1);
}
