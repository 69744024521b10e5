#!/usr/bin/env bash
# Installs the real external tools the test suite runs: bandit (PyPI, a SARIF-emitting stage),
# Microsoft's SARIF Multitool (npm, the validator), and the SBOM validators: CycloneDX's own
# Python library with its JSON schemas, and SPDX's spdx-tools (pyspdxtools). Idempotent;
# prints the tools dir.
set -euo pipefail
T=${SLUICE_TOOLS:-/tmp/sluice-tools}
mkdir -p "$T"
if [ ! -x "$T/venv/bin/bandit" ]; then
  python3 -m venv "$T/venv"
  "$T/venv/bin/pip" install -q "bandit[sarif]==1.9.4" >&2
fi
if [ ! -x "$T/venv/bin/pyspdxtools" ] || ! "$T/venv/bin/python" -c "import cyclonedx.validation.json" 2>/dev/null; then
  "$T/venv/bin/pip" install -q "cyclonedx-python-lib[json-validation]==11.*" "spdx-tools==0.8.*" >&2
fi
if [ ! -x "$T/node_modules/.bin/sarif-multitool" ]; then
  (cd "$T" && [ -f package.json ] || echo '{"private":true}' > "$T/package.json")
  (cd "$T" && npm install --no-audit --no-fund --silent @microsoft/sarif-multitool@5.7.0 >&2)
fi
echo "$T"
