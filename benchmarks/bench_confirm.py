#!/usr/bin/env python
"""The dynamic checker on real models: its verdicts against plain torch, its CPU time against one capture.

    python benchmarks/bench_confirm.py [--create-envs] [--models a,b] [--envs /root/.cache/tracelint-bench]

Models: benchmarks/models/*.py (timm, torchvision and Hugging Face transformers models built from
configs with random weights; nothing is downloaded). Each file names the environment it needs
(`ENV = "tv"` or `"hf"`); the environments are virtualenvs with pinned model libraries (ENVS below),
created from scratch with --create-envs. For every model, in its environment, as fresh processes:

  * plain:  import torch and the library, build the model, `torch.jit.trace` + `torch.jit.script`
            (the baseline: process CPU time, with check_trace=False; the default check_trace=True
            is timed too);
  * truth:  plain torch only - capture with each of the four mechanisms, run eager and captured
            on the same input variants the checker uses, compare, and record every failure with
            the innermost model-code frame (TorchScript's own source line for script), plus the
            lines the eager forward executed;
  * confirm: `tracelint confirm MODEL --target trace,script` and `--target all` (JSON report, no
            result cache), CPU time of the whole process tree.

Checked: every confirmation (a static finding confirmed for a target, or a TL901/TL902) lies in code
the forward executed (or that TorchScript compiled, for a script error) and its failure happened in
the plain run (a plain failure at the same line, or - for evidence from a variant run - a plain
failure on a variant); every plain failure is reported for its target at its line (any line when
plain torch names none). CPU time is measured (user + system of the process and every descendant),
not wall time, and both sides run torch with one intra-op thread (the checker's default).
Results: benchmarks/results.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "benchmarks" / "models"
DEFAULT_ENVS = Path("/root/.cache/tracelint-bench")
ENVS = {   # pinned model libraries, one virtualenv each
    "tv": ["torch==2.14.1", "torchvision==0.29.1", "timm==1.0.31"],
    "hf": ["torch==2.13.0", "transformers==5.24.0", "diffusers==0.42.1"],
}
TOOL_DEPS = ["libcst", "click"]

PLAIN = r'''
import importlib.util, json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import torch
torch.set_num_threads(1)
spec = importlib.util.spec_from_file_location("bench_model", sys.argv[1])
mod = importlib.util.module_from_spec(spec); sys.modules["bench_model"] = mod; spec.loader.exec_module(mod)
model, args, kwargs = mod.build()
model.eval()
P = time.process_time
out = {}
def timed(name, fn):
    t = P()
    try:
        fn(); out[name + "_error"] = None
    except Exception as e:
        out[name + "_error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
    out[name] = P() - t
def trace(check):
    if kwargs:
        return torch.jit.trace(model, example_kwarg_inputs=kwargs, check_trace=check)
    return torch.jit.trace(model, args, check_trace=check)
with torch.no_grad():
    timed("trace_nocheck", lambda: trace(False))
    timed("trace_default", lambda: trace(True))
    timed("script", lambda: torch.jit.script(model))
r = resource.getrusage(resource.RUSAGE_SELF)
out["process_cpu"] = r.ru_utime + r.ru_stime
print(json.dumps(out))
'''

TRUTH = r'''
import copy, importlib.util, json, os, sys, sysconfig, traceback, warnings, re
warnings.simplefilter("ignore")
import torch
import torch.utils._pytree as pytree
torch.set_num_threads(1)
spec = importlib.util.spec_from_file_location("bench_model", sys.argv[1])
mod = importlib.util.module_from_spec(spec); sys.modules["bench_model"] = mod; spec.loader.exec_module(mod)
targets = sys.argv[2].split(",")
model, args, kwargs = mod.build()
model.eval()
# the same inputs the checker derives (its variant generator), everything else plain torch
from tracelint.dynamic.variants import changed_dims, generate, parameter_names
variants = generate((tuple(args), dict(kwargs)), arg_names=parameter_names(model, len(args)))

LIB = [os.path.realpath(os.path.dirname(os.__file__)) + os.sep,
       os.path.realpath(os.path.dirname(torch.__file__)) + os.sep]
import tracelint; LIB.append(os.path.realpath(os.path.dirname(tracelint.__file__)) + os.sep)
def model_code(path):
    if not path or path.startswith("<") or not path.endswith(".py"):
        return False
    real = os.path.realpath(path)
    for root in LIB:
        if real.startswith(root) and "site-packages" not in real[len(root):].split(os.sep)[:1]:
            return False
    return os.path.isfile(real)
FILE = re.compile(r'File "([^"]+)", line (\d+)')
def highlighted(text, start):
    """TorchScript prints the source around the error with `~~~ <--- HERE` under the culprit."""
    lines = text[start:].splitlines()[1:]
    for i, ln in enumerate(lines):
        if "<--- HERE" in ln and i > 0:
            return lines[i - 1].strip()
        if FILE.search(ln):
            break
    return ""
def where(exc):
    """Innermost model-code frame: TorchScript's source ranges (with the highlighted source text:
    torch may name a decorator's file), else the Python traceback."""
    text = str(exc)
    if "Traceback of TorchScript" in text or "<--- HERE" in text:
        frames = [(os.path.realpath(m.group(1)), int(m.group(2)), highlighted(text, m.start()))
                  for m in FILE.finditer(text) if model_code(m.group(1))]
        if frames:
            return frames[-1] if "Traceback of TorchScript" in text else frames[0]
    frames = []
    e = exc
    while e is not None:
        frames += [(os.path.realpath(f.filename), f.lineno) for f in traceback.extract_tb(e.__traceback__) if model_code(f.filename)]
        e = e.__cause__ or e.__context__
    if frames:
        return frames[-1]
    if "from user code" in text:
        frames = [(os.path.realpath(p), int(n)) for p, n in FILE.findall(text.split("from user code", 1)[1]) if model_code(p)]
        if frames:
            return frames[-1]
    return None

