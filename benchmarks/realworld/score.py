"""Score tracelint against the ground truth, as a new user would run it: `tracelint --format json
--exit-zero --target trace,script,export` over the installed package folders (one run per
library, from site-packages so that paths match the ground truth).

Matching: a finding matches a ground-truth line of target T when it counts for T (its
`targets[T].outcome` is fail or warn), is in the same file, and the ground-truth line lies within
its span widened by one line on each side (`line - 1 .. end_line + 1`; spans longer than 6 lines
count from their first line only).

Figures per library:
- recall per target: ground-truth lines with a matching finding / ground-truth lines.
- precision (a), trace: claims of the always-warning kinds (TL101-TL103, TL2xx, TL301-TL305) that
  count for trace and sit on executed lines (some model's eager forward ran a line of the span);
  a claim is supported by a TracerWarning within +-1 line, or, failing that, by a line where eager
  took another decision on an input on which the traced model diverged (a silent hazard);
  precision = supported / claims (the warning-only figure is printed too).
- precision (b), script: script-fail claims inside a library class that was scripted on its own
  (its line range) or next to a script error; a claim is refuted when it lies in a method that
  TorchScript compiled for a class that scripted cleanly in every model; precision = 1 - refuted /
  those claims (confirmed: next to a line where script failed).
- findings per 1,000 non-executed lines: findings on lines no model's forward executed, per 1,000
  code lines (not blank, not only a comment) that no model executed, in the linted files.
"""
from __future__ import annotations

import bisect
import concurrent.futures
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict

import envs
import groundtruth

TARGETS = ("trace", "script", "export")
LIBRARY_VENV = {"torchvision": "tv", "timm": "tv", "transformers": "hf", "diffusers": "hf"}
SAMPLE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample")   # the smoke test's library
ALWAYS_WARNING = {"TL101", "TL102", "TL103", "TL301", "TL302", "TL303", "TL304", "TL305"}
KINDS = ("warning", "error", "divergence", "specialised")
MAX_SPAN = 6


def is_always_warning(code: str) -> bool:
    return code in ALWAYS_WARNING or code.startswith("TL2")


def counts_for(finding: dict, target: str) -> bool:
    return (finding.get("targets", {}).get(target) or {}).get("outcome") in ("fail", "warn")


def span(finding: dict) -> tuple[int, int]:
    line = int(finding["line"])
    end = int(finding.get("end_line") or line)
    return line, end if end - line < MAX_SPAN else line


def site_packages(venv: str) -> str:
    python = envs.VENVS[venv].python
    out = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def lint_paths(library: str, truth: dict, coverage: dict[str, set[int]], root: str) -> list[str]:
    """torchvision and timm: the whole package. transformers: the model folders the collection
    covers, plus every other file a model executed or torch reported. diffusers: its `models`
    package plus every other file a model executed or torch reported."""
    if library in ("torchvision", "timm", "rwsample"):
        return [library]
    touched = {p for p in coverage if p.startswith(library + "/")}
    touched |= {g["path"] for g in truth["lines"] if g["path"].startswith(library + "/")}
    touched |= {c["path"] for c in truth["script_classes"].values() if c["path"].startswith(library + "/")}
    paths = set()
    folder = f"{library}/models/"
    for path in touched:
        if library == "transformers" and path.startswith(folder) and path.count("/") >= 3:
            paths.add("/".join(path.split("/")[:3]))
        elif library == "diffusers" and path.startswith(folder):
            paths.add(f"{library}/models")
        elif os.path.exists(os.path.join(root, path)):
            paths.add(path)
    if library == "diffusers":
        paths.add(f"{library}/models")
    # drop files inside a folder already listed
    folders = sorted(p for p in paths if not p.endswith(".py"))
    return sorted(p for p in paths if p.endswith(".py") and not any(p.startswith(f + "/") for f in folders)) + folders


def python_files(root: str, paths: list[str]) -> list[str]:
    out = []
    for path in paths:
        full = os.path.join(root, path)
        if os.path.isfile(full):
            out.append(path)
            continue
        for base, dirs, files in os.walk(full):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            out.extend(os.path.relpath(os.path.join(base, f), root) for f in sorted(files) if f.endswith(".py"))
    return out


def code_lines(path: str) -> list[int]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return [i for i, text in enumerate(fh, 1) if text.strip() and not text.strip().startswith("#")]
    except OSError:
        return []


