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
}

/// Standard output for a report or a log: buffered. A locked stdout flushes at every newline,
/// which is a system call per line of a pretty-printed log (a million for a large one); callers
/// flush at the end, so a failed write is still an error.
pub fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock())
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
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
