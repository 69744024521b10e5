//! `sluice gate`, `sluice plan`, `sluice policy test|input|eval`, `sluice attest`,
//! `sluice verify` and `sluice report --format ssdf`: files, git and printing around
//! `sluice-policy`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::Value as Json;
use sluice_policy::input::{self, Sbom};
use sluice_policy::policy::{check_input_fields, Policy};
use sluice_policy::{attest, EvalOptions, Facts, Outcome, PolicyRef, RunFacts, TestStatus, Timestamp, Verdict};
use sluice_repo::Git;
use sluice_report::escape::terminal;
use sluice_sarif::read_log;
use sluice_sarif::sarif::Sarif;

use crate::exit;

/// Which policy decides.
#[derive(Debug, Args, Clone, Default)]
pub struct PolicyChoice {
    /// Rego policy files or directories of them (conftest conventions: `deny`, `violation` and
    /// `warn` rules, in any package).
    #[arg(long = "policy", value_name = "FILE", conflicts_with = "profile")]
    pub policy: Vec<PathBuf>,
    /// A built-in profile: `constrained` (security first) or `velocity` (block only the new
    /// and critical).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Stop evaluating the policy after this long; the gate then fails closed (exit 2).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub time_limit: Duration,
}

impl PolicyChoice {
    fn load(&self, with_tests: bool) -> Result<Option<Policy>> {
        if !self.policy.is_empty() {
            return Ok(Some(Policy::from_paths(&self.policy)?));
        }
        match &self.profile {
            Some(name) => Ok(Some(Policy::profile(name, with_tests)?)),
            None => Ok(None),
        }
    }
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// A SARIF file; `-` reads stdin. Default: stdin when piped, else sluice-out/results.sarif.
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub choice: PolicyChoice,
    /// The repository (for detection, git facts and sluice.toml).
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// An SBOM (CycloneDX or SPDX JSON) to summarize in the input. Default: one in sluice-out/.
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,
    /// The evaluation time (RFC 3339), for reproducing a past verdict. Default: now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Findings listed under each reason on stderr.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_findings: usize,
    /// The largest log the gate reads (`512MiB`, `1GiB`, bytes); also SLUICE_GATE_MAX_INPUT.
    /// Default 256 MiB.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_input: Option<u64>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The repository.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    #[command(flatten)]
    pub choice: PolicyChoice,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Run a policy's Rego unit tests (`test_` rules), like `opa test`; no argument tests the built-in profiles.
    Test(PolicyTestArgs),
    /// Print the policy input document built from a SARIF log (what `input` is in a policy).
    Input(PolicyInputArgs),
    /// Evaluate a policy over any JSON document, like `conftest test FILE.json`.
    Eval(PolicyEvalArgs),
}

#[derive(Debug, Args)]
pub struct PolicyTestArgs {
    /// Policy files or directories (with their `_test.rego` files).
    pub paths: Vec<PathBuf>,
    /// Test a built-in profile instead.
    #[arg(long, value_name = "NAME", conflicts_with = "paths")]
    pub profile: Option<String>,
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub time_limit: Duration,
}

#[derive(Debug, Args)]
pub struct PolicyInputArgs {
    /// A SARIF file; `-` reads stdin. Default: stdin when piped, else sluice-out/results.sarif.
    pub file: Option<PathBuf>,
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// The largest log read, as for `sluice gate`.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_input: Option<u64>,
}

#[derive(Debug, Args)]
pub struct PolicyEvalArgs {
    /// JSON documents to evaluate, each as `input`.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub choice: PolicyChoice,
}

