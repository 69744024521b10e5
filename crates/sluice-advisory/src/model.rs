//! The internal advisory model: OSV's shape, reduced to what matching and reporting need.
//! Every source (OSV JSON/YAML, RustSec markdown) is converted into it at import time, and
//! the store keeps it (its serialized form is versioned with the store format).

use serde::{Deserialize, Serialize};

/// What kind of notice an advisory is. Only vulnerabilities are errors; the rest are
/// warnings (RustSec's informational advisories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    Vulnerability,
    Unmaintained,
    Unsound,
    Notice,
    /// A malicious package (OSV `MAL-` records).
    Malicious,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Vulnerability => "vulnerability",
            Kind::Unmaintained => "unmaintained",
            Kind::Unsound => "unsound",
            Kind::Notice => "notice",
            Kind::Malicious => "malicious",
        }
    }
}

/// One severity statement: a CVSS vector or a qualitative rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityEntry {
    /// OSV's type (`CVSS_V3`, `CVSS_V4`, `CVSS_V2`) or `QUALITATIVE` for a word such as `HIGH`.
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RangeKind {
    Semver,
    Ecosystem,
    Git,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

/// One affected package of an advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    /// OSV's ecosystem string as written (`crates.io`, `Debian:12`).
    pub ecosystem: String,
    pub name: String,
    pub ranges: Vec<Range>,
    /// Explicitly enumerated affected versions.
    pub versions: Vec<String>,
    /// Severity given for this package only (OSV `affected[].severity`,
    /// `ecosystem_specific.severity`, `database_specific.severity`).
    pub severity: Vec<SeverityEntry>,
    /// Affected functions, where the database names them (RustSec).
    pub functions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: String,
    pub details: String,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub withdrawn: Option<String>,
    pub kind: Kind,
    pub severity: Vec<SeverityEntry>,
    /// The database the record came from (`RustSec`, `PyPA`, `GHSA`, `NVD`, `Debian`…): who
    /// rated it, for `sluice/severity-source`.
    pub source: String,
    pub affected: Vec<Affected>,
    pub references: Vec<String>,
    pub cwes: Vec<String>,
}

/// The database an advisory id belongs to, from its prefix (OSV's id conventions).
pub fn source_of_id(id: &str) -> &'static str {
    let prefix = id.split('-').next().unwrap_or(id);
    match prefix {
        "GHSA" => "GHSA",
        "RUSTSEC" => "RustSec",
        "PYSEC" => "PyPA",
        "GO" => "Go",
        "CVE" => "NVD",
        "DSA" | "DLA" | "DTSA" | "DEBIAN" => "Debian",
        "ALPINE" => "Alpine",
        "USN" | "UBUNTU" => "Ubuntu",
        "MAL" => "OpenSSF Malicious Packages",
        "RLSA" | "RXSA" => "Rocky Linux",
        "ALSA" => "AlmaLinux",
        "BIT" => "Bitnami",
        "GSD" => "GSD",
        "OSV" => "OSV",
        "PSF" => "PSF",
        "CURL" => "curl",
        "UVI" => "UVI",
        _ => "OSV",
    }
}
