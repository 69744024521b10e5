#!/usr/bin/env python3
"""Writes the input of the server-decisions benchmark (issue 18): a 50,000-result SARIF log of
several stages and a signed decision set of 100,000 decisions, cached as `sluice run` caches it.

Log (`results.sarif`, seeded): 30,000 SAST results (300 rules over 3,000 files), 4,000 secrets,
12,000 dependency results (properties as `sluice scan deps` writes them: advisory id, aliases,
purl, package, version, ecosystem, fixed versions) and 4,000 container results (Debian packages).
Every result has a `sluice/v1` fingerprint.

Decision set (`root/.sluice/cache/decision-set.json`, a DSSE envelope signed with Ed25519 like
the server's, payload shape of `GET /projects/{p}/decision-set`; `root/server-key.pem` is the
key to pin):
- 70,000 finding decisions by fingerprint: 40,000 of results in the log (1,000 of them a second,
  newer decision about the same finding), 30,000 of findings not in it (fixed, other branches);
- 20,000 rule decisions with path globs, half the project's and half organisation-wide;
- 10,000 advisory decisions (by advisory id, or by a CVE alias), half organisation-wide;
- 5,000 of all of them expired; statuses false_positive / accepted_risk / mitigated / confirmed.

usage: gen_server_decisions.py OUT_DIR [RESULTS=50000] [DECISIONS=100000]
"""
import base64
import hashlib
import json
import os
import random
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

out = sys.argv[1]
n_results = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
n_decisions = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
root = os.path.join(out, "root")
os.makedirs(os.path.join(root, ".sluice", "cache"), exist_ok=True)
rnd = random.Random(18)
PROJECT = "bench"

n_sast = n_results * 60 // 100
n_secrets = n_results * 8 // 100
n_deps = n_results * 24 // 100
n_container = n_results - n_sast - n_secrets - n_deps


def fp():
    return f"{rnd.getrandbits(128):032x}:1"


def loc(uri, line):
    return [{"physicalLocation": {
        "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": line, "startColumn": 5, "endLine": line, "endColumn": 40},
    }}]


def rules_of(prefix, n):
    return [{
        "id": f"{prefix}{r:03}", "name": f"{prefix}Rule{r}",
        "shortDescription": {"text": f"Rule {r}"},
        "fullDescription": {"text": "What the rule finds and why it matters. " * 3},
        "help": {"text": "How to fix it."},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["security", f"external/cwe/cwe-{79 + r % 50}"],
                       "security-severity": f"{(r % 10) + 0.5:.1f}"},
    } for r in range(n)]


def sast_path(k):
    return f"src/pkg{k % 30}/mod{(k // 30) % 10}/file{k % 97}.py"


sast = []
for k in range(n_sast):
    r = rnd.randrange(300)
    line = rnd.randrange(1, 2000)
    res = {"ruleId": f"S{r:03}", "level": "warning",
           "message": {"text": f"Finding {k}: user input reaches call_{k % 311}"},
           "locations": loc(sast_path(rnd.randrange(3000)), line),
           "partialFingerprints": {"sluice/v1": fp()},
           "properties": {"sluice/stage": "sast", "sluice/cwe": [f"CWE-{79 + r % 50}"]}}
    res["locations"][0]["physicalLocation"]["region"]["snippet"] = {"text": f"    call_{k % 311}(user_input)\n"}
    sast.append(res)
secrets = []
for k in range(n_secrets):
    r = rnd.randrange(40)
    secrets.append({"ruleId": f"K{r:03}", "level": "error",
                    "message": {"text": f"A credential of kind {r} (redacted)"},
                    "locations": loc(f"config/env{k % 200}/settings{k % 13}.yaml", rnd.randrange(1, 300)),
                    "partialFingerprints": {"sluice/v1": fp()},
                    "properties": {"sluice/stage": "secrets", "sluice/redacted": True}})


def dep_result(k, stage, eco, purl_type, pkg, version, adv, aliases):
    purl = f"pkg:{purl_type}/{pkg}@{version}"
    props = {"sluice/stage": stage, "sluice/advisory-kind": "vulnerability", "sluice/advisory": adv,
             "sluice/aliases": aliases, "sluice/cwe": ["CWE-400"], "sluice/purl": purl, "sluice/package": pkg,
             "sluice/package-version": version, "sluice/ecosystem": eco,
             "sluice/fixed-versions": [f"{version.split('.')[0]}.99.0"], "sluice/relationship": "transitive",
             "security-severity": f"{rnd.randrange(10)}.{rnd.randrange(10)}", "sluice/severity-source": "cvss-v3"}
    return {"ruleId": adv, "level": "error", "message": {"text": f"{adv} in {pkg}@{version}"},
            "locations": loc("package-lock.json" if stage == "deps" else "Dockerfile", k % 5000 + 1),
            "partialFingerprints": {"sluice/v1": fp()}, "properties": props}


# Advisories: 2,000 GHSA ids, each with a CVE alias; packages: 1,500 npm, 500 Debian.
advisories = [(f"GHSA-{a:04x}-{(a * 7919) % 65536:04x}-bnch", f"CVE-2025-{10000 + a}") for a in range(2000)]
deps = []
for k in range(n_deps):
    pkg = f"p{k % 1500}"
    adv, cve = advisories[(k * 13) % 2000]
    deps.append(dep_result(k, "deps", "npm", "npm", pkg, f"{1 + k % 3}.{rnd.randrange(10)}.{rnd.randrange(10)}", adv, [cve]))
