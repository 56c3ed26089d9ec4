"""Fold the per-model records into the line-level ground truth.

`ground_truth.json`:
- `meta`: library versions, harness commit, collection wall time, counts.
- `models`: per model, its family and the outcome per target (ok / warn / diverge / error /
  not-run) even when clean, plus why a step did not finish.
- `lines`: one entry per (file, line, target): `kinds` (warning: a TracerWarning whose innermost
  library frame is this line; error: the capture failed here; divergence: eager took another
  Python decision here on an input where the captured model diverged or failed; specialised:
  export replaced the dynamic batch by a constant here), up to three distinct torch messages, and
  the models (indices into `model_ids`).
- `script_classes`: every library class that was scripted on its own (one instance per class
  per model): ok everywhere or not, its line range, and the line ranges of the methods
  TorchScript compiled when it succeeded.
- `unlocated`: failures torch reported with no library line (per model and target).
`coverage.json`: per file, the lines some model's eager forward executed (on the example input,
first and second call), as ranges.
"""
from __future__ import annotations

import glob
import json
import os
import subprocess
from collections import defaultdict

from envs import HERE

MESSAGES_PER_LINE = 3


def parse_ranges(text: str) -> set[int]:
    out: set[int] = set()
    for part in filter(None, text.split(",")):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


def ranges(lines) -> str:
    """`1-3,7,9-10` for {1,2,3,7,9,10} (the inverse of parse_ranges)."""
    out, start, prev = [], None, None
    for n in sorted(lines):
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if prev != start else str(start))
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else str(start))
    return ",".join(out)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=HERE).stdout.strip()
    except OSError:
        return ""


def _outcome(record: dict, target: str) -> str:
    section = record.get(target)
    step = record.get("steps", {}).get("script" if target == "script" else target, "")
    if not section or not section.get("outcome"):
        return f"not-run ({step})" if step and step != "done" else "not-run"
    return section["outcome"]


def load_records(runs: str) -> list[dict]:
    records = []
    for path in sorted(glob.glob(os.path.join(runs, "*", "*.json"))):
        if os.path.basename(os.path.dirname(path)) == "data":   # the derived ground truth itself
            continue
        try:
            with open(path) as fh:
                records.append(json.load(fh))
        except (OSError, ValueError):
            continue
    return records


