#!/usr/bin/env python3
"""Score secret scanners' SARIF output.

  score.py planted MANIFEST TREE OUT.json NAME=FILE.sarif...
      Recall over the planted secrets (a hit = any finding whose start line lies in the planted
      line range of the same file), decoys reported, misses per format with an example line,
      findings on neither planted nor decoy lines. Writes OUT.json and prints a summary.

  score.py planted --strip=leaked/ MANIFEST TREE OUT.json NAME=FILE.sarif...
      The same for a history scan, where the planted files were committed under `leaked/`;
      findings elsewhere (the corpus) are counted as other findings.

  score.py timing DIR OUT.json NAME...
      Aggregates DIR/hf-r<round>-NAME.json (hyperfine exports) and DIR/time-NAME-<i>.txt
      (/usr/bin/time -v): median wall time over all runs, the median of the per-round ratios to
      the first NAME, and peak RSS (max over runs).

  score.py tables BENCH_DIR
      Markdown tables from everything compare.sh wrote (for docs/benchmarks.md).

  score.py corpus ROOT OUT.json NAME=FILE.sarif...
      Finding counts per tool (all results, and distinct file:line), findings by rule; for the
      tool named `sluice` every finding with file:line. Writes OUT.json and prints a summary.
"""

import collections
import glob
import json
import os
import re
import statistics
import sys
from urllib.parse import unquote, urlparse


def results(path, root, strip=""):
    """(relpath, start line, rule id) of every result in a SARIF log; `strip` is removed from
    the front of paths that have it (history mode: planted files live under `leaked/`)."""
    root = os.path.realpath(root)
    out = []
    with open(path) as fh:
        log = json.load(fh)
    for run in log.get("runs", []):
        rules = [r.get("id") for r in run.get("tool", {}).get("driver", {}).get("rules", []) or []]
        for r in run.get("results", []) or []:
            rule = r.get("ruleId") or (rules[r["ruleIndex"]] if "ruleIndex" in r and r["ruleIndex"] < len(rules) else "?")
            locs = r.get("locations") or []
            if not locs:
                out.append(("?", 0, rule))
                continue
            pl = locs[0].get("physicalLocation", {})
            uri = pl.get("artifactLocation", {}).get("uri", "?")
            if uri.startswith("file:"):
                uri = urlparse(uri).path
            uri = unquote(uri)
            if os.path.isabs(uri):
                uri = os.path.relpath(os.path.realpath(uri), root)
            uri = uri.removeprefix("./")
            if strip:  # history mode: only paths under `strip` are planted files
                uri = uri.removeprefix(strip) if uri.startswith(strip) else "<outside>/" + uri
            out.append((uri, pl.get("region", {}).get("startLine", 0), rule))
    return out


def line_text(tree, f, n, width=150):
    try:
        with open(os.path.join(tree, f), errors="replace") as fh:
            for i, l in enumerate(fh, 1):
                if i == n:
                    l = l.rstrip("\n")
                    return l if len(l) <= width else l[:width] + "…"
    except OSError:
        pass
    return ""