def tracelint_identity(command: list[str]) -> dict:
    """The version the tool prints and, when it runs from a git checkout, the commit."""
    info = {"command": " ".join(command)}
    try:
        text = subprocess.run(command + ["--version"], capture_output=True, text=True, timeout=120).stdout.strip()
        info["version"] = text.split("version")[-1].strip(" ,:") if "version" in text else text
    except (OSError, subprocess.SubprocessError):
        info["version"] = "unknown"
    python = None
    exe = shutil.which(command[0]) or command[0]
    if os.path.basename(exe).startswith("python"):
        python = exe
    else:
        try:
            with open(exe, "rb") as fh:
                first = fh.readline().decode(errors="replace").strip()
            if first.startswith("#!"):
                python = first[2:].split()[0]
        except OSError:
            pass
    if python:
        where = subprocess.run([python, "-c", "import tracelint, os; print(os.path.dirname(os.path.abspath(tracelint.__file__)))"],
                               capture_output=True, text=True).stdout.strip()
        if where:
            info["package"] = where
            head = subprocess.run(["git", "-C", where, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
            if head.returncode == 0:
                dirty = subprocess.run(["git", "-C", where, "status", "--porcelain", "--", "."],
                                       capture_output=True, text=True).stdout.strip()
                info["commit"] = head.stdout.strip() + ("+dirty" if dirty else "")
                tree = subprocess.run(["git", "-C", where, "rev-parse", "HEAD:./"], capture_output=True, text=True)
                if tree.returncode == 0 and not dirty:
                    info["tree"] = tree.stdout.strip()[:12]   # the package's own source: the lint cache key
    return info


def cached_lint(command: list[str], extra: list[str], root: str, paths: list[str], identity: dict,
                cache_dir: str | None) -> tuple[dict, float]:
    """Run tracelint, or reuse the report of the same command, package source tree and paths (`--reuse-lint`: to
    re-score a new ground truth without linting again; never for a tool with uncommitted changes)."""
    key = hashlib.sha256(json.dumps([command, extra, root, paths, identity.get("tree"),
                                     identity.get("version")]).encode()).hexdigest()[:20]
    reusable = cache_dir and identity.get("tree")
    path = os.path.join(cache_dir, key + ".json") if reusable else None
    if path and os.path.exists(path):
        with open(path) as fh:
            saved = json.load(fh)
        return saved["report"], saved["seconds"]
    report, seconds = run_tracelint(command, extra, root, paths)
    if path:
        os.makedirs(cache_dir, exist_ok=True)
        with open(path, "w") as fh:
            json.dump({"report": report, "seconds": seconds}, fh)
    return report, seconds


def run_tracelint(command: list[str], extra: list[str], root: str, paths: list[str]) -> tuple[dict, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "findings.json")
        cmd = command + ["--format", "json", "--exit-zero", "--target", ",".join(TARGETS), "-q", "-o", out] + extra + paths
        start = time.monotonic()
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
        seconds = time.monotonic() - start
        if proc.returncode != 0 or not os.path.exists(out):
            raise SystemExit(f"tracelint failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
        with open(out) as fh:
            return json.load(fh), seconds


class Windows:
    """Findings of one target, per file, as sorted (lo, hi) line windows."""

    def __init__(self, findings: list[dict]) -> None:
        self.by_path: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for f in findings:
            lo, hi = span(f)
            self.by_path[f["path"]].append((lo - 1, hi + 1))
        for windows in self.by_path.values():
            windows.sort()

    def hit(self, path: str, line: int) -> bool:
        return any(lo <= line <= hi for lo, hi in self.by_path.get(path, ()) if lo <= line)


class Truth:
    """Ground-truth lines per (target, path) for quick +-1 look-ups."""

    def __init__(self, lines: list[dict]) -> None:
        self.lines: dict[tuple[str, str], dict[int, dict]] = defaultdict(dict)
        for g in lines:
            self.lines[(g["target"], g["path"])][g["line"]] = g

    def near(self, target: str, path: str, lo: int, hi: int, kinds: set[str] | None = None) -> list[dict]:
        table = self.lines.get((target, path), {})
        return [table[n] for n in range(lo - 1, hi + 2) if n in table and (kinds is None or kinds & set(table[n]["kinds"]))]


def executed(finding: dict, coverage: dict[str, set[int]]) -> bool:
    lines = coverage.get(finding["path"])
    if not lines:
        return False
    lo, hi = span(finding)
    return any(n in lines for n in range(lo, hi + 1))


def clean_methods(truth: dict) -> dict[str, list[tuple[int, int, str]]]:
    out: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for key, c in truth["script_classes"].items():
        if c["outcome"] == "ok":
            for path, start, end, name in c["methods"]:
                out[path].append((start, end, f"{key.split('::')[-1]}.{name}"))
    return out


def tested_classes(truth: dict) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for c in truth["script_classes"].values():
        out[c["path"]].append((c["start"], c["end"]))
    return out


def score_library(library: str, findings: list[dict], truth: dict, coverage: dict[str, set[int]], root: str,
                  files: list[str]) -> tuple[dict, list[dict], list[dict]]:
    mine = [f for f in findings if f["path"].startswith(library + "/")]
    gt = [g for g in truth["lines"] if g["path"].startswith(library + "/")]
    index = Truth(gt)
    metrics: dict = {"findings": len(mine)}
    misses = []
    for target in TARGETS:
        windows = Windows([f for f in mine if counts_for(f, target)])
        lines = [g for g in gt if g["target"] == target]
        hits = [g for g in lines if windows.hit(g["path"], g["line"])]
        by_kind = {}
        for kind in KINDS:
            of_kind = [g for g in lines if kind in g["kinds"]]
            if of_kind:
                by_kind[kind] = [sum(1 for g in of_kind if windows.hit(g["path"], g["line"])), len(of_kind)]
        metrics[target] = {"hit": len(hits), "lines": len(lines),
                           "recall": round(len(hits) / len(lines), 4) if lines else None, "by_kind": by_kind}
        hit_keys = {(g["path"], g["line"]) for g in hits}
        misses.extend({"path": g["path"], "line": g["line"], "target": target, "kinds": g["kinds"],
                       "message": g["messages"][0] if g["messages"] else "", "models": len(g["models"])}
                      for g in lines if (g["path"], g["line"]) not in hit_keys)

    # precision (a): always-warning trace claims on executed lines
    labels: dict[int, str] = {}
    claims = [f for f in mine if is_always_warning(f["code"]) and counts_for(f, "trace") and executed(f, coverage)]
    by_warning = by_divergence = 0
    for f in claims:
        lo, hi = span(f)
        if index.near("trace", f["path"], lo, hi, {"warning"}):
            by_warning += 1
        elif index.near("trace", f["path"], lo, hi, {"divergence"}):
            by_divergence += 1
        else:
            labels[id(f)] = "false trace claim (executed, no TracerWarning or divergence within +-1)"
    supported = by_warning + by_divergence
    metrics["precision_a"] = {"claims": len(claims), "by_warning": by_warning, "by_divergence_only": by_divergence,
                              "unsupported": len(claims) - supported,
                              "precision": round(supported / len(claims), 4) if claims else None,
                              "precision_warning_only": round(by_warning / len(claims), 4) if claims else None}

    # precision (b): script claims in classes that scripted cleanly
    compiled = clean_methods(truth)
    classes = tested_classes(truth)
    script_claims = [f for f in mine if (f.get("targets", {}).get("script") or {}).get("outcome") == "fail"]
    tested = refuted = confirmed = 0
    for f in script_claims:
        lo, hi = span(f)
        near = index.near("script", f["path"], lo, hi)
        in_class = any(a <= lo <= b for a, b in classes.get(f["path"], ()))
        if near:
            confirmed += 1
        if not (near or in_class):
            continue
        tested += 1
        where = [m for m in compiled.get(f["path"], ()) if m[0] <= lo <= m[1]]
        if where and not near:
            refuted += 1
            labels[id(f)] = f"false script claim ({where[0][2]} scripts cleanly)"
    metrics["precision_b"] = {"claims": len(script_claims), "in_tested_classes": tested, "confirmed": confirmed,
                              "refuted": refuted,
                              "precision": round(1 - refuted / tested, 4) if tested else None}

    # findings on code no model executes
    nonexec_lines = 0
    for path in files:
        lines = code_lines(os.path.join(root, path))
        ran = coverage.get(path, set())
        nonexec_lines += sum(1 for n in lines if n not in ran)
    nonexec_findings = [f for f in mine if not executed(f, coverage)]
    metrics["non_executed"] = {"findings": len(nonexec_findings), "code_lines": nonexec_lines,
                               "per_1k": round(1000 * len(nonexec_findings) / nonexec_lines, 2) if nonexec_lines else None}

    rows = []
    for f in mine:
        label = labels.get(id(f))
        if label is None:
            lo, hi = span(f)
            hit_targets = [t for t in TARGETS if counts_for(f, t) and index.near(t, f["path"], lo, hi)]
            if hit_targets:
                label = "matches ground truth: " + ",".join(hit_targets)
            elif executed(f, coverage):
                label = "executed, not verified"
            else:
                label = "not executed"
        rows.append({"path": f["path"], "line": f["line"], "end_line": f.get("end_line", f["line"]),
                     "column": f.get("column", 0), "code": f["code"],
                     "targets": "".join(t[0] if counts_for(f, t) else "-" for t in TARGETS),
                     "label": label, "message": f.get("message", "")[:160]})
    return metrics, rows, misses


def models_ran(truth: dict) -> dict[str, dict[str, int]]:
    out: dict[str, Counter] = defaultdict(Counter)
    for m in truth["models"].values():
        fam = m["family"]
        out[fam]["listed"] += 1
        if not str(m.get("trace", "")).startswith("not-run") or not str(m.get("script", "")).startswith("not-run"):
            out[fam]["ran"] += 1
    return {k: dict(v) for k, v in out.items()}


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def table(results: dict, markdown: bool = False) -> str:
    libs = results["libraries"]
    ran = results["models"]
    head = ["library", "models", "trace recall", "script recall", "export recall", "precision (a)",
            "precision (b)", "findings/1k non-exec"]
    rows = []
    for lib, r in libs.items():
        m = r["metrics"]
        fam = ran.get(lib, {})
        rows.append([lib, f"{fam.get('ran', 0)}/{fam.get('listed', 0)}",
                     *(f"{_pct(m[t]['recall'])} ({m[t]['hit']}/{m[t]['lines']})" for t in TARGETS),
                     f"{_pct(m['precision_a']['precision'])} ({m['precision_a']['unsupported']} of {m['precision_a']['claims']} unsupported)",
                     f"{_pct(m['precision_b']['precision'])} ({m['precision_b']['refuted']} of {m['precision_b']['in_tested_classes']} refuted)",
                     f"{m['non_executed']['per_1k']} ({m['non_executed']['findings']} / {m['non_executed']['code_lines']:,} lines)"])
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), fmt.format(*("-" * w for w in widths))] + [fmt.format(*r) for r in rows])


