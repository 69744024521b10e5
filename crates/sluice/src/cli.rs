use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "sluice",
    version,
    about = "Security stages that speak SARIF, run in parallel, piped like Unix tools",
    after_help = "Exit codes: 0 ran (findings or not), 1 a gate refused, 2 a stage failed or the input was unusable, 64 the command line was wrong."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to use colors on the terminal.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every configured stage in parallel; write sluice-out/results.sarif and print a report.
    Run(RunArgs),
    /// Run one stage and write its SARIF to stdout (SARIF piped in on stdin is passed through).
    Scan(ScanArgs),
    /// Merge SARIF logs (files, or stdin) into one normalized log on stdout.
    Merge(MergeArgs),
    /// Render a SARIF log (a file, or stdin) for people or CI systems.
    Report(ReportArgs),
    /// Apply .sluice/triage.toml and the baseline to SARIF (a file, or stdin) as suppressions and
    /// baselineState; or record and review decisions (mark, list, show, prune, import, export).
    Triage(crate::triage_cmd::TriageArgs),
    /// Record the findings of the current commit (or --from REF, or --sarif FILE) in .sluice/baseline.sarif.
    Baseline(crate::triage_cmd::BaselineArgs),
    /// Show the resolved configuration (with the template each value came from), or re-pin templates.
    Config(crate::config_cmd::ConfigArgs),
    /// Write a minimal sluice.toml for a repository, and CI wiring (GitHub, GitLab, pre-commit).
    Init(crate::init_cmd::InitArgs),
    /// Write a CycloneDX 1.5 or SPDX 2.3 JSON SBOM of every lockfile under PATH.
    Sbom(crate::sbom_cmd::SbomArgs),
    /// The offline advisory database of the deps stage: import sources (update), show what it holds (status).
    Db(DbArgs),
    /// Record deployments (or derive them from tags), incidents, and import/export events as JSON lines.
    Record(crate::metrics_cmd::RecordArgs),
    /// DORA's four keys from git history and recorded events (`metrics security`: security velocity).
    Metrics(crate::metrics_cmd::MetricsArgs),
    /// Decide with a Rego policy over SARIF (a file, stdin, or sluice-out/results.sarif): SARIF out
    /// with the verdict recorded; exit 1 when denied, 2 when the policy cannot decide.
    Gate(crate::policy_cmd::GateArgs),
    /// Show which stages the policy requires for what the repository contains, and which are missing.
    Plan(crate::policy_cmd::PlanArgs),
    /// Test policies (`test_` rules), print the policy input, or evaluate a policy over any JSON.
    Policy(crate::policy_cmd::PolicyArgs),
    /// Print an in-toto attestation (optionally DSSE-signed with ed25519) of the last run's verdict.
    Attest(crate::policy_cmd::AttestArgs),
    /// Check a signed attestation and the digests of the files it covers, or a decision log the
    /// server signed (`GET /api/v1/decisions/export`).
    Verify(crate::policy_cmd::VerifyArgs),
    /// Run the security team's server: every repository's runs, findings and decisions (SQLite
    /// by default, PostgreSQL with --database).
    Serve(crate::server_cmd::ServeArgs),
    /// Send the last run (results, SBOM, verdict, events) to the server; exit 69 when it cannot
    /// be reached (the local results are untouched).
    Push(crate::server_cmd::PushArgs),
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// The database file (default: $SLUICE_DB, else ~/.cache/sluice/advisories.db).
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Import advisories: an OSV all.zip (file or URL, downloaded with curl), a directory of OSV
    /// JSON/YAML records, or a RustSec advisory-db checkout. Re-importing a source replaces it.
    Update {
        /// A source; repeat for several.
        #[arg(long, required = true, value_name = "PATH_OR_URL")]
        from: Vec<String>,
    },
    /// Show the database's age, sources and advisory counts per ecosystem.
    Status,
}

