//! Advisories for sluice's dependency stage, offline.
pub mod version;
