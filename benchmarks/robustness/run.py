"""Robustness harness (not in CI): does tracelint survive any input?

    python benchmarks/robustness/run.py fuzz --programs 10000 --seed 0
    python benchmarks/robustness/run.py corpus --cache ~/.cache/tracelint-corpus transformers timm ...
    python benchmarks/robustness/run.py recheck KEEP_FOLDER      # the kept cases again, after a change
    python benchmarks/robustness/run.py cli KEEP_FOLDER          # -j1 vs -j2 through the CLI

`fuzz` lints hypothesmith programs (grammar and node strategies, each wrapped as a module, a
forward body, a helper forward calls and a scripted function) plus the deep-nesting and encoding
cases of `cases.py`, one file at a time through the API, and then the whole folder through the CLI
with -j1 and -j2. `corpus` does the same on real packages, downloaded with `pip download --no-deps`
into a cache folder outside the repo and unpacked there.

For every file it records: CPython's verdict (`compile()`), tracelint's codes, the CPU time, and
- crash:       an exception escaped tracelint (or the CLI printed a traceback / exited 2 unasked)
- tl001:       an internal error finding
- false_tl000: a TL000 on a file compile() accepts
- missed_tl000: no TL000 on a file compile() rejects with a SyntaxError
- tl003:       valid Python not analysed (with the reason), expected only past the documented limits
- hang:        more than 10 CPU-seconds on one file
and for the folder: any difference between the -j1 and -j2 JSON reports.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import signal
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import cases  # noqa: E402

HANG_CPU_S = 10.0


class Hang(BaseException):
    """Raised by the CPU timer; a BaseException so that tracelint's own `except Exception` lets it by."""


def _on_timer(signum, frame):
    raise Hang()


