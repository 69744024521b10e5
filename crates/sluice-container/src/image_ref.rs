//! Image references (`[registry/]repository[:tag][@digest]`) as Docker resolves them.

/// A parsed image reference. `registry` is `docker.io` for Docker Hub names, and Docker Hub's
/// single-component names get the `library/` prefix, as the daemon does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(reference: &str) -> ImageRef {
        let (name, digest) = match reference.split_once('@') {
            Some((n, d)) => (n, Some(d.to_owned())),
            None => (reference, None),
        };
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (&name[..last_slash + i], Some(name[last_slash + i + 1..].to_owned())),
            None => (name, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_ascii_lowercase(), rest.to_owned())
            }
            _ => ("docker.io".to_owned(), name.to_owned()),
        };
        let repository = if registry == "docker.io" && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        ImageRef { registry, repository, tag, digest }
    }

    /// `registry/repository`, the string allowlist entries are matched against.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Matches an allowlist entry: a registry host (`ghcr.io`) or a registry and path prefix
    /// (`ghcr.io/acme`), compared on `/` boundaries. `docker.io` also accepts the
    /// `index.docker.io` and `registry-1.docker.io` spellings of Docker Hub.
    pub fn allowed_by(&self, entry: &str) -> bool {
        let entry = entry.trim().trim_end_matches('/').to_ascii_lowercase();
        let entry = match entry.split_once('/') {
            Some((host, rest)) if is_hub(host) => format!("docker.io/{rest}"),
            None if is_hub(&entry) => "docker.io".to_owned(),
            _ => entry,
        };
        let full = self.full_name().to_ascii_lowercase();
        full == entry || full.starts_with(&format!("{entry}/"))
    }
}

fn is_hub(host: &str) -> bool {
    matches!(host, "docker.io" | "index.docker.io" | "registry-1.docker.io")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let r = ImageRef::parse("python");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("docker.io", "library/python", None)
        );
        let r = ImageRef::parse("localhost:5000/a/b:1.0@sha256:ab");
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "a/b");
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert_eq!(r.digest.as_deref(), Some("sha256:ab"));
        let r = ImageRef::parse("ghcr.io/acme/tool");
        assert!(r.allowed_by("ghcr.io") && r.allowed_by("ghcr.io/acme") && !r.allowed_by("ghcr.io/ac"));
        assert!(ImageRef::parse("debian:12").allowed_by("index.docker.io"));
    }
}
