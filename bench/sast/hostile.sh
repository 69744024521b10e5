#!/usr/bin/env bash
# Hostile inputs for the SAST stage (docs/benchmarks.md, "SAST"): a file that does not parse,
# a 20 MB minified JavaScript bundle (and the same bundle split into lines), deeply nested
# JavaScript, Python, Go, Java, Rust, Ruby and PHP, non-UTF-8 bytes. Each must be reported (a notification in the SARIF
# run) and skipped or scanned, with no panic and no hang. Runs once with the default limits and
# once with the size limit raised to 32 MiB, so the bundles reach the minified-file check and
# the per-file deadline.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-/tmp/sluice-bench-sast-hostile}
(cd "$ROOT" && cargo build --release -q -p sluice)
SLUICE="${CARGO_TARGET_DIR:-$ROOT/target}/release/sluice"
rm -rf "$OUT"
mkdir -p "$OUT/repo"
python3 - "$OUT/repo" <<'EOF'
import os, sys
root = sys.argv[1]
def write(name, data):
    with open(os.path.join(root, name), "wb") as f:
        f.write(data)
# Does not parse: Python 2 print statements and a broken definition, with a real finding.
write("broken.py", b"import os\nprint 'hello'\ndef f(:\n    pass\nos.system('rm -rf ' + path)\n")
# 20 MB of minified JavaScript on one line, with an eval that is not constant.
chunk = b"var a=function(b){return b*2},c=[1,2,3].map(a);"
bundle = chunk * (20 * 1024 * 1024 // len(chunk)) + b"eval(location.hash.slice(1));\n"
write("bundle.min.js", bundle)
# The same bundle split into lines, so that only parsing and the per-file deadline apply.
write("bundle-lines.js", bundle.replace(b";", b";\n"))
# Deeply nested: 50,000 levels of brackets and of parentheses.
write("deep.js", b"eval(" + b"[\n" * 50000 + b"x" + b"]\n" * 50000 + b");\n")
write("deep.py", b"x = eval(" + b"(\n" * 50000 + b"y" + b")\n" * 50000 + b")\n")
# Not UTF-8: Latin-1 and stray bytes around a real finding.
write("latin1.py", b"# caf\xe9 \xff\xfe\nimport os\nos.system('ls ' + d)\n")
# The other shipped languages: deep nesting in Go, Java, Rust, Ruby and PHP (each holding the
# words a rule needs, so that it is parsed), Java that does not parse, non-UTF-8 PHP.
call = b'exec.Command("sh", "-c", y)'
write("deep.go", b'package main\nimport "os/exec"\nvar x = ' + b"(" * 50000 + call + b")" * 50000 + b"\n")
write("Deep.java", b'class D { Object x = ' + b"(" * 50000 + b'Runtime.getRuntime().exec("ls " + y)' + b")" * 50000 + b"; }\n")
write("deep.rs", b"fn f() { let x = " + b"[" * 50000 + b"b.danger_accept_invalid_certs(true)" + b"]" * 50000 + b"; }\n")
write("deep.rb", b"x = " + b"[" * 50000 + b'system("ls #{y}")' + b"]" * 50000 + b"\n")
write("deep.php", b"<?php\n$x = " + b"(" * 50000 + b"system('ls ' . $y)" + b")" * 50000 + b";\n")
write("Broken.java", b'class B { void f( { Runtime.getRuntime().exec("ls " + x); }\n')
write("latin1.php", b"<?php\n// caf\xe9\nsystem('ls ' . $_GET['d']);\n")
EOF
ls -la "$OUT/repo"
run() {
  echo "== $1"
  /usr/bin/time -f "wall %e s, peak %M KiB, exit %x" "$SLUICE" scan sast "$OUT/repo" > "$OUT/$2.sarif" || true
  python3 - "$OUT/$2.sarif" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
inv = run["invocations"][0]
print("executionSuccessful:", inv["executionSuccessful"], "|", inv["properties"])
for n in inv["toolExecutionNotifications"]:
    print("  note:", n["message"]["text"])
for r in run["results"]:
    loc = r["locations"][0]["physicalLocation"]
    print("  finding:", r["ruleId"], loc["artifactLocation"]["uri"], loc["region"]["startLine"])
EOF
}
run "default limits (2 MiB per file)" default
printf '[stages.sast]\nmax_file_size = 33554432\n' > "$OUT/repo/sluice.toml"
run "max_file_size = 32 MiB" raised
