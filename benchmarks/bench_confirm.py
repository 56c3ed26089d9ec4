#!/usr/bin/env python
"""Wall time of `tracelint confirm` against plain torch.jit.trace + torch.jit.script, same model, same run.

    python benchmarks/bench_confirm.py [--repeat 3] [--fixture fixtures/dynamic/small_transformer.py]

Both sides are measured as fresh processes (each imports torch, builds the model from the
fixture's tracelint_examples(), captures it), so the ratio is what a user waits for, not a
micro-benchmark. The in-process numbers (capture only, no interpreter start) are printed too.
Results go to benchmarks/results.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PLAIN = r'''
import importlib.util, sys, time, warnings
warnings.simplefilter("ignore")
import torch
spec = importlib.util.spec_from_file_location("bench_fixture", sys.argv[1])
mod = importlib.util.module_from_spec(spec); sys.modules["bench_fixture"] = mod; spec.loader.exec_module(mod)
model, inputs = mod.tracelint_examples()[0]
model.eval()
t0 = time.perf_counter()
with torch.no_grad():
    torch.jit.trace(model, inputs, check_trace=False)
    torch.jit.script(model)
print(time.perf_counter() - t0)
'''

IN_PROCESS = r'''
import sys, time, warnings
warnings.simplefilter("ignore")
from tracelint.dynamic.loader import load
from tracelint.dynamic.runner import run_example
loaded = load({"kind": "file", "path": sys.argv[1]})
t0 = time.perf_counter()
run_example(loaded.examples[0], loaded.names[0], targets=("trace", "script"))
print(time.perf_counter() - t0)
'''


def _timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    wall = time.perf_counter() - start
    if out.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr}")
    return wall, out.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--fixture", default="fixtures/dynamic/small_transformer.py")
    args = ap.parse_args()
    fixture = str(ROOT / args.fixture)
    py = sys.executable

    plain_wall, plain_capture, confirm_wall, confirm_inproc = [], [], [], []
    for _ in range(args.repeat):
        wall, out = _timed([py, "-c", PLAIN, fixture])
        plain_wall.append(wall)
        plain_capture.append(float(out.splitlines()[-1]))
        wall, _ = _timed([py, "-m", "tracelint", "confirm", args.fixture, "--format", "json", "-q"])
        confirm_wall.append(wall)
        _, out = _timed([py, "-c", IN_PROCESS, fixture])
        confirm_inproc.append(float(out.splitlines()[-1]))

    med = statistics.median
    result = {
        "fixture": args.fixture,
        "targets": ["trace", "script"],
        "repeat": args.repeat,
        "plain_trace_script_process_s": round(med(plain_wall), 2),
        "tracelint_confirm_process_s": round(med(confirm_wall), 2),
        "ratio_process": round(med(confirm_wall) / med(plain_wall), 1),
        "plain_trace_script_capture_s": round(med(plain_capture), 3),
        "confirm_example_in_process_s": round(med(confirm_inproc), 3),
        "ratio_in_process": round(med(confirm_inproc) / med(plain_capture), 1),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    try:
        import torch
        result["torch"] = torch.__version__
    except ImportError:  # pragma: no cover
        pass
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"\n`tracelint confirm` ({args.fixture}, trace+script): {result['tracelint_confirm_process_s']} s "
          f"vs plain trace+script {result['plain_trace_script_process_s']} s -> {result['ratio_process']}x "
          f"(capture only, in process: {result['confirm_example_in_process_s']} s vs "
          f"{result['plain_trace_script_capture_s']} s -> {result['ratio_in_process']}x)")


if __name__ == "__main__":
    main()