covered = set()
def tracer(frame, event, arg):
    if not model_code(frame.f_code.co_filename):
        return None
    path = os.path.realpath(frame.f_code.co_filename)
    covered.add((path, frame.f_code.co_firstlineno))
    def local(frame, event, arg):
        if event == "line":
            covered.add((path, frame.f_lineno))
        return local
    return local

def call(fn, inputs):
    torch.manual_seed(0)
    a, k = inputs
    a, k = pytree.tree_map(lambda t: t.clone() if isinstance(t, torch.Tensor) else t, (a, k))
    return fn(*a, **k)

def leaves(out):
    def plain(x):
        if hasattr(x, "to_tuple") and callable(x.to_tuple):
            return tuple(plain(v) for v in x.to_tuple())
        if isinstance(x, dict):
            return tuple(plain(v) for v in x.values())
        if isinstance(x, (list, tuple)):
            return tuple(plain(v) for v in x)
        return x
    return pytree.tree_leaves(plain(out))

def same(a, b):
    la, lb = leaves(a), leaves(b)
    if len(la) != len(lb):
        return False
    for x, y in zip(la, lb):
        if isinstance(x, torch.Tensor) != isinstance(y, torch.Tensor):
            return False
        if not isinstance(x, torch.Tensor):
            if x != y:
                return False
            continue
        if x.shape != y.shape or x.dtype != y.dtype:
            return False
        if x.is_floating_point():
            if not torch.allclose(x.double(), y.double(), rtol=1e-4, atol=1e-5, equal_nan=True):
                return False
        elif not torch.equal(x, y):
            return False
    return True

