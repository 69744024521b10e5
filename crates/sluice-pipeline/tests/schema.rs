//! `docs/sluice.schema.json` is the schema generated from the config types, and the
//! configurations this repository ships validate against it (with check-jsonschema, from
//! scripts/install-test-tools.sh), while a typo does not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn schema_path() -> PathBuf {
    Path::new(REPO).join("docs/sluice.schema.json")
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let generated = sluice_pipeline::sluice_toml_schema();
    if std::env::var_os("SLUICE_UPDATE_SCHEMA").is_some_and(|v| v == "1") {
        std::fs::write(schema_path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(schema_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/sluice.schema.json is not the schema of the config types; regenerate it with \
         SLUICE_UPDATE_SCHEMA=1 cargo test -p sluice-pipeline --test schema"
    );
}

/// check-jsonschema, or `None` (and a note) when it is not installed; CI sets
/// `SLUICE_REQUIRE_TOOLS=1` so that a missing tool fails instead.
fn check_jsonschema() -> Option<PathBuf> {
    let tools = std::env::var_os("SLUICE_TOOLS").map_or_else(|| PathBuf::from("/tmp/sluice-tools"), PathBuf::from);
    let path = tools.join("venv/bin/check-jsonschema");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("SLUICE_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
        "check-jsonschema is required (SLUICE_REQUIRE_TOOLS=1): run scripts/install-test-tools.sh"
    );
    eprintln!("note: check-jsonschema not installed; skipping the sluice.toml schema check");
    None
}

fn validate(check: &Path, file: &Path) -> (bool, String) {
    let out = Command::new(check).arg("--schemafile").arg(schema_path()).arg(file).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The configurations in this repository, and a template with everything a template may say.
#[test]
fn shipped_configurations_validate_and_a_typo_does_not() {
    let Some(check) = check_jsonschema() else { return };
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.toml");
    let head = r#"extends = { git = "https://example.com/org/templates.git", rev = "v1", path = "base.toml" }

[template]
name = "org-base"
required_stages = ["secrets", "deps"]
locked = ["policy.profile"]
"#;
    let body = r#"
[run]
out_dir = "out"

[stages.secrets]
allow_paths = ["fixtures/**"]
timeout = "5m"

[[stages.secrets.rules]]
id = "acme-key"
name = "Acme key"
severity = 8.0
keywords = ["acme_"]
regex = 'acme_[a-z0-9]{32}'

[stages.sast]
languages = ["python"]
changed_lines = true

[stages.deps]
max_db_age_days = 3

[stages.container]
images = ["image.tar"]
allowed_registries = ["registry.example.com"]

[stages.bandit]
command = "bandit -r . -f sarif -q"
files = ["*.py"]
timeout = 120
fills = "sast"

[policy]
profile = "constrained"

[metrics]
sla = { critical = 7 }

[server]
url = "https://sluice.example.com"
"#;
    std::fs::write(&template, format!("{head}{body}")).unwrap();
    // What follows the template keys loads as sluice reads it: the schema is checked against
    // the truth, not against itself.
    sluice_pipeline::Config::parse(body, &template).unwrap();
    for file in
        [Path::new(REPO).join("sluice.toml"), Path::new(REPO).join("examples/vulnerable-app/sluice.toml"), template]
    {
        let (ok, out) = validate(&check, &file);
        assert!(ok, "{}: {out}", file.display());
    }
    for (name, text) in [
        ("typo.toml", "[stages.secrets]\nalow_paths = [\"x\"]\n"),
        ("type.toml", "[stages.sast]\nchanged_lines = \"yes\"\n"),
        ("top.toml", "[runs]\nout_dir = \"x\"\n"),
        ("rule.toml", "[[stages.secrets.rules]]\nid = \"a\"\nname = \"a\"\nseverity = 1.0\nregx = \"x\"\n"),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let (ok, out) = validate(&check, &file);
        assert!(!ok, "{name} should not validate: {out}");
        assert!(sluice_pipeline::Config::parse(text, &file).is_err(), "{name} loads");
    }
}
