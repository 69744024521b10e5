//! DORA's four keys and security velocity, computed from what a team already has: git history
//! (read with gix), deployments and incidents recorded with `sluice record` (or derived from
//! tags), and the summaries `sluice run` records. Events live in one SQLite file
//! (`.sluice/events.db` by default) and travel as JSON lines.
//!
//! A library: values in, values out, no printing. `render` turns reports into text, JSON and
//! SVG; the CLI decides where they go. The SVG is written by hand (a few rectangles and
//! labels): plotting crates pull in font stacks and rasterizers for what is a bar chart.

mod dora;
mod error;
mod events;
mod history;
mod jsonl;
mod render;
mod security;
mod stats;
mod store;
mod time;

pub use dora::{compute as compute_dora, DoraOptions, DoraReport, Warning, WarningKind, DEFAULT_CLOCK_SKEW};
pub use error::{MetricsError, Result};
pub use events::{DeployStatus, Deployment, Incident, ScanFinding, ScanRun};
pub use history::{History, Repo, Tag};
pub use jsonl::{export, import, ImportCounts};
pub use render::{dora_svg, dora_text, security_svg, security_text};
pub use security::{compute as compute_security, SecurityOptions, SecurityReport, Sla, SEVERITIES};
pub use stats::{Distribution, Tier};
pub use store::{Inserted, Store, SCHEMA_VERSION};
pub use time::{format_time, parse_time};