def kind_table(results: dict) -> str:
    out = []
    for lib, r in results["libraries"].items():
        parts = []
        for t in TARGETS:
            kinds = r["metrics"][t]["by_kind"]
            parts.append(f"{t}: " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in kinds.items()))
        pa = r["metrics"]["precision_a"]
        pb = r["metrics"]["precision_b"]
        out.append(f"{lib}: " + "; ".join(parts))
        out.append(f"    precision (a): {pa['by_warning']} claims next to a TracerWarning, {pa['by_divergence_only']} next to "
                   f"a divergence only, {pa['unsupported']} unsupported (warning-only precision {_pct(pa['precision_warning_only'])}); "
                   f"precision (b): {pb['claims']} script claims, {pb['in_tested_classes']} in scripted classes, "
                   f"{pb['confirmed']} confirmed, {pb['refuted']} refuted; lint {r['lint_seconds']}s over {r['files']} files")
    return "\n".join(out)


def diff(old: dict, new: dict, limit: int) -> str:
    out = []

    def key(row):
        return (row["path"], row["line"], row["column"], row["code"])

    for lib in sorted(set(old["libraries"]) | set(new["libraries"])):
        a = {key(r): r for r in old["libraries"].get(lib, {}).get("findings", [])}
        b = {key(r): r for r in new["libraries"].get(lib, {}).get("findings", [])}
        appeared = [b[k] for k in sorted(set(b) - set(a))]
        vanished = [a[k] for k in sorted(set(a) - set(b))]
        changed = [(a[k], b[k]) for k in sorted(set(a) & set(b)) if a[k]["targets"] != b[k]["targets"] or a[k]["label"] != b[k]["label"]]
        out.append(f"== {lib}: {len(appeared)} findings appeared, {len(vanished)} vanished, {len(changed)} changed targets or verdict")
        for title, rows in (("appeared", appeared), ("vanished", vanished)):
            if not rows:
                continue
            groups = defaultdict(list)
            for r in rows:
                groups[r["label"].split(" (")[0]].append(r)
            for label, items in sorted(groups.items(), key=lambda kv: -len(kv[1])):
                out.append(f"  {title}: {len(items)} {label}")
                for r in items[:limit]:
                    out.append(f"    {r['path']}:{r['line']}: {r['code']} [{r['targets']}] {r['label']}")
                if len(items) > limit:
                    out.append(f"    ... {len(items) - limit} more")
        for r0, r1 in changed[:limit]:
            out.append(f"  changed: {r1['path']}:{r1['line']}: {r1['code']} [{r0['targets']}] {r0['label']} -> [{r1['targets']}] {r1['label']}")
        old_miss = {(m["path"], m["line"], m["target"]) for m in old["libraries"].get(lib, {}).get("misses", [])}
        new_miss = {(m["path"], m["line"], m["target"]) for m in new["libraries"].get(lib, {}).get("misses", [])}
        found = sorted(old_miss - new_miss)
        lost = sorted(new_miss - old_miss)
        if found or lost:
            out.append(f"  ground-truth lines now found: {len(found)}, now missed: {len(lost)}")
            for p, n, t in lost[:limit]:
                out.append(f"    now missed: {p}:{n} ({t})")
            for p, n, t in found[:limit]:
                out.append(f"    now found: {p}:{n} ({t})")
    out.append("")
    out.append("figures (baseline -> now):")
    for lib in sorted(set(old["libraries"]) & set(new["libraries"])):
        m0, m1 = old["libraries"][lib]["metrics"], new["libraries"][lib]["metrics"]
        cells = []
        for t in TARGETS:
            cells.append(f"{t} recall {_pct(m0[t]['recall'])} -> {_pct(m1[t]['recall'])}")
        cells.append(f"precision (a) {_pct(m0['precision_a']['precision'])} -> {_pct(m1['precision_a']['precision'])}")
        cells.append(f"precision (b) {_pct(m0['precision_b']['precision'])} -> {_pct(m1['precision_b']['precision'])}")
        cells.append(f"non-exec/1k {m0['non_executed']['per_1k']} -> {m1['non_executed']['per_1k']}")
        out.append(f"  {lib}: " + "; ".join(cells))
    return "\n".join(out)


