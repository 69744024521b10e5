//! The `sluice` command: argument parsing, exit codes and printing. The work is in the crates.

mod cli;
mod commands;
mod config_cmd;
mod decision_sync;
mod deps_cmd;
mod init_cmd;
mod metrics_cmd;
mod policy_cmd;
mod progress;
mod sbom_cmd;
mod server_cmd;
mod triage_cmd;

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// sluice's version, as its reports and records name it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

use clap::Parser;
use sluice_report::escape::terminal_lines;

/// Exit codes of the stage contract.
pub mod exit {
    /// Ran, whatever it found.
    pub const OK: u8 = 0;
    /// The gate refused.
    pub const REFUSED: u8 = 1;
    /// The stage (or a stage of the run) failed, or the input was unusable.
    pub const FAILED: u8 = 2;
    /// A server could not be reached (`push`): nothing was sent, the local results are as they were.
    pub const UNREACHABLE: u8 = 69;
    /// The command line was wrong (an unknown command or option, a bad value): nothing ran.
    /// sysexits' `EX_USAGE`, so a script can tell a typo from a failed stage (2).
    pub const USAGE: u8 = 64;
}

/// A command line clap refused, said as clap says it, with a suggestion for a mistyped
/// command clap has none for (`rnu` for `run`: clap's similarity misses transpositions); help
/// and version exit 0, every other refusal [`exit::USAGE`].
fn usage_error(mut err: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() == ErrorKind::InvalidSubcommand && err.get(ContextKind::SuggestedSubcommand).is_none() {
        let typed = match err.get(ContextKind::InvalidSubcommand) {
            Some(ContextValue::String(s)) => s.clone(),
            _ => String::new(),
        };
        let command = <cli::Cli as clap::CommandFactory>::command();
        let closest = command
            .get_subcommands()
            .map(|c| c.get_name())
            .map(|name| (strsim::damerau_levenshtein(&typed, name), name))
            .filter(|&(distance, name)| distance <= 2 && distance < name.len())
            .min();
        if let Some((_, name)) = closest {
            err.insert(ContextKind::SuggestedSubcommand, ContextValue::Strings(vec![name.to_owned()]));
        }
    }
    // Printing fails only when stderr (or stdout for help) is closed: nothing left to tell.
    let _ = err.print();
    match err.exit_code() {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::from(exit::USAGE),
    }
}

/// Standard output for a report or a log: buffered. A locked stdout flushes at every newline,
/// which is a system call per line of a pretty-printed log (a million for a large one); callers
/// flush at the end, so a failed write is still an error.
pub fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock())
}

/// Where a report goes: buffered stdout, or the file `-o/--output` names, written atomically
/// once the report is whole ([`Output::finish`]), so a failed render leaves the old file.
pub enum Output {
    Stdout(std::io::BufWriter<std::io::StdoutLock<'static>>),
    File(std::path::PathBuf, Vec<u8>),
}

impl Output {
    pub fn new(file: Option<&std::path::Path>) -> Output {
        match file {
            Some(path) if path != std::path::Path::new("-") => Output::File(path.to_owned(), Vec::new()),
            _ => Output::Stdout(stdout()),
        }
    }

    pub fn finish(self) -> anyhow::Result<()> {
        use std::io::Write;
        match self {
            Output::Stdout(mut out) => Ok(out.flush()?),
            Output::File(path, bytes) => Ok(sluice_pipeline::safe_fs::write_user_file(&path, &bytes)?),
        }
    }
}

impl std::io::Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Stdout(out) => out.write(buf),
            Output::File(_, bytes) => bytes.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Output::Stdout(out) => out.write_all(buf),
            Output::File(_, bytes) => bytes.write_all(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Stdout(out) => out.flush(),
            Output::File(..) => Ok(()),
        }
    }
}

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    match commands::dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // A closed pipe (`sluice scan … | head`) is the reader's choice, not a failure.
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::from(exit::OK);
            }
            // Errors quote paths and contents of the repository: escaped for the terminal or CI
            // log (no control sequence, no line that starts a workflow command).
            eprintln!("error: {}", terminal_lines(&err.to_string()));
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {}", terminal_lines(&cause.to_string()));
            }
            ExitCode::from(exit::FAILED)
        }
    }
}