container = []
for k in range(n_container):
    pkg = f"libdeb{k % 500}"
    adv, cve = advisories[(k * 31) % 2000]
    container.append(dep_result(k, "container", "Debian:12", "deb/debian", pkg, f"{2 + k % 2}.{k % 7}.1", cve, [adv]))


def run(stage, name, rules, results):
    return {"tool": {"driver": {"name": name, "rules": rules}}, "automationDetails": {"id": f"sluice/{stage}/"},
            "invocations": [{"executionSuccessful": True}], "results": results}


log = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [
    run("sast", "sluice-sast", rules_of("S", 300), sast),
    run("secrets", "sluice-secrets", rules_of("K", 40), secrets),
    run("deps", "sluice-deps", [], deps),
    run("container", "sluice-container", [], container),
]}
with open(os.path.join(out, "results.sarif"), "w") as f:
    json.dump(log, f)

# Decisions.
STATUSES = ["false_positive", "accepted_risk", "mitigated", "confirmed"]
expired = set(rnd.sample(range(n_decisions), n_decisions // 20))
decisions = []


def decision(scope, project, **sel):
    i = len(decisions)
    status = rnd.choice(STATUSES)
    d = {"id": i + 1, "project": project, "scope": scope, "fingerprint": None, "rule": None, "path": None,
         "advisory": None, "package": None, "stage": None, "status": status,
         "vex_justification": "vulnerable_code_not_in_execute_path" if scope == "advisory" and status == "mitigated" else None,
         "reason": f"benchmark decision {i}: reviewed, see the ticket",
         "expires": "2025-06-30" if i in expired else ("2099-01-01" if i % 3 == 0 else None),
         "severity": "high" if i % 4 == 0 else "medium", "required_role": "security" if i % 4 == 0 else "champion",
         "state": "approved", "proposed_by": f"user:dev{i % 50}", "proposed_at": "2026-11-01T10:00:00Z",
         "decided_by": f"user:sec{i % 5}", "decided_role": "security", "decided_at": "2026-11-02T10:00:00Z",
         "note": None}
    d.update(sel)
    decisions.append(d)


n_fp = n_decisions * 70 // 100
n_rule = n_decisions * 20 // 100
n_adv = n_decisions - n_fp - n_rule
findings = sast + secrets + deps + container
n_hit = n_fp * 4 // 7
for r in rnd.sample(findings, n_hit - n_hit // 40):
    decision("finding", PROJECT, fingerprint=r["partialFingerprints"]["sluice/v1"])
for r in rnd.sample(findings, n_hit // 40):  # a second decision about a finding
    decision("finding", PROJECT, fingerprint=r["partialFingerprints"]["sluice/v1"])
while len(decisions) < n_fp:
    decision("finding", PROJECT, fingerprint=fp())
GLOBS = ["src/pkg{a}/**", "src/pkg{a}/mod{b}/**", "**/file{c}.py", "src/pkg{a}/mod{b}/file{c}.py", "config/env{d}/**", "**"]
for i in range(n_rule):
    g = rnd.choice(GLOBS).format(a=rnd.randrange(30), b=rnd.randrange(10), c=rnd.randrange(97), d=rnd.randrange(200))
    rule = f"K{rnd.randrange(40):03}" if g.startswith("config") else f"S{rnd.randrange(300):03}"
    decision("rule", PROJECT if i % 2 else None, rule=rule, path=g)
for i in range(n_adv):
    adv, cve = advisories[rnd.randrange(2000)]
    pkg = f"p{rnd.randrange(1500)}" if i % 4 else f"libdeb{rnd.randrange(500)}"
    decision("advisory", PROJECT if i % 2 else None, advisory=cve if i % 3 == 0 else adv.lower() if i % 3 == 1 else adv, package=pkg)

# Sign it as the server does: DSSE, Ed25519 over the PAE of type and payload.
# As the server writes a decision set: the fields without a value left out.
decisions = [{k: v for k, v in d.items() if v is not None} for d in decisions]
payload = json.dumps({"_type": "https://github.com/sluice-sec/sluice/decision-set/v1", "project": PROJECT,
                      "issued_at": os.environ.get("ISSUED_AT", "2026-12-07T00:00:00Z"), "decisions": decisions},
                     separators=(",", ":")).encode()
ptype = "application/vnd.sluice.decisions+json"
key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"sluice-bench").digest())
pae = f"DSSEv1 {len(ptype)} {ptype} {len(payload)} ".encode() + payload
der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
envelope = {"payloadType": ptype, "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": "sha256:" + hashlib.sha256(der).hexdigest(),
                            "sig": base64.b64encode(key.sign(pae)).decode()}]}
cache = {"server": "https://sluice.example", "project": PROJECT, "etag": '"bench"',
         "fetched_at": "2026-12-07T00:00:00Z", "envelope": envelope}
with open(os.path.join(root, ".sluice", "cache", "decision-set.json"), "w") as f:
    json.dump(cache, f, indent=2)
with open(os.path.join(root, "server-key.pem"), "wb") as f:
    f.write(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
print(f"{len(findings)} results, {len(decisions)} decisions ({len(expired)} expired), payload {len(payload)} bytes",
      file=sys.stderr)
