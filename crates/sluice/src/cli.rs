use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "sluice",
    version,
    about = "Security stages that speak SARIF, run in parallel, piped like Unix tools",
    after_help = "Exit codes: 0 ran (findings or not), 1 a gate refused, 2 a stage failed or the input was unusable."
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
    /// The offline advisory database of the deps stage: import sources (update), show what it holds (status).
    Db(DbArgs),
    /// Write a CycloneDX 1.5 or SPDX 2.3 JSON SBOM of every lockfile under PATH.
    Sbom(crate::sbom_cmd::SbomArgs),
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
    /// Report format printed to stdout.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
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
    /// The stage to run: built-in (secrets) or one configured in sluice.toml.
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
    /// The advisory database (deps stage; default: $SLUICE_DB, else ~/.cache/sluice/advisories.db).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// SARIF files; `-` or nothing reads stdin.
    pub files: Vec<PathBuf>,
    /// The repository root that relative paths in the logs refer to.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A SARIF file; `-` or nothing reads stdin.
    pub file: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
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
}

impl ReportFormat {
    pub fn to_report(self) -> sluice_report::Format {
        use sluice_report::Format as F;
        match self {
            ReportFormat::Text => F::Text,
            ReportFormat::Json => F::Json,
            ReportFormat::Sarif => F::Sarif,
            ReportFormat::Junit => F::Junit,
            ReportFormat::Markdown => F::Markdown,
            ReportFormat::Github => F::Github,
            ReportFormat::GitlabSast => F::GitlabSast,
        }
    }
}