def planted(manifest, tree, out_json, tools, strip=""):
    entries = [json.loads(l) for l in open(manifest)]
    by_file = collections.defaultdict(list)
    for i, e in enumerate(entries):
        by_file[e["file"]].append(i)
    pos = [i for i, e in enumerate(entries) if e["expected"]]
    neg = [i for i, e in enumerate(entries) if not e["expected"]]
    report = {"planted": len(pos), "decoys": len(neg), "formats": len({entries[i]["format"] for i in pos}), "tools": {}}
    for name, sarif in tools:
        res = results(sarif, tree, strip)
        hit = set()
        other = []
        for f, line, rule in res:
            matched = False
            for i in by_file.get(f, []):
                e = entries[i]
                if e["line"] <= line <= e["end_line"]:
                    hit.add(i)
                    matched = True
            if not matched:
                other.append({"file": f, "line": line, "rule": rule})
        tp = [i for i in pos if i in hit]
        fp = [i for i in neg if i in hit]
        per_fmt = collections.defaultdict(lambda: [0, 0])
        for i in pos:
            per_fmt[entries[i]["format"]][1] += 1
            if i in hit:
                per_fmt[entries[i]["format"]][0] += 1
        structured = [i for i in pos if entries[i]["category"] != "generic"]
        misses = {}
        for i in pos:
            if i not in hit:
                e = entries[i]
                misses.setdefault(e["format"], []).append(
                    {"file": e["file"], "line": e["line"], "context": e["context"], "text": line_text(tree, e["file"], e["line"])})
        decoys = [{"file": entries[i]["file"], "line": entries[i]["line"], "kind": entries[i]["decoy_kind"],
                   "text": line_text(tree, entries[i]["file"], entries[i]["line"])} for i in fp]
        decoy_kinds = collections.Counter(entries[i]["decoy_kind"] for i in neg)
        decoy_hit_kinds = collections.Counter(entries[i]["decoy_kind"] for i in fp)
        by_ctx = collections.defaultdict(lambda: [0, 0])
        for i in pos:
            by_ctx[entries[i]["context"]][1] += 1
            by_ctx[entries[i]["context"]][0] += i in hit
        report["tools"][name] = {
            "results": len(res),
            "recall_by_context": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_ctx.items())},
            "recall": len(tp) / len(pos),
            "hits": len(tp),
            "recall_structured": sum(1 for i in structured if i in hit) / len(structured),
            "structured": len(structured),
            "formats_fully_found": sum(1 for v in per_fmt.values() if v[0] == v[1]),
            "formats_fully_missed": sorted(k for k, v in per_fmt.items() if v[0] == 0),
            "decoys_reported": len(fp),
            "decoys_by_kind": {k: f"{decoy_hit_kinds.get(k, 0)}/{v}" for k, v in sorted(decoy_kinds.items())},
            "decoy_hits": decoys,
            "misses_by_format": {k: {"missed": len(v), "of": per_fmt[k][1], "examples": v} for k, v in sorted(misses.items())},
            "other_findings": other,
        }
    with open(out_json, "w") as fh:
        json.dump(report, fh, indent=1)
    print(f"planted set: {len(pos)} secrets in {report['formats']} formats, {len(neg)} decoys")
    print(f"{'tool':<12}{'recall':>9}{'(hits)':>10}{'structured':>12}{'formats 100%':>14}{'decoys hit':>12}{'other':>7}")
    for name, t in report["tools"].items():
        print(f"{name:<12}{t['recall']:>9.1%}{t['hits']:>10}{t['recall_structured']:>12.1%}"
              f"{t['formats_fully_found']:>8}/{report['formats']:<5}{t['decoys_reported']:>8}/{len(neg):<3}{len(t['other_findings']):>7}")
    return report


def corpus(root, out_json, tools):
    report = {"tools": {}}
    for name, sarif in tools:
        res = results(sarif, root)
        by_rule = collections.Counter(r for _, _, r in res)
        t = {"results": len(res), "locations": len({(f, l) for f, l, _ in res}), "files": len({f for f, _, _ in res}),
             "by_rule": dict(by_rule.most_common())}
        if name == "sluice":
            t["findings"] = [{"rule": r, "file": f, "line": l, "text": line_text(root, f, l, 200)} for f, l, r in sorted(res)]
        report["tools"][name] = t
    with open(out_json, "w") as fh:
        json.dump(report, fh, indent=1)
    for name, t in report["tools"].items():
        print(f"{name:<12}{t['results']:>6} results at {t['locations']} file:line in {t['files']} files; top rules: "
              + ", ".join(f"{k} {v}" for k, v in list(t["by_rule"].items())[:6]))
    return report


def timing(d, out_json, names):
    rounds = collections.defaultdict(dict)  # round -> name -> times
    for n in names:
        for f in glob.glob(os.path.join(d, f"hf-r*-{n}.json")):
            r = int(re.search(r"hf-r(\d+)-", os.path.basename(f)).group(1))
            rounds[r][n] = json.load(open(f))["results"][0]["times"]
    base = names[0]
    out = {"baseline": base, "rounds": len(rounds), "tools": {}}
    for n in names:
        times = [t for r in rounds.values() for t in r.get(n, [])]
        ratios = [statistics.median(r[n]) / statistics.median(r[base]) for r in rounds.values() if n in r and base in r]
        rss = []
        for f in sorted(glob.glob(os.path.join(d, f"time-{n}-*.txt"))):
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(f).read())
            if m:
                rss.append(int(m.group(1)) / 1024)
        out["tools"][n] = {
            "runs": len(times),
            "median_s": statistics.median(times) if times else None,
            "min_s": min(times) if times else None,
            "max_s": max(times) if times else None,
            "ratio_to_baseline": statistics.median(ratios) if ratios else None,
            "round_ratios": ratios,
            "peak_rss_mib": max(rss) if rss else None,
            "rss_runs_mib": rss,
        }
    with open(out_json, "w") as fh:
        json.dump(out, fh, indent=1)
    for n, t in out["tools"].items():
        print(f"{n:<16} median {t['median_s'] or 0:7.2f} s over {t['runs']} runs; x{t['ratio_to_baseline'] or 0:.2f} of {base}; "
              f"peak RSS {t['peak_rss_mib'] or 0:.0f} MiB")
    return out


