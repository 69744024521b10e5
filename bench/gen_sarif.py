#!/usr/bin/env python3
"""Writes N SARIF logs of M results each, shaped like real tool output (rules with metadata,
regions with snippets, properties, code-scanning fields), for the merge benchmark.

usage: gen_sarif.py OUT_DIR [N=20] [M=25000]
"""
import json
import os
import random
import sys

out, n, m = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20, int(sys.argv[3]) if len(sys.argv) > 3 else 25000
os.makedirs(out, exist_ok=True)
for i in range(n):
    rnd = random.Random(i)
    rules = [
        {
            "id": f"T{i}-R{r:03}",
            "name": f"Rule{r}",
            "shortDescription": {"text": f"Rule {r} of tool {i}"},
            "fullDescription": {"text": "A longer description of what the rule finds and why it matters. " * 3},
            "help": {"text": "How to fix it.", "markdown": "**How** to fix it."},
            "helpUri": f"https://example.com/tool{i}/rules/{r}",
            "defaultConfiguration": {"level": "warning"},
            "properties": {"tags": ["security", f"external/cwe/cwe-{79 + r}"], "precision": "high", "security-severity": f"{(r % 10) + 0.5:.1f}"},
        }
        for r in range(100)
    ]
    results = []
    for k in range(m):
        r = rnd.randrange(100)
        line = rnd.randrange(1, 2000)
        results.append({
            "ruleId": rules[r]["id"],
            "ruleIndex": r,
            "level": rnd.choice(["error", "warning", "note"]),
            "message": {"text": f"Finding {k}: something suspicious in function handler_{k % 977}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f"src/module_{k % 1500}/file_{k % 37}.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": line, "startColumn": 5, "endLine": line, "endColumn": 42,
                           "snippet": {"text": f"    result = call_{k % 311}(user_input, flag=True)\n"}},
            }}],
            "partialFingerprints": {"primaryLocationLineHash": f"{rnd.getrandbits(64):016x}:1"},
            "properties": {"confidence": rnd.choice(["high", "medium", "low"])},
        })
    log = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": f"tool{i}", "version": "1.0.0", "rules": rules}}, "results": results}]}
    with open(os.path.join(out, f"tool{i:02}.sarif"), "w") as f:
        json.dump(log, f)
