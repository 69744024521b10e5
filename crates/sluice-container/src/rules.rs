//! The Dockerfile rules as data: what each checks, why it matters, how to fix it, an example
//! that fires and one that does not (the test suite runs both), and how it maps to hadolint.

pub use sluice_sarif::Level;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleInfo {
    pub id: &'static str,
    pub title: &'static str,
    /// Why this is a risk.
    pub description: &'static str,
    /// How to fix it.
    pub help: &'static str,
    /// A Dockerfile that triggers the rule.
    pub bad: &'static str,
    /// The fixed Dockerfile, which must not trigger it.
    pub good: &'static str,
    pub cwe: Option<&'static str>,
    pub level: Level,
    /// GitHub's 0–10 `security-severity`.
    pub security_severity: f32,
    /// `very-high`, `high`, `medium`, `low` (SARIF/CodeQL precision).
    pub precision: &'static str,
    /// hadolint's closest rules, for the comparison in docs/container.md.
    pub hadolint: &'static [&'static str],
}

pub const BASE_NO_DIGEST: &str = "dockerfile-base-not-pinned";
pub const BASE_LATEST: &str = "dockerfile-base-latest";
pub const REGISTRY: &str = "dockerfile-registry-not-allowed";
pub const USER_ROOT: &str = "dockerfile-user-root";
pub const ADD_URL: &str = "dockerfile-add-remote-url";
pub const PIPE_SHELL: &str = "dockerfile-curl-pipe-shell";
pub const NO_CHECKSUM: &str = "dockerfile-download-no-checksum";
pub const SUDO: &str = "dockerfile-sudo";
pub const SECRET_VALUE: &str = "dockerfile-secret-value";
pub const SECRET_ARG: &str = "dockerfile-secret-build-arg";
pub const UNPINNED: &str = "dockerfile-unpinned-package";
pub const CACHE: &str = "dockerfile-package-cache";
pub const COPY_FROM: &str = "dockerfile-copy-from-unknown-stage";
pub const EXPOSE_SSH: &str = "dockerfile-expose-ssh";
pub const CHMOD_777: &str = "dockerfile-chmod-777";