/// Diff-aware mode: look only at what changed.
#[derive(Debug, Args, Clone, Default)]
pub struct ScopeArgs {
    /// Only files changed since the merge base with REF (plus uncommitted and untracked ones).
    #[arg(long, value_name = "REF", conflicts_with_all = ["staged", "changed_files"])]
    pub since: Option<String>,
    /// Only files with staged changes (for pre-commit hooks).
    #[arg(long, conflicts_with = "changed_files")]
    pub staged: bool,
    /// Only the files listed in FILE, one path per line, relative to the scanned directory.
    #[arg(long, value_name = "FILE")]
    pub changed_files: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The repository to scan.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Report format printed to stdout (or written to --output).
    #[arg(short = 'f', long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write the report to this file (replaced atomically) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print no progress and no notes on stderr, only warnings, errors and failures.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Where results.sarif goes (default: `out_dir` from sluice.toml, else sluice-out).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Exit 1 when an unsuppressed finding is at least this severe.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Run only these stages (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "STAGES")]
    pub stages: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The stage to run: built-in (secrets, sast, container) or one configured in sluice.toml.
    pub stage: String,
    /// The directory to scan.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Scan the git history instead of the tree: every blob reachable from any ref, each once,
    /// each secret reported with the commit that introduced it (secrets stage).
    #[arg(long, conflicts_with_all = ["since", "staged", "changed_files"])]
    pub history: bool,
    /// Report only findings on lines changed since REF (with --since) or staged (with
    /// --staged), not every finding in a changed file (sast stage).
    #[arg(long, conflicts_with_all = ["history", "changed_files"])]
    pub changed_lines: bool,
    /// Inventory this image tarball (`docker save` or OCI layout) instead of scanning
    /// Dockerfiles (container stage).
    #[arg(long, value_name = "FILE.tar", conflicts_with_all = ["since", "staged", "changed_files", "history"])]
    pub image: Option<PathBuf>,
    /// The advisory database (deps and container stages; default: $SLUICE_DB, else ~/.cache/sluice/advisories.db).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// SARIF files; `-` or nothing reads stdin. Every input is a third-party log: it keeps
    /// nothing sluice reserves (built-in stage names, triage decisions) and fills no stage.
    pub files: Vec<PathBuf>,
    /// A log that fills a built-in stage (`secrets=gitleaks.sarif`): its runs are recorded as
    /// that stage, so a policy's requirement for it is met. Repeatable.
    #[arg(long, value_name = "STAGE=FILE", value_parser = parse_fills)]
    pub fills: Vec<(String, PathBuf)>,
    /// The repository root that relative paths in the logs refer to.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A SARIF file; `-` reads stdin. Default: stdin when piped, else sluice-out/results.sarif.
    pub file: Option<PathBuf>,
    #[arg(short = 'f', long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write the report to this file (replaced atomically) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The repository root, to show source lines in the text report.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Sarif,
    Junit,
    Markdown,
    Github,
    GitlabSast,
    /// NIST SSDF tasks with the evidence this run produced (Markdown).
    Ssdf,
}

impl ReportFormat {
    /// The report crate's format; `None` for `ssdf`, which the policy crate renders.
    pub fn to_report(self) -> Option<sluice_report::Format> {
        use sluice_report::Format as F;
        Some(match self {
            ReportFormat::Text => F::Text,
            ReportFormat::Json => F::Json,
            ReportFormat::Sarif => F::Sarif,
            ReportFormat::Junit => F::Junit,
            ReportFormat::Markdown => F::Markdown,
            ReportFormat::Github => F::Github,
            ReportFormat::GitlabSast => F::GitlabSast,
            ReportFormat::Ssdf => return None,
        })
    }
}

/// `STAGE=FILE` of `sluice merge --fills`, STAGE a built-in stage.
fn parse_fills(text: &str) -> Result<(String, PathBuf), String> {
    let (stage, file) =
        text.split_once('=').ok_or_else(|| format!("`{text}`: write STAGE=FILE, e.g. secrets=gitleaks.sarif"))?;
    if !sluice_sarif::BUILTIN_STAGES.contains(&stage) {
        return Err(format!(
            "`{stage}` is not a built-in stage; a log can fill one of {}",
            sluice_sarif::BUILTIN_STAGES.join(", ")
        ));
    }
    if file.is_empty() {
        return Err(format!("`{text}`: no file after `=`"));
    }
    Ok((stage.to_owned(), PathBuf::from(file)))
}