def _load(path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except OSError:
        return None


def _scanned(c):
    """What each tool says it scanned, from the outputs compare.sh kept."""
    out = {}
    try:
        log = json.load(open(os.path.join(c, "out", "sluice.sarif")))
        p = log["runs"][0]["invocations"][0]["properties"]
        out["sluice"] = f"{p['sluice/files-scanned']} files, {p['sluice/bytes-scanned'] / 2**20:.1f} MiB " \
                        f"({p.get('sluice/binary-files-skipped', 0)} binary files skipped)"
    except (OSError, KeyError, IndexError, ValueError):
        pass
    for n in ("kingfisher", "kf_noarch"):
        try:
            t = open(os.path.join(c, f"scanned-{n}.txt")).read()
            blobs = re.search(r"blobs_scanned\"?:\s*(\d+)|Blobs Scanned\.*: ([\d,]+)", t)
            by = re.search(r"bytes_scanned\"?:\s*(\d+)|Bytes Scanned\.*: ([\d.]+ \w+)", t)
            if blobs and by:
                b = blobs.group(1) or blobs.group(2)
                v = by.group(1)
                v = f"{int(v) / 2**20:.1f} MiB" if v else by.group(2)
                out[n] = f"{b} blobs, {v}"
        except OSError:
            pass
    try:
        t = open(os.path.join(c, "scanned-gitleaks.txt")).read()
        m = re.search(r"scanned ~(\d+) bytes", t)
        if m:
            out["gitleaks"] = f"{int(m.group(1)) / 2**20:.1f} MiB (file count not reported)"
    except OSError:
        pass
    out.setdefault("trivy", "not reported")
    return out


LABEL = {"sluice": "sluice", "kingfisher": "kingfisher", "kf_noarch": "kingfisher `--no-extract-archives`",
         "gitleaks": "gitleaks", "trivy": "trivy", "sluice_git": "sluice `--history`",
         "gitleaks_git": "gitleaks `git`", "kingfisher_git": "kingfisher (full history)"}


def tables(w):
    o = []
    env = ""
    for f in ("env.txt", "corpus/info.txt", "history/info.txt"):
        if os.path.exists(os.path.join(w, f)):
            env += open(os.path.join(w, f)).read()
    o.append("```text\n" + env.strip() + "\n```\n")
    ps = _load(os.path.join(w, "planted", "score.json"))
    if ps:
        o.append(f"**Planted set**: {ps['planted']} fake credentials of {ps['formats']} formats and {ps['decoys']} decoys "
                 "(seeded; `bench/secrets/planted.py`). A hit is any finding starting on the planted line "
                 "(for a PEM block: any line of it).\n")
        o.append("| tool | recall | hits | recall without the 5 generic formats | formats fully found | decoys reported | findings elsewhere |")
        o.append("|---|---|---|---|---|---|---|")
        for n, t in ps["tools"].items():
            o.append(f"| {LABEL.get(n, n)} | **{t['recall']:.1%}** | {t['hits']}/{ps['planted']} | {t['recall_structured']:.1%} "
                     f"| {t['formats_fully_found']}/{ps['formats']} | **{t['decoys_reported']}**/{ps['decoys']} | {len(t['other_findings'])} |")
        ctxs = list(next(iter(ps["tools"].values())).get("recall_by_context", {}).keys())
        if ctxs:
            o.append("\nPlanted secrets found, by where they were planted (md-code: fenced block, md-prose: a sentence):\n")
            o.append("| tool | " + " | ".join(ctxs) + " |")
            o.append("|---|" + "---|" * len(ctxs))
            for n, t in ps["tools"].items():
                o.append(f"| {LABEL.get(n, n)} | " + " | ".join(t["recall_by_context"][k] for k in ctxs) + " |")
        kinds = list(next(iter(ps["tools"].values()))["decoys_by_kind"].keys())
        o.append("\nDecoys reported, by kind:\n")
        o.append("| tool | " + " | ".join(kinds) + " |")
        o.append("|---|" + "---|" * len(kinds))
        for n, t in ps["tools"].items():
            o.append(f"| {LABEL.get(n, n)} | " + " | ".join(t["decoys_by_kind"][k] for k in kinds) + " |")
        s = ps["tools"].get("sluice")
        if s:
            o.append("\nsluice's misses on the planted set (fake values):\n")
            o.append("| format | missed | example |")
            o.append("|---|---|---|")
            for f, m in s["misses_by_format"].items():
                ex = m["examples"][0]
                txt = ex["text"].replace("|", "\\|").replace("`", "'")
                o.append(f"| {f} | {m['missed']}/{m['of']} | `{ex['file']}:{ex['line']}` `{txt[:110]}` |")
            if s["decoy_hits"]:
                o.append("\nDecoys sluice reported:\n")
                for d in s["decoy_hits"]:
                    o.append(f"- {d['kind']}: `{d['file']}:{d['line']}` `{d['text'][:110]}`")
    ct = _load(os.path.join(w, "corpus", "timing.json"))
    cf = _load(os.path.join(w, "corpus", "findings.json"))
    if ct:
        sc = _scanned(os.path.join(w, "corpus"))
        o.append(f"\n**Corpus** (dir scan): hyperfine, {ct['rounds']} rounds in rotating order, 1 warm-up per tool per round; "
                 "ratio = median over rounds of (tool median / sluice median) in the same round. Peak RSS: max of the "
                 "`/usr/bin/time -v` runs.\n")
        o.append("| tool | median wall | runs | × sluice | peak RSS | scanned (tool's own count) | results | distinct file:line |")
        o.append("|---|---|---|---|---|---|---|---|")
        for n, t in ct["tools"].items():
            f = (cf or {}).get("tools", {}).get(n, {})
            o.append(f"| {LABEL.get(n, n)} | {t['median_s']:.2f} s | {t['runs']} | {t['ratio_to_baseline']:.2f} "
                     f"| {t['peak_rss_mib']:.0f} MiB | {sc.get(n, '')} | {f.get('results', '')} | {f.get('locations', '')} |")
        if cf:
            o.append("\nFindings on the corpus by rule:\n")
            for n, t in cf["tools"].items():
                o.append(f"- {LABEL.get(n, n)}: " + (", ".join(f"`{k}` {v}" for k, v in t["by_rule"].items()) or "none"))
            sl = cf["tools"].get("sluice", {}).get("findings", [])
            o.append(f"\nsluice's corpus findings ({len(sl)}):" + ("" if sl else " none."))
            for x in sl:
                o.append(f"- `{x['rule']}` `{x['file']}:{x['line']}`")
    ht = _load(os.path.join(w, "history", "timing.json"))
    hs = _load(os.path.join(w, "history", "score.json"))
    if ht:
        o.append(f"\n**History**: the corpus committed in 3000 commits with the planted files added and deleted 25 commits "
                 f"later (`bench/secrets/history_repo.py`); {ht['tools'][ht['baseline']]['runs']} runs after a warm-up. "
                 "Recall is over the planted secrets, which are only in history.\n")
        o.append(f"| tool | median wall | × {LABEL.get(ht['baseline'], ht['baseline'])} | peak RSS | planted recall | decoys reported | findings outside the planted files |")
        o.append("|---|---|---|---|---|---|---|")
        for n, t in ht["tools"].items():
            h = (hs or {}).get("tools", {}).get(n, {})
            o.append(f"| {LABEL.get(n, n)} | {t['median_s']:.1f} s | {t['ratio_to_baseline']:.2f} | {t['peak_rss_mib']:.0f} MiB "
                     f"| {h.get('recall', 0):.1%} | {h.get('decoys_reported', '')} | {len(h.get('other_findings', []))} |")
    print("\n".join(o))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    mode = sys.argv[1]
    if mode == "planted":
        args = sys.argv[2:]
        strip = ""
        if args[0].startswith("--strip="):
            strip = args.pop(0).split("=", 1)[1]
        manifest, tree, out = args[:3]
        tools = [a.split("=", 1) for a in args[3:]]
        planted(manifest, tree, out, tools, strip)
    elif mode == "timing":
        timing(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif mode == "tables":
        tables(sys.argv[2])
    elif mode == "corpus":
        root, out = sys.argv[2:4]
        tools = [a.split("=", 1) for a in sys.argv[4:]]
        corpus(root, out, tools)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