def main(args) -> int:
    start = time.monotonic()
    truth, coverage = groundtruth.read(args.data)
    command = shlex.split(args.tracelint)
    extra = shlex.split(args.tracelint_args or "")
    wanted = [lib for lib in [*LIBRARY_VENV, "rwsample"] if not args.library or lib in args.library.split(",")]
    present = {g["path"].split("/")[0] for g in truth["lines"]} | {p.split("/")[0] for p in coverage}
    libraries = [lib for lib in wanted if lib in present]
    results = {"meta": {"tracelint": tracelint_identity(command), "ground_truth": truth["meta"],
                        "date": time.strftime("%Y-%m-%d %H:%M"), "matching": "+-1 line around the finding's span"},
               "models": models_ran(truth), "libraries": {}}
    roots = {}
    plans = []
    for lib in libraries:
        venv = LIBRARY_VENV.get(lib)
        if venv is None:
            root = SAMPLE_ROOT
        else:
            if venv not in roots:
                roots[venv] = site_packages(venv)
            root = roots[venv]
        plans.append((lib, root, lint_paths(lib, truth, coverage, root)))
    identity = results["meta"]["tracelint"]
    cache_dir = os.path.join(os.path.dirname(os.path.abspath(args.output)), "lint-cache")

    def lint(plan):
        lib, root, paths = plan
        return cached_lint(command, extra, root, paths, identity, cache_dir if args.reuse_lint else None)

    with concurrent.futures.ThreadPoolExecutor(max(1, args.lint_jobs)) as pool:
        reports = list(pool.map(lint, plans))
    for (lib, root, paths), (report, seconds) in zip(plans, reports):
        findings = report["findings"]
        files = python_files(root, paths)
        metrics, rows, misses = score_library(lib, findings, truth, coverage, root, files)
        results["libraries"][lib] = {"metrics": metrics, "lint_seconds": round(seconds, 1), "files": len(files),
                                     "lint_paths": paths, "tool_errors": len(report.get("errors") or []),
                                     "findings": rows, "misses": misses}
        print(f"scored {lib}: {len(findings)} findings in {len(files)} files ({seconds:.1f}s)", file=sys.stderr)
    results["meta"]["score_seconds"] = round(time.monotonic() - start, 1)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as fh:
        json.dump(results, fh, indent=0)
    if args.save_baseline:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "baseline.json"), "w") as fh:
            json.dump(results, fh, indent=0)
    meta = results["meta"]
    tool = meta["tracelint"]
    print(f"tracelint {tool.get('version')} ({tool.get('commit', 'no git commit')}) vs ground truth "
          f"{truth['meta'].get('harness_commit')}; libraries: "
          + "; ".join(dict.fromkeys(", ".join(f"{k} {v}" for k, v in vers.items())
                                    for vers in truth["meta"]["versions"].values())))
    print(table(results, args.markdown))
    print()
    print(kind_table(results))
    print(f"\nresults: {args.output} (scoring took {meta['score_seconds']}s)")
    if args.baseline:
        with open(args.baseline) as fh:
            old = json.load(fh)
        print()
        print(diff(old, results, args.diff_limit))
    return 0