/// Every rule, in documentation order.
pub const RULES: &[RuleInfo] = &[
    RuleInfo {
        id: BASE_NO_DIGEST,
        title: "Base image not pinned by digest",
        description: "A tag is a movable pointer: whoever controls the repository (or a compromised registry) can point it at different content, and the next build silently uses it. Only a digest names exact content.",
        help: "Pin the base image by digest and let a bot (Renovate, Dependabot) propose updates: `FROM debian:12.5@sha256:<digest>`. Get the digest with `docker buildx imagetools inspect debian:12.5`.",
        bad: "FROM debian:12.5\nUSER app\n",
        good: "FROM debian:12.5@sha256:2171c87301e5ea528cee5c2308a4589f8f2ac819d4d434b679b7cb1dc8de6912\nUSER app\n",
        cwe: Some("CWE-494"),
        level: Level::Note,
        security_severity: 3.0,
        precision: "very-high",
        hadolint: &[],
    },
    RuleInfo {
        id: BASE_LATEST,
        title: "Base image uses `latest` or no tag",
        description: "`latest` (also what an untagged image means) changes with every upstream release: builds are not reproducible and a new major version can arrive unreviewed.",
        help: "Name a version tag (`python:3.12-slim`), better with a digest.",
        bad: "FROM python\nUSER app\n",
        good: "FROM python:3.12-slim\nUSER app\n",
        cwe: Some("CWE-1357"),
        level: Level::Warning,
        security_severity: 5.0,
        precision: "very-high",
        hadolint: &["DL3006", "DL3007"],
    },
    RuleInfo {
        id: REGISTRY,
        title: "Base image from a registry outside the allowlist",
        description: "Images are code you run. Pulling from a registry the organisation does not trust (or from Docker Hub when policy requires a mirror) bypasses the review and scanning done on approved registries.",
        help: "Use an image from an allowed registry (`[stages.container] allowed_registries` in sluice.toml), or add the registry to the list after review.",
        bad: "FROM quay.io/evil/tool:1.0\nUSER app\n",
        good: "FROM registry.example.com/base/tool:1.0\nUSER app\n",
        cwe: Some("CWE-829"),
        level: Level::Error,
        security_severity: 7.0,
        precision: "very-high",
        hadolint: &["DL3026"],
    },
    RuleInfo {
        id: USER_ROOT,
        title: "Container runs as root",
        description: "Without a `USER` (or with `USER root`/`0` last), the process runs as root inside the container: a container escape or a writable host mount then gives root on the host.",
        help: "Create an unprivileged user and switch to it at the end of the final stage: `RUN useradd --system --uid 10001 app` then `USER 10001`.",
        bad: "FROM alpine:3.20\nRUN echo hi\n",
        good: "FROM alpine:3.20\nUSER 10001\n",
        cwe: Some("CWE-250"),
        level: Level::Warning,
        security_severity: 5.5,
        precision: "high",
        hadolint: &["DL3002"],
    },
    RuleInfo {
        id: ADD_URL,
        title: "`ADD` of a remote URL without a checksum",
        description: "`ADD https://…` downloads at build time with no integrity check: a changed or hijacked file goes straight into the image.",
        help: "Use `ADD --checksum=sha256:<hex> https://…` (BuildKit), or download with `curl` and verify with `sha256sum -c`.",
        bad: "FROM alpine:3.20\nADD https://example.com/tool.tar.gz /opt/\nUSER app\n",
        good: "FROM alpine:3.20\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/tool.tar.gz /opt/\nUSER app\n",
        cwe: Some("CWE-494"),
        level: Level::Warning,
        security_severity: 5.0,
        precision: "very-high",
        hadolint: &["DL3020"],
    },
    RuleInfo {
        id: PIPE_SHELL,
        title: "Remote script piped to a shell",
        description: "`curl … | sh` runs whatever the server sends, unverified; a compromised server, DNS or a truncated download runs arbitrary code in the build.",
        help: "Download to a file, verify its checksum or signature (`echo \"<sha256>  install.sh\" | sha256sum -c -`), then run it.",
        bad: "FROM debian:12\nRUN curl -fsSL https://get.example.com/install.sh | sh\nUSER app\n",
        good: "FROM debian:12\nRUN curl -fsSLo install.sh https://get.example.com/install.sh && echo \"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae  install.sh\" | sha256sum -c - && sh install.sh\nUSER app\n",
        cwe: Some("CWE-494"),
        level: Level::Error,
        security_severity: 7.5,
        precision: "high",
        hadolint: &["DL4006"],
    },
    RuleInfo {
        id: NO_CHECKSUM,
        title: "Download without checksum verification",
        description: "A file fetched with `curl`/`wget` and used without verifying a checksum or signature in the same `RUN` can be swapped by whoever controls the server or the network path.",
        help: "Verify what you download in the same `RUN`: `sha256sum -c`, `gpg --verify`, or `cosign verify-blob`.",
        bad: "FROM debian:12\nRUN wget https://example.com/tool.tgz && tar xzf tool.tgz\nUSER app\n",
        good: "FROM debian:12\nRUN wget https://example.com/tool.tgz && echo \"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae  tool.tgz\" | sha256sum -c - && tar xzf tool.tgz\nUSER app\n",
        cwe: Some("CWE-494"),
        level: Level::Warning,
        security_severity: 5.0,
        precision: "medium",
        hadolint: &[],
    },
    RuleInfo {
        id: SUDO,
        title: "`sudo` in a build step",
        description: "Build steps already run as the current `USER`; `sudo` in an image means a setuid binary and a sudoers policy shipped to production, and unpredictable TTY and signal behaviour.",
        help: "Switch users with `USER root` … `USER app` around the privileged steps, or use `gosu`/`su-exec` in an entrypoint.",
        bad: "FROM debian:12\nRUN sudo apt-get update\nUSER app\n",
        good: "FROM debian:12\nUSER root\nRUN apt-get update\nUSER app\n",
        cwe: Some("CWE-250"),
        level: Level::Warning,
        security_severity: 4.0,
        precision: "very-high",
        hadolint: &["DL3004"],
    },
    RuleInfo {
        id: SECRET_VALUE,
        title: "Secret in `ENV` or `ARG`",
        description: "`ENV` values are stored in the image config and `ARG` values in its history: anyone who can pull the image can read them, forever.",
        help: "Revoke and rotate the credential. Pass secrets at build time with `RUN --mount=type=secret,id=…` and at run time through the orchestrator's secret store.",
        bad: "FROM alpine:3.20\nENV GITHUB_TOKEN=ghp_9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e\nUSER app\n",
        good: "FROM alpine:3.20\nRUN --mount=type=secret,id=gh_token GITHUB_TOKEN=$(cat /run/secrets/gh_token) ./fetch.sh\nUSER app\n",
        cwe: Some("CWE-798"),
        level: Level::Error,
        security_severity: 8.0,
        precision: "high",
        hadolint: &[],
    },
    RuleInfo {
        id: SECRET_ARG,
        title: "Secret passed as a build argument",
        description: "Build arguments are recorded in the image history (`docker history`), so a token given with `--build-arg` ships with the image.",
        help: "Use a BuildKit secret mount instead: `RUN --mount=type=secret,id=npm_token …` and `docker build --secret id=npm_token,env=NPM_TOKEN`.",
        bad: "FROM node:20\nARG NPM_TOKEN\nRUN npm ci\nUSER node\n",
        good: "FROM node:20\nRUN --mount=type=secret,id=npm_token npm ci\nUSER node\n",
        cwe: Some("CWE-538"),
        level: Level::Warning,
        security_severity: 5.5,
        precision: "medium",
        hadolint: &[],
    },
    RuleInfo {
        id: UNPINNED,
        title: "Package installed without a version",
        description: "`apt-get install curl`, `apk add curl`, `pip install requests` and `npm install -g x` take whatever version the mirror serves today: builds drift and a malicious release is picked up automatically.",
        help: "Pin versions (`curl=7.88.1-10+deb12u5`, `curl=8.9.1-r1`, `requests==2.32.3`, `x@1.2.3`) or install from a lockfile (`pip install -r requirements.txt --require-hashes`, `npm ci`).",
        bad: "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\nUSER app\n",
        good: "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5 && rm -rf /var/lib/apt/lists/*\nUSER app\n",
        cwe: Some("CWE-1357"),
        level: Level::Note,
        security_severity: 3.0,
        precision: "high",
        hadolint: &["DL3008", "DL3018", "DL3013", "DL3016"],
    },
    RuleInfo {
        id: CACHE,
        title: "Package manager cache left in the final image",
        description: "apt lists, the apk cache and pip's cache add size and stale metadata to the shipped image (scanners then report packages that are not installed).",
        help: "Clean up in the same `RUN`: `rm -rf /var/lib/apt/lists/*`, `apk add --no-cache`, `pip install --no-cache-dir`; or use `RUN --mount=type=cache`.",
        bad: "FROM python:3.12-slim\nRUN pip install requests==2.32.3\nUSER app\n",
        good: "FROM python:3.12-slim\nRUN pip install --no-cache-dir requests==2.32.3\nUSER app\n",
        cwe: None,
        level: Level::Note,
        security_severity: 1.0,
        precision: "high",
        hadolint: &["DL3009", "DL3019", "DL3042"],
    },
    RuleInfo {
        id: COPY_FROM,
        title: "`COPY --from` names no earlier stage",
        description: "When `--from` names no stage defined above, Docker pulls an image of that name from Docker Hub: a typo (`--from=buidler`) copies files from whoever owns that name.",
        help: "Name a stage defined earlier (`FROM golang:1.22 AS builder` … `COPY --from=builder`), or a fully qualified, pinned image.",
        bad: "FROM golang:1.22 AS builder\nRUN go build -o /app .\nFROM debian:12\nCOPY --from=buidler /app /app\nUSER app\n",
        good: "FROM golang:1.22 AS builder\nRUN go build -o /app .\nFROM debian:12\nCOPY --from=builder /app /app\nUSER app\n",
        cwe: Some("CWE-829"),
        level: Level::Warning,
        security_severity: 6.0,
        precision: "high",
        hadolint: &["DL3022", "DL3023"],
    },
    RuleInfo {
        id: EXPOSE_SSH,
        title: "SSH port exposed",
        description: "Running sshd in a container adds a credential-bearing service and a second way in; containers are entered with `docker exec`/`kubectl exec`.",
        help: "Remove `EXPOSE 22` and the SSH server; use `docker exec` or `kubectl exec` for access.",
        bad: "FROM debian:12\nEXPOSE 22/tcp\nUSER app\n",
        good: "FROM debian:12\nEXPOSE 8080\nUSER app\n",
        cwe: Some("CWE-284"),
        level: Level::Warning,
        security_severity: 5.0,
        precision: "very-high",
        hadolint: &[],
    },
    RuleInfo {
        id: CHMOD_777,
        title: "World-writable permissions",
        description: "`chmod 777` (or `--chmod=777`) lets any user in the container replace the files, including programs that root later runs.",
        help: "Grant only what is needed: `chmod 755` for programs, `chown app:app` for data directories the app writes.",
        bad: "FROM debian:12\nRUN chmod -R 777 /app\nUSER app\n",
        good: "FROM debian:12\nRUN chown -R app:app /app && chmod -R 755 /app\nUSER app\n",
        cwe: Some("CWE-732"),
        level: Level::Warning,
        security_severity: 5.0,
        precision: "very-high",
        hadolint: &[],
    },
];

/// The rule with id `id`.
pub fn rule(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.id == id)
}