#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The SARIF log the attestation covers.
    #[arg(long, value_name = "FILE", default_value = "sluice-out/results.sarif")]
    pub sarif: PathBuf,
    /// The repository (the subject is its HEAD commit).
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Sign with this ed25519 private key (PKCS#8 PEM) and print a DSSE envelope.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// An SBOM to record. Default: one in the SARIF's directory.
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,
    /// Evaluate this policy when the log was not gated (a gated log's verdict is used as is).
    #[command(flatten)]
    pub choice: PolicyChoice,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A DSSE envelope written by `sluice attest --key`, or one the server signed (the decision
    /// log of `GET /api/v1/decisions/export`, a decision set).
    pub file: PathBuf,
    /// The ed25519 public key (SPKI PEM).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Where the recorded SARIF and SBOM paths are resolved, to check their digests.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
}

// ---------------------------------------------------------------------------------------------
// Inputs and facts

/// The default of `--max-input`: a log the gate holds in about 3x its size.
const DEFAULT_MAX_INPUT: u64 = 256 << 20;
const MAX_INPUT_ENV: &str = "SLUICE_GATE_MAX_INPUT";

/// `--max-input`, else SLUICE_GATE_MAX_INPUT, else the default.
fn max_input(given: Option<u64>) -> Result<u64> {
    if let Some(n) = given {
        return Ok(n);
    }
    match std::env::var(MAX_INPUT_ENV) {
        Ok(text) => parse_size(&text).map_err(|e| anyhow::anyhow!("{MAX_INPUT_ENV}: {e}")),
        Err(_) => Ok(DEFAULT_MAX_INPUT),
    }
}

/// `123`, `64KiB`, `512MiB`, `1GiB` (also `K`, `M`, `G`, `KB`, `MB`, `GB`: powers of 1024).
fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("`{text}`: not a size; write e.g. 512MiB or 1GiB")),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}`: not a size; write e.g. 512MiB or 1GiB"))
}

fn show_size(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1 << 20))
    } else {
        format!("{n} bytes")
    }
}

fn over_limit(origin: &str, size: u64, limit: u64) -> anyhow::Error {
    anyhow::anyhow!(
        "{origin}: {} is over the gate's input limit of {}; raise it with --max-input SIZE (or {MAX_INPUT_ENV}), e.g. --max-input {}MiB — the gate needs about 3x the log's size in memory",
        if size > limit { show_size(size) } else { format!("more than {}", show_size(limit)) },
        show_size(limit),
        (size.max(limit) >> 20) * 2 + 1,
    )
}

/// Reads at most `limit` bytes of `reader`; more is an error naming the limit.
fn read_capped(reader: impl std::io::Read, origin: &str, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut bytes).with_context(|| format!("{origin}: cannot read"))?;
    if bytes.len() as u64 > limit {
        return Err(over_limit(origin, bytes.len() as u64, limit));
    }
    Ok(bytes)
}

fn read_file_capped(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let origin = path.display().to_string();
    let file = std::fs::File::open(path).with_context(|| format!("{origin}: cannot read"))?;
    if let Ok(meta) = file.metadata() {
        if meta.is_file() && meta.len() > limit {
            return Err(over_limit(&origin, meta.len(), limit));
        }
    }
    read_capped(file, &origin, limit)
}

/// The log `gate`, `report`, `triage` and `policy input` read: a file, `-`/piped stdin,
/// else `<root>/sluice-out/results.sarif` (the last run's); at most `limit` bytes of it.
/// `command` names the command in the advice an empty stdin gets.
pub(crate) fn read_sarif_bytes(
    file: Option<&Path>,
    root: &Path,
    command: &str,
    limit: u64,
) -> Result<(Vec<u8>, String)> {
    use crate::commands::Stdin;
    let (bytes, origin) = match file {
        Some(p) if p != Path::new("-") => (read_file_capped(p, limit)?, p.display().to_string()),
        Some(_) => crate::commands::read_stdin()?,
        None => match crate::commands::stdin_input()? {
            Stdin::Bytes(bytes) => (bytes, "stdin".to_owned()),
            Stdin::Empty => bail!(
                "{}; for the last run's results name them: `sluice {command} sluice-out/results.sarif` (CI runners such as GitHub Actions give each step an empty stdin)",
                crate::commands::EMPTY_STDIN
            ),
            Stdin::NotPiped => {
                let default = root.join("sluice-out/results.sarif");
                if !default.exists() {
                    bail!(
                        "{}: cannot read; give a SARIF file, pipe one in, or run `sluice run` first",
                        default.display()
                    );
                }
                eprintln!("reading {} (no SARIF file given, none piped in)", default.display());
                (read_file_capped(&default, limit)?, default.display().to_string())
            }
        },
    };
    if bytes.len() as u64 > limit {
        return Err(over_limit(&origin, bytes.len() as u64, limit));
    }
    Ok((bytes, origin))
}

fn branch(root: &Path) -> Option<String> {
    Git::new(root).value(&["symbolic-ref", "--short", "-q", "HEAD"]).or_else(|| {
        // Detached checkouts in CI: the systems' own variables.
        ["GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "BUILDKITE_BRANCH"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
    })
}

/// An SBOM: the one given, else the first `*.cdx.json` / `*.spdx.json` / `sbom*.json` in `dir`.
fn find_sbom(given: Option<&Path>, dir: &Path) -> Result<Option<(PathBuf, Vec<u8>)>> {
    if let Some(p) = given {
        let bytes = std::fs::read(p).with_context(|| format!("{}: cannot read the SBOM", p.display()))?;
        return Ok(Some((p.to_owned(), bytes)));
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(None) };
    let mut candidates: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.ends_with(".cdx.json")
                || name.ends_with(".spdx.json")
                || (name.starts_with("sbom") && name.ends_with(".json"))
        })
        .collect();
    candidates.sort();
    for p in candidates {
        if let Ok(bytes) = std::fs::read(&p) {
            return Ok(Some((p, bytes)));
        }
    }
    Ok(None)
}

fn sbom_facts(path: &Path, bytes: &[u8]) -> Result<Sbom> {
    let text = String::from_utf8_lossy(bytes);
    input::sbom_summary(&path.display().to_string(), &text)
        .with_context(|| format!("{}: not a CycloneDX or SPDX JSON SBOM", path.display()))
}

fn now_of(text: Option<&str>) -> Result<Timestamp> {
    match text {
        Some(t) => t.parse().with_context(|| format!("--now {t}: not an RFC 3339 time (e.g. 2026-01-31T12:00:00Z)")),
        None => Ok(Timestamp::now()),
    }
}

/// Run facts, detection and configured stages for `root`.
fn facts(root: &Path, now: Timestamp, sbom: Option<Sbom>) -> Result<Facts> {
    let config = sluice_pipeline::Config::load(root)?;
    let mut configured: Vec<String> = config.stages.iter().map(|s| s.name.clone()).collect();
    configured.sort();
    let files = sluice_pipeline::list_files(root);
    Ok(Facts {
        run: RunFacts {
            commit: Git::new(root).value(&["rev-parse", "HEAD"]),
            branch: branch(root),
            now: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            configured_stages: configured,
            server: config.server.url.clone(),
        },
        detected: sluice_policy::detect(files.iter().map(String::as_str)),
        sbom,
    })
}

/// The facts of the input besides the log: git, detection, configured stages, the SBOM.
fn input_facts(root: &Path, sbom: Option<&Path>, origin: &str, now: Timestamp) -> Result<Facts> {
    let sbom_dir =
        Path::new(origin).parent().filter(|p| p.is_dir()).map_or_else(|| root.join("sluice-out"), Path::to_owned);
    let sbom = match find_sbom(sbom, &sbom_dir)? {
        Some((p, bytes)) => match sbom_facts(&p, &bytes) {
            Ok(s) => Some(s),
            Err(e) if sbom.is_some() => return Err(e),
            Err(_) => None,
        },
        None => None,
    };
    facts(root, now, sbom)
}

fn policy_ref(policy: &Policy) -> PolicyRef {
    PolicyRef {
        name: policy.name.clone(),
        digest: policy.digest(),
        files: policy.sources.iter().map(|s| s.path.clone()).collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// sluice gate

pub fn gate(args: GateArgs) -> Result<u8> {
    let root =
        args.root.canonicalize().with_context(|| format!("{}: cannot open the repository", args.root.display()))?;
    let (bytes, origin) = read_sarif_bytes(args.file.as_deref(), &root, "gate", max_input(args.max_input)?)?;
    // Run by run: the output is serialized and the input's findings taken from each run, then
    // the run is dropped, so the whole typed log is never held (docs/benchmarks.md, policy).
    let (output, builder) = GatedOutput::read(&bytes, &origin, true)?;
    drop(bytes);
    let output = output.context("internal error: the gated log was not kept")?;
    let now = now_of(args.now.as_deref())?;
    let policy = match args.choice.load(false) {
        Ok(Some(policy)) => policy,
        Ok(None) => bail!("choose a policy: --profile constrained, --profile velocity, or --policy FILE.rego"),
        Err(e) => {
            // A policy that cannot be read or parsed still leaves a failed gate run behind.
            let files = args.choice.policy.iter().map(|p| p.display().to_string()).collect();
            let pref =
                PolicyRef { name: args.choice.profile.clone().unwrap_or_default(), digest: String::new(), files };
            let _ = output.write(&Outcome::Failed(&format!("{e:#}")), &pref);
            eprintln!("gate: error (fail closed): the policy could not be loaded, so nothing is allowed");
            return Err(e);
        }
    };
    let pref = policy_ref(&policy);
    let input = builder.finish(input_facts(&root, args.sbom.as_deref(), &origin, now)?);
    let decided = (move || -> Result<Verdict, sluice_policy::PolicyError> {
        if !policy.builtin {
            check_input_fields(&policy, sluice_policy::INPUT_VERSION)?;
        }
        sluice_policy::decide_input(&policy, input, &EvalOptions::new(args.choice.time_limit, now))
    })();
    match decided {
        Ok(verdict) => {
            output.write(&Outcome::Decided(&verdict), &pref)?;
            eprint!("{}", verdict.render(&pref.name, &pref.digest, args.max_findings));
            Ok(if verdict.allowed() { exit::OK } else { exit::REFUSED })
        }
        Err(err) => {
            let _ = output.write(&Outcome::Failed(&err.to_string()), &pref);
            eprintln!("gate: error (fail closed): the policy could not decide, so nothing is allowed");
            Err(anyhow::Error::new(err))
        }
    }
}

/// The gated log, serialized before the verdict is known: the log's runs without any earlier
/// gate run, spooled to an anonymous temporary file (not held in memory while the policy
/// runs). [`GatedOutput::write`] adds the gate run, giving exactly the bytes `record` then
/// `write_log` would.
struct GatedOutput {
    /// The compact log without its closing [`GatedOutput::TAIL`].
    spool: std::fs::File,
    runs: usize,
}

fn is_gate_run(run: &sluice_sarif::sarif::Run) -> bool {
    run.automation_details.as_ref().and_then(|d| d.id.as_deref()) == Some(sluice_sarif::keys::GATE_CATEGORY)
}

fn spool_file() -> Result<std::fs::File> {
    tempfile::tempfile()
        .context("cannot create a temporary file for the gated log (is the temp directory writable and not full?)")
}

impl GatedOutput {
    /// How a compact log ends: the runs array, then the version `read_log` checked.
    const TAIL: &'static [u8] = sluice_policy::stream::TAIL;

    /// Reads a log result by result into its output and the policy input's findings
    /// (`sluice_policy::stream`). A log that does not read this way is read whole by
    /// `read_log`, for its precise error (or, should it read there, the same result the slow
    /// way). Without `output`, only the findings are kept.
    fn read(bytes: &[u8], origin: &str, output: bool) -> Result<(Option<GatedOutput>, input::Builder)> {
        let spooled = if output {
            let mut spool = std::io::BufWriter::new(spool_file()?);
            sluice_policy::stream::read(bytes, &mut spool).map(|s| (Some(spool), s))
        } else {
            sluice_policy::stream::read(bytes, &mut std::io::sink()).map(|s| (None, s))
        };
        if let Some((spool, streamed)) = spooled {
            let out = match spool {
                Some(spool) => {
                    let file = spool.into_inner().map_err(|e| e.into_error()).context("cannot write the gated log")?;
                    Some(GatedOutput { spool: file, runs: streamed.runs })
                }
                None => None,
            };
            return Ok((out, streamed.builder));
        }
        let mut log = read_log(bytes, origin)?;
        log.runs.retain(|r| !is_gate_run(r));
        let mut builder = input::Builder::default();
        for run in &log.runs {
            builder.add_run(run);
        }
        if !output {
            return Ok((None, builder));
        }
        let runs = log.runs.len();
        let bytes = serde_json::to_vec(&log).context("cannot serialize the gated log")?;
        let head = bytes.strip_suffix(Self::TAIL).context("internal error: the log does not end with its runs")?;
        let mut spool = spool_file()?;
        spool.write_all(head).context("cannot write the gated log")?;
        Ok((Some(GatedOutput { spool, runs }), builder))
    }

    fn write(mut self, outcome: &Outcome<'_>, pref: &PolicyRef) -> Result<()> {
        use std::io::Seek;
        let mut gate = sluice_sarif::empty_log(Vec::new());
        sluice_policy::record(&mut gate, outcome, pref, crate::VERSION);
        let run = gate.runs.pop().context("internal error: no gate run was recorded")?;
        let run = serde_json::to_vec(&run).context("cannot serialize the gate run")?;
        self.spool.seek(std::io::SeekFrom::Start(0)).context("cannot read back the gated log")?;
        let mut out = crate::stdout();
        std::io::copy(&mut self.spool, &mut out)?;
        if self.runs > 0 {
            out.write_all(b",")?;
        }
        out.write_all(&run)?;
        out.write_all(Self::TAIL)?;
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// sluice plan

pub fn plan(args: PlanArgs) -> Result<u8> {
    let root =
        args.path.canonicalize().with_context(|| format!("{}: cannot open the repository", args.path.display()))?;
    // The plan shows what a policy requires; `constrained` requires every applicable stage.
    let choice = if args.choice.policy.is_empty() && args.choice.profile.is_none() {
        PolicyChoice { profile: Some("constrained".into()), ..args.choice.clone() }
    } else {
        args.choice.clone()
    };
    let policy = choice.load(false)?.context("choose a policy: --profile NAME or --policy FILE.rego")?;
    let facts = facts(&root, Timestamp::now(), None)?;
    let input = input::build(&sluice_sarif::empty_log(Vec::new()), facts.clone());
    let json = serde_json::to_value(&input)?;
    let required = sluice_policy::eval::collect(
        &policy,
        "required_stages",
        json,
        &EvalOptions::new(choice.time_limit, Timestamp::now()),
    )?;
    let mut rows: Vec<PlanRow> = Vec::new();
    for item in required {
        let stage = item.get("stage").and_then(Json::as_str).unwrap_or_default().to_owned();
        if stage.is_empty() || rows.iter().any(|r| r.stage == stage) {
            continue;
        }
        let configured = facts.run.configured_stages.contains(&stage);
        rows.push(PlanRow {
            because: item.get("because").and_then(Json::as_str).unwrap_or_default().to_owned(),
            ssdf: item
                .get("ssdf")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect(),
            configured,
            stage,
        });
    }
    // Pipeline order for the stages sluice knows, then by name.
    let rank = |s: &str| ["secrets", "sast", "deps", "container"].iter().position(|k| *k == s).unwrap_or(usize::MAX);
    rows.sort_by(|a, b| (rank(&a.stage), &a.stage).cmp(&(rank(&b.stage), &b.stage)));
    let extra: Vec<&String> =
        facts.run.configured_stages.iter().filter(|s| !rows.iter().any(|r| &&r.stage == s)).collect();
    let missing = rows.iter().filter(|r| !r.configured).count();
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = PlanDoc {
            policy: policy_ref(&policy),
            detected: &facts.detected,
            required: &rows,
            configured_not_required: extra,
            missing: rows.iter().filter(|r| !r.configured).map(|r| &r.stage).collect(),
        };
        // Through a `Value`: keys sorted at every level, as this document has always been written.
        writeln!(out, "{}", serde_json::to_string_pretty(&serde_json::to_value(&doc)?)?)?;
        return Ok(exit::OK);
    }
    let d = &facts.detected;
    let list = |s: &std::collections::BTreeSet<String>| {
        if s.is_empty() {
            "none".to_owned()
        } else {
            s.iter().cloned().collect::<Vec<_>>().join(", ")
        }
    };
    writeln!(out, "detected: languages {}; ecosystems {}", list(&d.languages), list(&d.ecosystems))?;
    writeln!(out, "          lockfiles {}; Dockerfiles {}", list(&d.lockfiles), list(&d.dockerfiles))?;
    writeln!(out, "policy:   {} ({})\n", policy.name, policy.digest())?;
    let w = rows.iter().map(|r| r.stage.len()).max().unwrap_or(5).max(5);
    let wb = rows.iter().map(|r| r.because.len()).max().unwrap_or(8).max(8);
    writeln!(out, "{:<w$}  {:<wb$}  {:<10}  ssdf", "stage", "required because", "configured")?;
    for r in &rows {
        let status = if r.configured { "yes" } else { "MISSING" };
        writeln!(out, "{:<w$}  {:<wb$}  {:<10}  {}", r.stage, r.because, status, r.ssdf.join(", "))?;
    }
    if !extra.is_empty() {
        writeln!(
            out,
            "\nconfigured, not required by the policy: {}",
            extra.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        )?;
    }
    if missing > 0 {
        writeln!(
            out,
            "\n{missing} required stage(s) missing: the gate denies until they run (configure them in sluice.toml)"
        )?;
    } else {
        writeln!(out, "\nevery required stage is configured")?;
    }
    Ok(exit::OK)
}

/// `sluice plan --json`.
#[derive(serde::Serialize)]
struct PlanDoc<'a, D: serde::Serialize> {
    policy: PolicyRef,
    detected: &'a D,
    required: &'a [PlanRow],
    configured_not_required: Vec<&'a String>,
    missing: Vec<&'a String>,
}

#[derive(serde::Serialize)]
struct PlanRow {
    stage: String,
    because: String,
    ssdf: Vec<String>,
    configured: bool,
}

// ---------------------------------------------------------------------------------------------
// sluice policy test | input | eval

pub fn policy(args: PolicyArgs) -> Result<u8> {
    match args.command {
        PolicyCommand::Test(a) => policy_test(a),
        PolicyCommand::Input(a) => policy_input(a),
        PolicyCommand::Eval(a) => policy_eval(a),
    }
}

fn policy_test(args: PolicyTestArgs) -> Result<u8> {
    let policies: Vec<Policy> = if !args.paths.is_empty() {
        vec![Policy::from_paths(&args.paths)?]
    } else if let Some(name) = &args.profile {
        vec![Policy::profile(name, true)?]
    } else {
        vec![Policy::builtin_all(true)]
    };
    let opts = EvalOptions::new(args.time_limit, Timestamp::now());
    let (mut pass, mut total) = (0, 0);
    let mut out = std::io::stdout().lock();
    for policy in &policies {
        let outcomes = sluice_policy::run_tests(policy, &opts)?;
        if outcomes.is_empty() {
            bail!("{}: no tests found (Rego unit tests are rules named `test_…`)", policy.name);
        }
        for o in outcomes {
            total += 1;
            match &o.status {
                TestStatus::Pass => {
                    pass += 1;
                    writeln!(out, "PASS {} ({}:{})", o.name, o.file, o.line)?;
                }
                TestStatus::Fail => writeln!(out, "FAIL {} ({}:{})", o.name, o.file, o.line)?,
                TestStatus::Error(e) => {
                    writeln!(out, "ERROR {} ({}:{})\n  {}", o.name, o.file, o.line, e.replace('\n', "\n  "))?
                }
            }
        }
    }
    writeln!(out, "{}\nPASS: {pass}/{total}", "-".repeat(60))?;
    if pass < total {
        writeln!(out, "FAIL: {}/{total}", total - pass)?;
        return Ok(exit::REFUSED);
    }
    Ok(exit::OK)
}

fn policy_input(args: PolicyInputArgs) -> Result<u8> {
    let root =
        args.root.canonicalize().with_context(|| format!("{}: cannot open the repository", args.root.display()))?;
    let (bytes, origin) = read_sarif_bytes(args.file.as_deref(), &root, "policy input", max_input(args.max_input)?)?;
    // As the gate reads it: result by result (the output part is not needed here).
    let (_, builder) = GatedOutput::read(&bytes, &origin, false)?;
    drop(bytes);
    let input = builder.finish(input_facts(&root, args.sbom.as_deref(), &origin, now_of(args.now.as_deref())?)?);
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &input)?;
    writeln!(out)?;
    Ok(exit::OK)
}

/// conftest's output shape: `FAIL - file - namespace - message`, then a count line.
fn policy_eval(args: PolicyEvalArgs) -> Result<u8> {
    let policy = args.choice.load(false)?.context("choose a policy: --policy FILE.rego or --profile NAME")?;
    let opts = EvalOptions::new(args.choice.time_limit, Timestamp::now());
    let mut out = std::io::stdout().lock();
    let (mut failures, mut warnings) = (0, 0);
    for path in &args.inputs {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let doc: Json = serde_json::from_str(&text)
            .with_context(|| format!("{}: not JSON; give a JSON document", path.display()))?;
        let verdict = sluice_policy::decide(&policy, doc, &opts)?;
        let namespace = |rule: &str| {
            rule.trim_start_matches("data.").rsplit_once('.').map_or(String::new(), |(ns, _)| ns.to_owned())
        };
        for (label, reasons) in [("WARN", &verdict.warnings), ("FAIL", &verdict.denials)] {
            for r in reasons {
                writeln!(out, "{label} - {} - {} - {}", path.display(), namespace(&r.rule), terminal(&r.msg))?;
            }
        }
        failures += verdict.denials.len();
        warnings += verdict.warnings.len();
    }
    writeln!(out, "\n{} input(s), {warnings} warning(s), {failures} failure(s)", args.inputs.len())?;
    Ok(if failures > 0 { exit::REFUSED } else { exit::OK })
}

// ---------------------------------------------------------------------------------------------
// sluice attest | verify

pub fn attest(args: AttestArgs) -> Result<u8> {
    let root =
        args.root.canonicalize().with_context(|| format!("{}: cannot open the repository", args.root.display()))?;
    let sarif_path = if args.sarif.is_absolute() { args.sarif.clone() } else { root.join(&args.sarif) };
    let bytes = std::fs::read(&sarif_path).with_context(|| {
        format!("{}: cannot read; run `sluice run` first or give --sarif FILE", sarif_path.display())
    })?;
    let log = read_log(&bytes, &sarif_path.display().to_string())?;
    let commit = Git::new(&root).value(&["rev-parse", "HEAD"]).with_context(|| {
        format!("{}: not a git repository with a commit; the attestation's subject is the commit", root.display())
    })?;
    let repository = Git::new(&root)
        .value(&["remote", "get-url", "origin"])
        .unwrap_or_else(|| root.file_name().map_or_else(|| ".".to_owned(), |n| n.to_string_lossy().into_owned()));
    let now = Timestamp::now();
    let sbom_dir = sarif_path.parent().map_or_else(|| root.clone(), Path::to_owned);
    let sbom = find_sbom(args.sbom.as_deref(), &sbom_dir)?;
    let rel = |p: &Path| p.strip_prefix(&root).unwrap_or(p).display().to_string();

    // The verdict: the one recorded by `sluice gate`, else evaluated now, else "not evaluated".
    let (verdict, policy, denials, warnings) = match (sluice_policy::recorded(&log), args.choice.load(false)?) {
        (Some((verdict, policy)), _) => {
            let (d, w) = recorded_reasons(&log);
            (verdict, policy, d, w)
        }
        (None, Some(policy)) => {
            let sbom_facts = sbom.as_ref().and_then(|(p, b)| sbom_facts(p, b).ok());
            let input = input::build(&log, facts(&root, now, sbom_facts)?);
            let v = sluice_policy::decide(
                &policy,
                serde_json::to_value(&input)?,
                &EvalOptions::new(args.choice.time_limit, now),
            )?;
            let label = |r: &sluice_policy::Reason| {
                r.id.clone().map_or_else(|| r.msg.clone(), |id| format!("[{id}] {}", r.msg))
            };
            (
                v.decision.clone(),
                Some(policy_ref(&policy)),
                v.denials.iter().map(label).collect(),
                v.warnings.iter().map(label).collect(),
            )
        }
        (None, None) => {
            eprintln!("note: the log was not gated and no --policy/--profile was given: the verdict is recorded as `not evaluated`");
            ("not evaluated".to_owned(), None, Vec::new(), Vec::new())
        }
    };
    let input = input::build(&log, Facts::default());
    let predicate = attest::Predicate {
        verdict,
        policy,
        denials,
        warnings,
        stages: input.stages.iter().map(attest::StageEvidence::from).collect(),
        sarif: attest::Artifact::of(&rel(&sarif_path), &bytes),
        sbom: sbom.as_ref().map(|(p, b)| attest::Artifact::of(&rel(p), b)),
        branch: branch(&root),
        producer: attest::Producer {
            name: "sluice".into(),
            version: crate::VERSION.into(),
            policy_input_version: sluice_policy::INPUT_VERSION,
        },
    };
    let statement = attest::statement(&repository, &commit, &predicate);
    let doc = match &args.key {
        Some(key_path) => {
            let pem = std::fs::read_to_string(key_path)
                .with_context(|| format!("{}: cannot read the key", key_path.display()))?;
            let key = attest::signing_key(&key_path.display().to_string(), &pem)?;
            attest::sign(&statement, &key)
        }
        None => statement,
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    Ok(exit::OK)
}

fn recorded_reasons(log: &Sarif) -> (Vec<String>, Vec<String>) {
    let run = log.runs.iter().find(|r| {
        r.automation_details.as_ref().and_then(|d| d.id.as_deref()) == Some(sluice_sarif::keys::GATE_CATEGORY)
    });
    let props = run.and_then(|r| r.properties.as_ref()).map(|p| &p.additional_properties);
    let list = |key: &str| -> Vec<String> {
        props
            .and_then(|p| p.get(key))
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|r| {
                let msg = r.get("msg").and_then(Json::as_str).unwrap_or_default();
                match r.get("id").and_then(Json::as_str) {
                    Some(id) => format!("[{id}] {msg}"),
                    None => msg.to_owned(),
                }
            })
            .collect()
    };
    (list(sluice_sarif::keys::DENIALS), list(sluice_sarif::keys::WARNINGS))
}

pub fn verify(args: VerifyArgs) -> Result<u8> {
    let path = args.file.display().to_string();
    let envelope = std::fs::read_to_string(&args.file).with_context(|| format!("{path}: cannot read"))?;
    let pem =
        std::fs::read_to_string(&args.key).with_context(|| format!("{}: cannot read the key", args.key.display()))?;
    let key = attest::verifying_key(&args.key.display().to_string(), &pem)?;
    // The server's signed decision log (or a decision set) verifies with the same command.
    if let Ok((payload_type, payload)) = attest::verify_envelope(&path, &envelope, &key) {
        if payload_type == attest::DECISIONS_PAYLOAD_TYPE {
            return verify_decisions(&path, &payload);
        }
    }
    let statement = match attest::verify(&path, &envelope, &key) {
        Ok(s) => s,
        Err(e @ attest::AttestError::BadSignature { .. }) => {
            eprintln!("verify: FAILED: {e}");
            return Ok(exit::REFUSED);
        }
        Err(e) => return Err(e.into()),
    };
    let predicate = &statement["predicate"];
    let mut ok = true;
    for key in ["sarif", "sbom"] {
        let Some(artifact) = predicate.get(key).filter(|a| !a.is_null()) else { continue };
        let (Some(rel), Some(want)) = (artifact["path"].as_str(), artifact["digest"]["sha256"].as_str()) else {
            continue;
        };
        let file = args.root.join(rel);
        match std::fs::read(&file) {
            Ok(bytes) => {
                let got = attest::Artifact::of(rel, &bytes).digest.sha256;
                if got == want {
                    eprintln!("verify: {}: sha256 matches", terminal(rel));
                } else {
                    eprintln!(
                        "verify: FAILED: {}: sha256 {got} differs from the attested {}: the file changed after it was attested",
                        terminal(rel),
                        terminal(want)
                    );
                    ok = false;
                }
            }
            Err(_) => eprintln!("verify: {}: not present here; its digest was not checked", terminal(rel)),
        }
    }
    let subject = &statement["subject"][0];
    eprintln!(
        "verify: signature OK; subject {} at commit {}; verdict `{}` by policy {}",
        terminal(subject["name"].as_str().unwrap_or("?")),
        terminal(subject["digest"]["gitCommit"].as_str().unwrap_or("?")),
        terminal(predicate["verdict"].as_str().unwrap_or("?")),
        terminal(predicate["policy"]["digest"].as_str().unwrap_or("(none)")),
    );
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&statement)?)?;
    Ok(if ok { exit::OK } else { exit::REFUSED })
}

/// A verified decision log (`GET /api/v1/decisions/export`) or decision set: says what it
/// holds, prints the payload.
fn verify_decisions(path: &str, payload: &[u8]) -> Result<u8> {
    let doc: Json =
        serde_json::from_slice(payload).with_context(|| format!("{path}: the signed payload is not JSON"))?;
    let kind = doc["_type"].as_str().unwrap_or_default();
    let what = match kind {
        attest::DECISION_LOG_TYPE => "decision log",
        attest::DECISION_SET_TYPE => "decision set",
        other => bail!("{path}: the server signed a `{}`, which this sluice does not know", terminal(other)),
    };
    let decisions = doc["decisions"].as_array().map_or(0, Vec::len);
    eprintln!(
        "verify: signature OK; {what} of {decisions} decision{} issued by the server at {}",
        if decisions == 1 { "" } else { "s" },
        terminal(doc["issued_at"].as_str().unwrap_or("?"))
    );
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    Ok(exit::OK)
}

// ---------------------------------------------------------------------------------------------
// sluice report --format ssdf

pub fn ssdf_report(log: &Sarif, sarif_origin: Option<&Path>, out: &mut dyn Write) -> Result<()> {
    let dir = sarif_origin.and_then(Path::parent).map_or_else(|| PathBuf::from("sluice-out"), Path::to_owned);
    let sbom = find_sbom(None, &dir)?.and_then(|(p, b)| sbom_facts(&p, &b).ok());
    let tasks = sluice_policy::ssdf::evidence(log, sbom.as_ref());
    out.write_all(sluice_policy::ssdf::render_markdown(&tasks).as_bytes())?;
    Ok(())
}