result = {"failures": [], "accepted": [], "coverage": []}
with torch.no_grad():
    eager = copy.deepcopy(model)
    outputs = {}
    for v in variants:
        if v.kind == "example":
            sys.settrace(tracer)
        try:
            outputs[v.name] = call(eager, v.inputs)
        except Exception:
            pass
        finally:
            sys.settrace(None)
    accepted = [v for v in variants if v.name in outputs]
    result["accepted"] = [v.name for v in accepted]
    dims = changed_dims(accepted)
    for target in targets:
        m = copy.deepcopy(model)
        a, k = variants[0].inputs
        fn, first = None, None
        try:
            if target == "trace":
                sys.settrace(tracer)
                try:
                    fn = torch.jit.trace(m, example_kwarg_inputs=dict(k), check_trace=False) if k else torch.jit.trace(m, tuple(a), check_trace=False)
                finally:
                    sys.settrace(None)
            elif target == "script":
                try:
                    fn = torch.jit.script(m)
                except Exception:
                    # every submodule class on its own too: each class's first error
                    seen = {type(m)}
                    for sub in list(m.modules())[1:]:
                        if type(sub) in seen or type(sub).__module__.startswith("torch."):
                            continue
                        seen.add(type(sub))
                        try:
                            torch.jit.script(sub)
                        except Exception as e:
                            loc = where(e)
                            result["failures"].append({"target": "script", "variant": None, "kind": "capture",
                                                       "location": list(loc) if loc else None,
                                                       "error": f"{type(e).__name__}: {str(e)[:200]}"})
                    raise
            elif target == "export":
                from tracelint.dynamic.capture import dynamic_shapes_for, tile_unit_dims
                (ea, ek), _ = tile_unit_dims(variants[0].inputs, dims)
                ep = torch.export.export(m, tuple(ea), kwargs=ek or None, dynamic_shapes=dynamic_shapes_for(variants[0].inputs, dims, m))
                fn = ep.module()
            elif target == "compile":
                fn = torch.compile(m, fullgraph=True, backend="aot_eager")
                first = call(fn, variants[0].inputs)
        except Exception as e:
            loc = where(e)
            result["failures"].append({"target": target, "variant": None, "kind": "capture",
                                       "location": list(loc) if loc else None, "error": f"{type(e).__name__}: {str(e)[:200]}"})
            continue
        for v in accepted:
            if target == "export" and v.kind == "dtype":
                continue
            try:
                got = first if (target == "compile" and v.kind == "example") else call(fn, v.inputs)
            except Exception as e:
                loc = where(e)
                result["failures"].append({"target": target, "variant": v.name, "kind": "error",
                                           "location": list(loc) if loc else None, "error": f"{type(e).__name__}: {str(e)[:200]}"})
                continue
            if not same(outputs[v.name], got):
                result["failures"].append({"target": target, "variant": v.name, "kind": "diverged", "location": None,
                                           "error": "outputs differ"})