def build(runs: str, collection: dict | None = None) -> tuple[dict, dict]:
    records = [r for r in load_records(runs) if r.get("id") and r.get("finished_any")]   # not one still running
    model_ids = sorted(r["id"] for r in records)
    index = {m: i for i, m in enumerate(model_ids)}
    lines: dict[tuple[str, int, str], dict] = {}
    unlocated = []
    classes: dict[str, dict] = {}
    coverage: dict[str, set[int]] = defaultdict(set)
    models = {}
    versions: dict[str, dict] = {}

    def add(target: str, kind: str, loc: dict | None, message: str, model: str) -> None:
        if not loc or not loc.get("path") or not loc.get("line") or loc["path"].startswith("/"):
            unlocated.append({"model": model, "target": target, "kind": kind, "message": message[:200]})
            return
        key = (loc["path"], int(loc["line"]), target)
        entry = lines.setdefault(key, {"path": key[0], "line": key[1], "target": target, "kinds": set(),
                                       "messages": [], "models": set(), "how": set()})
        entry["kinds"].add(kind)
        entry["models"].add(index[model])
        if loc.get("how"):
            entry["how"].add(loc["how"])
        message = message[:200]
        if message not in entry["messages"] and len(entry["messages"]) < MESSAGES_PER_LINE:
            entry["messages"].append(message)

    for r in records:
        mid = r["id"]
        for name, value in (r.get("versions") or {}).items():
            versions.setdefault(r.get("zoo", r.get("family")), {})[name] = value
        for path, text in (r.get("coverage") or {}).items():
            if not path.startswith("/"):
                coverage[path] |= parse_ranges(text)
        problems = {s: v for s, v in r.get("steps", {}).items() if v != "done"}
        models[mid] = {"family": r.get("family") or r.get("zoo"), "params": r.get("parameters"),
                       "trace": _outcome(r, "trace"), "script": _outcome(r, "script"),
                       "export": _outcome(r, "export"), "seconds": r.get("wall_seconds")}
        if problems:
            models[mid]["problems"] = problems
        for key in ("killed", "crashed"):
            if r.get(key):
                models[mid][key] = r[key][:300]
        trace = r.get("trace") or {}
        for w in trace.get("warnings", []):
            if w.get("category") == "TracerWarning":
                where = w.get("location")
                if where and w.get("via"):
                    where = dict(where, how=f"inside torch: {w['via']}")
                elif where:
                    where = dict(where, how="direct" if r.get("probe_version", 1) >= 2 else "direct?")
                add("trace", "warning", where, w["message"], mid)   # no library frame: unlocated
        if trace.get("error"):
            add("trace", "error", trace["error"].get("location"), trace["error"]["message"], mid)
        for vname, v in (trace.get("variants") or {}).items():
            if v.get("result") in ("diverge", "error"):
                sites = v.get("sites") or []
                for site in sites:
                    add("trace", "divergence", site,
                        f"traced model {'diverged' if v['result'] == 'diverge' else 'failed'} on variant {vname} "
                        f"({(v.get('detail') or v.get('message') or '')[:80]}); eager {site['how']} differs here", mid)
                if not sites:
                    unlocated.append({"model": mid, "target": "trace", "kind": "divergence",
                                      "message": f"variant {vname}: {(v.get('detail') or v.get('message') or '')[:150]}"})
        script = r.get("script") or {}
        if script.get("error"):
            add("script", "error", script["error"].get("location"), script["error"]["message"], mid)
        for vname, v in (script.get("variants") or {}).items():
            if v.get("result") in ("diverge", "error"):
                unlocated.append({"model": mid, "target": "script", "kind": "divergence",
                                  "message": f"variant {vname}: {(v.get('detail') or v.get('message') or '')[:150]}"})
        for cname, c in (r.get("script_classes") or {}).items():
            key = f"{c['path']}::{cname}"
            entry = classes.setdefault(key, {"path": c["path"], "start": c["start"], "end": c["end"],
                                             "ok": 0, "error": 0, "models": set(), "methods": set()})
            entry["models"].add(index[mid])
            if c.get("outcome") == "ok":
                entry["ok"] += 1
                for m in c.get("methods", []):
                    entry["methods"].add((m["path"], m["start"], m["end"], m["name"]))
            elif c.get("outcome") == "error":
                entry["error"] += 1
                add("script", "error", c.get("location"), c.get("message", ""), mid)
        export = r.get("export") or {}
        if export.get("error"):
            add("export", "error", export["error"].get("location"), export["error"]["message"], mid)
            for site in export.get("specialised") or []:
                add("export", "specialised", site, "export specialised the dynamic batch to a constant here", mid)
        for vname, v in (export.get("variants") or {}).items():
            if v.get("result") in ("diverge", "error"):
                unlocated.append({"model": mid, "target": "export", "kind": "divergence",
                                  "message": f"variant {vname}: {(v.get('detail') or v.get('message') or '')[:150]}"})

    out_lines = []
    for key in sorted(lines):
        e = lines[key]
        out_lines.append({"path": e["path"], "line": e["line"], "target": e["target"], "kinds": sorted(e["kinds"]),
                          "how": sorted(e["how"]), "messages": e["messages"], "models": sorted(e["models"])})
    out_classes = {}
    for key in sorted(classes):
        c = classes[key]
        out_classes[key] = {"path": c["path"], "start": c["start"], "end": c["end"],
                            "outcome": "ok" if c["ok"] and not c["error"] else ("error" if not c["ok"] else "mixed"),
                            "ok": c["ok"], "error": c["error"], "models": sorted(c["models"]),
                            "methods": [list(m) for m in sorted(c["methods"])]}
    families = defaultdict(int)
    for m in models.values():
        families[m["family"]] += 1
    meta = {"harness_commit": _commit(), "versions": versions, "models_per_family": dict(sorted(families.items())),
            "collection": collection or {}, "line_matching": "scorer: a finding within +-1 line of a ground-truth line"}
    truth = {"meta": meta, "model_ids": model_ids, "models": models, "lines": out_lines,
             "script_classes": out_classes, "unlocated": unlocated}
    cov = {"files": {path: ranges(lines_) for path, lines_ in sorted(coverage.items())}}
    return truth, cov


def write(truth: dict, cov: dict, out_dir: str) -> None:
    """Write both files, one ground-truth line or class per text line (small diffs in review)."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "ground_truth.json"), "w") as fh:
        fh.write("{\n")
        keys = list(truth)
        for i, key in enumerate(keys):
            value = truth[key]
            fh.write(f" {json.dumps(key)}: ")
            if isinstance(value, list):
                fh.write("[\n" + ",\n".join("  " + json.dumps(v, separators=(",", ":")) for v in value) + "\n ]")
            elif isinstance(value, dict) and key in ("models", "script_classes"):
                fh.write("{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}"
                                             for k, v in value.items()) + "\n }")
            else:
                fh.write(json.dumps(value, indent=1).replace("\n", "\n "))
            fh.write(",\n" if i < len(keys) - 1 else "\n")
        fh.write("}\n")
    with open(os.path.join(out_dir, "coverage.json"), "w") as fh:
        fh.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in cov["files"].items()) + "\n}\n")


def read(data_dir: str) -> tuple[dict, dict[str, set[int]]]:
    with open(os.path.join(data_dir, "ground_truth.json")) as fh:
        truth = json.load(fh)
    with open(os.path.join(data_dir, "coverage.json")) as fh:
        cov = {path: parse_ranges(text) for path, text in json.load(fh).items()}
    return truth, cov