def cpython_verdict(data: bytes) -> str:
    """ok, syntax (SyntaxError / ValueError: compile() rejects), or deep (RecursionError / MemoryError)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "case.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return "syntax"
    except (RecursionError, MemoryError):
        return "deep"
    return "ok"


def check(name: str, data: bytes, hang_cpu_s: float = HANG_CPU_S) -> dict:
    """Lint one file through the API (no project: the file alone) and classify the outcome. The
    test suite passes a far larger `hang_cpu_s`: there it only stops an endless loop, it never
    judges speed (a loaded 2-core machine can double CPU times)."""
    from tracelint.api import lint_source
    verdict = cpython_verdict(data)
    signal.signal(signal.SIGPROF, _on_timer)
    signal.setitimer(signal.ITIMER_PROF, hang_cpu_s)
    start = time.process_time()
    row = {"name": name, "bytes": len(data), "lines": data.count(b"\n") + 1, "compile": verdict}
    try:
        report = lint_source(data, name, project=False)
        row["codes"] = sorted({d.code for d in report.diagnostics})
        row["tl003"] = [d.message for d in report.diagnostics if d.code == "TL003"]
        row["tl001"] = [d.message for d in report.diagnostics if d.code == "TL001"]
    except Hang:
        row["hang"] = True
    except BaseException as e:  # noqa: BLE001 - that is what we look for
        row["crash"] = f"{type(e).__name__}: {str(e)[:200]}"
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    row["cpu_s"] = round(time.process_time() - start, 3)
    codes = row.get("codes", [])
    row["false_tl000"] = "TL000" in codes and verdict == "ok"
    row["missed_tl000"] = verdict == "syntax" and "crash" not in row and "hang" not in row and "TL000" not in codes
    return row


def cli_run(folder: Path, jobs: int) -> tuple[int, str, dict | None, float]:
    """The CLI on a folder: (exit code, stderr, JSON report, wall seconds)."""
    start = time.time()
    p = subprocess.run([sys.executable, "-m", "tracelint", "check", str(folder), "--format", "json", "--no-cache",
                        "--exit-zero", "-j", str(jobs), "--config", str(folder / "tracelint.toml")],
                       capture_output=True, env={**os.environ, "PYTHONHASHSEED": str(jobs)})
    try:
        data = json.loads(p.stdout)
    except ValueError:
        data = None
    return p.returncode, p.stderr.decode(errors="replace"), data, time.time() - start


def summarise(rows: list[dict], label: str) -> dict:
    out = {
        "label": label, "files": len(rows), "lines": sum(r["lines"] for r in rows),
        "compile_ok": sum(r["compile"] == "ok" for r in rows),
        "compile_rejects": sum(r["compile"] != "ok" for r in rows),
        "crashes": [r["name"] + ": " + r["crash"] for r in rows if "crash" in r],
        "hangs": [r["name"] for r in rows if r.get("hang")],
        "tl001": [r["name"] + ": " + m for r in rows for m in r.get("tl001", [])],
        "false_tl000": [r["name"] for r in rows if r["false_tl000"]],
        "missed_tl000": [r["name"] for r in rows if r["missed_tl000"]],
        "tl003_on_valid": collections.Counter(
            m.split("(")[0].strip() for r in rows if r["compile"] == "ok" for m in r.get("tl003", [])),
        "cpu_s_total": round(sum(r["cpu_s"] for r in rows), 1),
        "cpu_s_max": max((r["cpu_s"], r["name"]) for r in rows) if rows else None,
    }
    return out


def compare_cli(folder: Path) -> dict:
    (folder / "tracelint.toml").write_text("")   # no config from above the folder
    rc1, err1, rep1, t1 = cli_run(folder, 1)
    rc2, err2, rep2, t2 = cli_run(folder, 2)
    strip = (lambda rep: rep and {k: v for k, v in rep.items() if k not in ("elapsed", "duration")})
    return {"j1_exit": rc1, "j2_exit": rc2, "j1_s": round(t1, 1), "j2_s": round(t2, 1),
            "tracebacks": int("Traceback" in err1) + int("Traceback" in err2),
            "j1_j2_identical": rep1 is not None and strip(rep1) == strip(rep2),
            "findings": len(rep1.get("findings", [])) if isinstance(rep1, dict) else None,
            "stderr_j1": err1[-500:]}


def fuzz(args) -> dict:
    """Deep and encoding cases first, then hypothesmith programs in batches (a new seed per batch,
    both strategies), each program wrapped one way in turn (all four with --all-wraps). Every row is
    appended to --rows as it is made, and every case kept in --keep, so a long run can be summarised
    (`summary`) or compared across -j1/-j2 (`cli`) whenever it is stopped."""
    rows_file = open(args.rows, "a") if args.rows else None
    keep = Path(args.keep) if args.keep else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []

    def take(name: str, data: bytes) -> None:
        row = check(name, data)
        rows.append(row)
        if rows_file:
            rows_file.write(json.dumps(row) + "\n")
            rows_file.flush()
        if keep:
            (keep / f"{name}.py").write_bytes(data)

    if not args.no_fixed:
        for name, data in [*cases.deep_cases(), *cases.encoding_cases()]:
            take(name, data)
    made = 0
    batch = 0
    while made < args.programs:
        for strategy in args.strategies.split(","):
            t = time.time()
            progs = cases.hypothesmith_programs(min(args.batch, args.programs - made), args.seed + batch, strategy)
            print(f"batch {batch} {strategy}: {len(progs)} programs in {time.time() - t:.0f}s (total {made})",
                  file=sys.stderr)
            for i, src in enumerate(progs):
                data = src.encode("utf-8", "surrogatepass")
                for how in (cases.WRAPS if args.all_wraps else [cases.WRAPS[(made + i) % len(cases.WRAPS)]]):
                    take(f"h{strategy[0]}{args.seed + batch:03d}_{i:04d}_{how}", cases.wrap(src, how).encode(
                        "utf-8", "surrogatepass") if how != "module" else data)
            made += len(progs)
            if made >= args.programs:
                break
        batch += 1
    return {"fuzz": summarise(rows, f"{made} hypothesmith programs (seeds {args.seed}..{args.seed + batch - (made < args.programs)}), "
                                    "+ deep + encoding cases")}


def summary(args) -> dict:
    rows = [json.loads(line) for f in args.rows_files for line in open(f) if line.strip()]
    out = {"all": summarise(rows, "all rows")}
    out["programs"] = summarise([r for r in rows if r["name"].startswith("h")], "hypothesmith programs")
    out["fixed"] = summarise([r for r in rows if not r["name"].startswith("h")], "deep + encoding cases")
    return out


def recheck(args) -> dict:
    """The cases a `fuzz --keep` run kept, linted again through the API (after a change: the same
    programs without generating them again), appended to --rows when given."""
    rows_file = open(args.rows, "a") if args.rows else None
    rows = []
    for f in sorted(Path(args.folder).glob("*.py")):
        row = check(f.stem, f.read_bytes())
        rows.append(row)
        if rows_file:
            rows_file.write(json.dumps(row) + "\n")
    return {"programs": summarise([r for r in rows if r["name"].startswith("h")], "hypothesmith programs (kept)"),
            "fixed": summarise([r for r in rows if not r["name"].startswith("h")], "deep + encoding cases (kept)")}


def cli(args) -> dict:
    return {str(f): compare_cli(Path(f)) for f in args.folders}


def corpus(args) -> dict:
    cache = Path(args.cache).expanduser()
    (cache / "wheels").mkdir(parents=True, exist_ok=True)
    results = {}
    for pkg in args.packages:
        src = cache / "src" / pkg
        if not src.exists():
            if pkg == "torch":
                import torch
                src = Path(torch.__file__).parent
            else:
                subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d",
                                str(cache / "wheels"), pkg], check=True)
                wheel = next(w for w in sorted((cache / "wheels").iterdir())
                             if w.name.lower().startswith(pkg.lower().replace("-", "_") + "-"))
                src.mkdir(parents=True)
                zipfile.ZipFile(wheel).extractall(src)
        files = sorted(p for p in src.rglob("*.py") if p.is_file())
        t = time.time()
        rows = [check(str(p.relative_to(src)), p.read_bytes()) for p in files]
        results[pkg] = summarise(rows, pkg)
        results[pkg]["api_wall_s"] = round(time.time() - t, 1)
        if not args.no_cli:
            (src / "tracelint.toml").write_text("")
            results[pkg]["cli"] = compare_cli(src)
        print(json.dumps({pkg: results[pkg]}, default=str)[:1500], file=sys.stderr)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fuzz")
    f.add_argument("--programs", type=int, default=10_000)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--batch", type=int, default=250, help="programs per strategy and seed")
    f.add_argument("--all-wraps", action="store_true", help="each program in all four wrappings")
    f.add_argument("--strategies", default="grammar,node", help="hypothesmith strategies, in turn per batch")
    f.add_argument("--no-fixed", action="store_true", help="no deep / encoding cases")
    f.add_argument("--rows", help="append one JSON line per file here")
    f.add_argument("--keep", help="keep every case in this folder (for `cli`)")
    s_ = sub.add_parser("summary")
    s_.add_argument("rows_files", nargs="+")
    r_ = sub.add_parser("recheck", help="lint a fuzz --keep folder's cases again (after a change)")
    r_.add_argument("folder")
    r_.add_argument("--rows", help="append one JSON line per file here")
    k = sub.add_parser("cli", help="-j1 vs -j2 through the CLI on folders (e.g. a fuzz --keep folder)")
    k.add_argument("folders", nargs="+")
    c = sub.add_parser("corpus")
    c.add_argument("packages", nargs="+")
    c.add_argument("--cache", default="~/.cache/tracelint-corpus")
    c.add_argument("--no-cli", action="store_true")
    for p in (f, c, s_, k, r_):
        p.add_argument("--out", help="write the JSON results here")
    args = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    result = {"fuzz": fuzz, "corpus": corpus, "summary": summary, "cli": cli, "recheck": recheck}[args.cmd](args)
    text = json.dumps(result, indent=1, default=str)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