result["coverage"] = sorted([p, n] for p, n in covered)
print(json.dumps(result))
'''


def _python(envs: Path, env: str) -> str:
    return str(envs / f"venv-{env}" / "bin" / "python")


def create_env(envs: Path, env: str) -> None:
    """A fresh virtualenv with the pinned model libraries and this checkout of tracelint."""
    path = envs / f"venv-{env}"
    if (path / "bin" / "python").exists():
        return
    envs.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = [str(path / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run(pip + ENVS[env][:1], check=True)          # torch first: the CPU wheel
    subprocess.run(pip + ENVS[env][1:] + TOOL_DEPS, check=True)
    subprocess.run(pip + ["--no-deps", "-e", str(ROOT)], check=True)


def _env_of(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("ENV = "):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise SystemExit(f"{path}: no ENV = line")


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """(CPU seconds of the process and all its descendants, wall seconds, result)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(cmd, proc.returncode, out.read().decode(errors="replace"),
                                           err.read().decode(errors="replace"))
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - start, done


def _confirm(py: str, model: Path, targets: str) -> tuple[float, float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        cpu, wall, r = _run([py, "-m", "tracelint", "confirm", str(model), "--target", targets, "--format", "json",
                             "-o", str(out), "-q"], cwd=MODELS, env={"TRACELINT_NO_CACHE": "1"})
        if r.returncode not in (0, 1, 2) or not out.exists():
            raise SystemExit(f"tracelint confirm {model.name} failed ({r.returncode}):\n{r.stderr[-3000:]}")
        report = json.loads(out.read_text(encoding="utf-8"))
        report["exit"] = r.returncode
    return cpu, wall, report


def _abs(path: str) -> str:
    return os.path.realpath(os.path.join(MODELS, path))


def _confirmations(report: dict) -> list[dict]:
    """(target, path, line, code, evidence) for every confirmed target of every finding."""
    out = []
    for f in report["findings"]:
        for target, verdict in (f.get("verdicts") or {}).items():
            if verdict == "confirmed":
                out.append({"target": target, "path": _abs(f["path"]), "line": f["line"], "code": f["code"],
                            "evidence": [e for e in f.get("evidence", []) if e.startswith(target)]})
    return out


def _same_place(loc: list | None, path: str, line: int) -> bool:
    """The plain failure's place is this line (TorchScript may name a decorator's file: then the
    line number and the highlighted source text must match)."""
    if not loc:
        return False
    if (loc[0], loc[1]) == (path, line):
        return True
    if len(loc) > 2 and loc[2] and loc[1] == line:
        import linecache

        return linecache.getline(path, line).strip() == loc[2]
    return False


def check(report: dict, truth: dict) -> dict:
    covered = {(p, n) for p, n in truth["coverage"]}
    failures = truth["failures"]
    confirms = _confirmations(report)
    false, checked = [], []
    for c in confirms:
        t, where = c["target"], (c["path"], c["line"])
        mine = [f for f in failures if f["target"] == t]
        at_line = [f for f in mine if _same_place(f["location"], *where)]
        from_variant = any(", variant " in e for e in c["evidence"]) or c["code"] == "TL901" \
            or (c["code"] == "TL902" and not any("capture" in e for e in c["evidence"]))
        happened = bool(at_line) or (from_variant and any(f["variant"] for f in mine))
        if not happened and c["code"] in ("TL901", "TL902"):
            # the checker's own finding for a failure plain torch names no line for
            happened = any(f["location"] is None and (f["variant"] is None) != from_variant for f in mine)
        executed = where in covered or (t == "script" and bool(at_line))
        ok = happened and executed
        checked.append({**c, "executed": executed, "failure_happened": happened})
        if not ok:
            false.append({**c, "executed": executed, "failure_happened": happened})
    reported_targets = {c["target"] for c in confirms}
    missed = []
    for f in failures:
        if f["location"]:
            found = any(c["target"] == f["target"] and _same_place(f["location"], c["path"], c["line"])
                        for c in confirms)
        else:
            found = f["target"] in reported_targets
        if not found:
            missed.append(f)
    return {"confirmations": len(confirms), "false_confirmations": false, "plain_failures": len(failures),
            "missed": missed}


def summarise(rows: list[dict]) -> dict:
    """The figures over all models: ratios (median, worst), confirmations, false ones, misses."""
    med = statistics.median
    summary = {"models": len(rows),
               "ratio_trace_script_median": round(med(r["ratio_trace_script"] for r in rows), 2),
               "ratio_trace_script_worst": round(max(r["ratio_trace_script"] for r in rows), 2),
               "ratio_trace_script_vs_default_trace_median": round(med(r["ratio_trace_script_vs_default_trace"] for r in rows), 2),
               "confirmations": sum(r.get("check_all", r["check_trace_script"])["confirmations"] for r in rows),
               "false_confirmations": sum(len(r.get("check_all", r["check_trace_script"])["false_confirmations"]) for r in rows),
               "plain_failures": sum(r.get("check_all", r["check_trace_script"])["plain_failures"] for r in rows),
               "missed": sum(len(r.get("check_all", r["check_trace_script"])["missed"]) for r in rows)}
    if all("ratio_all" in r for r in rows):
        summary["ratio_all_median"] = round(med(r["ratio_all"] for r in rows), 2)
        summary["ratio_all_worst"] = round(max(r["ratio_all"] for r in rows), 2)
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--envs", type=Path, default=DEFAULT_ENVS, help="where venv-tv and venv-hf live")
    ap.add_argument("--create-envs", action="store_true", help="create missing environments with the pins")
    ap.add_argument("--models", help="comma-separated model file stems (default: all)")
    ap.add_argument("--skip-all", action="store_true", help="do not time --target all")
    ap.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results.json")
    ap.add_argument("--update", action="store_true",
                    help="replace only these models' rows in --output and recompute the summary")
    args = ap.parse_args()

    files = sorted(MODELS.glob("*.py"))
    if args.models:
        wanted = set(args.models.split(","))
        files = [f for f in files if f.stem in wanted]
    rows = []
    for path in files:
        env = _env_of(path)
        if args.create_envs:
            create_env(args.envs, env)
        py = _python(args.envs, env)
        print(f"== {path.stem} ({env})", flush=True)
        pcpu, _, p = _run([py, "-c", PLAIN, str(path)], cwd=MODELS)
        if p.returncode != 0:
            raise SystemExit(f"plain run of {path.stem} failed:\n{p.stderr[-3000:]}")
        plain = json.loads(p.stdout.strip().splitlines()[-1])
        baseline = pcpu - plain["trace_default"]          # import, build, trace (no check) + script
        baseline_default = pcpu - plain["trace_nocheck"]  # the same with trace's default check_trace=True
        _, _, t = _run([py, "-c", TRUTH, str(path), "trace,script,export,compile"], cwd=MODELS)
        if t.returncode != 0:
            raise SystemExit(f"plain-torch truth run of {path.stem} failed:\n{t.stderr[-3000:]}")
        truth = json.loads(t.stdout.strip().splitlines()[-1])
        ts_cpu, ts_wall, ts = _confirm(py, path, "trace,script")
        row = {"model": path.stem, "env": env, "plain_cpu_s": round(baseline, 2),
               "plain_cpu_default_trace_s": round(baseline_default, 2), "plain_errors": {
                   k[:-6]: v for k, v in plain.items() if k.endswith("_error") and v},
               "confirm_trace_script_cpu_s": round(ts_cpu, 2), "confirm_trace_script_wall_s": round(ts_wall, 1),
               "ratio_trace_script": round(ts_cpu / baseline, 2),
               "ratio_trace_script_vs_default_trace": round(ts_cpu / baseline_default, 2),
               "exit_trace_script": ts["exit"]}
        truth_ts = {**truth, "failures": [f for f in truth["failures"] if f["target"] in ("trace", "script")]}
        row["check_trace_script"] = check(ts, truth_ts)
        if not args.skip_all:
            all_cpu, all_wall, al = _confirm(py, path, "all")
            row.update(confirm_all_cpu_s=round(all_cpu, 2), confirm_all_wall_s=round(all_wall, 1),
                       ratio_all=round(all_cpu / baseline, 2), exit_all=al["exit"])
            row["check_all"] = check(al, truth)
        rows.append(row)
        c = row.get("check_all", row["check_trace_script"])
        print(f"   plain {baseline:.1f} s CPU; confirm trace,script {ts_cpu:.1f} s ({row['ratio_trace_script']}x)"
              + (f", all {row['confirm_all_cpu_s']} s ({row['ratio_all']}x)" if "ratio_all" in row else "")
              + f"; confirmations {c['confirmations']}, false {len(c['false_confirmations'])}, "
                f"plain failures {c['plain_failures']}, missed {len(c['missed'])}", flush=True)

    if args.update and args.output.exists():   # a partial re-run: keep the other models' rows
        kept = json.loads(args.output.read_text(encoding="utf-8"))["models"]
        done = {r["model"] for r in rows}
        rows = sorted([r for r in kept if r["model"] not in done] + rows, key=lambda r: r["model"])
    summary = summarise(rows)
    result = {"summary": summary, "envs": ENVS, "threads": 1, "measure": "CPU seconds (user+sys), whole process trees",
              "python": platform.python_version(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "models": rows}
    args.output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
