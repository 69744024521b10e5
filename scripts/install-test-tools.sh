#!/usr/bin/env bash
# Installs the real external tools the test suite runs: bandit (PyPI, a SARIF-emitting stage),
# check-jsonschema and pre-commit (PyPI, CI-file validators), Microsoft's SARIF Multitool (npm,
# the validator), and the SBOM validators: CycloneDX's own Python library with its JSON schemas,
# SPDX's spdx-tools (pyspdxtools), and jsonschema (validates the policy input against its
# schema), schemathesis (contract tests of `sluice serve` against its own OpenAPI document), and
# oidc-provider (npm, a real OpenID provider for the OIDC login tests), and for the browser tests
# of the web pages Debian's Chromium (apt) driven by playwright-core (npm, no browser download).
# Idempotent; prints the tools dir.
set -euo pipefail
T=${SLUICE_TOOLS:-/tmp/sluice-tools}
mkdir -p "$T"
if [ ! -x "$T/venv/bin/bandit" ]; then
  python3 -m venv "$T/venv"
  "$T/venv/bin/pip" install -q "bandit[sarif]==1.9.4" >&2
fi
# CI-file validators for `sluice init`: check-jsonschema (vendors the GitHub workflow and GitLab
# CI schemas) and pre-commit (validate-config / validate-manifest).
if [ ! -x "$T/venv/bin/check-jsonschema" ] || [ ! -x "$T/venv/bin/pre-commit" ]; then
  "$T/venv/bin/pip" install -q "check-jsonschema==0.39.0" "pre-commit==4.7.0" >&2
fi
if [ ! -x "$T/venv/bin/pyspdxtools" ] || ! "$T/venv/bin/python" -c "import cyclonedx.validation.json" 2>/dev/null; then
  "$T/venv/bin/pip" install -q "cyclonedx-python-lib[json-validation]==11.*" "spdx-tools==0.8.*" >&2
fi
# JSON Schema validation of the policy input (docs/policy-input.v1.schema.json).
if ! "$T/venv/bin/python" -c "import jsonschema" 2>/dev/null; then
  "$T/venv/bin/pip" install -q "jsonschema==4.25.1" >&2
fi
# Contract testing of the server's API (crates/sluice-server/tests/contract.rs).
if [ ! -x "$T/venv/bin/schemathesis" ]; then
  "$T/venv/bin/pip" install -q "schemathesis==4.32.5" >&2
fi
if [ ! -x "$T/node_modules/.bin/sarif-multitool" ]; then
  (cd "$T" && [ -f package.json ] || echo '{"private":true}' > "$T/package.json")
  (cd "$T" && npm install --no-audit --no-fund --silent @microsoft/sarif-multitool@5.7.0 >&2)
fi
# A real OpenID provider for the OIDC login tests (crates/sluice-server/tests/oidc.rs), in a
# directory of its own so its dependencies stay apart from the multitool's.
if [ ! -f "$T/node/node_modules/oidc-provider/package.json" ]; then
  mkdir -p "$T/node"
  (cd "$T/node" && [ -f package.json ] || echo '{"private":true}' > "$T/node/package.json")
  (cd "$T/node" && npm install --no-audit --no-fund --silent oidc-provider@8.8.1 >&2)
fi
# The web pages' browser tests (crates/sluice-server/tests/pages.rs): Debian's Chromium, driven
# by playwright-core (which downloads no browser of its own), in a directory of its own.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  else
    echo "install-test-tools: /usr/bin/chromium is missing (apt-get install chromium, as root)" >&2
  fi
fi
if [ ! -f "$T/browser/node_modules/playwright-core/package.json" ]; then
  mkdir -p "$T/browser"
  (cd "$T/browser" && [ -f package.json ] || echo '{"private":true}' > "$T/browser/package.json")
  (cd "$T/browser" && npm install --no-audit --no-fund --silent playwright-core@1.64.1 >&2)
fi
echo "$T"
