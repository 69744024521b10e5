//! `gradle.lockfile`: `group:artifact:version=configurations` lines. The lockfile does not say
//! which dependencies the build script declares, so relationships are `Unknown`.

use super::{package, Ctx};
use crate::error::{syntax, ErrorKind};
use crate::{Ecosystem, Package};

pub(crate) fn parse(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Package>, ErrorKind> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("empty=") {
            continue;
        }
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let coordinates = line.split('=').next().unwrap_or(line);
        let parts: Vec<&str> = coordinates.split(':').collect();
        let [group, artifact, version] = parts.as_slice() else {
            return Err(syntax(
                Some(number),
                format!("expected `group:artifact:version=configurations`, found `{line}`"),
            ));
        };
        out.push(package(Ecosystem::Maven, &format!("{group}:{artifact}"), version, ctx.path, number));
    }
    Ok(out)
}
